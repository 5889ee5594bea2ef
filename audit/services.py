"""Writing and checking the audit log. Every write goes through `record_event`.

The log is a keyed hash chain (audit/chain.py): `verify_chain` checks it, `verify_chains` checks it
with every other registered chain (the chain of custody).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from config.client import current_client_address

from . import chain
from .chain import ChainReport
from .models import AuditEntry

# Sign-in events (sign-in, failure, lockout, second factor, ...) record the client's address ("ip"):
# who tried from where is the point of them. Other entries do not: the log is kept for ever and a
# documenter's address says where they are (DESIGN.md: their safety), so it is kept only where it
# serves security.
ADDRESSED_ACTIONS = ("auth.",)

# An arbitrary constant naming the PostgreSQL advisory lock that serialises writers of the chain.
CHAIN_LOCK_KEY = 727_274_001


def audit_chain() -> chain.Chain:
    return chain.get("audit")


def lock_chain() -> None:
    """Serialise audit-chain writers until the current transaction ends (no forks under concurrency).

    Callers that also lock rows take this lock first, so lock order is always the same. SQLite
    already serialises writing transactions (they begin IMMEDIATE).
    """
    chain.lock(audit_chain())


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
    user = actor if getattr(actor, "is_authenticated", False) else None
    entry = AuditEntry(
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
    )
    return chain.append(audit_chain(), entry)


def verify_chain(checkpoint: dict[str, Any] | None = None, using: str = "default") -> ChainReport:
    """The audit log alone: the first entry whose content, link, position or key is wrong.

    With a checkpoint (exported earlier by `audit_checkpoint`), also detect truncation and check the
    checkpoint's signature.
    """
    if checkpoint:
        problem = chain.checkpoint_problem(checkpoint)
        if problem:
            return ChainReport(False, 0, None, problem, chain="checkpoint")
    return chain.verify(audit_chain(), chain.checkpoint_entries(checkpoint).get("audit"), using=using)


def verify_chains(
    checkpoint: dict[str, Any] | None = None, using: str = "default", public_key: str | None = None, check_macs=True
) -> list[ChainReport]:
    return chain.verify_all(checkpoint, using=using, public_key=public_key, check_macs=check_macs)
