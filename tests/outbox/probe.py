"""A task for outbox tests: each run appends one audit entry, so runs can be counted exactly."""

from __future__ import annotations

from celery import shared_task

from audit.services import record_event


@shared_task(name="tests.outbox_probe", acks_late=True)
def outbox_probe(marker: int) -> None:
    record_event(action="test.outbox_probe", details={"marker": marker})
