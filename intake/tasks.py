"""Celery tasks for imports: an id in, the service call, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from config.retries import RETRIED


@shared_task(name="intake.run_import", **RETRIED)
def run_import(import_id: int) -> str:
    """Run or resume one import (intake.services.run_import: claimed by compare-and-set, resumed from its
    checkpoint, one run at a time)."""
    from . import services

    return services.run_import(int(import_id))
