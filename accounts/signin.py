"""Signing in: the per-username back-off, and API tokens that end with what started them.

Per-username back-off (across every address). django-axes locks a username *from one address* after
a few failures; spreading guesses over many addresses never trips it. So failures are also counted per
username, from anywhere: after `SIGN_IN_BACKOFF_AFTER` of them within the window, one attempt for that
username goes through, and the next must wait 1 s, then 2, 4, ... up to `SIGN_IN_BACKOFF_MAX_SECONDS`
(429 with Retry-After, before any password is checked; refused attempts are not counted). It is a
back-off, not a lock: the wait never exceeds the maximum, and the right password at the next allowed
attempt signs in and clears the count. An address that signed in successfully as that user within
`SIGN_IN_KNOWN_ADDRESS_DAYS` is not slowed at all (only axes' per-address lock applies there), so an
attacker elsewhere cannot keep the real user out. The state lives in the `ratelimit` cache (Redis in
production): losing it (a restart without Redis) forgets counts, never locks anyone.

Tokens: a token obtained from a browser signed in as the same user belongs to that session, and signing
out of the site revokes it; changing a password (on the site, by reset or in the admin) revokes all of
the user's tokens (`RevokeTokensOnPasswordChange`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest

from config.client import client_address

logger = logging.getLogger(__name__)

SESSION_TOKENS_KEY = "api_token_ids"
SIGN_IN_URL_NAMES = ("api-token", "page:login", "admin:login")


def _now() -> float:
    return time.time()


def _cache():
    return caches[settings.RATELIMIT_USE_CACHE]


def _name_key(username: str) -> str:
    return hashlib.sha256(username.strip().lower().encode("utf-8", "replace")).hexdigest()[:32]


def _keys(username: str, request: HttpRequest) -> tuple[str, str, str]:
    name = _name_key(username)
    return f"signin:fail:{name}", f"signin:gate:{name}", f"signin:known:{name}:{client_address(request)}"


def backoff_wait(request: HttpRequest, username: str) -> int | None:
    """Seconds this attempt for `username` must wait, or None when it may go ahead (it then holds the gate)."""
    if not username:
        return None
    failures_key, gate_key, known_key = _keys(username, request)
    try:
        cache = _cache()
        failures = cache.get(failures_key, 0)
        if failures < settings.SIGN_IN_BACKOFF_AFTER or cache.get(known_key):
            return None
        delay = min(2 ** (failures - settings.SIGN_IN_BACKOFF_AFTER), settings.SIGN_IN_BACKOFF_MAX_SECONDS)
        now = _now()
        until = cache.get(gate_key)
        if until is not None and until > now:
            return math.ceil(until - now)
        if until is None:
            if not cache.add(gate_key, now + delay, timeout=delay + 5):  # another attempt took it first
                return math.ceil(delay)
        else:
            cache.set(gate_key, now + delay, timeout=delay + 5)
    except Exception:
        logger.warning("sign-in back-off not applied: the cache is unavailable")
    return None


def record_failure(request: HttpRequest | None, username: str) -> None:
    if request is None or not username or getattr(request, "axes_locked_out", False):
        return  # attempts refused before the password was checked are not failures of the password
    failures_key, _gate, _known = _keys(username, request)
    try:
        cache = _cache()
        cache.add(failures_key, 0, timeout=settings.SIGN_IN_BACKOFF_WINDOW_MINUTES * 60)
        failures = cache.incr(failures_key)
    except Exception:
        logger.warning("sign-in failure not counted: the cache is unavailable")
        return
    if failures == settings.SIGN_IN_BACKOFF_AFTER:  # one audit entry when the back-off starts
        from audit.services import record_event

        record_event(
            action="auth.backoff_started",
            details={"username": username[:150], "failures": failures, "ip": client_address(request)},
        )


def record_success(request: HttpRequest, username: str) -> None:
    failures_key, gate_key, known_key = _keys(username, request)
    try:
        cache = _cache()
        cache.delete_many([failures_key, gate_key])
        cache.set(known_key, 1, timeout=settings.SIGN_IN_KNOWN_ADDRESS_DAYS * 86400)
    except Exception:
        logger.warning("sign-in success not recorded: the cache is unavailable")


def attempted_username(request: HttpRequest) -> str:
    """The username a sign-in request names (a form field, or the JSON body of the token request)."""
    username = request.POST.get("username", "") if request.content_type != "application/json" else ""
    if not username and request.content_type == "application/json":
        from config.parsers import load_json

        try:
            body = load_json(request.body)
        except Exception:
            return ""
        username = body.get("username", "") if isinstance(body, dict) else ""
    return str(username)[:150]


# --- Tokens ----------------------------------------------------------------------------------------


def remember_token_in_session(request: HttpRequest, user: Any, token: Any, signed_in: Any) -> None:
    """A token obtained from a browser signed in (`signed_in`) as the same user belongs to that session."""
    session = getattr(request, "session", None)
    if session is None or signed_in is None or not signed_in.is_authenticated or signed_in.pk != user.pk:
        return
    session[SESSION_TOKENS_KEY] = [*session.get(SESSION_TOKENS_KEY, []), token.pk]


def revoke_session_tokens(request: HttpRequest | None, user: Any) -> int:
    from knox.models import AuthToken

    session = getattr(request, "session", None)
    ids = list(session.get(SESSION_TOKENS_KEY, [])) if session is not None else []
    if not ids or user is None:
        return 0
    deleted, _ = AuthToken.objects.filter(user=user, pk__in=ids).delete()
    return deleted


def revoke_all_tokens(user: Any, reason: str) -> int:
    from knox.models import AuthToken

    from audit.services import record_event

    deleted, _ = AuthToken.objects.filter(user=user).delete()
    if deleted:
        record_event(actor=user, action="auth.tokens_revoked", details={"reason": reason, "tokens": deleted})
    return deleted


class RevokeTokensOnPasswordChange:
    """In AUTH_PASSWORD_VALIDATORS for its `password_changed` hook, which Django calls whenever a user's new
    password is saved (the password-change and reset pages, the admin, `changepassword`): the user's API
    tokens are all revoked. It validates nothing; its help text tells the user so."""

    def validate(self, password: str, user: Any = None) -> None:
        return None

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is not None and user.pk is not None:
            revoke_all_tokens(user, reason="password_changed")

    def get_help_text(self) -> str:
        from django.utils.translation import gettext as _

        return _("Changing your password signs out every API token you hold.")
