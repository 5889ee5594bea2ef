"""The client's address, decided in one place.

Issue 17 makes this proxy-aware (a trusted X-Forwarded-For hop count); until then it is the socket's
peer address. Rate limits, sign-in back-off and audit entries all key on it.
"""

from __future__ import annotations

from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")
