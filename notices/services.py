"""What may happen to notices: created for a record's author by each review decision, read by that
author only, emailed (when the operator configured a mail server) through the outbox after commit."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import record_event
from incidents.views import KIND_LABELS
from outbox import services as outbox

from .models import Notice

DECISIONS = {choice.value for choice in Notice.Decision}


def _label(kind: str, record: Any) -> str:
    if kind == "testimonies":
        return getattr(getattr(record, "witness", None), "code", "")  # never the witness's identity
    if kind == "media":
        return getattr(record, "original_name", "")[:300]
    if kind == "victims":
        return (record.name_ar or record.name or "")[:300]
    return str(getattr(record, "title", "") or "")[:300]


def notify_decision(
    *, actor: Any, record: Any, kind: str, action: str, details: dict | None = None, **_ignored: Any
) -> Notice | None:
    """A workflow listener: a reviewer's decision on someone else's record leaves them a notice. Victims and
    evidence approved together with their incident share the incident's notice (one per case, not one per
    victim); anything rejected or sent back gets its own."""
    author_id = getattr(record, "created_by_id", None)
    if action not in DECISIONS or author_id is None or author_id == getattr(actor, "pk", None):
        return None
    if action == "approve" and (details or {}).get("with_incident"):
        return None
    incident_id = record.pk if kind == "incidents" else record.incident_id
    notice = Notice.objects.create(
        recipient_id=author_id,
        actor=actor if getattr(actor, "pk", None) else None,
        decision=action,
        kind=kind,
        record_id=record.pk,
        incident_id=incident_id,
        label=_label(kind, record),
    )
    if settings.EMAIL_NOTICES and notice.recipient.email:
        outbox.enqueue("notices.tasks.email_notice", notice.pk)
    return notice


def notices_for(user: Any) -> Any:
    return Notice.objects.for_user(user).select_related("actor")


@transaction.atomic
def mark_seen(*, user: Any, up_to: int | None = None) -> int:
    """The user has seen their notices (up to the newest shown to them): they are no longer unread."""
    unread = Notice.objects.unread_for(user)
    if up_to is not None:
        unread = unread.filter(pk__lte=up_to)
    count = unread.update(read_at=timezone.now())
    if count:
        record_event(actor=user, action="notices.read", details={"count": count, "up_to": up_to})
    return count


def email_notice(notice_id: int) -> bool:
    """Send one notice's email, at most once (a compare-and-set on emailed_at). No comment, no witness data."""
    notice = Notice.objects.select_related("recipient").filter(pk=notice_id).first()
    if notice is None or notice.emailed_at is not None or not notice.recipient.email:
        return False
    claimed = Notice.objects.filter(pk=notice.pk, emailed_at__isnull=True).update(emailed_at=timezone.now())
    if not claimed:
        return False
    with translation.override(settings.NOTICE_EMAIL_LANGUAGE):
        subject = _("Casualty Records: a decision on your record")
        body = _(
            "A reviewer decided on one of your records: %(kind)s #%(id)s — %(decision)s.\n\n"
            "Sign in to see the decision and the reviewer's comment: %(url)s\n"
        ) % {
            "kind": str(KIND_LABELS.get(notice.kind, notice.kind)),
            "id": notice.record_id,
            "decision": notice.get_decision_display(),
            "url": settings.SITE_URL.rstrip("/") + "/notices/" if settings.SITE_URL else "/notices/",
        }
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [notice.recipient.email])
    except Exception:
        Notice.objects.filter(pk=notice.pk).update(emailed_at=None)  # let a retry send it
        raise
    return True
