"""API plumbing shared by every app: pagination, error shape, the router."""

from __future__ import annotations

import errno
import json
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.core.paginator import Page as DjangoPage
from django.core.paginator import Paginator as DjangoPaginator
from django.db import DatabaseError, IntegrityError, connections
from django.db.models import ProtectedError, QuerySet
from django.http import Http404
from django.utils.functional import cached_property
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from .compiled import CompiledList

STORAGE_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


# Estimated counts of large lists for API_COUNT_ESTIMATE_SECONDS, per API list and filter signature (path,
# query parameters but the page's, the user: `Pagination.estimate_key`), else per statement and parameters
# (pages): the probe and the EXPLAIN are two of a page's statements, and the estimate of a large list
# changes slowly (it is only ever an estimate, and pages never depend on it). Keyed by the signature, a
# kept estimate also spares compiling the count's SQL just to look it up. Exact counts are never kept.
_ESTIMATES: dict[tuple, tuple[float, int]] = {}
_ESTIMATES_KEPT = 2048


def _estimate_key(queryset: QuerySet) -> tuple | None:
    try:
        sql, params = queryset.order_by().query.sql_with_params()
    except Exception:  # an empty result (EmptyResultSet) and the like: nothing worth keeping
        return None
    return (queryset.db, sql, tuple(params))


def remember_estimate(key: tuple | None, estimate: int) -> None:
    seconds = getattr(settings, "API_COUNT_ESTIMATE_SECONDS", 0)
    if key is None or seconds <= 0:
        return
    if len(_ESTIMATES) >= _ESTIMATES_KEPT:
        _ESTIMATES.clear()
    _ESTIMATES[key] = (time.monotonic() + seconds, estimate)


def forget_estimates() -> None:
    _ESTIMATES.clear()


class ProbedPage(DjangoPage):
    """A page whose `has_next()` is what the database said (one row fetched past the page), not a count."""

    def __init__(self, object_list: list, number: int, paginator: DjangoPaginator, more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self._more = more

    def has_next(self) -> bool:
        return self._more


class EstimatingPaginator(DjangoPaginator):
    """Exact counts for lists of up to `API_EXACT_COUNT_LIMIT` rows; above that, PostgreSQL's estimate.

    An exact COUNT(*) over a million victims costs a third of a second on every page of the list
    (measured in bench/README.md), which no page needs. So on PostgreSQL: if at least the limit's worth of
    rows exists (one cheap `LIMIT 1 OFFSET limit` probe), the list reports the planner's row estimate
    (never less than the limit) and says so in the `X-Count-Is-Estimate: true` response header;
    smaller lists, every list on SQLite, and every list when the limit is 0 are counted exactly.

    The estimate never decides which pages exist: each page fetches one row past its end, so `next`
    is there exactly when a further row is, and a client following `next` reaches every row to the
    real end whatever the estimate says (too low or too high). A page past the real end is a 404.
    A `count` that is an estimate is raised to the rows this page proves exist.
    """

    # Set by Pagination for API lists: the list and filter signature its estimate is kept under.
    estimate_key: tuple | None = None

    @cached_property
    def count_is_estimate(self) -> bool:
        self.count  # noqa: B018 (computes both)
        return self._estimated

    @cached_property
    def count(self) -> int:
        self._estimated = False
        limit = settings.API_EXACT_COUNT_LIMIT
        queryset = self.object_list
        compiled = isinstance(queryset, CompiledList)
        if (
            not limit
            or not (compiled or isinstance(queryset, QuerySet))
            or connections[queryset.db].vendor != "postgresql"
        ):
            return super().count
        key = self.estimate_key or (None if compiled else _estimate_key(queryset))
        cached = _ESTIMATES.get(key) if key is not None else None
        if cached is not None and cached[0] > time.monotonic():
            self._estimated = True
            return cached[1]
        if compiled:
            if not queryset.exists_at(limit):
                return super().count
        elif not queryset.order_by().values("pk")[limit : limit + 1].exists():
            return super().count
        self._estimated = True
        estimate = max(limit, self.planner_estimate(queryset))
        remember_estimate(key, estimate)
        return estimate

    @staticmethod
    def planner_estimate(queryset: QuerySet) -> int:
        """PostgreSQL's row estimate for the list (`EXPLAIN`, about a millisecond)."""
        if isinstance(queryset, CompiledList):
            return queryset.planner_estimate()
        sql, params = queryset.order_by().query.sql_with_params()
        with connections[queryset.db].cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])

    def validate_number(self, number: Any) -> int:
        """An integer of at least 1; whether the page has rows is the database's answer, not the count's."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def get_page(self, number: Any) -> ProbedPage:
        """For pages (not the API): a page number that is not one, or past the end, shows the last page
        (the first when the count is an estimate), as Django's paginator does, never an error."""
        try:
            number = self.validate_number(number)
        except PageNotAnInteger:
            number = 1
        except EmptyPage:
            number = self.num_pages
        try:
            return self.page(number)
        except EmptyPage:
            # Past the real end: the last page when the count is exact; with an estimate the last page
            # is not known without counting, so the first.
            return self.page(1 if self.count_is_estimate else self.num_pages)

    def fetch(self, start: int, stop: int) -> Any:
        """The rows `start` to `stop` of the list in its order (a list view may read them another way)."""
        if isinstance(self.object_list, CompiledList):
            return self.object_list.rows(start, stop)
        return self.object_list[start:stop]

    def page(self, number: Any) -> ProbedPage:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.fetch(bottom, bottom + self.per_page + 1))
        more = len(rows) > self.per_page
        rows = rows[: self.per_page]
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        seen = bottom + len(rows) + int(more)
        if self.count_is_estimate and self.count < seen:
            self.__dict__["count"] = seen  # the estimate was low: never report fewer rows than exist
        return ProbedPage(rows, number, self, more)


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    paginator_class = EstimatingPaginator

    def django_paginator_class(self, *args: Any, **kwargs: Any) -> EstimatingPaginator:  # type: ignore[override]
        paginator = self.paginator_class(*args, **kwargs)
        paginator.estimate_key = self.estimate_key(paginator.object_list)
        return paginator

    def estimate_key(self, queryset: Any) -> tuple | None:
        """The list and filter signature: path, every query parameter but the page's, and the user (whose
        visibility decides the rows). Two requests with the same signature ask for the same rows."""
        request = getattr(self, "request", None)
        if request is None or not isinstance(queryset, QuerySet | CompiledList):
            return None
        paging = {self.page_query_param, self.page_size_query_param}
        params = tuple(
            sorted((name, tuple(values)) for name, values in request.query_params.lists() if name not in paging)
        )
        return ("list", queryset.db, request.path, getattr(request.user, "pk", None), params)

    def get_paginated_response(self, data: list) -> Response:
        response = super().get_paginated_response(data)
        # A header, so the body stays exactly docs/api.md's {"count", "next", "previous", "results"}.
        response["X-Count-Is-Estimate"] = "true" if self.page.paginator.count_is_estimate else "false"
        return response


class TooLarge(exceptions.APIException):
    """A request body over the configured limit (HTTP 413)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the limit."
    default_code = "too_large"


class Conflict(exceptions.APIException):
    """An illegal workflow move or a concurrent change (HTTP 409)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "This change conflicts with the record's current state."
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, plus Django's own errors mapped to clear 4xx answers instead of 500s."""
    from incidents.workflow import IllegalTransition

    if isinstance(exc, RequestDataTooBig):
        exc = TooLarge()
    elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        exc = exceptions.ParseError("The request has too many fields or files.")
    elif isinstance(exc, IllegalTransition):
        exc = Conflict(str(exc) or None)
    elif isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, ProtectedError):
        exc = Conflict("Other records refer to this one; it cannot be deleted.")
    elif isinstance(exc, IntegrityError):
        # A database constraint caught what validation did not: the input is at fault, not the server.
        exc = exceptions.ValidationError({"non_field_errors": ["The record violates a data constraint."]})
    elif isinstance(exc, OSError) and exc.errno in STORAGE_FULL_ERRNOS:
        # The disk (or quota) is full: the transaction rolls back, partial files are removed by their owners.
        set_rollback()
        return Response(
            {"detail": "The server has no room to store this right now; nothing was saved. Try again later."},
            status=status.HTTP_507_INSUFFICIENT_STORAGE,
        )
    elif isinstance(exc, DatabaseError):
        set_rollback()
        response = Response(
            {"detail": "The database is unavailable; nothing was saved. Try again."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
        return response
    response = drf_exception_handler(exc, context)
    request = context.get("request")
    if response is not None and response.status_code in (401, 403, 404) and request is not None:
        # Why, for the refusal's audit entry (config.middleware.AuditRefusalsMiddleware writes it).
        request._request.refusal_reason = getattr(exc, "default_code", "") or ""
    return response


router = DefaultRouter()
