"""Celery tasks for the counts app: ids in, a service call, safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError


@shared_task(
    name="incidents.compute_count_snapshot",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
)
def compute_count_snapshot(snapshot_id: int) -> str:
    """Compute one count snapshot (see counts.services.run_count: idempotent by compare-and-set)."""
    from . import services

    snapshot = services.run_count(int(snapshot_id))
    return snapshot.status if snapshot is not None else "missing"
