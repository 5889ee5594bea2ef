"""Server-rendered pages for incidents."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import roles
from .models import Incident


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The signed-in user's home: the incidents they recorded, newest first."""
    incidents = (
        Incident.objects.visible_to(request.user)
        .filter(created_by=request.user)
        .select_related("location", "perpetrator")
        .order_by("-created_at")[:200]
    )
    return render(
        request,
        "incidents/home.html",
        {"incidents": incidents, "can_document": roles.can_document(request.user)},
    )
