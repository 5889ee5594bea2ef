"""Server-rendered count pages (admins: request, follow, publish, export) and the public figures.

Each view fetches, calls a service in counts.services, and renders; refusals are pages that say why.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.idempotency import once_per_form
from config.pages import back_to, errors_on, refusal, refusals_as_pages

from . import counting, graphics, services
from .api import as_download
from .forms import CountForm
from .models import CountSnapshot


def named(item: dict[str, Any] | None, language: str) -> str:
    """A {id, name, name_ar} row from a count's figures, named in the page's language."""
    if not item:
        return _("Unknown")
    return (item.get("name_ar") if language == "ar" else None) or item.get("name") or ""


def figures_context(snapshot: Any, language: str) -> dict[str, Any]:
    """What the figures pages show for one done snapshot: totals, charts, map, summary."""
    result = snapshot.result or {}
    by_perpetrator = [
        {**row, "label": named(row.get("perpetrator"), language)} for row in result.get("by_perpetrator", [])
    ]
    by_location = [{**row, "label": named(row.get("location"), language)} for row in services.location_rows(snapshot)]
    civilians = result.get("civilians", {})
    categories = [
        {"key": key, "css": graphics.CATEGORY_CLASS[key], "label": label, "total": civilians.get(key, 0)}
        for key, label in (
            ("children", _("Children")),
            ("women", _("Women (adult female)")),
            ("men", _("Men (adult male)")),
            ("unknown", _("Age or sex unknown")),
        )
    ]
    # The map reads the coordinates frozen into the snapshot, never today's places.
    points = [
        {
            "label": row["label"],
            "value": row.get("total", 0),
            "massacres": row.get("massacres", 0),
            "latitude": row["location"]["latitude"],
            "longitude": row["location"]["longitude"],
        }
        for row in by_location
        if row.get("location")
        and row["location"].get("latitude") is not None
        and row["location"].get("longitude") is not None
    ]
    return {
        "result": result,
        "civilians": civilians,
        "summary": snapshot.summary_ar if language == "ar" else snapshot.summary_en,
        "categories": graphics.bars(categories),
        "by_perpetrator": graphics.bars(by_perpetrator),
        "perpetrator_segments": [(row, graphics.stacked(row)) for row in by_perpetrator],
        "by_location": graphics.bars(by_location),
        "by_date": graphics.day_columns(result.get("by_date", []), snapshot.date_from, snapshot.date_to),
        "has_deaths": int(civilians.get("total") or 0) > 0,
        "map": graphics.proportional_map(points),
    }


# The incident map draws at most this many points (the largest first) and says how many it left out.
MAX_INCIDENT_POINTS = 2000


def incident_points(snapshot: Any) -> dict[str, Any]:
    """For admins (the count pages are theirs): each incident counted under the snapshot's parameters,
    read now, at its own coordinates where the record has them, sized by its counted victims. The public
    sees governorates only; incident positions never leave these pages."""
    counted = counting.counted_victims(services.parameters_of(snapshot))
    incidents = list(
        counted.values("incident_id", "incident__title", "incident__latitude", "incident__longitude")
        .annotate(victims=Count("id"))
        .order_by("-victims", "incident_id")
    )
    located = [
        row for row in incidents if row["incident__latitude"] is not None and row["incident__longitude"] is not None
    ]
    shown = located[:MAX_INCIDENT_POINTS]
    points = [
        {
            "label": row["incident__title"],
            "value": row["victims"],
            "latitude": row["incident__latitude"],
            "longitude": row["incident__longitude"],
            "incident_id": row["incident_id"],
        }
        for row in shown
    ]
    return {
        "incident_map": graphics.proportional_map(points, max_radius=10) if points else None,
        "incident_rows": points,
        "incidents_counted": len(incidents),
        "incidents_without_coordinates": len(incidents) - len(located),
        "incidents_left_out": len(located) - len(shown),
    }


def count_parameters(snapshot: Any, language: str) -> dict[str, Any]:
    """The period, places and parties a snapshot was asked for, by the names frozen with it."""
    names = services.parameter_names(snapshot)

    def labels(items: list[dict[str, Any]]) -> list[str]:
        return [named(item, language) for item in sorted(items, key=lambda item: item["name"])]

    return {
        "places": labels(names["locations"]),
        "parties": labels(names["perpetrators"]),
        "period_name": named(names["period"], language) if names["period"] else "",
    }


@login_required
@once_per_form
@refusals_as_pages
def counts(request: HttpRequest) -> HttpResponse:
    """Admins: run a count (window or period, places, parties) and see the ones already run."""
    services.require_manager(request.user)
    form = CountForm(request.POST or None, language=get_language())
    status = 200
    if request.method == "POST":
        if form.is_valid():
            arguments = form.service_arguments()
            if not form.errors:
                with errors_on(form) as saving:
                    snapshot = services.request_count(actor=request.user, **arguments)
                if saving.ok:
                    return redirect("count-detail", snapshot.pk)
        status = 400
    recent = list(CountSnapshot.objects.select_related("period").order_by("-id")[:50])
    in_progress = any(not item.is_finished for item in recent)
    return render(
        request,
        "counts/counts.html",
        {"form": form, "snapshots": recent, "in_progress": in_progress, "formats": services.EXPORT_FORMATS},
        status=status,
    )


@login_required
def count_detail(request: HttpRequest, pk: int) -> HttpResponse:
    services.require_manager(request.user)
    snapshot = get_object_or_404(CountSnapshot.objects.select_related("period"), pk=pk)
    language = get_language()
    context = {"snapshot": snapshot, **count_parameters(snapshot, language)}
    if snapshot.status == CountSnapshot.State.DONE:
        context.update(figures_context(snapshot, language))
        context.update(incident_points(snapshot))
    return render(request, "counts/count_detail.html", context)


@login_required
def count_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Progress for the count page's live status line (polled by app.js)."""
    services.require_manager(request.user)
    snapshot = get_object_or_404(CountSnapshot, pk=pk)
    return JsonResponse(
        {"status": snapshot.status, "label": str(snapshot.get_status_display()), "finished": snapshot.is_finished},
        headers={"Cache-Control": "no-store"},
    )


@login_required
@require_http_methods(["GET", "POST"])
@refusals_as_pages
def count_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Publishing is a step of its own: GET shows what becomes public and that it cannot be undone (a
    correction is a new count that supersedes this one); only a POST carrying that page's `confirm`
    publishes. Works without JavaScript."""
    services.require_manager(request.user)
    snapshot = get_object_or_404(CountSnapshot.objects.select_related("period"), pk=pk)
    back = back_to(request, reverse("count-detail", args=[pk]))
    if snapshot.is_published:
        return refusal(request, _("This count is already published; publish a correction instead."), 409, back=back)
    if snapshot.status != CountSnapshot.State.DONE:
        return refusal(request, _("Only a finished count can be published."), 409, back=back)
    confirmed = request.method == "POST" and request.POST.get("confirm") == "yes"
    if not confirmed:
        context = {"snapshot": snapshot, "unconfirmed": request.method == "POST"}
        context.update(count_parameters(snapshot, get_language()))
        return render(request, "counts/publish_confirm.html", context, status=400 if request.method == "POST" else 200)
    services.publish(actor=request.user, snapshot=snapshot)
    messages.success(request, _("Published: the figures and summaries are now public."))
    return redirect(back)


@login_required
@refusals_as_pages
def count_export(request: HttpRequest, pk: int, export_format: str) -> HttpResponse:
    services.require_manager(request.user)
    snapshot = get_object_or_404(CountSnapshot, pk=pk)
    back_to(request, reverse("count-detail", args=[pk]))
    content, content_type, filename = services.export(
        actor=request.user, snapshot=snapshot, export_format=export_format
    )
    return as_download(HttpResponse(content, content_type=content_type), filename)


# --- The public: published figures --------------------------------------------------------------


def public(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Published counts only, for anyone: figures, summaries, charts and the map. No personal data."""
    published = CountSnapshot.objects.published().select_related("period")
    snapshot = get_object_or_404(published, pk=pk) if pk is not None else published.first()
    language = get_language()
    context: dict[str, Any] = {
        "snapshot": snapshot,
        "others": published.exclude(pk=getattr(snapshot, "pk", None))[:20],
        "formats": ("csv", "xlsx", "pdf", "json"),
    }
    if snapshot is not None:
        context.update(figures_context(snapshot, language))
        context.update(count_parameters(snapshot, language))
    return render(request, "public/figures.html", context)
