"""List pages that scale: all incidents, victims, the review queue by case, and bulk decisions.

Each list is a `listing.Listing` over a queryset restricted by `visible_to(user)`, with the same
FilterSet as the API's list (so the same `?search=`, `?status=`, ... work in both).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from config.pages import back_to, refusal, refusals_as_pages

from . import roles, workflow
from .filters import IncidentPageFilter, VictimPageFilter
from .listing import Column, Listing
from .models import Incident, Status, Victim
from .views import require_reviewer


def require_staff(request: HttpRequest) -> None:
    roles.require_staff_member(request.user, _("Only documenters, reviewers and admins may see records under review."))


def victims_count() -> Subquery:
    rows = Victim.objects.filter(incident=OuterRef("pk")).order_by().values("incident")
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")[:1]), 0, output_field=IntegerField())


INCIDENT_COLUMNS = [
    Column("date", gettext_lazy("Date"), ("occurred_on", "pk")),
    Column("title", gettext_lazy("Title"), ("title", "pk")),
    Column("place", gettext_lazy("Place"), ("location__name", "pk")),
    Column("perpetrator", gettext_lazy("Perpetrator"), ("perpetrator__name", "pk")),
    Column("victims", gettext_lazy("Victims"), ("victim_count", "pk"), css="num"),
    Column("status", gettext_lazy("Status"), ("status", "pk")),
    Column("updated", gettext_lazy("Last change"), ("updated_at", "pk")),
]


def incident_listing(request: HttpRequest, queryset: Any, label: str) -> Listing:
    queryset = queryset.select_related("location", "perpetrator", "created_by").annotate(victim_count=victims_count())
    return Listing(
        request,
        queryset,
        columns=INCIDENT_COLUMNS,
        default_sort="-date",
        filterset_class=IncidentPageFilter,
        label=label,
    )


@login_required
def incidents(request: HttpRequest) -> HttpResponse:
    """Every incident the user may see: search, filters, sorting, pages."""
    require_staff(request)
    listing = incident_listing(request, Incident.objects.visible_to(request.user), _("Search and filter incidents"))
    return render(request, "incidents/incident_list.html", {"listing": listing}, status=listing.status)


VICTIM_COLUMNS = [
    Column("name", gettext_lazy("Name"), ("name_ar", "name", "pk")),
    Column("category", gettext_lazy("Category"), ("category", "pk")),
    Column("civilian", gettext_lazy("Civilian status"), ("civilian_status", "pk")),
    Column("died", gettext_lazy("Date of death"), ("date_of_death", "incident__occurred_on", "pk")),
    Column("incident", gettext_lazy("Incident"), ("incident__occurred_on", "incident_id", "pk")),
    Column("source", gettext_lazy("Source list"), ("origin_source", "origin_record_id", "pk")),
    Column("status", gettext_lazy("Status"), ("status", "pk")),
]


@login_required
def victims(request: HttpRequest) -> HttpResponse:
    """Every victim record the user may see (names in Arabic and Latin letters, Arabic-aware search)."""
    require_staff(request)
    queryset = Victim.objects.visible_to(request.user).select_related(
        "incident", "incident__location", "place_of_death"
    )
    listing = Listing(
        request,
        queryset,
        columns=VICTIM_COLUMNS,
        default_sort="incident",
        filterset_class=VictimPageFilter,
        label=_("Search and filter victims"),
    )
    return render(request, "incidents/victim_list.html", {"listing": listing}, status=listing.status)


QUEUE_COLUMNS = [
    Column("waiting", gettext_lazy("Waiting since"), ("waiting_since", "pk")),
    Column("case", gettext_lazy("Case"), ("title", "pk")),
    Column("date", gettext_lazy("Date"), ("occurred_on", "pk")),
    Column("place", gettext_lazy("Place"), ("location__name", "pk")),
    Column("victims", gettext_lazy("Pending victims"), ("pending_victims", "pk"), css="num"),
    Column("evidence", gettext_lazy("Pending evidence"), ("pending_evidence", "pk"), css="num"),
    Column("author", gettext_lazy("Recorded by"), ("created_by__username", "pk")),
]


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    """One row per case with something to decide (the incident, its victims, its evidence), oldest first."""
    require_reviewer(request)
    queryset = workflow.case_queue(request.user).select_related("location", "perpetrator", "created_by")
    listing = Listing(
        request,
        queryset,
        columns=QUEUE_COLUMNS,
        default_sort="waiting",
        filterset_class=IncidentPageFilter,
        label=_("Filter the queue"),
    )
    return render(
        request,
        "incidents/review_queue.html",
        {"listing": listing, "decisions": BULK_DECISIONS},
        status=listing.status,
    )


BULK_DECISIONS = [
    ("approve", gettext_lazy("Approve")),
    ("reject", gettext_lazy("Reject")),
    ("request_changes", gettext_lazy("Request changes")),
]


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return fallback


@login_required
@require_POST
@refusals_as_pages
def review_bulk(request: HttpRequest) -> HttpResponse:
    """Several records of one kind decided at once, with one comment: each is its own transition."""
    from django.urls import reverse

    require_reviewer(request)
    back = back_to(request, _safe_next(request, reverse("review-queue")))
    raw_ids = request.POST.getlist("ids")
    if not raw_ids:
        return refusal(request, _("Choose at least one record."), 400, back=back)
    if not all(value.isascii() and value.isdigit() and 0 < int(value) <= 2**63 - 1 for value in raw_ids):
        return refusal(request, _("Records are chosen by their numbers."), 400, back=back)
    results = workflow.review_many(
        request.user,
        request.POST.get("kind", ""),
        [int(value) for value in raw_ids],
        request.POST.get("decision", ""),
        request.POST.get("comment", "")[:10_000],
    )
    decided = [pk for pk, code in results.items() if code == "ok"]
    refused = {pk: code for pk, code in results.items() if code != "ok"}
    if decided:
        messages.success(
            request,
            _("Decided: %(n)s record(s), each recorded as its own decision.") % {"n": len(decided)},
        )
    for pk, code in refused.items():
        messages.warning(request, _("#%(id)s not decided: %(reason)s") % {"id": pk, "reason": BULK_REASONS[code]})
    return redirect(back)


BULK_REASONS = {
    "not_found": gettext_lazy("it does not exist or you cannot see it."),
    "own_record": gettext_lazy("you recorded it yourself; another reviewer must decide it."),
    "not_submitted": gettext_lazy("it is not waiting for a decision."),
    "conflict": gettext_lazy("someone else changed it at the same moment."),
    "evidence_missing": gettext_lazy("it needs approved evidence first."),
    "forbidden": gettext_lazy("you may not decide it."),
    "invalid": gettext_lazy("the decision was refused for this record."),
}


def sent_back(user: Any) -> list[dict[str, Any]]:
    """The user's records sent back for changes (any kind), with the reviewer's comment, newest first."""
    from .views import KIND_LABELS, last_comments

    rows: list[dict[str, Any]] = []
    for kind in workflow.KINDS.values():
        records = list(
            kind.model.objects.filter(created_by=user, status=Status.CHANGES_REQUESTED).order_by("-updated_at")[:100]
        )
        comments = last_comments(kind.model, [r.pk for r in records], Status.CHANGES_REQUESTED)
        for record in records:
            incident = record if not kind.incident_path else getattr(record, kind.incident_path)
            rows.append(
                {
                    "kind": kind.name,
                    "kind_label": KIND_LABELS.get(kind.name, kind.name),
                    "record": record,
                    "incident": incident,
                    "comment": comments.get(record.pk),
                    "updated_at": record.updated_at,
                }
            )
    rows.sort(key=lambda row: row["updated_at"], reverse=True)
    return rows


def home_context(request: HttpRequest) -> dict[str, Any]:
    """My cases: what was sent back (with the reviewer's comment), then every case of mine as a list."""
    context: dict[str, Any] = {"sent_back": sent_back(request.user) if roles.can_document(request.user) else []}
    if roles.can_document(request.user):
        context["listing"] = incident_listing(
            request, Incident.objects.filter(created_by=request.user), _("Search and filter my cases")
        )
    return context


def safe_redirect_target(request: HttpRequest, fallback: str) -> str:
    return _safe_next(request, fallback)
