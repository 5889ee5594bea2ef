"""Guesses at one username spread over many addresses are slowed by a growing back-off (never a hard
lock); the real user gets in after the back-off interval, and at once from an address they used before."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts import signin
from audit.models import AuditEntry

PASSWORD = "pw-documenter-long-enough"


def attempt(password: str, ip: str, client: Client | None = None):
    return (client or Client()).post(
        "/en/accounts/login/", {"username": "documenter", "password": password}, REMOTE_ADDR=ip
    )


def spread_guesses(count: int) -> None:
    for n in range(count):
        assert attempt("guess", f"198.51.100.{n + 1}").status_code == 200  # one guess per address: axes never locks


@pytest.fixture
def clock(monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(signin, "_now", lambda: now[0])
    return now


def test_guesses_spread_over_many_addresses_are_slowed(documenter, settings, clock):
    spread_guesses(settings.SIGN_IN_BACKOFF_AFTER)
    assert attempt("guess", "203.0.113.200").status_code == 200  # one attempt goes through ...
    slowed = attempt("guess", "203.0.113.201")  # ... and the next waits
    assert slowed.status_code == 429
    assert int(slowed["Retry-After"]) >= 1
    assert AuditEntry.objects.filter(action="auth.backoff_started").count() == 1


def test_the_wait_grows_with_each_failure_up_to_the_maximum(documenter, settings, clock):
    settings.SIGN_IN_BACKOFF_MAX_SECONDS = 8
    spread_guesses(settings.SIGN_IN_BACKOFF_AFTER)
    waits = []
    for n in range(6):
        assert attempt("guess", f"203.0.113.{n + 10}").status_code == 200
        waits.append(int(attempt("guess", "203.0.113.99")["Retry-After"]))
        clock[0] += waits[-1]
    assert waits == [1, 2, 4, 8, 8, 8]


def test_the_real_user_gets_in_after_the_back_off_interval(documenter, settings, clock):
    spread_guesses(settings.SIGN_IN_BACKOFF_AFTER + 1)
    real_user = Client()
    refused = attempt(PASSWORD, "192.0.2.10", real_user)
    assert refused.status_code == 429
    clock[0] += int(refused["Retry-After"])
    signed_in = attempt(PASSWORD, "192.0.2.10", real_user)
    assert signed_in.status_code == 302
    assert real_user.session["_auth_user_id"] == str(documenter.pk)
    # The count is cleared: the next attempt is not slowed.
    assert attempt("guess", "198.51.100.250").status_code == 200


def test_an_address_the_user_signed_in_from_before_is_not_slowed(documenter, settings, clock):
    assert attempt(PASSWORD, "192.0.2.10").status_code == 302
    spread_guesses(settings.SIGN_IN_BACKOFF_AFTER)
    assert attempt("guess", "198.51.100.221").status_code == 200
    assert attempt("guess", "198.51.100.222").status_code == 429
    assert attempt(PASSWORD, "192.0.2.10").status_code == 302


def test_the_api_token_endpoint_is_slowed_the_same_way(documenter, settings, clock):
    spread_guesses(settings.SIGN_IN_BACKOFF_AFTER + 1)
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "documenter", "password": PASSWORD}, format="json", REMOTE_ADDR="192.0.2.50"
    )
    assert response.status_code == 429 and response["Retry-After"]
