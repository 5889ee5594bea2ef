"""Thin Celery wrapper: a notice id in, the service sends its email at most once."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="notices.tasks.email_notice", acks_late=True, reject_on_worker_lost=True)
def email_notice(notice_id: int) -> bool:
    return services.email_notice(notice_id)
