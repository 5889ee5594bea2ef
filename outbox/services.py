"""A transactional outbox: `enqueue` stores the work with the request's data, a relay sends it on.

1. `enqueue(task_name, *ids)` writes an OutboxMessage in the caller's transaction: if the request
   rolls back, no work is queued; if it commits, the work is never lost, even when Redis is down.
2. After the commit, the relay tries at once to hand the message to the broker, with short
   timeouts and no retries, so a request never waits on a dead broker.
3. Messages the broker did not take are sent later by `relay_pending` (the periodic `outbox.sweep`
   task, the `relay_outbox` command, and once when a worker starts).
4. Workers run a message through `deliver`, which skips messages already completed: a message
   relayed twice (a relay that crashed between sending and recording) runs once. A worker killed
   mid-task leaves the message incomplete; the broker redelivers it (acks late) and it runs again,
   so the tasks themselves are idempotent (docs/design.md, "Background work").
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import current_app
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import OutboxMessage

logger = logging.getLogger(__name__)

DELIVER_TASK = "outbox.deliver"
# A message whose task keeps failing is resent at most this many times, then left for an operator.
MAX_ATTEMPTS = 5


def enqueue(task_name: str, *ids: int) -> OutboxMessage:
    """Queue `task_name(*ids)` to run after the current transaction commits (and only if it does)."""
    if task_name not in current_app.tasks:
        current_app.loader.import_default_modules()  # the apps' tasks modules (autodiscovery)
    if task_name not in current_app.tasks:
        raise LookupError(f"no Celery task named {task_name!r}")
    for value in ids:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError("outbox tasks take integer ids only (never objects or personal data)")
    message = OutboxMessage.objects.create(task_name=task_name, args=list(ids))
    transaction.on_commit(lambda: relay(message.pk))
    return message


def _publish(message_id: int) -> None:
    from .tasks import deliver

    # No publish retries and short socket timeouts (CELERY_BROKER_TRANSPORT_OPTIONS): with the broker
    # down this fails at once and the message waits in the table for the next sweep. (With eager
    # tasks, on a machine without Redis, this runs the task here and now.)
    deliver.apply_async(args=[message_id], retry=False)


def relay(message_id: int) -> bool:
    """Hand one message to the broker; record it as sent. False (and the error kept) when the broker is down."""
    claimed = OutboxMessage.objects.filter(pk=message_id, sent_at__isnull=True, completed_at__isnull=True).update(
        sent_at=timezone.now(), attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    try:
        _publish(message_id)
    except Exception as error:  # the broker is down or refused: un-claim, keep for the sweep
        OutboxMessage.objects.filter(pk=message_id, completed_at__isnull=True).update(
            sent_at=None, last_error=f"{type(error).__name__}: {error}"[:2000]
        )
        logger.warning(
            "outbox relay failed", extra={"outbox_id": message_id, "error": f"{type(error).__name__}: {error}"[:300]}
        )
        return False
    return True


def relay_pending(limit: int = 500, resend_after: timedelta | None = None) -> int:
    """Send every message not yet sent (and, with `resend_after`, sent long ago but never completed)."""
    sent = 0
    ids = list(OutboxMessage.objects.unsent().values_list("pk", flat=True)[:limit])
    if resend_after is not None:
        stale = OutboxMessage.objects.sent_but_not_done().filter(
            sent_at__lt=timezone.now() - resend_after, attempts__lt=MAX_ATTEMPTS
        )
        stale_ids = list(stale.values_list("pk", flat=True)[:limit])
        # Visible to the sweep again; `deliver` still runs each message at most once to completion.
        OutboxMessage.objects.filter(pk__in=stale_ids, completed_at__isnull=True).update(sent_at=None)
        ids += stale_ids
    for message_id in ids:
        if relay(message_id):
            sent += 1
        elif OutboxMessage.objects.filter(pk=message_id, sent_at__isnull=True, completed_at__isnull=True).exists():
            break  # the broker is down: stop, the next sweep tries again
    return sent


def deliver(message_id: int) -> bool:
    """Run a message's task in this worker unless it already completed. True when it ran."""
    message = OutboxMessage.objects.filter(pk=message_id).first()
    if message is None or message.completed_at is not None:
        return False
    task = current_app.tasks[message.task_name]
    task(*message.args)
    OutboxMessage.objects.filter(pk=message_id, completed_at__isnull=True).update(completed_at=timezone.now())
    return True
