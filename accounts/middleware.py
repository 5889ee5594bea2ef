"""The second factor, before any view runs.

Pages: a user who needs a second factor (`services.needs_second_factor`) and has not verified one in
this session is sent to verify a code (or to enrol, which needs an admin's enrolment link) before any
page but those in `EXEMPT_URL_NAMES`.

API: the request's principal (its token, else its session) is worked out once, and a code in the
`X-OTP` header is checked here, in `process_view`: Django runs it before it opens the view's
transaction (ATOMIC_REQUESTS), so the code's check commits on its own, and neither a wrong code's
throttle and audit entry nor a right code's use is undone when the request fails afterwards. The API's
refusal itself is decided by `accounts.auth.apply_rule` in the authentication step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from config.ratelimit import limit_name, too_many_requests

from . import services, signin
from .auth import OTP_HEADER, credential_verified, resolve_principal

# Reachable before the second factor: the enrolment and verification pages, signing in and out,
# switching language, static files, the health check. (The API applies its own rule: accounts.auth.)
EXEMPT_URL_NAMES = ("otp-enrol", "otp-enrol-link", "otp-verify", "logout", "login")
EXEMPT_PREFIXES = ("/static/", "/i18n/", "/healthz")
API_PREFIX = "/api/"


class SignInBackoffMiddleware:
    """The per-username back-off (accounts.signin), before the view checks any password."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if request.method != "POST" or limit_name(request) not in signin.SIGN_IN_URL_NAMES:
            return None
        wait = signin.backoff_wait(request, signin.attempted_username(request))
        return too_many_requests(request, wait) if wait is not None else None


class RequireSecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if request.path.startswith(API_PREFIX):
            self._check_code_in_header(request)
            return None
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
        return None

    @staticmethod
    def _check_code_in_header(request: HttpRequest) -> None:
        code = request.META.get(OTP_HEADER)
        if not code:
            return
        principal = resolve_principal(request)
        user = principal.user
        if user is None or credential_verified(user, principal.token, request):
            return  # nobody to check it for, or already verified: the code is not spent needlessly
        principal.code_verified = services.verify_code(user, code, request=request, via="x-otp") is not None

    @staticmethod
    def _exempt(request: HttpRequest) -> bool:
        match = getattr(request, "resolver_match", None)
        return match is not None and match.url_name in EXEMPT_URL_NAMES
