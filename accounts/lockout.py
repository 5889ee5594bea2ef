"""django-axes' answer to a locked-out sign-in (AXES_LOCKOUT_CALLABLE): 429 with Retry-After, in the
request's language; the site's own page (templates/lockout.html: how long to wait) for the sign-in page,
JSON for the API's token endpoint."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import ngettext

from config.ratelimit import API_PREFIX


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    wait = settings.AXES_COOLOFF_TIME
    seconds = max(1, math.ceil(wait.total_seconds())) if wait else 0
    if request.path.startswith(API_PREFIX):
        minutes = max(1, math.ceil(seconds / 60))
        detail = ngettext(
            "Too many failed sign-in attempts from this address. Try again in %(minutes)d minute.",
            "Too many failed sign-in attempts from this address. Try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}
        response: HttpResponse = JsonResponse({"detail": detail}, status=429)
    else:
        response = render(request, "lockout.html", {"wait": wait, "cooloff_timedelta": wait}, status=429)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
