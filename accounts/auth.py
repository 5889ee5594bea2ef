"""API authentication, and the second-factor rule for the API.

The rule (one place for the API, `accounts.middleware` for pages): a user who `needs_second_factor`
(reviewers, admins, staff, holders of the witness-identity permission) and whose request carries no
verified second factor is refused (403 `second_factor_required`) on every API endpoint except
`API_EXEMPT_URL_NAMES`: obtaining a token (with a code), signing out, and the API's own description.
Documenters are unaffected. A request carries a verified second factor when it comes with:

- a token obtained with an `otp` code (a `SecondFactorToken` row);
- a browser session verified on the verification page (django-otp's `is_verified()`);
- or a fresh code in the `X-OTP` header, checked by `accounts.middleware` *before* the request's
  transaction opens, so a wrong code's throttle and audit entry, and a right code's use, stay recorded
  whatever happens to the request afterwards.

The rule is applied in the authentication classes (`DEFAULT_AUTHENTICATION_CLASSES`), not in a
permission class: views replace `permission_classes` freely, but every authenticated API request goes
through authentication, so no view can forget the rule.
"""

from __future__ import annotations

import binascii
import hashlib
import logging
import secrets
from dataclasses import dataclass
from hmac import compare_digest
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.expressions import RawSQL
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication as DRFSessionAuthentication
from rest_framework.authentication import get_authorization_header
from rest_framework.request import Request

from . import services

logger = logging.getLogger(__name__)

OTP_HEADER = "HTTP_X_OTP"

# Reachable without a second factor by those who need one: how to get one, how to leave, what the API is.
API_EXEMPT_URL_NAMES = frozenset({"api-token", "api-logout", "api-schema", "api-docs"})


class SecondFactorMissing(exceptions.PermissionDenied):
    default_detail = _(
        "Your account needs a second factor for this: obtain your token with an 'otp' code (or verify a code "
        "on the site), or send a fresh code in the X-OTP header."
    )
    default_code = "second_factor_required"


@dataclass
class Principal:
    """Who an API request speaks for, worked out once per request by the middleware."""

    user: Any = None
    token: Any = None  # the knox AuthToken the request carries, if any
    token_failure: exceptions.APIException | None = None  # a token was sent and refused (DRF answers 401)
    code_verified: bool = False  # a fresh X-OTP code was accepted for this request


PRINCIPAL_ATTRIBUTE = "second_factor_principal"


def _sends_a_token(request: HttpRequest) -> bool:
    words = get_authorization_header(request).split()
    return bool(words) and words[0].lower() == KnoxTokenAuthentication().authenticate_header(request).lower().encode()


def resolve_principal(request: HttpRequest) -> Principal:
    """The request's user as DRF will authenticate it (a token first, else the session), cached on it."""
    principal = getattr(request, PRINCIPAL_ATTRIBUTE, None)
    if principal is not None:
        return principal
    if _sends_a_token(request):
        try:
            user, token = TokenAuthentication().authenticate_token(request)
        except exceptions.APIException as failure:
            principal = Principal(token_failure=failure)
        else:
            principal = Principal(user=user, token=token)
    else:
        user = getattr(request, "user", None)
        principal = Principal(user=user if user is not None and user.is_authenticated else None)
    setattr(request, PRINCIPAL_ATTRIBUTE, principal)
    return principal


def credential_verified(user: Any, auth: Any, request: HttpRequest) -> bool:
    """Whether the credential this request was authenticated with carries a verified second factor."""
    if getattr(auth, "second_factor_verified", False):
        return True  # a token issued with a code (or a test's stand-in for one)
    principal = getattr(request, PRINCIPAL_ATTRIBUTE, None)
    if principal is not None and principal.code_verified and principal.user is not None:
        return principal.user.pk == getattr(user, "pk", None)
    if auth is None:  # a browser session
        is_verified = getattr(user, "is_verified", None)
        return bool(callable(is_verified) and is_verified())
    return False


def exempt(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    return match is not None and match.url_name in API_EXEMPT_URL_NAMES


def apply_rule(request: Request, user: Any, auth: Any) -> None:
    """Refuse a user who needs a second factor and authenticated without one (403)."""
    http = request._request
    if exempt(http) or not services.needs_second_factor(user):
        return
    if not credential_verified(user, auth, http):
        http.refused_user = user  # DRF forgets the user once authentication refuses; the audit entry does not
        raise SecondFactorMissing()


def _user_permissions_sql() -> RawSQL:
    """Every permission the token's user holds, directly or through a group, as "app_label.codename"."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    user_model = get_user_model()
    q = connection.ops.quote_name
    through_user = user_model._meta.get_field("user_permissions").remote_field.through._meta.db_table
    through_groups = user_model._meta.get_field("groups").remote_field.through._meta.db_table
    through_group_perms = Group._meta.get_field("permissions").remote_field.through._meta.db_table
    token_table = get_token_model()._meta.db_table
    user_column = user_model._meta.model_name + "_id"
    label = f"ct.{q('app_label')} || '.' || p.{q('codename')}"
    aggregate = f"string_agg({label}, ' ')" if connection.vendor == "postgresql" else f"group_concat({label}, ' ')"
    # Table and column names from the models' metadata only; no value from a request goes into it.
    sql = (
        f"(SELECT {aggregate} FROM {q(Permission._meta.db_table)} p "  # noqa: S608 (names only)
        f"JOIN {q(ContentType._meta.db_table)} ct ON ct.{q('id')} = p.{q('content_type_id')} "
        f"WHERE p.{q('id')} IN (SELECT {q('permission_id')} FROM {q(through_user)} "
        f"WHERE {q(user_column)} = {q(token_table)}.{q('user_id')} "
        f"UNION SELECT gp.{q('permission_id')} FROM {q(through_group_perms)} gp "
        f"JOIN {q(through_groups)} ug ON ug.{q('group_id')} = gp.{q('group_id')} "
        f"WHERE ug.{q(user_column)} = {q(token_table)}.{q('user_id')}))"
    )
    return RawSQL(sql, ())  # noqa: S611 (no parameters: names from the models only)


def _permission_set(joined: str | None) -> set[str]:
    return set(joined.split(" ")) if joined else set()


# --- token look-ups kept for API_TOKEN_CACHE_SECONDS --------------------------------------------------
#
# What the one statement below reads (the token, its user, its second factor, the user's permissions)
# is kept in the shared cache per token for a short time, so most requests send no statement for it.
# Every change that could alter the answer bumps one generation number (`forget_token_lookups`, wired
# to the models' signals in accounts/signals.py): revoking or deleting a token, saving or deleting a
# user (deactivation, staff or superuser flags), group membership, a group's or a user's permissions,
# second-factor devices and second-factor tokens. A kept entry is used only while its generation is the
# current one, so a change is seen by the very next request in every process. The generation is bumped
# at once and again when the transaction commits: a request that read the old rows before the commit
# cannot keep them past it. The password hash does not go into the cache (the user comes back with
# its password deferred); the token's digest (knox's primary key, itself a hash) does, as in the database.

LOOKUP_GENERATION_KEY = "api-token-lookups:generation"


def _token_cache_seconds() -> int:
    return int(getattr(settings, "API_TOKEN_CACHE_SECONDS", 0) or 0)


def forget_token_lookups(**_signal: Any) -> None:
    """Every kept token look-up is stale from now on (and again when the current transaction commits)."""
    if _token_cache_seconds() <= 0:
        return
    _bump_generation()
    if connection.in_atomic_block:
        transaction.on_commit(_bump_generation)


def _bump_generation() -> None:
    try:
        cache.incr(LOOKUP_GENERATION_KEY)
    except ValueError:  # no generation yet (or evicted): start from a number no kept entry can hold
        cache.set(LOOKUP_GENERATION_KEY, secrets.randbits(62), timeout=None)
    except Exception:
        logger.warning("token look-ups: the cache is unavailable; kept entries expire on their own")


def _token_cache_key(digest: str) -> str:
    return "api-token-lookups:" + hashlib.sha256(digest.encode()).hexdigest()


def _row_values(instance: Any, leave_out: frozenset[str]) -> tuple[list[str], list[Any]]:
    names = [f.attname for f in instance._meta.concrete_fields if f.attname not in leave_out]
    return names, [getattr(instance, name) for name in names]


_NOT_KEPT_USER = frozenset({"password"})
_NOT_KEPT_TOKEN: frozenset[str] = frozenset()  # the digest is knox's primary key: kept, as the database keeps it


def _kept_entry(auth_token: Any, permissions: str | None, generation: int) -> dict[str, Any]:
    user = auth_token.user
    return {
        "generation": generation,
        "db": auth_token._state.db,
        "token": _row_values(auth_token, _NOT_KEPT_TOKEN),
        "user": _row_values(user, _NOT_KEPT_USER),
        "permissions": permissions,
        "second_factor": hasattr(auth_token, "second_factor"),
    }


def _from_entry(entry: dict[str, Any]) -> Any:
    """The token (with its user, password deferred) as the statement would have given it."""
    from django.contrib.auth import get_user_model

    user = get_user_model().from_db(entry["db"], *entry["user"])
    auth_token = get_token_model().from_db(entry["db"], *entry["token"])
    auth_token.user = user
    auth_token.user_permissions_list = entry["permissions"]
    auth_token.second_factor_verified = entry["second_factor"]
    return auth_token


class TokenAuthentication(KnoxTokenAuthentication):
    """knox tokens (stored hashed, expiring), marked when they were issued after a verified TOTP code."""

    def authenticate_token(self, request: Any) -> tuple[Any, Any]:
        result = super().authenticate(request)
        if result is None:
            raise exceptions.AuthenticationFailed()
        return result

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        """The token, its user, its second factor and the user's permissions in one statement, or from
        the cache for API_TOKEN_CACHE_SECONDS (above: what invalidates a kept look-up).

        knox's own lookup takes four to five per request (the token with its user, every other token
        of the user to delete the expired ones, the second factor, the user's and the groups'
        permissions). A revoked token is refused and a role taken away is gone on the very next
        request, kept or not. Expired tokens are refused here; Celery beat purges them
        (`purge_expired_tokens`), where knox deleted them on every request.
        """
        message = _("Invalid token.")
        text = token.decode("utf-8")
        try:
            digest = hash_token(text)
        except (TypeError, binascii.Error):
            raise exceptions.AuthenticationFailed(message) from None
        seconds = _token_cache_seconds()
        key, generation = _token_cache_key(digest), None
        if seconds > 0:
            try:
                found = cache.get_many([key, LOOKUP_GENERATION_KEY])
            except Exception:
                found = {}
                seconds = 0  # the cache is unavailable: read the database, keep nothing
            generation = found.get(LOOKUP_GENERATION_KEY)
            entry = found.get(key)
            if entry is not None and generation is not None and entry["generation"] == generation:
                auth_token = _from_entry(entry)
                if auth_token.expiry is None or auth_token.expiry >= timezone.now():
                    return self._accepted(auth_token)
        candidates = (
            get_token_model()
            .objects.filter(token_key=text[: CONSTANTS.TOKEN_KEY_LENGTH])
            .select_related("user", "second_factor")
            .annotate(user_permissions_list=_user_permissions_sql())
        )
        for auth_token in candidates:
            if not compare_digest(digest, auth_token.digest):
                continue
            if auth_token.expiry is not None and auth_token.expiry < timezone.now():
                username = auth_token.user.get_username()
                auth_token.delete()
                token_expired.send(sender=self.__class__, username=username, source="auth_token")
                raise exceptions.AuthenticationFailed(message)
            if knox_settings.AUTO_REFRESH and auth_token.expiry:
                self.renew_token(auth_token)
            auth_token.second_factor_verified = hasattr(auth_token, "second_factor")
            if seconds > 0:
                self._keep(key, auth_token, generation, seconds)
            return self._accepted(auth_token)
        raise exceptions.AuthenticationFailed(message)

    @staticmethod
    def _keep(key: str, auth_token: Any, generation: int | None, seconds: int) -> None:
        if knox_settings.AUTO_REFRESH:
            return  # each request moves the expiry: nothing worth keeping
        try:
            if generation is None:
                # No generation yet: start one (a random start, see _bump_generation) and keep nothing
                # this time; a change may have set it since this request read the rows.
                cache.add(LOOKUP_GENERATION_KEY, secrets.randbits(62), timeout=None)
                return
            if auth_token.expiry is not None:
                seconds = min(seconds, max(0, int((auth_token.expiry - timezone.now()).total_seconds())))
            if seconds > 0:
                cache.set(key, _kept_entry(auth_token, auth_token.user_permissions_list, generation), seconds)
        except Exception:
            logger.warning("token look-ups: the cache is unavailable; nothing kept")

    def _accepted(self, auth_token: Any) -> tuple[Any, Any]:
        user = auth_token.user
        if not user.is_superuser:  # ModelBackend's own per-request cache, filled from this statement
            user._perm_cache = _permission_set(auth_token.user_permissions_list)
        return self.validate_user(auth_token)

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        principal = getattr(request._request, PRINCIPAL_ATTRIBUTE, None)
        if principal is not None and principal.token_failure is not None:
            raise principal.token_failure
        if principal is not None and principal.token is not None:
            result = (principal.user, principal.token)  # the middleware already looked the token up
        else:
            result = super().authenticate(request)
        if result is not None:
            apply_rule(request, *result)
        return result


class SessionAuthentication(DRFSessionAuthentication):
    """Browser sessions on the API (CSRF enforced), under the same second-factor rule."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is not None:
            apply_rule(request, result[0], None)
        return result


def second_factor_verified(request: Request) -> bool:
    """True when this API request carries a verified second factor (see the module docstring)."""
    return credential_verified(request.user, request.auth, request._request)


# For the OpenAPI document: the header that carries a one-off code.
SECOND_FACTOR_HEADER = OpenApiParameter(
    name="X-OTP",
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description=(
        "A current TOTP code. Reviewers, admins and holders of the witness-identity permission need a second "
        "factor for every request: a token obtained with an 'otp' code, or a fresh code here (each code is "
        "accepted once; wrong codes slow further tries down)."
    ),
)


def require_second_factor(request: Request) -> None:
    """403 without a second factor, for anyone. Redundant for the users `apply_rule` covers (every user
    who may reach the views still calling it: count publication and exports); kept until they move."""
    if request.user and request.user.is_authenticated and not second_factor_verified(request):
        raise SecondFactorMissing()


@shared_task(name="accounts.auth.purge_expired_tokens")
def purge_expired_tokens() -> int:
    """Delete expired API tokens (Celery beat): knox did it for each user on each of their requests."""
    deleted, _by_model = get_token_model().objects.filter(expiry__lt=timezone.now()).delete()
    return deleted
