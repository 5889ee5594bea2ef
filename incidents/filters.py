"""List filters for incidents and victims (status, date range, place and party subtrees)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from .models import MAX_KEY, Category, CivilianStatus, Incident, Location, Perpetrator, Sex, Status, Victim


def _ids(value: str) -> list[int]:
    return [int(part) for part in str(value).split(",") if part.strip().isdigit()]


class IdFilter(django_filters.NumberFilter):
    """`?incident=5`: rows pointing at that id. An id nobody could hold finds nothing (no overflow),
    and a hidden record's id reads exactly like an absent one (no choice among all rows)."""

    def filter(self, qs: QuerySet, value):
        if value in (None, ""):
            return qs
        if value != int(value) or not -MAX_KEY <= int(value) <= MAX_KEY:
            return qs.none()
        return qs.filter(**{self.field_name: int(value)})


class SubtreeFilter(django_filters.BaseInFilter, django_filters.NumberFilter):
    """`?location=5` or `?location=5,7`: the chosen nodes and everything below them."""

    def __init__(self, *args, tree_model: type, **kwargs) -> None:
        self.tree_model = tree_model
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value: list[int] | None) -> QuerySet:
        if not value:
            return qs
        # 5.5 names no node: it must not be truncated to 5 (subtree_ids drops ids beyond the key range).
        ids = self.tree_model.objects.subtree_ids(int(v) for v in value if v == int(v))
        return qs.filter(**{f"{self.field_name}__in": ids})


# distinct=False on the choice filters: none crosses a to-many relation, and django-filter's default
# DISTINCT over every column made each page's COUNT(*) de-duplicate the whole table (bench/README.md).
class IncidentFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, distinct=False)
    occurred_from = django_filters.DateFilter(field_name="occurred_on", lookup_expr="gte")
    occurred_to = django_filters.DateFilter(field_name="occurred_on", lookup_expr="lte")
    location = SubtreeFilter(field_name="location_id", tree_model=Location)
    perpetrator = SubtreeFilter(field_name="perpetrator_id", tree_model=Perpetrator)
    mine = django_filters.BooleanFilter(method="filter_mine")

    class Meta:
        model = Incident
        fields = ["status", "weapon", "date_precision"]

    def filter_mine(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        user = self.request.user
        return qs.filter(created_by=user) if value else qs.exclude(created_by=user)


class VictimFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, distinct=False)
    category = django_filters.MultipleChoiceFilter(choices=Category.choices, distinct=False)
    civilian_status = django_filters.MultipleChoiceFilter(choices=CivilianStatus.choices, distinct=False)
    sex = django_filters.MultipleChoiceFilter(choices=Sex.choices, distinct=False)
    died_from = django_filters.DateFilter(field_name="date_of_death", lookup_expr="gte")
    died_to = django_filters.DateFilter(field_name="date_of_death", lookup_expr="lte")
    occurred_from = django_filters.DateFilter(field_name="incident__occurred_on", lookup_expr="gte")
    occurred_to = django_filters.DateFilter(field_name="incident__occurred_on", lookup_expr="lte")
    location = SubtreeFilter(field_name="incident__location_id", tree_model=Location)
    perpetrator = SubtreeFilter(field_name="incident__perpetrator_id", tree_model=Perpetrator)
    # By id, not by a choice among all incidents: a hidden incident must read exactly like an absent one.
    incident = IdFilter(field_name="incident_id")

    class Meta:
        model = Victim
        fields = ["status"]
