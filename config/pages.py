"""Page plumbing shared by every app: service refusals become pages, as `config.api` does for the API.

A page view calls a service or a workflow verb and lets its refusal propagate; this layer answers it:

    PermissionDenied                  403  "Not allowed", the service's reason
    Http404                           404  templates/404.html
    incidents.workflow.IllegalTransition,
    django.db.models.ProtectedError   409  the record's state forbids it, or a concurrent change won
    django ValidationError            400  the reasons, one sentence each
    a DRF APIException (e.g. the upload limit)   its own status and detail (413 ...)
    an app's own exceptions           the status the view's decorator gives them (`statuses=`)

How the refusal is shown is the view's choice (`on_refusal=`):

- "page" (default): `templates/refusal.html` in the site's layout, with the status that matches and a
  link back to where the user came from (`back_to(request, url)` names it while the view runs);
- "message_and_redirect": the reason as a `django.contrib.messages` error, and a redirect to `back`;
- a callable `(request, exc, message, status) -> HttpResponse | None` (e.g. a page that shows the
  reason beside its own form field); None falls back to the page.

An autosave request (`X-Autosave: 1`) gets `{"saved": false, "error": ...}` as JSON with the status.
A form that a service refuses field by field stays on its page: `with errors_on(form) as saving:` puts
the ValidationError's messages on the form's fields and lets the view re-render it (400).

The function views use `@refusals_as_pages` (under `@login_required`, so an anonymous visitor is
still sent to sign in); class-based views mix in `RefusalsAsPagesMixin`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import ProtectedError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException

PAGE = "page"
MESSAGE_AND_REDIRECT = "message_and_redirect"
BACK = "refusal_back"
REFUSAL_REASON = "refusal_reason"  # read by config.middleware.AuditRefusalsMiddleware


def titles() -> dict[int, str]:
    return {
        400: _("That could not be saved"),
        403: _("Not allowed"),
        404: _("Not found"),
        409: _("Not possible in the record's current state"),
        413: _("File too large"),
        415: _("Unsupported file type"),
    }


def refusal(request: HttpRequest, message: str, status: int, back: str | None = None) -> HttpResponse:
    """A page that says why an action was refused, with the HTTP status that matches."""
    if status == 404:
        return render(request, "404.html", {"request_path": request.path}, status=404)
    return render(
        request,
        "refusal.html",
        {"title": titles().get(status, _("Refused")), "message": message, "back": back, "status": status},
        status=status,
    )


def message_of(exc: Exception) -> str:
    """The refusal's reason as one text: a ValidationError's messages joined, else the first argument."""
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    if isinstance(exc, APIException):
        detail = exc.detail
        if isinstance(detail, dict):
            values = [value if isinstance(value, list) else [value] for value in detail.values()]
            return " ".join(str(m) for value in values for m in value)
        if isinstance(detail, list):
            return " ".join(str(m) for m in detail)
        return str(detail)
    if isinstance(exc, ProtectedError):
        return _("Other records refer to this one; it cannot be deleted.")
    return str(exc.args[0]) if exc.args else str(exc)


def add_service_errors(form: Any, exc: ValidationError) -> None:
    """A service's ValidationError on the form: per field where the form has the field, else the form's."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


class errors_on:
    """Run a service call for a form; its ValidationError goes onto the form instead of up.

    `saving.ok` is False when the service refused, so the view re-renders the form with the reasons.
    `add` puts the error on the form differently (e.g. the witness identity fields)."""

    def __init__(self, form: Any, add: Callable[[Any, ValidationError], None] | None = None) -> None:
        self.form = form
        self.add = add or add_service_errors
        self.ok = True

    def __enter__(self) -> errors_on:
        return self

    def __exit__(self, kind: type | None, exc: BaseException | None, traceback: Any) -> bool:
        if isinstance(exc, ValidationError):
            self.ok = False
            self.add(self.form, exc)
            return True
        if exc is not None:
            self.ok = False
        return False


def back_to(request: HttpRequest, url: str | None) -> str | None:
    """Name where a refusal of this request links back to (or redirects to); returns the URL."""
    setattr(request, BACK, url)
    return url


def status_of(exc: Exception, statuses: dict[type, int] | None = None) -> int | None:
    """The HTTP status a refusal answers with, or None when the exception is not a refusal."""
    from incidents.workflow import IllegalTransition

    for kind, status in (statuses or {}).items():
        if isinstance(exc, kind):
            return status
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, Http404):
        return 404
    if isinstance(exc, IllegalTransition | ProtectedError):
        return 409
    if isinstance(exc, ValidationError):
        return 400
    if isinstance(exc, APIException):
        return exc.status_code
    return None


REASONS = {403: "permission_denied", 404: "not_found"}


def answer(
    request: HttpRequest,
    exc: Exception,
    status: int,
    on_refusal: str | Callable[..., HttpResponse | None] = PAGE,
) -> HttpResponse:
    """The response to a refusal, as the view asked for it."""
    message = message_of(exc) if status != 404 else ""
    if status == 403 and not message:
        message = _("Your account does not have the right to do this.")
    if status in REASONS:
        setattr(request, REFUSAL_REASON, REASONS[status])
    back = getattr(request, BACK, None)
    if request.headers.get("X-Autosave") == "1":
        return JsonResponse({"saved": False, "error": message}, status=status)
    if callable(on_refusal):
        response = on_refusal(request, exc, message, status)
        if response is not None:
            return response
    elif on_refusal == MESSAGE_AND_REDIRECT and back and status != 404:
        messages.error(request, message)
        return HttpResponseRedirect(back)
    return refusal(request, message, status, back=back)


def refusals_as_pages(
    view: Callable | None = None,
    *,
    on_refusal: str | Callable[..., HttpResponse | None] = PAGE,
    statuses: dict[type, int] | None = None,
) -> Callable:
    """Decorate a function view: the refusals it raises become pages (see the module's docstring).

    Used bare (`@refusals_as_pages`) or with arguments (`@refusals_as_pages(on_refusal=...)`)."""

    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return function(request, *args, **kwargs)
            except Exception as exc:
                status = status_of(exc, statuses)
                if status is None:
                    raise
                return answer(request, exc, status, on_refusal)

        return wrapper

    return decorate(view) if view is not None else decorate


class RefusalsAsPagesMixin:
    """For class-based views: the refusals `dispatch` raises become pages, as `refusals_as_pages`.

    Set `on_refusal` and `refusal_statuses` on the view class to choose how."""

    on_refusal: str | Callable[..., HttpResponse | None] = PAGE
    refusal_statuses: dict[type, int] | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        except Exception as exc:
            status = status_of(exc, self.refusal_statuses)
            if status is None:
                raise
            on_refusal = self.on_refusal
            if callable(on_refusal) and not isinstance(on_refusal, str):
                on_refusal = getattr(type(self), "on_refusal")  # noqa: B009 (a function kept as a value)
            return answer(request, exc, status, on_refusal)
