"""Thin Celery wrappers: ids in (never file names or witness data), a service call, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import media, services


# A soft time limit turns a runaway decode into a recorded failure (the service catches it).
@shared_task(
    name="evidence.tasks.process_media_item",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=30 * 60,
    time_limit=35 * 60,
)
def process_media_item(item_id: int) -> str | None:
    """Metadata and working copies for one media item (idempotent: a done item is left alone)."""
    return services.process_media_item(item_id)


@shared_task(name="evidence.tasks.check_fixity", acks_late=True, reject_on_worker_lost=True)
def check_fixity(sealed_id: int) -> str | None:
    """Re-hash one sealed original and flag it if it changed."""
    return services.check_fixity(sealed_id)


@shared_task(name="evidence.tasks.schedule_fixity_checks")
def schedule_fixity_checks() -> int:
    """Run by Celery beat (settings.CELERY_BEAT_SCHEDULE): one fixity task per sealed original due."""
    due = services.fixity_due_ids()
    for sealed_id in dict.fromkeys(due):
        check_fixity.delay(sealed_id)
    return len(due)


@shared_task(name="evidence.tasks.process_pending_media")
def process_pending_media() -> int:
    """Run by Celery beat: hand over again the items whose processing never happened."""
    pending = services.pending_media_ids()
    for item_id in pending:
        process_media_item.delay(item_id)
    return len(pending)


@shared_task(name="evidence.tasks.remove_unrecorded_originals")
def remove_unrecorded_originals() -> int:
    """Run by Celery beat: remove sealed files that no row records (a process killed before commit)."""
    return media.remove_unrecorded_originals()
