"""Sign-in lockout per username + IP (django-axes), logged; sessions rotate on sign-in and expire."""

from __future__ import annotations

import datetime as dt

from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from audit.models import AuditEntry

PASSWORD = "pw-documenter-long-enough"


def attempt(client: Client, password: str, ip: str):
    return client.post("/en/accounts/login/", {"username": "documenter", "password": password}, REMOTE_ADDR=ip)


def test_five_failures_lock_out_that_username_from_that_address(documenter, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "wrong", "203.0.113.7").status_code == 200  # the form again, with an error
    assert attempt(client, "wrong", "203.0.113.7").status_code == 429  # the last allowed failure locks
    locked = attempt(client, PASSWORD, "203.0.113.7")
    assert locked.status_code == 429, "even the right password is refused while locked"
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.filter(action="auth.locked_out").first()
    assert entry.details == {"username": "documenter", "ip": "203.0.113.7"}
    assert AuditEntry.objects.filter(action="auth.login_failed").count() >= settings.AXES_FAILURE_LIMIT


def test_an_attacker_elsewhere_cannot_lock_out_the_real_user(documenter, settings):
    attacker = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        attempt(attacker, "guess", "198.51.100.66")
    assert attempt(attacker, PASSWORD, "198.51.100.66").status_code == 429
    real_user = Client()
    response = attempt(real_user, PASSWORD, "192.0.2.10")
    assert response.status_code == 302
    assert real_user.session["_auth_user_id"] == str(documenter.pk)


def test_lockout_lifts_after_the_cool_off(documenter, settings):
    from axes.models import AccessAttempt

    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong", "203.0.113.8")
    assert attempt(client, PASSWORD, "203.0.113.8").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - dt.timedelta(seconds=1))
    assert attempt(client, PASSWORD, "203.0.113.8").status_code == 302


def test_the_api_token_endpoint_locks_out_too(documenter, settings):
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(
            "/api/v1/auth/token/", {"username": "documenter", "password": "wrong"}, REMOTE_ADDR="203.0.113.9"
        )
        assert response.status_code == 400
    client.post("/api/v1/auth/token/", {"username": "documenter", "password": "wrong"}, REMOTE_ADDR="203.0.113.9")
    locked = client.post(
        "/api/v1/auth/token/", {"username": "documenter", "password": PASSWORD}, REMOTE_ADDR="203.0.113.9"
    )
    assert locked.status_code == 429
    assert b"token" not in locked.content
    assert AuthToken.objects.count() == 0
    assert AuditEntry.objects.filter(action="auth.login_failed").count() >= settings.AXES_FAILURE_LIMIT
    elsewhere = client.post(
        "/api/v1/auth/token/", {"username": "documenter", "password": PASSWORD}, REMOTE_ADDR="192.0.2.9"
    )
    assert elsewhere.status_code == 200


def test_signing_in_rotates_the_session_key(documenter):
    client = Client()
    client.get("/en/accounts/login/")
    session = client.session
    session["before"] = "sign-in"
    session.save()
    before = client.cookies["sessionid"].value
    assert attempt(client, PASSWORD, "192.0.2.1").status_code == 302
    after = client.cookies["sessionid"].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists(), "the pre-login session is gone"


def test_an_expired_session_is_signed_out(documenter, settings):
    client = Client()
    assert attempt(client, PASSWORD, "192.0.2.2").status_code == 302
    assert client.get("/en/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    response = client.get("/en/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert settings.SESSION_COOKIE_AGE <= 12 * 3600
    assert settings.SESSION_COOKIE_HTTPONLY


def test_signing_out_ends_the_session_on_the_server(documenter):
    client = Client()
    attempt(client, PASSWORD, "192.0.2.3")
    key = client.cookies["sessionid"].value
    client.post("/en/accounts/logout/")
    assert not Session.objects.filter(session_key=key).exists()


def test_a_lockout_writes_one_audit_entry_however_often_the_locked_out_client_retries(documenter, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT + 10):
        attempt(client, "wrong", "203.0.113.12")
    assert AuditEntry.objects.filter(action="auth.locked_out").count() == 1
