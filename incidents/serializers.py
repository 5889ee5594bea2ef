"""The API's shapes and field validation. Business rules live in services.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from . import roles
from .models import Incident, Location, Perpetrator, ReportingPeriod, Role, Victim


def not_in_future(value: dt.date) -> dt.date:
    if value and value > timezone.now().date():
        raise serializers.ValidationError(_("This date is in the future."))
    return value


class LocationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Location
        fields = ["id", "name", "name_ar", "level", "parent", "latitude", "longitude"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        parent = attrs.get("parent", getattr(self.instance, "parent", None))
        level = attrs.get("level", getattr(self.instance, "level", None))
        if parent is not None and level is not None:
            order = Location.LEVEL_ORDER
            if order.index(level) <= order.index(parent.level):
                raise serializers.ValidationError({"level": _("A place must sit below its parent's level.")})
            if self.instance is not None and parent.pk in Location.objects.subtree_ids([self.instance.pk]):
                raise serializers.ValidationError({"parent": _("A place cannot be moved under itself.")})
        return attrs


class PerpetratorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Perpetrator
        fields = ["id", "name", "name_ar", "parent"]

    def validate_parent(self, parent: Perpetrator | None) -> Perpetrator | None:
        if (
            parent is not None
            and self.instance is not None
            and parent.pk in Perpetrator.objects.subtree_ids([self.instance.pk])
        ):
            raise serializers.ValidationError(_("A party cannot be placed under itself."))
        return parent


class ReportingPeriodSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReportingPeriod
        fields = ["id", "name", "name_ar", "start", "end"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start = attrs.get("start", getattr(self.instance, "start", None))
        end = attrs.get("end", getattr(self.instance, "end", None))
        if start and end and end < start:
            raise serializers.ValidationError({"end": _("The end must not be before the start.")})
        return attrs


class IncidentSerializer(serializers.ModelSerializer):
    occurred_on = serializers.DateField(validators=[not_in_future])

    class Meta:
        model = Incident
        fields = [
            "id",
            "title",
            "description",
            "occurred_on",
            "date_precision",
            "location",
            "latitude",
            "longitude",
            "perpetrator",
            "weapon",
            "injured_count",
            "status",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "status", "created_by", "created_at", "updated_at"]

    def validate_occurred_on(self, value: dt.date) -> dt.date:
        if value < dt.date(1900, 1, 1):
            raise serializers.ValidationError(_("This date is implausibly early."))
        return value


class VictimSerializer(serializers.ModelSerializer):
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices), required=False, allow_empty=True, max_length=len(Role)
    )
    date_of_death = serializers.DateField(required=False, allow_null=True, validators=[not_in_future])
    date_of_birth = serializers.DateField(required=False, allow_null=True, validators=[not_in_future])
    origin = serializers.SerializerMethodField()

    # Personal data (docs/api.md, "Victims"): the record's author, reviewers and admins.
    PERSONAL_FIELDS = ("date_of_birth", "identity_number")

    class Meta:
        model = Victim
        fields = [
            "id",
            "incident",
            "name",
            "name_ar",
            "sex",
            "age_years",
            "age_group",
            "civilian_status",
            "roles",
            "date_of_death",
            "place_of_death",
            "date_of_birth",
            "identity_number",
            "origin",
            "status",
            "category",
            "duplicate_of",
        ]
        read_only_fields = ["id", "status", "category", "duplicate_of", "origin"]

    def validate_date_of_death(self, value: dt.date | None) -> dt.date | None:
        if value is not None and value < dt.date(1900, 1, 1):
            raise serializers.ValidationError(_("This date is implausibly early."))
        return value

    def validate_date_of_birth(self, value: dt.date | None) -> dt.date | None:
        return self.validate_date_of_death(value)

    @extend_schema_field(
        inline_serializer(
            "VictimOrigin",
            {"source": serializers.CharField(), "record_id": serializers.CharField()},
            allow_null=True,
        )
    )
    def get_origin(self, instance: Victim) -> dict[str, str] | None:
        if not instance.origin_source:
            return None
        return {"source": instance.origin_source, "record_id": instance.origin_record_id}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        age = attrs.get("age_years", getattr(self.instance, "age_years", None))
        group = attrs.get("age_group")
        if age is not None and group in ("child", "adult"):
            implied = "child" if age < 18 else "adult"
            if group != implied:
                raise serializers.ValidationError(
                    {"age_group": _("The age group contradicts the age in years (%(age)s).") % {"age": age}}
                )
        return attrs

    def to_representation(self, instance: Victim) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["roles"] = instance.roles
        request = self.context.get("request")
        if not roles.may_see_personal_data(getattr(request, "user", None), instance):
            for name in self.PERSONAL_FIELDS:
                data.pop(name, None)
        return data
