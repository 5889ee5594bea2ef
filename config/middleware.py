"""Pages answer a lost database with 503 and a full disk with 507, never a bare 500; refused requests
are audited.

(The API's exception handler, config/api.py, does the same for API views, and names why it refused.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, IntegrityError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from .api import STORAGE_FULL_ERRNOS
from .client import client_address

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


REFUSED = {401, 403, 404}
# Set on the request by whoever refuses it (the API's exception handler, accounts.auth): why, and whom.
REFUSAL_REASON = "refusal_reason"
REFUSED_USER = "refused_user"


class AuditRefusalsMiddleware:
    """One audit entry for each refused request (401, 403 or 404 from a view the URL named), on the API
    and on pages alike: who, method, path (never the query string, which may hold search terms), the
    view's name, why, the client's address; never a body, a token or a witness's identity.

    Written here, after the response, because the view's own transaction (ATOMIC_REQUESTS) is rolled
    back on a refusal and would take the entry with it. A 404 for a URL that names no view (scanners
    probing paths) is not a refusal of anything and is not written. Anonymous refusals are the cheap
    ones to send, so an address's anonymous refusals are written at most once per
    AUDIT_ANONYMOUS_REFUSALS_EVERY_SECONDS (the entry says so), never one row per request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if response.status_code in REFUSED and match is not None and match.url_name:
            try:
                self._audit(request, response, match)
            except Exception:  # auditing must never turn a refusal into a 500
                logger.exception("refusal not audited", extra={"path": request.path})
        return response

    @staticmethod
    def _audit(request: HttpRequest, response: HttpResponse, match) -> None:
        from audit.services import record_event

        user = getattr(request, REFUSED_USER, None) or getattr(request, "user", None)
        anonymous = user is None or not user.is_authenticated
        address = client_address(request)
        details = {
            "status": response.status_code,
            "method": request.method,
            "path": request.path,
            "view": f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name,
            "reason": getattr(request, REFUSAL_REASON, "")
            or {401: "not_authenticated", 403: "permission_denied"}.get(response.status_code, "not_found"),
            "ip": address,
        }
        if anonymous:
            window = settings.AUDIT_ANONYMOUS_REFUSALS_EVERY_SECONDS
            try:
                first = caches[settings.RATELIMIT_USE_CACHE].add(f"refused:{address}", 1, timeout=window)
            except Exception:
                first = True  # no cache: write it rather than lose it
            if not first:
                return
            details["anonymous_refusals_written_once_per_seconds"] = window
        record_event(actor=None if anonymous else user, action="access.refused", details=details)
