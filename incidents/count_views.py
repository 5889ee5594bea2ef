"""Pages for counts: admins request, follow, publish and export snapshots; anyone reads published figures."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from . import roles, snapshots
from .models import CountSnapshot, Location, Perpetrator, ReportingPeriod
from .workflow import IllegalTransition


class CountForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    period = forms.ModelChoiceField(
        label=gettext_lazy("or a reporting period"), queryset=ReportingPeriod.objects.all(), required=False
    )
    locations = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Places (each with everything inside it)"),
        queryset=Location.objects.filter(level__in=["country", "governorate"]).order_by("level", "name"),
        required=False,
    )
    perpetrators = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Perpetrators (each with its sub-parties)"),
        queryset=Perpetrator.objects.order_by("name"),
        required=False,
    )


def _require_manager(request: HttpRequest) -> None:
    if not roles.can_manage_counts(request.user):
        raise PermissionDenied(_("Only admins may compute, publish and export counts."))


@login_required
def count_list(request: HttpRequest) -> HttpResponse:
    """Admins: the snapshots with their progress, a form to request one, publish and export."""
    _require_manager(request)
    form = CountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = {name: value for name, value in form.cleaned_data.items() if value not in (None, "")}
        try:
            snapshot = snapshots.request_count(actor=request.user, **fields)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Count #%(id)s is being computed.") % {"id": snapshot.pk})
            return redirect("count-list")
    items = list(CountSnapshot.objects.select_related("period").order_by("-id")[:100])
    in_progress = any(item.status in (CountSnapshot.State.PENDING, CountSnapshot.State.RUNNING) for item in items)
    return render(
        request,
        "counts/list.html",
        {"form": form, "snapshots": items, "in_progress": in_progress, "formats": snapshots.EXPORT_FORMATS},
    )


@login_required
@require_POST
def count_publish(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    snapshot = get_object_or_404(CountSnapshot, pk=pk)
    try:
        snapshots.publish(actor=request.user, snapshot=snapshot)
    except IllegalTransition as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Count #%(id)s is published.") % {"id": snapshot.pk})
    return redirect("count-list")


def published_counts(request: HttpRequest) -> HttpResponse:
    """Anyone: the published figures, newest first, in the reader's language."""
    items = (
        CountSnapshot.objects.filter(published_at__isnull=False, status=CountSnapshot.State.DONE)
        .prefetch_related("superseded_by")
        .order_by("-published_at", "-id")[:100]
    )
    return render(request, "counts/published.html", {"snapshots": items})
