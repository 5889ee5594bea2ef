"""Server-rendered pages for evidence: testimony (choosing or registering a witness) and media uploads.

Witness identity never appears on these pages: a witness is shown by their pseudonymous code.
The identity fields are entered once, marked as protected, and go straight to the service that
encrypts them. Uploads are streamed and checked by the same service as the API; several files at
once go through the media API from the page's script, one request per file, each with progress.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as api_exceptions

from accounts.idempotency import once_per_form
from counts import graphics
from incidents import roles
from incidents.models import Incident, Status
from incidents.views import add_service_errors, message_of, refusal, visible_incident

from . import media, services
from .forms import TestimonyForm
from .models import DerivativeStatus, MediaItem, Source, Testimony
from .uploads import HashingUploadHandler, UploadTooLarge


def may_add_evidence(user: Any, incident: Incident) -> bool:
    """Whether to offer the evidence forms (the service decides again on every write)."""
    if not roles.can_document(user):
        return False
    return incident.status == Status.VERIFIED or (incident.created_by_id == user.pk and incident.is_editable)


def _gps(item: MediaItem) -> dict[str, float] | None:
    gps = (item.metadata or {}).get("gps") or {}
    try:
        return {"latitude": float(gps["latitude"]), "longitude": float(gps["longitude"])}
    except (KeyError, TypeError, ValueError):
        return None


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
    addable = may_add_evidence(user, incident)
    return {
        "testimonies": testimonies,
        "media": items,
        "reviewer": reviewer,
        "testimony_url": reverse("testimony-new", args=[incident.pk]) if addable else None,
        "upload_url": reverse("media-upload", args=[incident.pk]) if addable else None,
        "processing": any(item.processing for item in items),
    }


@login_required
@once_per_form
def testimony_new(request: HttpRequest, pk: int) -> HttpResponse:
    incident = visible_incident(request, pk)
    back = reverse("incident-detail", args=[pk]) + "#testimony"
    if not may_add_evidence(request.user, incident):
        return refusal(
            request,
            _("Evidence can be added only to your own editable incidents or to verified incidents."),
            403,
            back=back,
        )
    form = TestimonyForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            try:
                with transaction.atomic():
                    witness = form.cleaned_data["witness"]
                    identity = form.new_witness()
                    if identity is not None:
                        witness = services.register_witness(author=request.user, **identity)
                    services.create_testimony(
                        author=request.user, incident=incident, witness=witness, **form.testimony_fields()
                    )
            except PermissionDenied as exc:
                return refusal(request, message_of(exc), 403, back=back)
            except ValidationError as exc:
                if hasattr(exc, "error_dict") and set(exc.message_dict) <= set(services.IDENTITY_FIELDS):
                    form.add_identity_errors(exc)
                else:
                    add_service_errors(form, exc)
            else:
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


@csrf_exempt  # the CSRF token is checked below, once the streaming upload handler is in place
@login_required
def media_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """One file without the page's script (with it, files go one by one to the media API)."""
    incident = visible_incident(request, pk)
    back = reverse("incident-detail", args=[pk]) + "#media"
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
    except UploadTooLarge as exc:
        return refusal(request, str(exc.detail), 413, back=back)
    except media.UnsupportedType as exc:
        return refusal(request, str(exc), 415, back=back)
    except (media.BadFile, api_exceptions.ValidationError) as exc:
        detail = getattr(exc, "detail", None)
        text = " ".join(str(m) for v in detail.values() for m in v) if isinstance(detail, dict) else str(exc)
        return refusal(request, text, 400, back=back)
    except PermissionDenied as exc:
        return refusal(request, message_of(exc), 403, back=back)
    except ValidationError as exc:
        return refusal(request, _named_messages(exc, MediaItem), 400, back=back)
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
