"""Signing in and out of the API: `POST /api/v1/auth/token/` and `POST /api/v1/auth/logout/`.

The token view runs outside the request's transaction (`non_atomic_requests`) and commits each step
on its own: the failed attempt (django-axes' counter, the audit entry), the code's check (django-otp's
throttle, or the code spent), then the token with its audit entry. So nothing a failure later in the
request rolls back can undo the record of a wrong password or code, or make a used code usable again.
For the same reason it answers every refusal itself instead of raising (a raised error would ask
DRF to roll back a transaction this view does not have).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.services import record_event
from config.client import client_address

from . import services, signin
from .models import SecondFactorToken


class TokenRequestSerializer(AuthTokenSerializer):
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=12,
        help_text=(
            "A current TOTP code. Reviewers, admins and holders of the witness-identity permission need it: "
            "a token obtained without one can only sign out."
        ),
    )


class ObtainTokenView(APIView):
    """`POST {"username", "password"[, "otp"]}` → `{"token", "expiry", "second_factor"}`; send it as
    `Authorization: Token <token>`."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    serializer_class = AuthTokenSerializer

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        return transaction.non_atomic_requests(super().as_view(**initkwargs))

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: inline_serializer(
                "TokenResponse",
                {
                    "token": serializers.CharField(),
                    "expiry": serializers.DateTimeField(),
                    "second_factor": serializers.BooleanField(),
                },
            )
        },
    )
    def post(self, request: Request) -> Response:
        # The browser session's user, if any (this view authenticates nobody: DRF says anonymous).
        signed_in = get_user(request._request)
        try:
            body = request.data
        except exceptions.APIException as refused:  # malformed or too deeply nested JSON, wrong media type
            return Response({"detail": refused.detail}, status=refused.status_code)
        # The plain HttpRequest: django-axes records and refuses attempts per username + IP on it.
        serializer = TokenRequestSerializer(data=body, context={"request": request._request})
        if not serializer.is_valid():
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        user = serializer.validated_data["user"]
        device = None
        if serializer.validated_data.get("otp"):
            # Its own transaction: the throttle and the audit entry (or the spent code) are kept.
            device = services.verify_code(
                user, serializer.validated_data["otp"], request=request, via="api-token", record_success=False
            )
            if device is None:
                return Response(
                    {"otp": [_("That code is not valid or was already used.")]}, status=status.HTTP_400_BAD_REQUEST
                )
        with transaction.atomic():
            instance, token = AuthToken.objects.create(user)
            if device is not None:
                SecondFactorToken.objects.create(token=instance, device_id=device.persistent_id)
            signin.remember_token_in_session(request._request, user, instance, signed_in)
            record_event(
                actor=user,
                action="auth.login",
                details={
                    "via": "api-token",
                    "second_factor": device is not None,
                    "ip": client_address(request._request),
                    "path": request.path,
                },
            )
        signin.record_success(request._request, user.get_username())
        return Response(
            {"token": token, "expiry": instance.expiry, "second_factor": device is not None}, status=status.HTTP_200_OK
        )


class RevokeTokenView(APIView):
    """`POST` with a token: revokes that token (sign out of the API)."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, AuthToken):
            request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
