"""Shapes of count snapshots: the request, the admins' view, and the public view (nothing personal)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.models import Location, Perpetrator, ReportingPeriod

from .models import CountSnapshot
from .services import MAX_FILTER_IDS, parameter_names


class CountRequestSerializer(serializers.Serializer):
    """`{"date_from", "date_to", "locations", "perpetrators"}`, or `"period"` instead of the dates;
    `"supersedes"` names the published count a correction replaces.

    Field shapes only: which combinations make a window is the service's rule (services.request_count),
    and its refusals reach the client as the same 400 with the field named."""

    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    period = serializers.PrimaryKeyRelatedField(queryset=ReportingPeriod.objects.all(), required=False)
    locations = serializers.ListField(
        child=serializers.PrimaryKeyRelatedField(queryset=Location.objects.all()),
        required=False,
        max_length=MAX_FILTER_IDS,
    )
    perpetrators = serializers.ListField(
        child=serializers.PrimaryKeyRelatedField(queryset=Perpetrator.objects.all()),
        required=False,
        max_length=MAX_FILTER_IDS,
    )
    supersedes = serializers.PrimaryKeyRelatedField(queryset=CountSnapshot.objects.published(), required=False)


SNAPSHOT_FIELDS = [
    "id",
    "status",
    "date_from",
    "date_to",
    "period",
    "locations",
    "perpetrators",
    "massacre_threshold",
    "rule_version",
    "fingerprint",
    "created_at",
    "started_at",
    "attempts",
    "computed_at",
    "published_at",
    "failure_reason",
    "supersedes",
    "superseded_by",
    "summary_en",
    "summary_ar",
    "result",
]
# The public sees published snapshots only, and nothing of how they were computed (state, timing, attempts, errors).
NOT_PUBLIC = {"status", "created_at", "started_at", "attempts", "failure_reason"}


class CountSnapshotSerializer(serializers.ModelSerializer):
    superseded_by = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = CountSnapshot
        fields = SNAPSHOT_FIELDS
        read_only_fields = fields


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    name_ar = serializers.CharField()


class PublicCountSnapshotSerializer(serializers.ModelSerializer):
    """A published count for anyone: parameters by name, figures, summaries; no user, no record."""

    period = serializers.SerializerMethodField()
    locations = serializers.SerializerMethodField()
    perpetrators = serializers.SerializerMethodField()
    superseded_by = serializers.SerializerMethodField()

    class Meta:
        model = CountSnapshot
        fields = [name for name in SNAPSHOT_FIELDS if name not in NOT_PUBLIC]
        read_only_fields = fields

    # Named as they were when the count was computed (services.parameter_names), never as renamed since.
    @extend_schema_field(NamedSerializer(allow_null=True))
    def get_period(self, snapshot: CountSnapshot) -> dict[str, Any] | None:
        return parameter_names(snapshot)["period"]

    @extend_schema_field(NamedSerializer(many=True))
    def get_locations(self, snapshot: CountSnapshot) -> list[dict[str, Any]]:
        return parameter_names(snapshot)["locations"]

    @extend_schema_field(NamedSerializer(many=True))
    def get_perpetrators(self, snapshot: CountSnapshot) -> list[dict[str, Any]]:
        return parameter_names(snapshot)["perpetrators"]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_superseded_by(self, snapshot: CountSnapshot) -> list[int]:
        return [item.pk for item in snapshot.superseded_by.all() if item.is_published]
