"""List filters for evidence. Related records are named by id, never chosen among all rows, so a
hidden incident or witness reads exactly like an absent one."""

from __future__ import annotations

import django_filters

from incidents.filters import IdFilter
from incidents.models import Status

from .models import DerivativeStatus, MediaItem, Source, Testimony


class TestimonyFilter(django_filters.FilterSet):
    incident = IdFilter(field_name="incident_id")
    witness = IdFilter(field_name="witness_id")
    status = django_filters.ChoiceFilter(choices=Status.choices)

    class Meta:
        model = Testimony
        fields: list[str] = []


class SourceFilter(django_filters.FilterSet):
    incident = IdFilter(field_name="incident_id")
    status = django_filters.ChoiceFilter(choices=Status.choices)

    class Meta:
        model = Source
        fields: list[str] = []


class MediaItemFilter(django_filters.FilterSet):
    incident = IdFilter(field_name="incident_id")
    status = django_filters.ChoiceFilter(choices=Status.choices)
    derivative_status = django_filters.ChoiceFilter(choices=DerivativeStatus.choices)

    class Meta:
        model = MediaItem
        fields: list[str] = []
