"""Pages answer a lost database with 503 and a full disk with 507, never a bare 500.

(The API's exception handler, config/api.py, does the same for API views.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DatabaseError, IntegrityError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from .api import STORAGE_FULL_ERRNOS

logger = logging.getLogger(__name__)


class ServiceUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DatabaseError) and not isinstance(exception, IntegrityError):
            status, message = 503, _("The database is unavailable; nothing was saved. Try again in a moment.")
        elif isinstance(exception, OSError) and exception.errno in STORAGE_FULL_ERRNOS:
            status, message = 507, _("The server has no room to store this right now; nothing was saved.")
        else:
            return None
        # ATOMIC_REQUESTS rolls the request's transaction back as the exception leaves the view.
        logger.error(
            "request failed: %s", type(exception).__name__, extra={"status_code": status, "path": request.path}
        )
        html = render_to_string("service_unavailable.html", {"message": message})
        response = HttpResponse(html, status=status)
        if status == 503:
            response["Retry-After"] = "30"
        return response
