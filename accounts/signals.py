"""Sign-in events: lockouts audited once per lockout, failures and successes feed the per-username
back-off, signing out of the site revokes the API tokens that session obtained."""

from __future__ import annotations

import hashlib
from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.cache import caches
from django.dispatch import receiver

from audit.services import record_event

from . import signin


@receiver(user_locked_out)
def on_locked_out(
    sender: Any, request: Any = None, username: str | None = None, ip_address: str | None = None, **kw: Any
) -> None:
    # django-axes signals again on every attempt while the lock holds: one entry per lockout (per username
    # and address, per cool-off period), so a locked-out attacker's retries cannot flood the audit log.
    username, ip = str(username or "")[:150], str(ip_address or "")
    name = hashlib.sha256(f"{username}\0{ip}".encode("utf-8", "replace")).hexdigest()[:32]
    try:
        first = caches[settings.RATELIMIT_USE_CACHE].add(
            f"lockout:{name}", 1, timeout=int(settings.AXES_COOLOFF_TIME.total_seconds())
        )
    except Exception:
        first = True
    if first:
        record_event(action="auth.locked_out", details={"username": username, "ip": ip})


@receiver(user_login_failed)
def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    signin.record_failure(request, str(credentials.get("username", "")))


@receiver(user_logged_in)
def on_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None:
        signin.record_success(request, user.get_username())


@receiver(user_logged_out)
def on_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    revoked = signin.revoke_session_tokens(request, user)
    if revoked:
        record_event(actor=user, action="auth.tokens_revoked", details={"reason": "signed_out", "tokens": revoked})
