"""The API's shapes and field validation. Business rules live in services.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from . import reference, roles, services
from .models import (
    EARLIEST_DATE,
    AgeGroup,
    Incident,
    Location,
    Perpetrator,
    ReportingPeriod,
    Role,
    Victim,
    age_group_for,
)


def not_in_future(value: dt.date) -> dt.date:
    if value and value > timezone.now().date():
        raise serializers.ValidationError(_("This date is in the future."))
    return value


def plausible_date(value: dt.date | None) -> dt.date | None:
    """No date before EARLIEST_DATE (the database refuses them too)."""
    if value is not None and value < EARLIEST_DATE:
        raise serializers.ValidationError(_("This date is implausibly early."))
    return value


class ReferenceSerializer(serializers.ModelSerializer):
    """Places, parties and periods: the tree and period rules are reference.py's, stated there once."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        model = self.Meta.model
        found = reference.problems(model, reference.values_after(model, self.instance, attrs), self.instance)
        if found:
            raise serializers.ValidationError(found)
        return attrs


class LocationSerializer(ReferenceSerializer):
    class Meta:
        model = Location
        fields = ["id", "name", "name_ar", "level", "parent", "latitude", "longitude"]


class PerpetratorSerializer(ReferenceSerializer):
    class Meta:
        model = Perpetrator
        fields = ["id", "name", "name_ar", "parent"]


class ReportingPeriodSerializer(ReferenceSerializer):
    class Meta:
        model = ReportingPeriod
        fields = ["id", "name", "name_ar", "start", "end"]


class IncidentSerializer(serializers.ModelSerializer):
    occurred_on = serializers.DateField(validators=[not_in_future, plausible_date])

    class Meta:
        model = Incident
        fields = ["id", *services.INCIDENT_FIELDS, "status", "created_by", "created_at", "updated_at"]
        read_only_fields = ["id", "status", "created_by", "created_at", "updated_at"]


# A victim's personal data (docs/api.md, "Victims"): shown only to those roles.may_see_personal_data allows
# (the record's author, reviewers and admins). Applied by `hide_personal_data`, the API's one place for it:
# the serializer, the victims list's fast path and the duplicates list's fast path all call it.
PERSONAL_FIELDS = ("date_of_birth", "identity_number")


def hide_personal_data(data: dict[str, Any], user: Any, author_id: int | None) -> None:
    """Remove PERSONAL_FIELDS from a victim's shape unless `user` may see the personal data of a record
    written by `author_id`."""
    personal_data_hider(user)(data, author_id)


def personal_data_hider(user: Any) -> Callable[[dict[str, Any], int | None], None]:
    """`hide_personal_data` for many victims shown to one `user` (a list's page): the rule read once."""
    may_see = roles.personal_data_rule(user)

    def hide(data: dict[str, Any], author_id: int | None) -> None:
        if not may_see(author_id):
            for name in PERSONAL_FIELDS:
                data.pop(name, None)

    return hide


class VictimSerializer(serializers.ModelSerializer):
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices), required=False, allow_empty=True, max_length=len(Role)
    )
    date_of_death = serializers.DateField(required=False, allow_null=True, validators=[not_in_future, plausible_date])
    date_of_birth = serializers.DateField(required=False, allow_null=True, validators=[not_in_future, plausible_date])
    origin = serializers.SerializerMethodField()

    class Meta:
        model = Victim
        fields = ["id", *services.VICTIM_FIELDS, "origin", "status", "category", "duplicate_of"]
        read_only_fields = ["id", "status", "category", "duplicate_of", "origin"]

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
        if age is not None and group in (AgeGroup.CHILD, AgeGroup.ADULT) and group != age_group_for(age):
            raise serializers.ValidationError(
                {"age_group": _("The age group contradicts the age in years (%(age)s).") % {"age": age}}
            )
        return attrs

    def to_representation(self, instance: Victim) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["roles"] = instance.roles
        hide_personal_data(data, getattr(self.context.get("request"), "user", None), instance.created_by_id)
        return data
