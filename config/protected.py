"""Responses that carry protected fields (witness identity): marked where they are serialised.

The one place that puts a protected value into a response (evidence's witness serializer) calls
`mark_shown(request, fields)`. Everything that must treat such a response differently asks
`shown(request)` instead of knowing which endpoints or serializers are involved:

- `ProtectedResponsesNotStored` (middleware) sends `Cache-Control: private, no-store` on the
  response, so no browser, proxy or shared cache keeps a copy;
- `accounts.idempotency` stores the answer for replays without those fields and re-derives them
  when it replays (so the replay table never holds them in clear).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

ATTRIBUTE = "protected_fields_shown"


def _http_request(request: Any) -> Any:
    # A DRF Request wraps Django's HttpRequest; middleware sees only the latter.
    return getattr(request, "_request", request)


def mark_shown(request: Any, fields: Iterable[str]) -> None:
    """Record that this request's response carries these protected fields."""
    if request is None:
        return
    target = _http_request(request)
    setattr(target, ATTRIBUTE, frozenset(getattr(target, ATTRIBUTE, frozenset())) | frozenset(fields))


def shown(request: Any) -> frozenset[str]:
    """The protected fields this request's response carries (empty when none)."""
    if request is None:
        return frozenset()
    return frozenset(getattr(_http_request(request), ATTRIBUTE, frozenset()))


def never_store(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, private=True, no_store=True, no_cache=True, max_age=0)
    return response


class ProtectedResponsesNotStored:
    """Responses carrying protected fields are never cached anywhere (`private, no-store`)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if shown(request):
            never_store(response)
        return response
