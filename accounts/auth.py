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
from dataclasses import dataclass
from hmac import compare_digest
from typing import Any

from celery import shared_task
from django.db import connection
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


class TokenAuthentication(KnoxTokenAuthentication):
    """knox tokens (stored hashed, expiring), marked when they were issued after a verified TOTP code."""

    def authenticate_token(self, request: Any) -> tuple[Any, Any]:
        result = super().authenticate(request)
        if result is None:
            raise exceptions.AuthenticationFailed()
        return result

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        """The token, its user, its second factor and the user's permissions in one statement.

        knox's own lookup takes four to five per request (the token with its user, every other token
        of the user to delete the expired ones, the second factor, the user's and the groups'
        permissions). Everything is still read afresh on every request, so a revoked token is refused
        and a role taken away is gone on the very next request; nothing is cached across requests.
        Expired tokens are refused here; Celery beat purges them (`purge_expired_tokens`), where knox
        deleted them on every request (and the refusal's rollback undid it).
        """
        message = _("Invalid token.")
        text = token.decode("utf-8")
        candidates = (
            get_token_model()
            .objects.filter(token_key=text[: CONSTANTS.TOKEN_KEY_LENGTH])
            .select_related("user", "second_factor")
            .annotate(user_permissions_list=_user_permissions_sql())
        )
        for auth_token in candidates:
            try:
                digest = hash_token(text)
            except (TypeError, binascii.Error):
                raise exceptions.AuthenticationFailed(message) from None
            if not compare_digest(digest, auth_token.digest):
                continue
            if auth_token.expiry is not None and auth_token.expiry < timezone.now():
                username = auth_token.user.get_username()
                auth_token.delete()
                token_expired.send(sender=self.__class__, username=username, source="auth_token")
                raise exceptions.AuthenticationFailed(message)
            if knox_settings.AUTO_REFRESH and auth_token.expiry:
                self.renew_token(auth_token)
            user = auth_token.user
            if not user.is_superuser:  # ModelBackend's own per-request cache, filled from this statement
                user._perm_cache = _permission_set(auth_token.user_permissions_list)
            auth_token.second_factor_verified = hasattr(auth_token, "second_factor")
            return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(message)

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
