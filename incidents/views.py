"""Server-rendered pages for documenters and reviewers (the count and public pages: counts/views.py).

Each view fetches through `visible_to(user)`, calls a service or a workflow verb, and renders.
Refusals become pages with a reason and the matching status: 403 (not allowed), 409 (the record's
state forbids it, or a concurrent decision won), 400 (invalid input, shown per field).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language, gettext_lazy, pgettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.idempotency import once_per_form
from audit.models import AuditEntry
from config.pages import add_service_errors, back_to, errors_on, message_of, refusal, refusals_as_pages  # noqa: F401 (importers of incidents.views)

from . import roles, services, workflow
from .forms import IncidentForm, ReopenForm, ReviewForm, VictimForm
from .models import Category, Incident, Status, Victim

STATUS_ORDER = [Status.CHANGES_REQUESTED, Status.DRAFT, Status.SUBMITTED, Status.VERIFIED, Status.REJECTED]


# --- Helpers ---------------------------------------------------------------------------------------


def wants_json(request: HttpRequest) -> bool:
    return request.headers.get("X-Autosave") == "1"


def last_comments(model: type, ids: list[int], state: str) -> dict[int, AuditEntry]:
    """The latest audit entry moving each record into `state` (e.g. the reviewer's request for changes)."""
    if not ids:
        return {}
    entries = AuditEntry.objects.filter(
        target_type=model._meta.label_lower, target_id__in=ids, to_state=state
    ).order_by("sequence")
    return {entry.target_id: entry for entry in entries}


def visible_incident(request: HttpRequest, pk: int) -> Incident:
    return get_object_or_404(
        Incident.objects.visible_to(request.user).select_related("location", "perpetrator", "created_by"), pk=pk
    )


def require_documenter(request: HttpRequest) -> None:
    roles.require_documenter(request.user)


def require_reviewer(request: HttpRequest) -> None:
    roles.require_reviewer(request.user, _("Only reviewers and admins may review records."))


# --- Documenter: my cases, incident, victims ------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The signed-in user's home: what was sent back for changes (with the reviewer's comment) first, then
    every case of theirs as a list with search, filters and pages (list_views.home_context)."""
    from .list_views import home_context

    context = home_context(request)
    queue_size = None
    if roles.can_review(request.user):
        queue_size = workflow.case_queue(request.user).count()
    context.update(
        {
            "can_document": roles.can_document(request.user),
            "can_review": roles.can_review(request.user),
            "can_manage_counts": roles.can_manage_counts(request.user),
            "queue_size": queue_size,
        }
    )
    listing = context.get("listing")
    return render(request, "incidents/home.html", context, status=listing.status if listing else 200)


def _autosave_response(incident: Incident) -> JsonResponse:
    return JsonResponse(
        {
            "saved": True,
            "id": incident.pk,
            "url": reverse("incident-detail", args=[incident.pk]),
            "saved_at": timezone.localtime(incident.updated_at).strftime("%H:%M:%S"),
            "version": incident.version,
        }
    )


@login_required
@once_per_form
@refusals_as_pages
def incident_new(request: HttpRequest) -> HttpResponse:
    require_documenter(request)
    form = IncidentForm(request.POST or None, language=get_language())
    if request.method == "POST":
        if form.is_valid():
            with errors_on(form) as saving:
                incident = services.create_incident(author=request.user, **form.cleaned_data)
            if saving.ok:
                if wants_json(request):
                    return _autosave_response(incident)
                messages.success(request, _("Draft saved. Now add the victims."))
                return redirect("incident-detail", incident.pk)
        if wants_json(request):
            return JsonResponse({"saved": False, "errors": form.errors}, status=400)
        return render(request, "incidents/incident_form.html", {"form": form}, status=400)
    return render(request, "incidents/incident_form.html", {"form": form})


@login_required
@refusals_as_pages
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The incident: read-only for everyone who may see it; an edit form and victims for its author."""
    incident = visible_incident(request, pk)
    is_author = incident.created_by_id == request.user.pk
    editable = services.may_edit(request.user, incident) and roles.can_document(request.user)
    form = None
    status = 200
    if request.method == "POST":
        back_to(request, reverse("incident-detail", args=[pk]))
        services.require_author_and_editable(request.user, incident)  # a refusal page: 403 or 409
        form = IncidentForm(request.POST, instance=Incident.objects.get(pk=pk), language=get_language())
        if form.is_valid():
            changes = {name: form.cleaned_data[name] for name in form.changed_data}
            back_to(request, reverse("incident-detail", args=[pk]))
            with errors_on(form) as saving:
                incident = services.update_incident(actor=request.user, incident=incident, **changes)
            if saving.ok:
                if wants_json(request):
                    return _autosave_response(incident)
                messages.success(request, _("Changes saved."))
                return redirect("incident-detail", pk)
        if wants_json(request):
            return JsonResponse({"saved": False, "errors": form.errors}, status=400)
        status = 400
    elif editable:
        form = IncidentForm(instance=incident, language=get_language())
    victims = list(
        Victim.objects.visible_to(request.user).filter(incident=incident).select_related("place_of_death", "created_by")
    )
    changes_comment = None
    if incident.status == Status.CHANGES_REQUESTED:
        changes_comment = last_comments(Incident, [incident.pk], Status.CHANGES_REQUESTED).get(incident.pk)
    context = {
        "incident": incident,
        "form": form,
        "editable": editable,
        "is_author": is_author,
        "victims": victims,
        "victim_form": VictimForm(incident=incident, language=get_language())
        if _may_add_victims(request, incident)
        else None,
        "changes_comment": changes_comment,
        "history": workflow.history(incident),
        "can_review": roles.can_review(request.user) and not is_author,
        "evidence": evidence_for(request, incident),
    }
    return render(request, "incidents/incident_detail.html", context, status=status)


def _may_add_victims(request: HttpRequest, incident: Incident) -> bool:
    return services.may_attach_to(request.user, incident)


# The evidence app (which may import incidents, never the reverse) registers what the incident and
# review pages show of an incident's testimony and media.
_EVIDENCE_PROVIDERS: list[Callable[[HttpRequest, Incident], dict[str, Any]]] = []


def register_evidence_provider(provider: Callable[[HttpRequest, Incident], dict[str, Any]]) -> None:
    if provider not in _EVIDENCE_PROVIDERS:
        _EVIDENCE_PROVIDERS.append(provider)


def evidence_for(request: HttpRequest, incident: Incident) -> dict[str, Any]:
    """Testimony and media shown with an incident, from the registered providers."""
    shown: dict[str, Any] = {}
    for provider in _EVIDENCE_PROVIDERS:
        shown.update(provider(request, incident))
    return shown


@login_required
@require_POST
@refusals_as_pages
def incident_submit(request: HttpRequest, pk: int) -> HttpResponse:
    incident = visible_incident(request, pk)
    back_to(request, reverse("incident-detail", args=[pk]))
    workflow.submit(request.user, incident)
    messages.success(request, _("Submitted for review. A reviewer will check it; you will see their decision here."))
    return redirect("home")


@login_required
@require_POST
@refusals_as_pages
def incident_delete(request: HttpRequest, pk: int) -> HttpResponse:
    incident = visible_incident(request, pk)
    back_to(request, reverse("incident-detail", args=[pk]))
    services.delete_incident(actor=request.user, incident=incident)
    messages.success(request, _("Draft deleted."))
    return redirect("home")


@login_required
@once_per_form
@refusals_as_pages
def victim_add(request: HttpRequest, pk: int) -> HttpResponse:
    incident = visible_incident(request, pk)
    require_documenter(request)
    if request.method != "POST":
        return redirect(reverse("incident-detail", args=[pk]) + "#victims")
    form = VictimForm(request.POST, incident=incident, language=get_language())
    if form.is_valid():
        back_to(request, reverse("incident-detail", args=[pk]))
        with errors_on(form) as saving:
            victim = services.create_victim(author=request.user, incident=incident, **form.service_fields())
        if saving.ok:
            messages.success(
                request,
                format_html(
                    _("Victim added: %(name)s (%(category)s).") % {"name": "<bdi>{}</bdi>", "category": "{}"},
                    str(victim),
                    Category(victim.category).label,
                ),
            )
            return redirect(reverse("incident-detail", args=[pk]) + "#victims")
    return render(
        request,
        "incidents/victim_form.html",
        {"form": form, "incident": incident, "victim": None},
        status=400,
    )


def _visible_victim(request: HttpRequest, pk: int) -> Victim:
    return get_object_or_404(
        Victim.objects.visible_to(request.user).select_related("incident", "place_of_death"), pk=pk
    )


@login_required
@refusals_as_pages
def victim_edit(request: HttpRequest, pk: int) -> HttpResponse:
    victim = _visible_victim(request, pk)
    back = back_to(request, reverse("incident-detail", args=[victim.incident_id]) + "#victims")
    services.require_author_and_editable(request.user, victim)
    form = VictimForm(request.POST or None, instance=victim, incident=victim.incident, language=get_language())
    if request.method == "POST" and form.is_valid():
        changes = {name: form.service_fields()[name] for name in form.changed_data}
        with errors_on(form) as saving:
            services.update_victim(actor=request.user, victim=victim, **changes)
        if saving.ok:
            messages.success(request, _("Changes saved."))
            return redirect(back)
    context = {"form": form, "incident": victim.incident, "victim": victim}
    return render(request, "incidents/victim_form.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
@refusals_as_pages
def victim_delete(request: HttpRequest, pk: int) -> HttpResponse:
    victim = _visible_victim(request, pk)
    back = back_to(request, reverse("incident-detail", args=[victim.incident_id]) + "#victims")
    services.delete_victim(actor=request.user, victim=victim)
    messages.success(request, _("Victim record deleted."))
    return redirect(back)


# --- Reviewer: queue and decisions ---------------------------------------------------------------


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


KIND_LABELS = {
    "incidents": gettext_lazy("Incidents"),
    "victims": gettext_lazy("Victims"),
    "testimonies": gettext_lazy("Testimonies"),
    "media": pgettext_lazy("evidence", "Media"),
    "sources": gettext_lazy("Sources"),
}


def _record_for_review(request: HttpRequest, kind: str, pk: int) -> Any:
    if kind not in workflow.KINDS:
        raise Http404
    model = workflow.KINDS[kind].model
    return get_object_or_404(model.objects.visible_to(request.user), pk=pk)


@login_required
@refusals_as_pages
def review_record(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """A record under review with everything the reviewer needs, and the decision form."""
    require_reviewer(request)
    record = _record_for_review(request, kind, pk)
    incident = record if isinstance(record, Incident) else getattr(record, "incident", None)
    is_own = record.created_by_id == request.user.pk
    decidable_victims: list[Victim] = []
    decidable_evidence: list[tuple[str, Any]] = []
    decide_record = record.status == Status.SUBMITTED and not is_own
    if isinstance(record, Incident):
        decidable_victims = list(
            record.victims.filter(status=Status.SUBMITTED).exclude(created_by=request.user).order_by("pk")
        )
        for name, evidence_kind in workflow.evidence_kinds().items():
            items = evidence_kind.model.objects.filter(incident=record, status=Status.SUBMITTED)
            decidable_evidence += [(name, item) for item in items.exclude(created_by=request.user).order_by("pk")]
    items_only = isinstance(record, Incident) and not decide_record and bool(decidable_victims or decidable_evidence)
    form = ReviewForm(
        request.POST or None,
        victims=decidable_victims,
        evidence=decidable_evidence,
        decide_record=not items_only,
    )
    reopen_form = ReopenForm()
    status = 200
    back_to(request, reverse("review-record", args=[kind, pk]))
    if request.method == "POST":
        if form.is_valid():
            with errors_on(form) as saving, transaction.atomic():
                if items_only:
                    workflow.decide_case_items(
                        request.user,
                        record,
                        victims=form.chosen_victims(),
                        evidence=form.chosen_evidence(),
                        comment=form.cleaned_data["comment"],
                    )
                else:
                    workflow.review(
                        request.user,
                        record,
                        form.cleaned_data["decision"],
                        form.cleaned_data["comment"],
                        form.victim_decisions() if isinstance(record, Incident) else None,
                        form.chosen_evidence() if isinstance(record, Incident) else None,
                    )
            if saving.ok:
                if items_only:
                    messages.success(request, _("Decisions recorded for the chosen victims and evidence."))
                else:
                    messages.success(
                        request,
                        _("Decision recorded: %(decision)s.")
                        % {"decision": dict(ReviewForm.DECISIONS)[form.cleaned_data["decision"]]},
                    )
                return redirect("review-queue")
        status = 400
    victims = []
    if incident is not None:
        victims = list(
            Victim.objects.visible_to(request.user).filter(incident=incident).select_related("place_of_death")
        )
    return render(
        request,
        "incidents/review_record.html",
        {
            "kind": kind,
            "kind_label": KIND_LABELS.get(kind, kind),
            "record": record,
            "incident": incident,
            "victims": victims,
            "form": form,
            "reopen_form": reopen_form,
            "is_own": is_own,
            "items_only": items_only,
            "history": workflow.history(record),
            "evidence": evidence_for(request, incident) if incident is not None else {},
        },
        status=status,
    )


@login_required
@require_POST
@refusals_as_pages
def reopen_record(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    require_reviewer(request)
    record = _record_for_review(request, kind, pk)
    back = back_to(request, reverse("review-record", args=[kind, pk]))
    form = ReopenForm(request.POST)
    if not form.is_valid():
        return refusal(request, _("Give a reason for reopening this record."), 400, back=back)
    workflow.reopen(request.user, record, form.cleaned_data["reason"])
    messages.success(request, _("Reopened: the record is back in the review queue."))
    return redirect(back)
