"""Second-factor pages: enrol an authenticator app, and verify a code after signing in.

Both run outside the request's transaction (`non_atomic_requests`): the code's check commits on its
own (see accounts.services), so a failure later in the request cannot undo it.
"""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import enrolment, services
from .forms import CodeForm


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return "home"


def _qr_data_uri(text: str) -> str:
    # An <img> with a data: URI: allowed by the CSP (img-src 'self' data:), no inline markup or script.
    buffer = io.BytesIO()
    qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=12).save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _verified(request: HttpRequest, device) -> None:
    otp_login(request, device)
    # A new session key once the second factor is verified: a key seen before it is worth nothing after.
    request.session.cycle_key()


@transaction.non_atomic_requests
@login_required
def enrol_with_link(request: HttpRequest, token: str) -> HttpResponse:
    """An admin's one-time enrolment link: opens enrolment for this session (accounts.enrolment)."""
    if services.has_confirmed_device(request.user):
        return redirect("otp-verify")
    device = enrolment.redeem(request.user, token)
    if device is None:
        return render(request, "accounts/enrol_needs_link.html", {"refused_link": True}, status=403)
    request.session[enrolment.SESSION_DEVICE_KEY] = device.pk
    return redirect("otp-enrol")  # the link leaves the address bar and the history


@transaction.non_atomic_requests
@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    if services.has_confirmed_device(request.user):
        return redirect("otp-verify")
    device_id = request.session.get(enrolment.SESSION_DEVICE_KEY)
    device = TOTPDevice.objects.filter(pk=device_id, user=request.user, confirmed=False).first() if device_id else None
    if device is None:
        # No secret for a password alone: enrolment starts from an admin's link.
        return render(request, "accounts/enrol_needs_link.html", {"refused_link": False}, status=403)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        confirmed = services.confirm_enrolment(request.user, device.pk, form.cleaned_data["code"])
        if confirmed is not None:
            request.session.pop(enrolment.SESSION_DEVICE_KEY, None)
            _verified(request, confirmed)
            messages.success(request, _("Your authenticator app is set up."))
            return redirect(_next_url(request))
        form.add_error("code", _("That code is not valid. Check the clock on your phone and try the next code."))
    secret = base64.b32encode(device.bin_key).decode("ascii")
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "secret": secret,
            "qr": _qr_data_uri(device.config_url),
            "next": request.GET.get("next", ""),
        },
        status=400 if form.is_bound else 200,
    )


@transaction.non_atomic_requests
@login_required
def verify(request: HttpRequest) -> HttpResponse:
    if not services.has_confirmed_device(request.user):
        return redirect("otp-enrol")
    if request.user.is_verified():
        return redirect(_next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = services.verify_code(request.user, form.cleaned_data["code"], request=request, via="web")
        if device is not None:
            _verified(request, device)
            return redirect(_next_url(request))
        form.add_error("code", _("That code is not valid or was already used. Wait for the next code."))
    return render(
        request,
        "accounts/verify.html",
        {"form": form, "next": request.GET.get("next", "")},
        status=400 if form.is_bound else 200,
    )
