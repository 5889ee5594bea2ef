"""API plumbing shared by every app: pagination, error shape, the router."""

from __future__ import annotations

import errno

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, IntegrityError
from django.db.models import ProtectedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

STORAGE_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class Conflict(exceptions.APIException):
    """An illegal workflow move or a concurrent change (HTTP 409)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "This change conflicts with the record's current state."
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, plus Django's own errors mapped to clear 4xx answers instead of 500s."""
    from incidents.workflow import IllegalTransition

    if isinstance(exc, IllegalTransition):
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
    return drf_exception_handler(exc, context)


router = DefaultRouter()
