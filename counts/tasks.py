"""Celery tasks for the counts app: ids in, a service call, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from config.retries import RETRIED

from . import services

COMPUTE_COUNT = "counts.compute_count_snapshot"
# The name the task had while counts lived in the incidents app: messages queued under it (in Redis or
# in the outbox table) before an upgrade still find a task that runs them.
COMPUTE_COUNT_BEFORE_THE_MOVE = "incidents.compute_count_snapshot"


@shared_task(name=COMPUTE_COUNT, **RETRIED)
def compute_count_snapshot(snapshot_id: int) -> str:
    """Compute one count snapshot (see counts.services.run_count: idempotent by compare-and-set)."""
    snapshot = services.run_count(int(snapshot_id))
    return snapshot.status if snapshot is not None else "missing"


@shared_task(name=COMPUTE_COUNT_BEFORE_THE_MOVE, **RETRIED)
def compute_count_snapshot_queued_before_the_move(snapshot_id: int) -> str:
    return compute_count_snapshot(snapshot_id)
