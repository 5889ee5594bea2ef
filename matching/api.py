"""HTTP API of the duplicates feature (docs/api.md, "Duplicates across sources")."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import SECOND_FACTOR_HEADER
from incidents.models import Victim
from incidents.serializers import VictimSerializer

from . import services
from .filters import PairFilter
from .serializers import CandidatePairSerializer, DecisionSerializer, UnmergeSerializer

# --- matching-review: candidate pairs, decisions, unmerge -------------------------------------------


class MayDecide(permissions.BasePermission):
    """Reviewers and admins (the duplicates review is theirs); everybody else 403 before any lookup."""

    message = _("Only reviewers and admins may review duplicates.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return services.may_decide(request.user)


class CandidatePairViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Candidate pairs, highest score first; a pair with a record the caller may not see is not listed."""

    serializer_class = CandidatePairSerializer
    permission_classes = [MayDecide]
    filterset_class = PairFilter
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return services.visible_pairs(self.request.user).select_related("victim_a", "victim_b").order_by("-score", "id")

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
