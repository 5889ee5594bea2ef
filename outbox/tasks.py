"""The worker side of the outbox: run a relayed message; sweep what the broker did not take."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from config.retries import RETRIED

from . import services


# The database went away under the task: try again later (the task itself is idempotent).
@shared_task(name=services.DELIVER_TASK, **RETRIED)
def deliver(message_id: int) -> bool:
    return services.deliver(message_id)


@shared_task(name="outbox.sweep", acks_late=True)
def sweep() -> int:
    """Periodic (CELERY_BEAT_SCHEDULE): relay messages stored while the broker was down."""
    return services.relay_pending(resend_after=timedelta(seconds=settings.OUTBOX_RESEND_AFTER_SECONDS))


@worker_ready.connect
def sweep_on_worker_start(**kwargs) -> None:
    # A worker coming up after an outage sends what piled up without waiting for the next beat.
    try:
        services.relay_pending(resend_after=timedelta(seconds=settings.OUTBOX_RESEND_AFTER_SECONDS))
    except Exception:  # the database may not be reachable yet; the periodic sweep catches up
        import logging

        logging.getLogger(__name__).warning("outbox sweep at worker start failed", exc_info=True)
