"""Filters of the candidate-pair list (the API's and the page's): status, likely, source list, place."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from incidents.filters import ReusableFilterSet
from incidents.models import Location, Victim

from .models import CandidatePair


class PlaceFilter(django_filters.BaseInFilter, django_filters.NumberFilter):
    """`?location=5` (or `5,7`): pairs with a record that died in that place or below it (its own place
    of death, else its incident's place)."""

    def filter(self, qs: QuerySet, value: list | None) -> QuerySet:
        if not value:
            return qs
        ids = sorted(Location.objects.subtree_ids(int(v) for v in value if v == int(v)))
        condition = Q()
        for side in ("victim_a", "victim_b"):
            condition |= Q(**{f"{side}__place_of_death_id__in": ids}) | Q(
                **{f"{side}__place_of_death__isnull": True, f"{side}__incident__location_id__in": ids}
            )
        return qs.filter(condition)


class UserDataSelect(forms.Select):
    """A choice of names people gave (source lists): each option marked as text of its own language."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        if value:
            option["attrs"] = {**option["attrs"], "lang": "", "dir": "auto"}
        return option


class PairFilter(ReusableFilterSet):
    status = django_filters.ChoiceFilter(choices=CandidatePair.State.choices)
    # `true` or `false`; anything else is a 400 (a silently ignored filter would show every pair).
    likely = django_filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true"
    )
    # A source list's name (`origin.source` of either record; "" is not a list).
    source = django_filters.CharFilter(method="filter_source", max_length=200)
    location = PlaceFilter()

    class Meta:
        model = CandidatePair
        fields = ["status", "likely"]

    def filter_source(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        if not value:
            return qs
        return qs.filter(Q(victim_a__origin_source=value) | Q(victim_b__origin_source=value))


class PairPageFilter(PairFilter):
    """The same filters as widgets on the duplicates page."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from django.utils.translation import get_language

        from incidents.filters import CSVSelect
        from incidents.forms import tree_choices

        fields = self.form.fields
        fields["status"].label = _("Decision")
        fields["status"].widget = forms.Select(
            choices=[("", _("Any decision")), *CandidatePair.State.choices],
        )
        fields["likely"].label = _("Likely duplicates only")
        fields["likely"].widget = forms.Select(choices=[("", _("All candidates")), ("true", _("Likely only"))])
        fields["location"].label = _("Place")
        fields["location"].widget = CSVSelect(choices=tree_choices(Location, get_language(), blank=_("All places")))
        sources = (
            Victim.objects.exclude(origin_source="").order_by("origin_source").values_list("origin_source", flat=True)
        )
        fields["source"].label = _("Source list")
        fields["source"].widget = UserDataSelect(
            choices=[("", _("Any source list")), *((s, s) for s in sources.distinct()[:200])]
        )
