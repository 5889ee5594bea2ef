"""Lockouts are audit events (the attempted username only, never a password)."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.dispatch import receiver

from audit.services import record_event


@receiver(user_locked_out)
def on_locked_out(
    sender: Any, request: Any = None, username: str | None = None, ip_address: str | None = None, **kw: Any
) -> None:
    record_event(action="auth.locked_out", details={"username": str(username or "")[:150], "ip": str(ip_address or "")})
