"""The notices page: decisions on the user's records since their last visit, then older ones."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from incidents import roles
from incidents.listing import Column, Listing

from . import services


@login_required
def notice_list(request: HttpRequest) -> HttpResponse:
    """Opening the list is the visit: what was unread is shown as new, then counts as seen."""
    roles.require_staff_member(request.user, _("Only documenters, reviewers and admins receive notices."))
    listing = Listing(
        request,
        services.notices_for(request.user),
        columns=[Column("when", _("When"), ("created_at", "pk"))],
        default_sort="-when",
        label=_("Notices"),
    )
    newest = max((notice.pk for notice in listing.rows), default=None)
    for notice in listing.rows:
        notice.is_new = notice.read_at is None
    if newest is not None and listing.page.number == 1:
        services.mark_seen(user=request.user, up_to=newest)
    return render(request, "notices/notice_list.html", {"listing": listing}, status=listing.status)
