"""Server-rendered evidence pages: what backs an incident, for documenters and reviewers.

Pages show witnesses by code only (identity is read through the audited API), media through their
stripped working copies, and each item's review, derivative and fixity state.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from incidents import roles
from incidents.models import Incident

from . import services
from .models import MediaItem, Source, Testimony


@login_required
def incident_evidence(request: HttpRequest, pk: int) -> HttpResponse:
    """Testimony, documented sources and media of one incident the user may see."""
    if not roles.is_staff_member(request.user):
        raise PermissionDenied
    incident = get_object_or_404(
        Incident.objects.visible_to(request.user).select_related("location", "perpetrator"), pk=pk
    )
    media = list(MediaItem.objects.visible_to(request.user).filter(incident=incident).select_related("original"))
    for item in media:
        item.may_download_original = services.may_download_original(request.user, item)
    context = {
        "incident": incident,
        "testimonies": Testimony.objects.visible_to(request.user).filter(incident=incident).select_related("witness"),
        "sources": Source.objects.visible_to(request.user).filter(incident=incident),
        "media": media,
        "approved_count": services.approved_evidence_count(incident),
    }
    response = render(request, "evidence/incident.html", context)
    response["Cache-Control"] = "private, no-store"
    return response
