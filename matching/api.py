"""HTTP API of the duplicates feature (docs/api.md, "Duplicates across sources")."""

from __future__ import annotations

from typing import Any

from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import SECOND_FACTOR_HEADER
from config.shaping import RowShaper, ShapedListMixin, floats_render_alike
from incidents.api import VICTIM_ROWS, victim_row_finisher
from incidents.models import Victim
from incidents.serializers import VictimSerializer

from . import reasons as reason_words
from . import scans, services
from .filters import PairFilter
from .models import DuplicateScan
from .serializers import CandidatePairSerializer, DecisionSerializer, UnmergeSerializer

# --- matching-review: candidate pairs, decisions, unmerge -------------------------------------------


class MayDecide(permissions.BasePermission):
    """Reviewers and admins (the duplicates review is theirs); everybody else 403 before any lookup."""

    message = services.DECIDERS_ONLY

    def has_permission(self, request: Request, view: Any) -> bool:
        return services.may_decide(request.user)


# The list's rows without DRF's per-field work (config/shaping.py): the pair's own columns and both
# victims' columns read in one statement (`victim_a__<column>`), each victim shaped as `/victims/` shapes it
# straight from those columns; the reasons as their stored JSON text (`REASONS_TEXT`), decoded and put into
# words once per distinct text on a page.
PAIR_SIDES = ("victim_a", "victim_b")
REASONS_TEXT = "reasons_text"
PAIR_ROWS = RowShaper(
    CandidatePairSerializer,
    computed=(*PAIR_SIDES, "reasons"),
    extra_columns=(REASONS_TEXT, *(f"{side}__{column}" for side in PAIR_SIDES for column in VICTIM_ROWS.columns)),
)


def pair_rows_shaped(rows: list[dict[str, Any]], user: Any) -> list[dict[str, Any]]:
    """CandidatePairSerializer's output for `.values(*PAIR_ROWS.columns)` rows, as `user` may see it."""
    sides = {
        side: VICTIM_ROWS.shape(rows, victim_row_finisher(user, f"{side}__"), prefix=f"{side}__") for side in PAIR_SIDES
    }
    shaped = PAIR_ROWS.shape(rows)
    describe = reason_words.text_describer()
    for index, (row, data) in enumerate(zip(rows, shaped, strict=True)):
        for side in PAIR_SIDES:
            data[side] = sides[side][index]
        data["reasons"] = describe(row[REASONS_TEXT])
    return shaped


class CandidatePairViewSet(ShapedListMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Candidate pairs, highest score first; a pair with a record the caller may not see is not listed."""

    serializer_class = CandidatePairSerializer
    permission_classes = [MayDecide]
    filterset_class = PairFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return (
            services.visible_pairs(self.request.user)
            .select_related("victim_a", "victim_b")
            .annotate(**{REASONS_TEXT: Cast("reasons", TextField())})  # read by the list's fast path
            .order_by("-score", "id")
        )

    def row_shaper(self) -> RowShaper:
        return PAIR_ROWS

    def shape_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return pair_rows_shaped(rows, self.request.user)

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        # Scores are floats: a tiny one is written by DRF's renderer, as the serializer path writes it
        # (a page of pairs, or one pair after a decision).
        data = response.data if isinstance(response.data, dict) else {}
        pairs = data.get("results") if isinstance(data.get("results"), list) else [data]
        if not floats_render_alike(pair.get("score") for pair in pairs if isinstance(pair, dict)):
            response.floats_differ = True
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(request=DecisionSerializer, responses=CandidatePairSerializer, parameters=[SECOND_FACTOR_HEADER])
    @action(detail=True, methods=["post"])
    def decide(self, request: Request, pk: str | None = None) -> Response:
        pair = self.get_object()
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        decided = services.decide(
            pair,
            request.user,
            body.validated_data["decision"],
            keep=body.validated_data.get("keep"),
            comment=body.validated_data["comment"],
            version=body.validated_data.get("version"),
        )
        return Response(self.get_serializer(decided).data)


class UnmergeView(APIView):
    """`POST /api/v1/victims/<id>/unmerge/` with `{"reason": "..."}`: the record is no longer a duplicate."""

    permission_classes = [MayDecide]

    @extend_schema(request=UnmergeSerializer, responses=VictimSerializer, parameters=[SECOND_FACTOR_HEADER])
    def post(self, request: Request, pk: int) -> Response:
        from django.shortcuts import get_object_or_404

        victim = get_object_or_404(Victim.objects.visible_to(request.user), pk=pk)
        body = UnmergeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        victim = services.unmerge(victim, request.user, body.validated_data["reason"])
        return Response(VictimSerializer(victim, context={"request": request}).data)


# --- end matching-review ------------------------------------------------------------------------------
# --- Scans (matching-engine) ------------------------------------------------------------------------------------


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
