"""Responses that carry protected fields (witness identity): marked where they are serialised.

The one place that puts a protected value into a response (evidence's witness serializer) calls
`mark_shown(request, fields)`. Everything that must treat such a response differently asks
`shown(request)` instead of knowing which endpoints or serializers are involved:

- `accounts.idempotency` stores the answer for replays without those fields and re-derives them
  when it replays (so the replay table never holds them in clear).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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

