"""Sign-in events: lockouts audited once per lockout, failures and successes feed the per-username
back-off, signing out of the site revokes the API tokens that session obtained; and every change that
could alter an API token's look-up makes the kept look-ups stale (accounts.auth)."""

from __future__ import annotations

import hashlib
from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core.cache import caches
from django.dispatch import receiver
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import record_event

from . import signin
from .auth import forget_token_lookups


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


# --- kept token look-ups (accounts.auth, API_TOKEN_CACHE_SECONDS): what makes them stale -----------------

# Saves of a device that only record its use (a code checked, a failure throttled) change nothing a
# token look-up reads; every other save or a removal does.
DEVICE_BOOKKEEPING = frozenset(
    {"throttling_failure_timestamp", "throttling_failure_count", "last_t", "last_used_at", "drift"}
)


def _token_lookups_stale_on_save(sender: Any, update_fields: Any = None, created: bool = False, **kwargs: Any) -> None:
    from django.contrib.auth import get_user_model
    from knox.models import get_token_model

    if created and sender in (get_token_model(), get_user_model()):
        return  # a new token or user: nothing of it can have been kept yet
    if update_fields is not None and (
        set(update_fields) <= {"last_login"} or (sender is TOTPDevice and set(update_fields) <= DEVICE_BOOKKEEPING)
    ):
        return  # a sign-in's timestamp or a device's bookkeeping
    forget_token_lookups()


def _connect_token_lookup_invalidation() -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.db.models.signals import m2m_changed, post_delete, post_save
    from knox.models import get_token_model

    from .models import SecondFactorToken

    user_model = get_user_model()
    # Revocation, deactivation and flags, second factors: each save or removal.
    for model in (get_token_model(), user_model, SecondFactorToken, TOTPDevice):
        post_save.connect(_token_lookups_stale_on_save, sender=model, dispatch_uid=f"token-lookups-save-{model}")
        post_delete.connect(forget_token_lookups, sender=model, dispatch_uid=f"token-lookups-delete-{model}")
    # Roles and permissions: membership, a group's or a user's permissions, a group or permission removed.
    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(forget_token_lookups, sender=through, dispatch_uid=f"token-lookups-m2m-{through}")
    for model in (Group, Permission):
        post_delete.connect(forget_token_lookups, sender=model, dispatch_uid=f"token-lookups-delete-{model}")


_connect_token_lookup_invalidation()
