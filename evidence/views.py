"""Server-rendered pages for evidence: testimony (choosing or registering a witness) and media uploads.

Witness identity never appears on these pages: a witness is shown by their pseudonymous code.
The identity fields are entered once, marked as protected, and go straight to the service that
encrypts them. Uploads are streamed and checked by the same service as the API; several files at
once go through the media API from the page's script, one request per file, each with progress.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.idempotency import once_per_form
from config.pages import back_to, errors_on, message_of, refusal, refusals_as_pages
from counts import graphics
from incidents import roles
from incidents.models import Incident, Status
from incidents.services import may_attach_to, may_edit, require_author_and_editable
from incidents.views import visible_incident

from . import media, services
from .forms import TestimonyForm
from .models import DerivativeStatus, MediaItem, Source, Testimony
from .uploads import HashingUploadHandler


def may_add_evidence(user: Any, incident: Incident) -> bool:
    """Whether to offer the evidence forms (the service decides again on every write)."""
    return may_attach_to(user, incident)


def _gps(item: MediaItem) -> dict[str, float] | None:
    gps = (item.metadata or {}).get("gps") or {}
    try:
        return {"latitude": float(gps["latitude"]), "longitude": float(gps["longitude"])}
    except (KeyError, TypeError, ValueError):
        return None


PDF_FIELDS = {
    "Title": _lazy("Document title"),
    "Author": _lazy("Document author"),
    "Subject": _lazy("Subject"),
    "Keywords": _lazy("Keywords"),
    "Creator": _lazy("Created with"),
    "Producer": _lazy("Produced with"),
    "CreationDate": _lazy("Created on"),
    "ModDate": _lazy("Last changed on"),
}


def _pdf_fields(item: MediaItem) -> list[tuple[str, str]]:
    """A PDF's document information (title, author, software, dates), labelled in the page's language."""
    document = (item.metadata or {}).get("document") or {}
    if not isinstance(document, dict):
        return []
    return [(str(label), str(document[key])[:500]) for key, label in PDF_FIELDS.items() if document.get(key)]


def evidence_for_incident(request: HttpRequest, incident: Incident) -> dict[str, Any]:
    """Testimony and media of an incident as the user may see them (used by the incident and review pages)."""
    user = request.user
    testimonies = list(
        Testimony.objects.visible_to(user).for_incident(incident).select_related("witness").order_by("taken_on", "pk")
    )
    items = list(MediaItem.objects.visible_to(user).for_incident(incident).select_related("original").order_by("pk"))
    reviewer = roles.can_review(user) or roles.can_manage_counts(user)
    for item in items:
        item.thumbnail_ready = item.derivative_status == DerivativeStatus.DONE and bool(item.thumbnail_path)
        item.processing = item.derivative_status == DerivativeStatus.PENDING
        # Extracted metadata (GPS included) follows the original's rule; everybody else sees working copies.
        item.may_see_original = services.may_see_original(user, item)
        item.gps = _gps(item) if item.may_see_original else None
        item.gps_map = graphics.proportional_map([{**item.gps, "value": 1}], 240, 200, 5) if item.gps else None
        item.pdf_fields = _pdf_fields(item) if item.may_see_original else []
    sources = list(Source.objects.visible_to(user).for_incident(incident).order_by("pk"))
    from incidents.views import last_comments

    for records in (testimonies, items, sources):
        sent_back = [r.pk for r in records if r.status == Status.CHANGES_REQUESTED]
        comments = last_comments(type(records[0]), sent_back, Status.CHANGES_REQUESTED) if sent_back else {}
        for record in records:
            record.review_comment = comments.get(record.pk)
            record.editable_by_me = may_edit(user, record)
            # Sent back while the incident is not (the incident's own submission takes it along otherwise).
            record.resubmit_alone = record.editable_by_me and (
                record.status == Status.CHANGES_REQUESTED or incident.status == Status.VERIFIED
            )
    addable = may_add_evidence(user, incident)
    return {
        "testimonies": testimonies,
        "sources": sources,
        "approved_count": services.approved_evidence_count(incident),
        "source_url": reverse("source-new", args=[incident.pk]) if addable else None,
        "media": items,
        "reviewer": reviewer,
        "testimony_url": reverse("testimony-new", args=[incident.pk]) if addable else None,
        "upload_url": reverse("media-upload", args=[incident.pk]) if addable else None,
        "processing": any(item.processing for item in items),
    }


def _testimony_errors(form: TestimonyForm, exc: ValidationError) -> None:
    """A refusal of the witness identity alone goes on the identity fields; others as the form names them."""
    from config.pages import add_service_errors

    if hasattr(exc, "error_dict") and set(exc.message_dict) <= set(services.IDENTITY_FIELDS):
        form.add_identity_errors(exc)
    else:
        add_service_errors(form, exc)


@login_required
@once_per_form
@refusals_as_pages
def testimony_new(request: HttpRequest, pk: int) -> HttpResponse:
    incident = visible_incident(request, pk)
    back = back_to(request, reverse("incident-detail", args=[pk]) + "#testimony")
    services.require_may_add_evidence(request.user, incident)
    form = TestimonyForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            with errors_on(form, add=_testimony_errors) as saving, transaction.atomic():
                witness = form.cleaned_data["witness"]
                identity = form.new_witness()
                if identity is not None:
                    witness = services.register_witness(author=request.user, **identity)
                services.create_testimony(
                    author=request.user, incident=incident, witness=witness, **form.testimony_fields()
                )
            if saving.ok:
                messages.success(
                    request,
                    _("Testimony recorded. The witness appears everywhere as %(code)s.") % {"code": witness.code},
                )
                return redirect(back)
        return render(request, "evidence/testimony_form.html", {"form": form, "incident": incident}, status=400)
    return render(request, "evidence/testimony_form.html", {"form": form, "incident": incident})


def _named_messages(exc: ValidationError, model: type) -> str:
    """A service's refusal as one sentence per field, each named as the form names it."""
    if not hasattr(exc, "error_dict"):
        return message_of(exc)
    parts = []
    for field, messages_of_field in exc.message_dict.items():
        try:
            label = capfirst(model._meta.get_field(field).verbose_name)
        except FieldDoesNotExist:
            label = ""
        text = " ".join(str(m) for m in messages_of_field)
        parts.append(f"{label}: {text}" if label else text)
    return " ".join(parts)


def _media_refusal(request: HttpRequest, exc: Exception, message: str, status: int) -> HttpResponse | None:
    """A service's ValidationError of an upload names each field as the form does; others: the page."""
    if isinstance(exc, ValidationError):
        return refusal(request, _named_messages(exc, MediaItem), 400, back=getattr(request, "refusal_back", None))
    return None


@csrf_exempt  # the CSRF token is checked below, once the streaming upload handler is in place
@login_required
@refusals_as_pages(on_refusal=_media_refusal, statuses={media.UnsupportedType: 415, media.BadFile: 400})
def media_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """One file without the page's script (with it, files go one by one to the media API)."""
    incident = visible_incident(request, pk)
    back = back_to(request, reverse("incident-detail", args=[pk]) + "#media")
    if request.method != "POST":
        return redirect(back)
    handler = HashingUploadHandler(request)
    request.upload_handlers = [handler]
    try:
        csrf_refusal = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
        if csrf_refusal is not None:
            return csrf_refusal
        upload = request.FILES.get("file")
        if upload is None:
            return refusal(request, _("Choose a file to upload."), 400, back=back)
        _item, created = services.upload_media(
            author=request.user, incident=incident, upload=upload, description=request.POST.get("description", "")
        )
    finally:
        handler.cleanup()
    if created:
        messages.success(request, _("File uploaded and sealed. Its thumbnail appears when ready."))
    else:
        messages.success(request, _("This file was already uploaded to this incident."))
    return redirect(back)


@login_required
def incident_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    """Testimony, documented sources and media of one incident the user may see."""
    if not roles.is_staff_member(request.user):
        raise PermissionDenied
    incident = get_object_or_404(
        Incident.objects.visible_to(request.user).select_related("location", "perpetrator"), pk=pk
    )
    media_items = list(MediaItem.objects.visible_to(request.user).filter(incident=incident).select_related("original"))
    for item in media_items:
        item.may_see_original = services.may_see_original(request.user, item)
    context = {
        "incident": incident,
        "testimonies": Testimony.objects.visible_to(request.user).filter(incident=incident).select_related("witness"),
        "sources": Source.objects.visible_to(request.user).filter(incident=incident),
        "media": media_items,
        "approved_count": services.approved_evidence_count(incident),
    }
    response = render(request, "evidence/incident.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


# --- Changing evidence on pages: sent back for changes, sources, witnesses -------------------------


def _visible(request: HttpRequest, model: type, pk: int) -> Any:
    return get_object_or_404(model.objects.visible_to(request.user).select_related("incident"), pk=pk)


def _editable(request: HttpRequest, records: Any, pk: int, anchor: str) -> tuple[Any, str | None]:
    """An edit page's record: one the user sees (404 otherwise) and may change now (a 403 or 409
    page otherwise), with where the page goes back to (its place on the incident's page)."""
    record = get_object_or_404(records.visible_to(request.user).select_related("incident"), pk=pk)
    back = back_to(request, reverse("incident-detail", args=[record.incident_id]) + f"#{anchor}-{pk}")
    require_author_and_editable(request.user, record)
    return record, back


def _changes_comment(record: Any) -> Any:
    from incidents.views import last_comments

    if record.status != Status.CHANGES_REQUESTED:
        return None
    return last_comments(type(record), [record.pk], Status.CHANGES_REQUESTED).get(record.pk)


def _form_page(
    request: HttpRequest,
    form: Any,
    save: Callable[[], Any],
    *,
    saved: str,
    back: str | None,
    template: str,
    context: Callable[[], dict[str, Any]],
) -> HttpResponse:
    """An evidence form page: a valid POST runs the service call `save` (its refusals go on the form);
    once saved, the `saved` message and back; otherwise the page again (400 while the form holds errors)."""
    if request.method == "POST" and form.is_valid():
        with errors_on(form) as saving:
            save()
        if saving.ok:
            messages.success(request, saved)
            return redirect(back)
    return render(request, template, {"form": form, **context()}, status=400 if form.errors else 200)


@login_required
@refusals_as_pages
def testimony_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The author changes a testimony (a draft, or one sent back for changes), then submits it again."""
    from .forms import TestimonyEditForm

    testimony, back = _editable(request, Testimony.objects, pk, "testimonies")
    form = TestimonyEditForm(request.POST or None, instance=testimony, user=request.user)
    return _form_page(
        request,
        form,
        lambda: services.update_testimony(actor=request.user, testimony=testimony, **form.changes()),
        saved=_("Testimony saved. Submit it again when it is ready."),
        back=back,
        template="evidence/testimony_edit.html",
        context=lambda: {"record": testimony, "incident": testimony.incident, "comment": _changes_comment(testimony)},
    )


@login_required
@refusals_as_pages
def media_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The author changes a media item's description; the sealed file is never replaced."""
    from .forms import MediaDescriptionForm

    item, back = _editable(request, MediaItem.objects.select_related("original"), pk, "media")
    form = MediaDescriptionForm(request.POST or None, initial={"description": item.description})
    return _form_page(
        request,
        form,
        lambda: services.update_media(actor=request.user, item=item, description=form.cleaned_data["description"]),
        saved=_("Description saved. Submit the item again when it is ready."),
        back=back,
        template="evidence/media_edit.html",
        context=lambda: {"record": item, "incident": item.incident, "comment": _changes_comment(item)},
    )


@login_required
@once_per_form
@refusals_as_pages
def source_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a documented source (URL, archived copy, title, date, note) to an incident."""
    from .forms import SourceForm

    incident = visible_incident(request, pk)
    back = back_to(request, reverse("incident-detail", args=[pk]) + "#sources")
    services.require_may_add_evidence(request.user, incident)
    form = SourceForm(request.POST or None)
    return _form_page(
        request,
        form,
        lambda: services.create_source(author=request.user, incident=incident, **form.source_fields()),
        saved=_("Source added. It counts as evidence once a reviewer approves it."),
        back=back,
        template="evidence/source_form.html",
        context=lambda: {"incident": incident, "record": None},
    )


@login_required
@refusals_as_pages
def source_edit(request: HttpRequest, pk: int) -> HttpResponse:
    from .forms import SourceForm

    source, back = _editable(request, Source.objects, pk, "sources")
    form = SourceForm(request.POST or None, instance=source)

    def context() -> dict[str, Any]:
        source.refresh_from_db()  # the stored values beside the refused ones
        return {"incident": source.incident, "record": source, "comment": _changes_comment(source)}

    return _form_page(
        request,
        form,
        lambda: services.update_source(actor=request.user, source=source, **form.changes()),
        saved=_("Source saved."),
        back=back,
        template="evidence/source_form.html",
        context=context,
    )


@login_required
@require_POST
@refusals_as_pages
def source_delete(request: HttpRequest, pk: int) -> HttpResponse:
    source = _visible(request, Source, pk)
    back = back_to(request, reverse("incident-detail", args=[source.incident_id]) + "#sources")
    services.delete_source(actor=request.user, source=source)
    messages.success(request, _("Source deleted."))
    return redirect(back)


@login_required
@refusals_as_pages
def witness_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The documenter who registered a witness corrects the protected identity (each showing is audited)."""
    from .forms import WitnessIdentityForm
    from .models import Witness

    witness = get_object_or_404(Witness.objects.visible_to(request.user), pk=pk)
    back = request.GET.get("back") or reverse("home")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("home")
    if not (services.may_see_identity(request.user, witness) and request.user.has_perm("evidence.change_witness")):
        return refusal(request, _("Only the documenter who registered this witness may change the identity."), 403)
    if request.method == "POST":
        form = WitnessIdentityForm(request.POST)
        if form.is_valid():
            with errors_on(form) as saving:
                services.update_witness(actor=request.user, witness=witness, **form.cleaned_data)
            if saving.ok:
                messages.success(request, _("Witness %(code)s updated.") % {"code": witness.code})
                return redirect(back)
    else:
        form = WitnessIdentityForm(initial=services.witness_identity(actor=request.user, witness=witness) or {})
    response = render(
        request,
        "evidence/witness_form.html",
        {"form": form, "witness": witness, "back": back},
        status=400 if form.errors else 200,
    )
    response["Cache-Control"] = "private, no-store"  # the identity is never kept in a cache
    return response


@login_required
@require_POST
@refusals_as_pages
def record_submit(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """The author submits one record again (e.g. a testimony sent back while its incident is verified)."""
    from incidents import workflow

    if kind not in workflow.KINDS:
        raise Http404
    record = get_object_or_404(workflow.KINDS[kind].model.objects.visible_to(request.user), pk=pk)
    incident_id = record.pk if kind == "incidents" else record.incident_id
    back = back_to(request, reverse("incident-detail", args=[incident_id]))
    workflow.submit(request.user, record)
    messages.success(request, _("Submitted for review again."))
    return redirect(back)


@login_required
def media_custody(request: HttpRequest, pk: int) -> HttpResponse:
    """A media item's chain of custody as a page (the API gives the same as JSON)."""
    if not roles.is_staff_member(request.user):
        raise PermissionDenied
    item = get_object_or_404(MediaItem.objects.visible_to(request.user).select_related("incident", "original"), pk=pk)
    events = item.custody.select_related("actor").order_by("at", "pk")
    response = render(request, "evidence/custody.html", {"item": item, "events": events, "incident": item.incident})
    response["Cache-Control"] = "private, no-store"
    return response
