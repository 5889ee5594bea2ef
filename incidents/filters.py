"""List filters for incidents and victims (status, date range, place and party subtrees, weapon, category,
source list, author, "mine", search). The API's lists and the pages' lists (listing.py) use the same ones."""

from __future__ import annotations

import copy

import django_filters
from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import BaseCSVWidget

from . import search
from .models import MAX_KEY, Category, CivilianStatus, Incident, Location, Perpetrator, Sex, Status, Victim, Weapon


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


class SearchFilter(django_filters.CharFilter):
    """`?search=words`: Arabic-aware, typo-tolerant search (search.py); every word must match. Results come
    best match first (a list's own sort, applied afterwards, replaces that order)."""

    def __init__(self, *args, searcher, ranker, **kwargs) -> None:
        self.searcher, self.ranker = searcher, ranker
        kwargs.setdefault("label", _("Search"))
        kwargs.setdefault("max_length", 200)
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value: str | None) -> QuerySet:
        if not value or not value.strip():
            return qs
        return self.ranker(self.searcher(qs, value), value)


def filter_mine(filterset: django_filters.FilterSet, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
    if value is None:
        return qs
    user = filterset.request.user if filterset.request is not None else None
    if user is None or not user.is_authenticated:
        return qs.none() if value else qs
    return qs.filter(created_by=user) if value else qs.exclude(created_by=user)


# Query parameters that page a list (config.api.Pagination) or choose its format, not filters.
PAGING_PARAMETERS = frozenset({"page", "page_size", "format"})


class ReusableFilterSet(django_filters.FilterSet):
    """django-filter's FilterSet without rebuilding itself on every request.

    django-filter deep-copies every filter (their choices, lazy labels, callables) and builds a new form
    class, constructing each form field, for each request: about 3-5 ms of a list request's CPU. The
    filters hold no per-request state but `model` and `parent`, which are set on a shallow copy here; the
    form class is built once per FilterSet class (its fields' labels and messages stay lazy, so each
    request's language still applies), and Django's form still deep-copies its fields per instance, so
    a page that changes its form's widgets (`_page_widgets` below) changes only its own. A request with
    no filter parameters at all (the first page of a list, `?page=2`) builds no form.
    """

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None) -> None:
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        model = queryset.model
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {name: copy.copy(filter_) for name, filter_ in self.base_filters.items()}
        for filter_ in self.filters.values():
            filter_.model = model
            filter_.parent = self
            if filter_.method is not None:
                filter_.method = filter_.method  # binds a fresh FilterMethod to this copy, not the class's filter

    def _filters_nothing(self) -> bool:
        """A request whose parameters are only paging ones (or none): no filter applies, so there is no
        form to build and validate (every filter leaves the rows as they are for an empty value)."""
        return self.is_bound and not self.form_prefix and not (set(self.data) - PAGING_PARAMETERS)

    def is_valid(self) -> bool:
        return True if self._filters_nothing() else super().is_valid()

    @property
    def qs(self):
        if self._filters_nothing():
            if not hasattr(self, "_qs"):
                self._qs = self.queryset.all()
            return self._qs
        return super().qs

    def get_form_class(self) -> type[forms.Form]:
        cls = type(self)
        form_class = cls.__dict__.get("_reused_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            cls._reused_form_class = form_class
        return form_class


# distinct=False on the choice filters: none crosses a to-many relation, and django-filter's default
# DISTINCT over every column made each page's COUNT(*) de-duplicate the whole table (bench/README.md).
class IncidentFilter(ReusableFilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices, distinct=False)
    occurred_from = django_filters.DateFilter(field_name="occurred_on", lookup_expr="gte")
    occurred_to = django_filters.DateFilter(field_name="occurred_on", lookup_expr="lte")
    location = SubtreeFilter(field_name="location_id", tree_model=Location)
    perpetrator = SubtreeFilter(field_name="perpetrator_id", tree_model=Perpetrator)
    mine = django_filters.BooleanFilter(method="filter_mine")
    author = IdFilter(field_name="created_by_id")
    search = SearchFilter(searcher=search.search_incidents, ranker=search.rank_incidents)

    class Meta:
        model = Incident
        fields = ["status", "weapon", "date_precision"]

    filter_mine = filter_mine


class VictimFilter(ReusableFilterSet):
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
    weapon = django_filters.MultipleChoiceFilter(field_name="incident__weapon", choices=Weapon.choices, distinct=False)
    # The source list an imported victim came from (`origin.source` in the API).
    source = django_filters.CharFilter(field_name="origin_source", max_length=200)
    mine = django_filters.BooleanFilter(method="filter_mine")
    author = IdFilter(field_name="created_by_id")
    search = SearchFilter(searcher=search.search_victims, ranker=search.rank_victims)

    class Meta:
        model = Victim
        fields = ["status"]

    filter_mine = filter_mine


# --- The same filters on pages: widgets a person can use (incidents/listing.py) ----------------------


class SelectOne(forms.Select):
    """One choice on the page, read as the list a multiple-choice filter expects (`?status=a&status=b`
    from a bookmarked address still works)."""

    def value_from_datadict(self, data, files, name):
        # "Any" (the empty choice) sent by the form means no filter, not a choice named "".
        return [value for value in forms.SelectMultiple().value_from_datadict(data, files, name) if value]


class CSVSelect(BaseCSVWidget, forms.Select):
    """A tree picker for a subtree filter (`?location=5`)."""


def _page_widgets(filterset: django_filters.FilterSet, language: str) -> None:
    from .forms import tree_choices

    blanks = {
        "status": _("Any state"),
        "category": _("Any category"),
        "weapon": _("Any weapon"),
        "civilian_status": _("Any civilian status"),
        "sex": _("Any sex"),
    }
    fields = filterset.form.fields
    for name, blank in blanks.items():
        if name in fields:
            widget = SelectOne if isinstance(fields[name], forms.MultipleChoiceField) else forms.Select
            choices = [choice for choice in fields[name].choices if choice[0] != ""]
            fields[name].widget = widget(choices=[("", blank), *choices])
    for name, model, blank in (
        ("location", Location, _("All places")),
        ("perpetrator", Perpetrator, _("All perpetrators")),
    ):
        if name in fields:
            fields[name].widget = CSVSelect(choices=tree_choices(model, language, blank=blank))
            fields[name].widget.attrs["data-searchable"] = ""
    for name in ("occurred_from", "occurred_to", "died_from", "died_to"):
        if name in fields:
            fields[name].widget = forms.DateInput(attrs={"type": "date"})
    if "mine" in fields:
        fields["mine"].widget = forms.Select(
            choices=[("", _("Anyone's")), ("true", _("Mine")), ("false", _("Other people's"))]
        )
    if "author" in fields:
        # User names are left-to-right identifiers (user data, not the page's words).
        fields["author"].widget = forms.Select(choices=[("", _("Anyone")), *_authors(filterset)], attrs={"dir": "ltr"})
    if "source" in fields:
        sources = (
            Victim.objects.exclude(origin_source="").order_by("origin_source").values_list("origin_source", flat=True)
        )
        fields["source"].widget = forms.Select(
            choices=[("", _("Any source list")), *((s, s) for s in sources.distinct()[:200])]
        )
    labels = {
        "status": _("Status"),
        "occurred_from": _("From (incident date)"),
        "occurred_to": _("To (incident date)"),
        "died_from": _("Died from"),
        "died_to": _("Died until"),
        "location": _("Place"),
        "perpetrator": _("Perpetrator"),
        "weapon": _("Weapon"),
        "category": _("Category"),
        "civilian_status": _("Civilian status"),
        "sex": _("Sex"),
        "mine": _("Recorded by me"),
        "author": _("Recorded by"),
        "source": _("Source list"),
        "date_precision": _("Date precision"),
    }
    for name, label in labels.items():
        if name in fields:
            fields[name].label = label
    for name in ("incident", "date_precision"):
        fields.pop(name, None)


def _authors(filterset: django_filters.FilterSet) -> list[tuple[int, str]]:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(groups__name="documenter", is_active=True).order_by("username")
    return list(users.values_list("pk", "username")[:500])


class IncidentPageFilter(IncidentFilter):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from django.utils.translation import get_language

        _page_widgets(self, get_language())


class VictimPageFilter(VictimFilter):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from django.utils.translation import get_language

        _page_widgets(self, get_language())
