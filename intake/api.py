"""HTTP API for imports: upload a list (202), follow its progress, download its errors, run a failed one again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.auth import SECOND_FACTOR_HEADER, require_second_factor
from accounts.idempotency import idempotent_create
from config.downloads import attachment
from evidence.uploads import HashingUploadHandler, StreamedUpload, UploadTooLarge

from . import readers, services
from .models import Import
from .serializers import ImportRequestSerializer, ImportSerializer


class ImportPermission(permissions.BasePermission):
    """Importing: documenters and admins (checked before the body is read). Reading: one's own imports,
    and admins every import (the queryset decides which)."""

    message = services.IMPORTERS_ONLY

    def has_permission(self, request: Request, view: Any) -> bool:
        if getattr(view, "action", None) == "create":
            return services.may_import(request.user)
        return services.may_read_imports(request.user)


class ReportNegotiation(BaseContentNegotiation):
    """`?format=` names the report's file type here (csv, xlsx), not a DRF renderer: the service checks it."""

    def select_renderer(self, request: Request, renderers: list, format_suffix: str | None = None) -> tuple:
        return renderers[0], renderers[0].media_type

    def select_parser(self, request: Request, parsers: list) -> Any:
        return parsers[0] if parsers else None


class ImportViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Imports of existing lists. `POST` (multipart `file`, `source`, `dry_run`, `submit`) answers 202 at once;
    the rows are read by a Celery task: poll the import for its `progress` and `summary`."""

    serializer_class = ImportSerializer
    permission_classes = [ImportPermission]
    parser_classes = [MultiPartParser]
    filterset_fields = ["status", "dry_run"]
    upload_handler: HashingUploadHandler | None = None

    def get_queryset(self):
        return Import.objects.visible_to(self.request.user).order_by("-created_at", "-id")

    def initialize_request(self, request: Any, *args: Any, **kwargs: Any) -> Request:
        # Before anything reads the body: the one file streams to disk, hashed, under IMPORT_MAX_UPLOAD_BYTES.
        if request.method == "POST":
            from django.conf import settings

            self.upload_handler = HashingUploadHandler(request, limit=settings.IMPORT_MAX_UPLOAD_BYTES)
            request.upload_handlers = [self.upload_handler]
        return super().initialize_request(request, *args, **kwargs)

    def handle_exception(self, exc: Exception) -> Response:
        if self.upload_handler is not None:
            self.upload_handler.cleanup()
        from django.core.exceptions import (
            RequestDataTooBig,
            SuspiciousMultipartForm,
            TooManyFieldsSent,
            TooManyFilesSent,
        )

        if isinstance(exc, RequestDataTooBig):
            exc = UploadTooLarge(_("The form fields are larger than allowed."))
        elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent | SuspiciousMultipartForm):
            exc = exceptions.ParseError(_("The upload form has too many parts or is malformed."))
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if self.upload_handler is not None:
            self.upload_handler.cleanup()  # a file not kept by the import is removed, whatever the outcome
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": ImportRequestSerializer},
        responses={
            202: ImportSerializer,
            400: OpenApiResponse(description="No file, an empty file, or a missing source name."),
            413: OpenApiResponse(description="Larger than IMPORT_MAX_UPLOAD_BYTES."),
            415: OpenApiResponse(description="Not a CSV or XLSX file (decided by content)."),
        },
    )
    @idempotent_create
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not isinstance(request.data, Mapping):
            raise exceptions.ValidationError({"file": [_("Send the list as multipart form fields: file, source.")]})
        upload = request.FILES.get("file")
        body = ImportRequestSerializer(data={key: value for key, value in request.data.items() if key != "file"})
        body.is_valid(raise_exception=True)
        if not isinstance(upload, StreamedUpload):
            raise exceptions.ValidationError({"file": [_("Attach the list in the multipart field 'file'.")]})
        try:
            stored = services.store_upload(upload.temp_path, upload.sha256, upload.size)
        except readers.UnsupportedFile as exc:
            raise exceptions.UnsupportedMediaType(upload.content_type or "unknown", detail=str(exc.args[0]))
        except (readers.EmptyFile, readers.UnreadableFile) as exc:
            raise exceptions.ValidationError({"file": [str(exc.args[0])]})
        record = services.start_import(
            actor=request.user,
            stored=stored,
            source=body.validated_data["source"],
            dry_run=body.validated_data["dry_run"],
            submit=body.validated_data["submit"],
            file_name=upload.name or "",
        )
        return Response(ImportSerializer(record, context=self.get_serializer_context()).data, status=202)

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=list(services.REPORT_FORMATS), required=True),
            SECOND_FACTOR_HEADER,
        ],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], content_negotiation_class=ReportNegotiation)
    def errors(self, request: Request, pk: str | None = None) -> StreamingHttpResponse:
        """Every error of the import, none left out: row (the header is row 1), column, value, message_en and
        message_ar."""
        record = self.get_object()
        if record.created_by_id != request.user.pk:
            require_second_factor(request)  # an admin reading someone else's list (personal data)
        chunks, content_type, filename = services.error_report(
            actor=request.user, record=record, report_format=request.query_params.get("format", "")
        )
        return attachment(StreamingHttpResponse(chunks, content_type=content_type), filename)

    @extend_schema(request=None, responses={202: ImportSerializer})
    @action(detail=True, methods=["post"], url_path="run-again", url_name="run-again")
    def run_again(self, request: Request, pk: str | None = None) -> Response:
        """A failed import runs again, from where it stopped."""
        record = services.run_again(actor=request.user, record=self.get_object())
        return Response(
            ImportSerializer(record, context=self.get_serializer_context()).data, status=status.HTTP_202_ACCEPTED
        )
