"""Rate limits for the endpoints anyone can call: signing in, codes, published figures.

One table, `settings.RATE_LIMITS`, names each limited URL (API names as in the URLconf, pages as
"page:<name>", the admin's as "admin:<name>") with its rates per key: "ip" (the client's address,
config.client), "user_or_ip" (the signed-in user, else the address). The counters are
django-ratelimit's fixed windows in the `ratelimit` cache (Redis when REDIS_URL is set, so every web
process shares them; this process's memory otherwise). `RateLimitMiddleware.process_view` applies the
table before the view runs (and before its transaction opens), so a refused request costs a cache
increment: no password hash, no PDF, no database write. The answer is 429 with `Retry-After`, in the
request's language (JSON on the API, a page elsewhere). Each key's first refusal in a window writes one
audit entry; the rest of that window's refusals write nothing.

`/healthz` is not limited: load balancers and monitors call it often, it costs one `SELECT 1` and a
Redis ping, and a limit would let anyone make a healthy node look dead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language_from_path
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage

from .client import client_address

logger = logging.getLogger(__name__)
API_PREFIX = "/api/"


def limit_name(request: HttpRequest) -> str | None:
    """The request's name in RATE_LIMITS: "api-token", "page:login", "admin:login", ..."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.url_name:
        return None
    if match.namespace:
        return f"{match.namespace}:{match.url_name}"
    if get_language_from_path(request.path_info):
        return f"page:{match.url_name}"
    return match.url_name


def _key(scope: str) -> Callable[[str, HttpRequest], str]:
    def key(group: str, request: HttpRequest) -> str:
        user = getattr(request, "user", None)
        if scope == "user_or_ip" and user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        return f"ip:{client_address(request)}"

    return key


def too_many_requests(request: HttpRequest, retry_after: int) -> HttpResponse:
    """429 with Retry-After, in the request's language."""
    retry_after = max(1, int(retry_after))
    message = _("Too many requests. Please wait %(seconds)d seconds and try again.") % {"seconds": retry_after}
    if request.path.startswith(API_PREFIX):
        response: HttpResponse = JsonResponse({"detail": message}, status=429)
    else:
        # The site's refusal page (templates/429.html): its layout and language, and the wait in minutes.
        response = render(request, "429.html", {"wait": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def check(request: HttpRequest, name: str) -> int | None:
    """Count this request against `name`'s limits; the seconds to wait when one is exceeded, else None."""
    rule = settings.RATE_LIMITS.get(name)
    if not rule or not getattr(settings, "RATELIMIT_ENABLE", True):
        return None
    methods = rule.get("methods")
    if methods and request.method not in methods:
        return None
    wait = None
    for scope, rate in rule.items():
        if scope == "methods":
            continue
        try:
            usage = get_usage(request, group=f"{name}:{scope}", key=_key(scope), rate=rate, increment=True)
        except Exception:  # the cache is unreachable: serve rather than refuse everyone
            logger.warning("rate limit not applied: the cache is unavailable", extra={"limit": name})
            return None
        if usage is None or not usage["should_limit"]:
            continue
        if usage["count"] == usage["limit"] + 1:  # the first refusal of this key in this window
            _audit(request, name, scope, rate)
        wait = max(wait or 0, usage["time_left"])
    return wait


def _audit(request: HttpRequest, name: str, scope: str, rate: str) -> None:
    from audit.services import record_event

    user = getattr(request, "user", None)
    record_event(
        actor=user,
        action="ratelimit.exceeded",
        details={"limit": name, "key": scope, "rate": rate, "ip": client_address(request), "path": request.path},
    )


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func: Callable, args: Any, kwargs: Any) -> HttpResponse | None:
        name = limit_name(request)
        wait = check(request, name) if name else None
        return too_many_requests(request, wait) if wait is not None else None
