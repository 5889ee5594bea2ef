"""Writing and checking the audit log. Every write goes through `record_event`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from config.client import current_client_address

from .models import GENESIS_HASH, AuditEntry

# Sign-in events (sign-in, failure, lockout, second factor, ...) record the client's address ("ip"):
# who tried from where is the point of them. Other entries do not: the log is kept for ever and a
# documenter's address says where they are (DESIGN.md: their safety), so it is kept only where it
# serves security.
ADDRESSED_ACTIONS = ("auth.",)

# An arbitrary constant naming the PostgreSQL advisory lock that serialises writers of the chain.
CHAIN_LOCK_KEY = 727_274_001


def lock_chain() -> None:
    """Serialise audit-chain writers until the current transaction ends (no forks under concurrency).

    Callers that also lock rows take this lock first, so lock order is always the same. SQLite
    already serialises writing transactions (they begin IMMEDIATE).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK_KEY])


def record_event(
    *,
    actor: Any = None,
    action: str,
    target: models.Model | None = None,
    from_state: str = "",
    to_state: str = "",
    comment: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the chain. Never put witness identity (names, contact) in any field.

    Sign-in events written while a request is served carry its client address (config/client.py) as
    `details["ip"]`, unless the caller gave one.
    """
    details = dict(details or {})
    if action.startswith(ADDRESSED_ACTIONS) and "ip" not in details:
        address = current_client_address()
        if address:
            details["ip"] = address
    with transaction.atomic():
        lock_chain()
        last = AuditEntry.objects.order_by("-sequence").only("sequence", "entry_hash").first()
        user = actor if getattr(actor, "is_authenticated", False) else None
        entry = AuditEntry(
            sequence=(last.sequence + 1) if last else 1,
            occurred_at=timezone.now(),
            actor=user,
            actor_name=user.get_username() if user else "",
            action=action,
            target_type=target._meta.label_lower if target is not None else "",
            target_id=target.pk if target is not None else None,
            from_state=from_state,
            to_state=to_state,
            comment=comment,
            details=details,
            previous_hash=last.entry_hash if last else GENESIS_HASH,
        )
        entry.entry_hash = entry.compute_hash()
        entry.save()
        return entry


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_broken: int | None = None
    reason: str = ""
    last_sequence: int | None = None
    last_hash: str | None = None


def verify_chain(checkpoint: dict[str, Any] | None = None, using: str = "default") -> ChainReport:
    """Walk the chain in order; name the first entry whose content, link or position is wrong.

    With a checkpoint ({"sequence", "hash"} exported earlier), also detect truncation: the entry at
    the checkpoint's sequence must still exist with the same hash.
    """
    previous_hash = GENESIS_HASH
    expected_sequence = 1
    count = 0
    last = None
    for entry in AuditEntry.objects.using(using).order_by("sequence").iterator(chunk_size=2000):
        count += 1
        if entry.sequence != expected_sequence:
            return ChainReport(False, count, entry.sequence, f"sequence gap: expected {expected_sequence}")
        if entry.previous_hash != previous_hash:
            return ChainReport(False, count, entry.sequence, "link to the previous entry is broken")
        if entry.compute_hash() != entry.entry_hash:
            return ChainReport(False, count, entry.sequence, "content does not match its hash")
        previous_hash = entry.entry_hash
        expected_sequence += 1
        last = entry
    if checkpoint and int(checkpoint.get("sequence", 0)) > 0:
        sequence, expected_hash = int(checkpoint["sequence"]), checkpoint["hash"]
        kept = AuditEntry.objects.using(using).filter(sequence=sequence).values_list("entry_hash", flat=True).first()
        if kept is None:
            return ChainReport(False, count, sequence, "entries up to the checkpoint are missing (truncated)")
        if kept != expected_hash:
            return ChainReport(False, count, sequence, "the checkpointed entry was altered")
    return ChainReport(
        True, count, last_sequence=last.sequence if last else None, last_hash=last.entry_hash if last else None
    )
