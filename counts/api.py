"""HTTP API for casualty counts: admins request, read, publish and export snapshots; anyone reads
published ones. Views fetch, call a service in counts.services, and serialise."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import SECOND_FACTOR_HEADER, require_second_factor
from accounts.idempotency import idempotent_create
from config.downloads import attachment

from . import services
from .models import CountSnapshot
from .serializers import CountRequestSerializer, CountSnapshotSerializer, PublicCountSnapshotSerializer


class CanManageCounts(permissions.BasePermission):
    message = services.MANAGERS_ONLY

    def has_permission(self, request: Request, view: Any) -> bool:
        return services.may_manage(request.user)


class ExportNegotiation(BaseContentNegotiation):
    """`?format=` names the export file type here, not a DRF renderer: the service validates it."""

    def select_renderer(self, request: Request, renderers: list, format_suffix: str | None = None) -> tuple:
        return renderers[0], renderers[0].media_type

    def select_parser(self, request: Request, parsers: list) -> Any:
        return parsers[0] if parsers else None


def as_download(response: HttpResponse | StreamingHttpResponse, filename: str) -> HttpResponse:
    """Every count file leaves as an attachment, never cached by the browser or a proxy, never sniffed.
    (File names are built by the service from ids and dates only.)"""
    return attachment(response, filename)


EXPORT_SCHEMA = extend_schema(
    parameters=[OpenApiParameter("format", str, enum=list(services.EXPORT_FORMATS), required=True)],
    responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
)
# The admins' export of any snapshot also needs a second factor.
ADMIN_EXPORT_SCHEMA = extend_schema(
    parameters=[
        OpenApiParameter("format", str, enum=list(services.EXPORT_FORMATS), required=True),
        SECOND_FACTOR_HEADER,
    ],
    responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
)


class CountSnapshotViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Count services. `POST` starts a computation (202, `pending`); poll the snapshot for its status."""

    serializer_class = CountSnapshotSerializer
    permission_classes = [CanManageCounts]
    filterset_fields = ["status"]

    def get_queryset(self):
        return CountSnapshot.objects.select_related("period").prefetch_related("superseded_by").order_by("-id")

    @extend_schema(request=CountRequestSerializer, responses={202: CountSnapshotSerializer})
    @idempotent_create
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        parameters = CountRequestSerializer(data=request.data)
        parameters.is_valid(raise_exception=True)
        snapshot = services.request_count(actor=request.user, **parameters.validated_data)
        return Response(CountSnapshotSerializer(snapshot).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: CountSnapshotSerializer}, parameters=[SECOND_FACTOR_HEADER])
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        require_second_factor(request)
        snapshot = services.publish(actor=request.user, snapshot=self.get_object())
        return Response(CountSnapshotSerializer(snapshot).data)

    @ADMIN_EXPORT_SCHEMA
    @action(detail=True, methods=["get"], content_negotiation_class=ExportNegotiation)
    def export(self, request: Request, pk: str | None = None) -> HttpResponse:
        require_second_factor(request)
        content, content_type, filename = services.export(
            actor=request.user, snapshot=self.get_object(), export_format=request.query_params.get("format", "")
        )
        return as_download(HttpResponse(content, content_type=content_type), filename)


class PublicCountSnapshotViewSet(viewsets.ReadOnlyModelViewSet):
    """Published counts, for anyone, without signing in; `export/` gives them as files."""

    serializer_class = PublicCountSnapshotSerializer
    permission_classes = [permissions.AllowAny]
    filter_backends: list = []

    def get_queryset(self):
        return CountSnapshot.objects.published().select_related("period").prefetch_related("superseded_by")

    @EXPORT_SCHEMA
    @action(detail=True, methods=["get"], content_negotiation_class=ExportNegotiation)
    def export(self, request: Request, pk: str | None = None) -> HttpResponse:
        content, content_type, filename = services.export(
            actor=request.user, snapshot=self.get_object(), export_format=request.query_params.get("format", "")
        )
        return as_download(HttpResponse(content, content_type=content_type), filename)


class CountedVictimsCSVView(APIView):
    """`GET /api/v1/counts/<id>/victims.csv`: every counted victim of a done snapshot (admins), streamed."""

    permission_classes = [CanManageCounts]
    content_negotiation_class = ExportNegotiation

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> StreamingHttpResponse:
        require_second_factor(request)
        snapshot = get_object_or_404(CountSnapshot, pk=pk)
        chunks, filename = services.export_counted_victims(actor=request.user, snapshot=snapshot)
        response = as_download(StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8"), filename)
        response["X-Count-Fingerprint"] = snapshot.fingerprint
        return response
