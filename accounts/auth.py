"""API authentication and the second-factor requirement for sensitive API actions."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions, permissions
from rest_framework.request import Request

from . import services

OTP_HEADER = "HTTP_X_OTP"


class TokenAuthentication(KnoxTokenAuthentication):
    """knox tokens (stored hashed, expiring), marked when they were issued after a verified TOTP code."""

    def authenticate_credentials(self, token: bytes) -> tuple[Any, Any]:
        user, auth_token = super().authenticate_credentials(token)
        auth_token.second_factor_verified = hasattr(auth_token, "second_factor")
        return user, auth_token


def second_factor_verified(request: Request) -> bool:
    """True when this request carries a verified second factor.

    Any one of: a token obtained with an `otp` code; a browser session verified on the
    verification page; or a fresh code in the `X-OTP` header (each code is accepted once).
    """
    if getattr(request.auth, "second_factor_verified", False):
        return True
    user = request.user
    if request.auth is None and callable(getattr(user, "is_verified", None)) and user.is_verified():
        return True
    code = request.META.get(OTP_HEADER)
    if code:
        device = services.verify_code(user, code)
        if device is not None:
            return True
    return False


class SecondFactorRequired(permissions.BasePermission):
    """Review, reopen, publish and export need a verified second factor (403 `second_factor_required`)."""

    message = _(
        "This action needs a second factor: obtain your token with an 'otp' code, or send a fresh code "
        "in the X-OTP header."
    )
    code = "second_factor_required"

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return True  # the other permissions answer 401/403 for anonymous users
        return second_factor_verified(request)


# For the OpenAPI document: the header that carries a one-off code on sensitive actions.
SECOND_FACTOR_HEADER = OpenApiParameter(
    name="X-OTP",
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description=(
        "A current TOTP code. Review, reopen, publish and export need a second factor: either a token "
        "obtained with an 'otp' code, or a fresh code here (each code is accepted once)."
    ),
)


def require_second_factor(request: Request) -> None:
    """Call first in a sensitive API action (review, reopen, publish, export): 403 without a second factor."""
    if request.user and request.user.is_authenticated and not second_factor_verified(request):
        raise exceptions.PermissionDenied(SecondFactorRequired.message, code=SecondFactorRequired.code)
