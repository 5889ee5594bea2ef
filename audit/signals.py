"""Sign-ins, sign-outs and failed sign-ins are audit events."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .services import record_event


@receiver(user_logged_in)
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    record_event(actor=user, action="auth.login")


@receiver(user_logged_out)
def on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        record_event(actor=user, action="auth.logout")


@receiver(user_login_failed)
def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # The attempted username only (never the password); it is escaped wherever it is shown.
    details = {"username": str(credentials.get("username", ""))[:150]}
    if request is not None:
        from config.client import client_address

        details.update(ip=client_address(request), path=request.path)
    record_event(action="auth.login_failed", details=details)
