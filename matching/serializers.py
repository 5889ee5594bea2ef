"""The API's shapes for candidate pairs and their decisions (docs/api.md, "Duplicates across sources")."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.serializers import VictimSerializer

from . import reasons as reason_words
from .models import CandidatePair
from .services import DECISIONS


class CandidatePairSerializer(serializers.ModelSerializer):
    """A pair as the caller may see it: each victim exactly as `/victims/` shows it to them (identity
    numbers and dates of birth only for the record's author, reviewers and admins), reasons in words."""

    victim_a = VictimSerializer(read_only=True)
    victim_b = VictimSerializer(read_only=True)
    reasons = serializers.SerializerMethodField()

    class Meta:
        model = CandidatePair
        fields = [
            "id",
            "victim_a",
            "victim_b",
            "score",
            "likely",
            "reasons",
            "status",
            "decided_by",
            "decided_at",
            "comment",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_reasons(self, pair: CandidatePair) -> list[str]:
        return reason_words.describe(pair.reasons)  # in the request's language (the active one)


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=list(DECISIONS))
    keep = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="The pair's version as read (compare-and-set); omitted: the current one.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["decision"] == "confirm" and not attrs.get("keep"):
            raise serializers.ValidationError({"keep": ["Choose which record is kept (one of the pair's two ids)."]})
        return attrs


class UnmergeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=10_000)
