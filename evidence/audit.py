"""Writing audit entries through the shared audit log (app `audit`), with no witness identity in them.

Entries name records by id and pseudonymous code only. Until the audit app is installed, entries
go to the `evidence.audit` logger instead, so call sites stay the same.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("evidence.audit")


def record_event(*, actor: Any, action: str, target: Any = None, details: dict[str, Any] | None = None, **extra: Any):
    try:
        from audit.services import record_event as audit_record_event
    except ImportError:
        logger.info(
            "audit",
            extra={
                "audit_action": action,
                "actor_id": getattr(actor, "pk", None),
                "target": f"{type(target).__name__}:{getattr(target, 'pk', None)}" if target is not None else None,
                "details": details or {},
            },
        )
        return None
    return audit_record_event(actor=actor, action=action, target=target, details=details or {}, **extra)
