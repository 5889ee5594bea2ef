"""The duplicates pages: the queue of candidate pairs, a pair side by side with its decision, a record's
group (with unmerge), and the "Scan for duplicates" button with the scan's progress.

Each view fetches through `visible_to(user)` (a pair with a hidden record reads as absent), calls
matching.services, and renders; refusals are pages with the matching status (403, 404, 409, 400).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from config.pages import back_to, errors_on, refusal, refusals_as_pages
from incidents import roles
from incidents.listing import Column, Listing
from incidents.models import Victim

from . import reasons as reason_words
from . import scans, services
from .filters import PairPageFilter
from .models import CandidatePair, DuplicateScan


def require_decider(request: HttpRequest) -> None:
    services.require_decider(request.user)


PAIR_RELATED = (
    "victim_a__incident__location",
    "victim_b__incident__location",
    "victim_a__place_of_death",
    "victim_b__place_of_death",
    "decided_by",
)

QUEUE_COLUMNS = [
    Column("score", gettext_lazy("Score"), ("score", "pk"), css="num"),
    Column("first", gettext_lazy("First record")),
    Column("second", gettext_lazy("Second record")),
    Column("reasons", gettext_lazy("Why they may be one person")),
    Column("status", gettext_lazy("Decision"), ("status", "pk")),
]


def _with_words(rows: list[CandidatePair]) -> None:
    for pair in rows:
        pair.reason_words = reason_words.describe_html(pair.reasons)


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """Candidate pairs, highest score first, with filters in the address (undecided ones by default)."""
    require_decider(request)
    if "status" not in request.GET:
        params = request.GET.copy()
        params["status"] = CandidatePair.State.CANDIDATE
        return redirect(f"{request.path}?{params.urlencode()}")
    queryset = services.visible_pairs(request.user).select_related(*PAIR_RELATED)
    listing = Listing(
        request,
        queryset,
        columns=QUEUE_COLUMNS,
        default_sort="-score",
        filterset_class=PairPageFilter,
        prepare=_with_words,
        label=_("Filter the candidate pairs"),
    )
    latest_scan = DuplicateScan.objects.order_by("-created_at", "-id").first()
    return render(
        request,
        "matching/queue.html",
        {"listing": listing, "latest_scan": latest_scan},
        status=listing.status,
    )


class DecisionForm(forms.Form):
    DECISIONS = [("confirm", gettext_lazy("Confirm: one person")), ("dismiss", gettext_lazy("Dismiss: not the same"))]

    decision = forms.ChoiceField(label=gettext_lazy("Decision"), choices=DECISIONS, widget=forms.RadioSelect)
    keep = forms.TypedChoiceField(
        label=gettext_lazy("Record kept (when confirming)"),
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment"), required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)

    def __init__(self, *args: Any, pair: CandidatePair, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["keep"].choices = [
            (pair.victim_a_id, _("First record (#%(id)s)") % {"id": pair.victim_a_id}),
            (pair.victim_b_id, _("Second record (#%(id)s)") % {"id": pair.victim_b_id}),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") == "confirm" and not data.get("keep"):
            self.add_error("keep", _("Choose which record is kept."))
        return data


class UnmergeForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why these are not one person"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 2})
    )


def _visible_pair(request: HttpRequest, pk: int) -> CandidatePair:
    return get_object_or_404(services.visible_pairs(request.user).select_related(*PAIR_RELATED), pk=pk)


def _display(value: Any) -> str:
    import datetime as dt

    from django.utils.formats import date_format

    if value in (None, ""):
        return "—"
    if isinstance(value, dt.date):
        return date_format(value, "j F Y")
    return str(value)


def _record_view(request: HttpRequest, victim: Victim) -> dict[str, Any]:
    """One side of the pair: the record, its incident, its incident's evidence the user may see."""
    from evidence.models import MediaItem, Source, Testimony

    user = request.user
    incident = victim.incident
    return {
        "victim": victim,
        "incident": incident,
        "personal": roles.may_see_personal_data(user, victim),
        "sources": list(Source.objects.visible_to(user).filter(incident=incident).order_by("pk")[:20]),
        "testimonies": Testimony.objects.visible_to(user).filter(incident=incident).count(),
        "media": list(MediaItem.objects.visible_to(user).filter(incident=incident).order_by("pk")[:20]),
        "duplicates": list(Victim.objects.visible_to(user).filter(duplicate_of=victim).order_by("pk")),
    }


def _place(victim: Victim) -> str:
    from incidents.templatetags.site import localized

    return localized(victim.place_of_death or victim.incident.location)


def comparison(request: HttpRequest, a: Victim, b: Victim) -> list[dict[str, Any]]:
    """The fields side by side, each marked when the two records differ (personal data only for those
    who may see it on both records)."""
    from incidents.templatetags.site import category_label

    personal = roles.may_see_personal_data(request.user, a) and roles.may_see_personal_data(request.user, b)
    rows: list[tuple[Any, Any, Any, str]] = [
        (_("Arabic name"), a.name_ar, b.name_ar, "rtl"),
        (_("Latin name"), a.name, b.name, "ltr"),
        (_("Sex"), a.get_sex_display(), b.get_sex_display(), ""),
        (_("Age"), a.age_years, b.age_years, ""),
        (_("Category"), category_label(a.category), category_label(b.category), ""),
        (_("Civilian status"), a.get_civilian_status_display(), b.get_civilian_status_display(), ""),
        (
            _("Date of death"),
            a.date_of_death or a.incident.occurred_on,
            b.date_of_death or b.incident.occurred_on,
            "",
        ),
        (_("Place of death"), _place(a), _place(b), ""),
    ]
    if personal:
        rows += [
            (_("Date of birth"), a.date_of_birth, b.date_of_birth, ""),
            (_("Identity number"), a.identity_number, b.identity_number, "ltr"),
        ]
    rows += [
        (_("Source list"), a.origin_source, b.origin_source, ""),
        (_("Record status"), a.get_status_display(), b.get_status_display(), ""),
    ]
    return [
        {
            "label": label,
            "a": _display(first),
            "b": _display(second),
            "dir": direction,
            "differs": first not in (None, "") and second not in (None, "") and first != second,
        }
        for label, first, second, direction in rows
    ]


def _pair_page(request: HttpRequest, pair: CandidatePair, form: DecisionForm, status: int = 200) -> HttpResponse:
    a, b = pair.victim_a, pair.victim_b
    is_own = a.created_by_id == request.user.pk and b.created_by_id == request.user.pk
    marked = [victim for victim in (a, b) if victim.duplicate_of_id is not None]
    return render(
        request,
        "matching/pair.html",
        {
            "pair": pair,
            "records": [_record_view(request, a), _record_view(request, b)],
            "rows": comparison(request, a, b),
            "reasons": [
                {"words": words, "differs": reason_words.is_difference(reason)}
                for words, reason in zip(
                    reason_words.describe_html(pair.reasons),
                    pair.reasons if isinstance(pair.reasons, list) else [],
                    strict=False,
                )
            ],
            "form": form,
            "is_own": is_own,
            "marked": marked,
            "unmerge_form": UnmergeForm(),
        },
        status=status,
    )


@login_required
def pair_page(request: HttpRequest, pk: int) -> HttpResponse:
    """The two records side by side, with their incidents, sources and evidence, and the decision."""
    require_decider(request)
    pair = _visible_pair(request, pk)
    return _pair_page(request, pair, DecisionForm(pair=pair, initial={"version": pair.version}))


@login_required
@require_POST
@refusals_as_pages
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    require_decider(request)
    pair = _visible_pair(request, pk)
    form = DecisionForm(request.POST, pair=pair)
    back_to(request, reverse("duplicates-pair", args=[pair.pk]))
    if not form.is_valid():
        return _pair_page(request, pair, form, status=400)
    with errors_on(form) as saving:
        decided = services.decide(
            pair,
            request.user,
            form.cleaned_data["decision"],
            keep=form.cleaned_data.get("keep"),
            comment=form.cleaned_data["comment"],
            version=form.cleaned_data["version"],
        )
    if not saving.ok:
        return _pair_page(request, pair, form, status=400)
    if decided.status == CandidatePair.State.CONFIRMED:
        messages.success(request, _("Confirmed: record #%(kept)s is kept.") % {"kept": decided.kept_id})
    else:
        messages.success(request, _("Dismissed: the two records stay apart."))
    return redirect(f"{reverse('duplicates-queue')}?status=candidate")


@login_required
def group(request: HttpRequest, pk: int) -> HttpResponse:
    """A record's group of one person: the kept record, the records marked as its duplicates, and the
    pairs that involve it; each duplicate may be unmerged here."""
    require_decider(request)
    victim = get_object_or_404(Victim.objects.visible_to(request.user).select_related("incident"), pk=pk)
    visible = Victim.objects.visible_to(request.user)
    kept = visible.filter(pk=victim.duplicate_of_id).first() if victim.duplicate_of_id else victim
    members = list(visible.filter(duplicate_of=kept).select_related("incident").order_by("pk")) if kept else []
    pairs = list(
        services.visible_pairs(request.user)
        .filter(Q(victim_a=victim) | Q(victim_b=victim))
        .select_related("victim_a", "victim_b")
        .order_by("-score", "id")[:50]
    )
    return render(
        request,
        "matching/group.html",
        {"victim": victim, "kept": kept, "members": members, "pairs": pairs, "unmerge_form": UnmergeForm()},
    )


@login_required
@require_POST
@refusals_as_pages
def unmerge(request: HttpRequest, pk: int) -> HttpResponse:
    require_decider(request)
    victim = get_object_or_404(Victim.objects.visible_to(request.user), pk=pk)
    back = request.POST.get("back", "")
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(back, allowed_hosts=None):
        back = reverse("duplicates-group", args=[victim.pk])
    back_to(request, back)
    form = UnmergeForm(request.POST)
    if not form.is_valid():
        return refusal(request, _("Say why this record is not a duplicate."), 400, back=back)
    services.unmerge(victim, request.user, form.cleaned_data["reason"])
    messages.success(request, _("Unmerged: record #%(id)s is counted on its own again.") % {"id": victim.pk})
    return redirect(back)


@login_required
@require_POST
@refusals_as_pages
def scan(request: HttpRequest) -> HttpResponse:
    """Start a scan (matching.scans); while one runs, show that one."""
    require_decider(request)
    try:
        started = scans.start_scan(request.user)
    except scans.ScanAlreadyRunning as exc:
        messages.info(request, _("A scan is already running; here is its progress."))
        return redirect("duplicates-scan-progress", pk=exc.scan.pk)
    messages.success(request, _("Scan started."))
    return redirect("duplicates-scan-progress", pk=started.pk)


@login_required
def scan_progress(request: HttpRequest, pk: int) -> HttpResponse:
    require_decider(request)
    found = DuplicateScan.objects.filter(pk=pk).first()
    if found is None:
        raise Http404
    percent = 0
    if found.progress_total:
        percent = min(100, round(100 * found.progress_done / found.progress_total))
    return render(request, "matching/scan.html", {"scan": found, "percent": percent})
