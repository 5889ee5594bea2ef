"""Pages: reviewers and admins must verify a TOTP code after signing in, before anything else."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from . import services

# Reachable before the second factor: the enrolment and verification pages, signing out, switching
# language, static files, and the API (which asks for the second factor on sensitive actions itself).
EXEMPT_URL_NAMES = ("otp-enrol", "otp-verify", "logout", "login")
EXEMPT_PREFIXES = ("/api/", "/static/", "/i18n/", "/healthz")


class RequireSecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(EXEMPT_PREFIXES)
            and not self._exempt(request)
            and services.needs_second_factor(user)
        ):
            target = "otp-verify" if services.has_confirmed_device(user) else "otp-enrol"
            url = reverse(target)
            next_url = request.get_full_path()
            if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
                url = f"{url}?{urlencode({'next': next_url})}"
            return redirect(url)
        return self.get_response(request)

    @staticmethod
    def _exempt(request: HttpRequest) -> bool:
        match = getattr(request, "resolver_match", None)
        if match is None:
            from django.urls import Resolver404, resolve

            try:
                match = resolve(request.path_info)
            except Resolver404:
                return False
        return match.url_name in EXEMPT_URL_NAMES
