"""The evidence list: testimony, media items and documented sources, one kind at a time, with the same
list mechanism as the other lists (incidents/listing.py)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from incidents import roles
from incidents.filters import IdFilter, SubtreeFilter, _page_widgets, filter_mine
from incidents.listing import Column, Listing
from incidents.models import Location, Perpetrator, Status

from .models import MediaItem, Source, Testimony


def _filterset_for(model: type) -> type:
    class EvidencePageFilter(django_filters.FilterSet):
        status = django_filters.MultipleChoiceFilter(choices=Status.choices, distinct=False)
        occurred_from = django_filters.DateFilter(field_name="incident__occurred_on", lookup_expr="gte")
        occurred_to = django_filters.DateFilter(field_name="incident__occurred_on", lookup_expr="lte")
        location = SubtreeFilter(field_name="incident__location_id", tree_model=Location)
        perpetrator = SubtreeFilter(field_name="incident__perpetrator_id", tree_model=Perpetrator)
        mine = django_filters.BooleanFilter(method="filter_mine")
        author = IdFilter(field_name="created_by_id")

        class Meta:
            fields: list[str] = []

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            from django.utils.translation import get_language

            _page_widgets(self, get_language())

    EvidencePageFilter.Meta.model = model
    EvidencePageFilter.filter_mine = filter_mine
    return type(f"{model.__name__}PageFilter", (EvidencePageFilter,), {"Meta": EvidencePageFilter.Meta})


KINDS = {
    "testimonies": (
        Testimony,
        gettext_lazy("Testimony"),
        [
            Column("taken", gettext_lazy("Taken on"), ("taken_on", "pk")),
            Column("witness", gettext_lazy("Witness"), ("witness__code", "pk")),
            Column("language", gettext_lazy("Language"), ("language", "pk")),
            Column("incident", gettext_lazy("Incident"), ("incident__occurred_on", "incident_id", "pk")),
            Column("status", gettext_lazy("Status"), ("status", "pk")),
        ],
        "-taken",
    ),
    "media": (
        MediaItem,
        pgettext_lazy("evidence", "Media"),
        [
            Column("uploaded", gettext_lazy("Uploaded"), ("created_at", "pk")),
            Column("file", gettext_lazy("File"), ("original_name", "pk")),
            Column("incident", gettext_lazy("Incident"), ("incident__occurred_on", "incident_id", "pk")),
            Column("status", gettext_lazy("Status"), ("status", "pk")),
        ],
        "-uploaded",
    ),
    "sources": (
        Source,
        gettext_lazy("Documented sources"),
        [
            Column("published", gettext_lazy("Date"), ("published_on", "pk")),
            Column("title", gettext_lazy("Title"), ("title", "pk")),
            Column("kind", gettext_lazy("Kind"), ("kind", "pk")),
            Column("incident", gettext_lazy("Incident"), ("incident__occurred_on", "incident_id", "pk")),
            Column("status", gettext_lazy("Status"), ("status", "pk")),
        ],
        "-published",
    ),
}
FILTERSETS = {name: _filterset_for(model) for name, (model, *_rest) in KINDS.items()}


@login_required
def evidence_list(request: HttpRequest) -> HttpResponse:
    """Evidence the user may see, one kind at a time (`?kind=testimonies|media|sources`)."""
    roles.require_staff_member(request.user, _("Only documenters, reviewers and admins may see evidence."))
    kind = request.GET.get("kind") or "testimonies"
    status = 200
    if kind not in KINDS:
        kind, status = "testimonies", 400
    model, _label, columns, default_sort = KINDS[kind]
    queryset = model.objects.visible_to(request.user).select_related("incident", "incident__location")
    if model is Testimony:
        queryset = queryset.select_related("witness")
    listing = Listing(
        request,
        queryset,
        columns=columns,
        default_sort=default_sort,
        filterset_class=FILTERSETS[kind],
        label=_("Filter the evidence"),
    )
    if status == 400:
        listing.errors["kind"] = [_("Choose testimony, media or sources.")]
    tabs = [
        {"kind": name, "label": label, "url": f"?kind={name}", "current": name == kind}
        for name, (_m, label, *_r) in KINDS.items()
    ]
    return render(
        request,
        "evidence/evidence_list.html",
        {"listing": listing, "kind": kind, "tabs": tabs, "hidden_kind": kind},
        status=max(status, listing.status),
    )
