"""The OpenAPI description of our token authentication (knox tokens, `Authorization: Token <token>`)."""

from __future__ import annotations

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme


class SecondFactorAwareKnoxTokenScheme(KnoxTokenScheme):
    target_class = "accounts.auth.TokenAuthentication"
    name = "knoxApiToken"


class SecondFactorAwareSessionScheme(SessionScheme):
    target_class = "accounts.auth.SessionAuthentication"
