"""HTTP API for witnesses, testimony, sources and media: fetch visible rows, call a service, serialise."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousMultipartForm, TooManyFieldsSent, TooManyFilesSent
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.idempotency import IdempotentCreateMixin, idempotent_create
from config.downloads import attachment
from incidents.api import HasRole, WorkflowActionsMixin
from incidents.models import Incident

from . import media, services
from .filters import MediaItemFilter, SourceFilter, TestimonyFilter
from .models import MediaItem, Source, Testimony, Witness
from .serializers import (
    CustodyEventSerializer,
    MediaItemSerializer,
    MediaUpdateSerializer,
    SourceSerializer,
    TestimonySerializer,
    WitnessResponseSerializer,
    WitnessSerializer,
)
from .uploads import HashingUploadHandler, StreamedUpload, UploadTooLarge

# Served files are never rendered by the browser in our origin's context, and never cached.
# (`config.downloads.attachment` adds nosniff and `private, no-store`.)
FILE_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class EvidencePermission(HasRole):
    """A role to read; the model's add/change permission to create or edit, checked before the body is read.

    Workflow actions (submit, review, reopen) are checked by the workflow itself.
    """

    WRITE_ACTIONS = {"create": "add", "update": "change", "partial_update": "change", "destroy": "change"}

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        verb = self.WRITE_ACTIONS.get(getattr(view, "action", None) or "")
        if verb is None:
            return True
        model = view.model
        return request.user.has_perm(f"{model._meta.app_label}.{verb}_{model._meta.model_name}")


class FileRenderer(renderers.BaseRenderer):
    """Lets file downloads honour any Accept header; error bodies still come out as JSON."""

    media_type = "*/*"
    format = "file"
    charset = None

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return json.dumps(data).encode() if data is not None else b""


def _file_response(path, *, content_type: str, filename: str, as_attachment: bool) -> FileResponse:
    response = FileResponse(open(path, "rb"), content_type=content_type)  # noqa: SIM115
    return attachment(response, filename, inline=not as_attachment, extra_headers=FILE_SECURITY_HEADERS)


class SensitiveParametersMixin:
    """Error reports never show what was posted to these endpoints (witness identity, statements)."""

    def initialize_request(self, request: Any, *args: Any, **kwargs: Any) -> Request:
        request.sensitive_post_parameters = "__ALL__"
        return super().initialize_request(request, *args, **kwargs)


@extend_schema_view(
    list=extend_schema(responses=WitnessResponseSerializer(many=True)),
    retrieve=extend_schema(responses=WitnessResponseSerializer),
    create=extend_schema(responses={201: WitnessResponseSerializer}),
    partial_update=extend_schema(responses=WitnessResponseSerializer),
)
class WitnessViewSet(
    IdempotentCreateMixin,
    SensitiveParametersMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Witnesses by pseudonymous code. Identity fields appear only for users allowed to see them."""

    serializer_class = WitnessSerializer
    permission_classes = [EvidencePermission]
    model = Witness
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return Witness.objects.visible_to(self.request.user).order_by("id")

    def perform_create(self, serializer: WitnessSerializer) -> None:
        serializer.instance = services.register_witness(author=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: WitnessSerializer) -> None:
        serializer.instance = services.update_witness(
            actor=self.request.user, witness=serializer.instance, **serializer.validated_data
        )

    def rederive_protected(self, body: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        """A replayed create: the stored answer holds no identity; show it again as the serializer
        would now (permission checked, showing audited), or without it if no longer allowed."""
        witness = self.get_queryset().filter(pk=body.get("id")).first()
        if witness is None:
            return body
        fresh = self.get_serializer(witness).data
        restored = {name: fresh[name] for name in (*fields, "identity_error") if name in fresh}
        return {**body, **restored}


class IncidentEvidenceViewSet(viewsets.ModelViewSet):
    """Shared by testimony and sources: the incident field offers only incidents the user may see."""

    permission_classes = [EvidencePermission]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_serializer(self, *args: Any, **kwargs: Any):
        serializer = super().get_serializer(*args, **kwargs)
        fields = getattr(serializer, "fields", {})
        if "incident" in fields:
            fields["incident"].queryset = Incident.objects.visible_to(self.request.user)
        if "witness" in fields:
            fields["witness"].queryset = Witness.objects.visible_to(self.request.user)
        return serializer


class TestimonyViewSet(IdempotentCreateMixin, SensitiveParametersMixin, WorkflowActionsMixin, IncidentEvidenceViewSet):
    serializer_class = TestimonySerializer
    model = Testimony
    filterset_class = TestimonyFilter

    def get_queryset(self):
        return Testimony.objects.visible_to(self.request.user).select_related("witness").order_by("incident_id", "id")

    def perform_create(self, serializer: TestimonySerializer) -> None:
        serializer.instance = services.create_testimony(author=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: TestimonySerializer) -> None:
        serializer.instance = services.update_testimony(
            actor=self.request.user, testimony=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: Testimony) -> None:
        services.delete_testimony(actor=self.request.user, testimony=instance)


class SourceViewSet(IdempotentCreateMixin, WorkflowActionsMixin, IncidentEvidenceViewSet):
    serializer_class = SourceSerializer
    model = Source
    filterset_class = SourceFilter

    def get_queryset(self):
        return Source.objects.visible_to(self.request.user).order_by("incident_id", "id")

    def perform_create(self, serializer: SourceSerializer) -> None:
        serializer.instance = services.create_source(author=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: SourceSerializer) -> None:
        serializer.instance = services.update_source(
            actor=self.request.user, source=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: Source) -> None:
        services.delete_source(actor=self.request.user, source=instance)


class MediaItemViewSet(
    WorkflowActionsMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Media items. Upload is multipart (`file`, `incident`, `description`), streamed and hashed.

    The sealed original is never deleted or replaced, so there is no DELETE.
    """

    serializer_class = MediaItemSerializer
    permission_classes = [EvidencePermission]
    model = MediaItem
    parser_classes = [MultiPartParser, JSONParser]
    filterset_class = MediaItemFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    upload_handler: HashingUploadHandler | None = None

    def get_queryset(self):
        return MediaItem.objects.visible_to(self.request.user).select_related("original").order_by("incident_id", "id")

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return MediaUpdateSerializer
        return super().get_serializer_class()

    def initialize_request(self, request: Any, *args: Any, **kwargs: Any) -> Request:
        # Before anything reads the body: stream the one file to disk, hashing, under the size limit.
        if request.method == "POST":
            self.upload_handler = HashingUploadHandler(request)
            request.upload_handlers = [self.upload_handler]
        return super().initialize_request(request, *args, **kwargs)

    def handle_exception(self, exc: Exception) -> Response:
        if self.upload_handler is not None:
            self.upload_handler.cleanup()
        # Django refuses oversized or over-many multipart parts with SuspiciousOperation subclasses.
        if isinstance(exc, RequestDataTooBig):
            exc = UploadTooLarge(_("The form fields are larger than allowed."))
        elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent | SuspiciousMultipartForm):
            exc = exceptions.ParseError(_("The upload form has too many parts or is malformed."))
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if self.upload_handler is not None:
            self.upload_handler.cleanup()  # whatever was not sealed is removed, whatever the outcome
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": MediaItemSerializer},
        responses={
            201: MediaItemSerializer,
            200: OpenApiResponse(MediaItemSerializer, description="The same file was already uploaded here."),
            413: OpenApiResponse(description="Larger than the upload limit."),
            415: OpenApiResponse(description="Not an accepted file type."),
        },
    )
    @idempotent_create
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not isinstance(request.data, Mapping):
            raise exceptions.ValidationError(
                {"non_field_errors": [_("Send the upload as multipart form fields: file, incident, description.")]}
            )
        upload = request.FILES.get("file")
        serializer = self.get_serializer(data={k: v for k, v in request.data.items() if k != "file"})
        serializer.fields["file"].required = False
        serializer.fields["incident"].queryset = Incident.objects.visible_to(request.user)
        serializer.is_valid(raise_exception=True)
        if not isinstance(upload, StreamedUpload):
            raise exceptions.ValidationError({"file": [_("Attach the file in the multipart field 'file'.")]})
        try:
            item, created = services.upload_media(
                author=request.user,
                incident=serializer.validated_data["incident"],
                upload=upload,
                description=serializer.validated_data.get("description", ""),
            )
        except media.UnsupportedType as exc:
            raise exceptions.UnsupportedMediaType(upload.content_type or "unknown", detail=str(exc))
        except media.BadFile as exc:
            raise exceptions.ValidationError({"file": [str(exc)]})
        body = MediaItemSerializer(item, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    def perform_update(self, serializer: MediaUpdateSerializer) -> None:
        serializer.instance = services.update_media(
            actor=self.request.user, item=serializer.instance, **serializer.validated_data
        )

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        super().update(request, *args, **kwargs)
        item = self.get_queryset().get(pk=self.get_object().pk)
        return Response(MediaItemSerializer(item, context=self.get_serializer_context()).data)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(description="The sealed original.")})
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, FileRenderer])
    def original(self, request: Request, pk: str | None = None) -> FileResponse:
        """The sealed original, byte-identical to the upload, as an attachment (reviewers, admins, uploader)."""
        item = self.get_object()
        try:
            path = services.open_original(actor=request.user, item=item)
        except FileNotFoundError:
            raise Http404 from None
        allowed = media.allowed_for(item.original.content_type)
        response = _file_response(
            path,
            content_type=item.original.content_type,
            filename=media.download_name(item.original_name, item.original.sha256, allowed.extension),
            as_attachment=True,
        )
        # The hash recorded at upload (RFC 9530), so the recipient can verify the copy they received.
        response["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(item.original.sha256)).decode()}:"
        return response

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(description="The working copy.")})
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, FileRenderer])
    def redacted(self, request: Request, pk: str | None = None) -> FileResponse:
        """The working copy without metadata (GPS, camera serials, comments). `?thumbnail=1` for the thumbnail."""
        item = self.get_object()
        thumbnail = request.query_params.get("thumbnail") in ("1", "true")
        path = services.working_copy_path(item, "thumbnail" if thumbnail else "working")
        if path is None:
            raise exceptions.NotFound(
                _("No working copy is available (%(state)s).") % {"state": item.get_derivative_status_display()}
            )
        content_type = "image/jpeg" if thumbnail else item.working_content_type
        extension = path.suffix.lstrip(".")
        name = f"evidence-{item.pk}-{'thumbnail' if thumbnail else 'working'}.{extension}"
        return _file_response(path, content_type=content_type, filename=name, as_attachment=False)

    @extend_schema(responses=CustodyEventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def custody(self, request: Request, pk: str | None = None) -> Response:
        """The chain of custody, oldest first."""
        item = self.get_object()
        events = item.custody.select_related("actor").order_by("at", "id")
        return Response(CustodyEventSerializer(events, many=True).data)
