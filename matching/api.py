"""HTTP API for duplicates (API.md, "Duplicates across sources")."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

# --- Scans (matching-engine) ------------------------------------------------------------------------------------
from . import scans
from .models import DuplicateScan


class MayScan(permissions.BasePermission):
    """Scans: reviewers and admins, to start one and to follow it."""

    message = _("Only reviewers and admins may scan for duplicates.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return scans.may_scan(request.user)


class ScanSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()

    class Meta:
        model = DuplicateScan
        fields = [
            "id",
            "status",
            "stage",
            "progress",
            "summary",
            "incremental",
            "threshold",
            "engine",
            "error",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_progress(self, scan: DuplicateScan) -> dict[str, int]:
        return scan.progress

    def get_summary(self, scan: DuplicateScan) -> dict[str, int]:
        return scan.summary


class StartScanSerializer(serializers.Serializer):
    incremental = serializers.BooleanField(required=False, default=False)


class StartScanView(APIView):
    """`POST /api/v1/duplicates/scan/` with `{}` (every victim) or `{"incremental": true}` → 202 with the scan;
    409 with the scan already waiting or running."""

    permission_classes = [MayScan]

    @extend_schema(request=StartScanSerializer, responses={202: ScanSerializer, 409: ScanSerializer})
    def post(self, request: Request) -> Response:
        body = StartScanSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            scan = scans.start_scan(request.user, incremental=body.validated_data["incremental"])
        except scans.ScanAlreadyRunning as exc:
            data = {"detail": str(exc), **ScanSerializer(exc.scan).data}
            return Response(data, status=status.HTTP_409_CONFLICT)
        return Response(ScanSerializer(scan).data, status=status.HTTP_202_ACCEPTED)


class ScanViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """`GET /api/v1/duplicates/scans/<id>/`: a scan's state, progress and summary."""

    permission_classes = [MayScan]
    serializer_class = ScanSerializer
    queryset = DuplicateScan.objects.all()


# --- end of scans (matching-engine) -----------------------------------------------------------------------------
