"""Anonymous and failed-auth endpoints are rate limited (django-ratelimit over the cache): 429 with
Retry-After, in English and Arabic, one audit entry per key per window, before any work is done."""

from __future__ import annotations

import pytest
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from audit.models import AuditEntry


@pytest.fixture
def tight(settings):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "api-token": {"methods": ["POST"], "ip": "3/m"},
        "page:login": {"methods": ["POST"], "ip": "3/m"},
        "public-count-list": {"ip": "3/m"},
        "page:public": {"ip": "3/m"},
    }


def test_token_requests_over_the_limit_get_429_with_retry_after_and_no_password_check(documenter, tight):
    client = APIClient()
    for _ in range(3):
        assert client.post("/api/v1/auth/token/", {"username": "documenter", "password": "wrong"}).status_code == 400
    failures_before = AuditEntry.objects.filter(action="auth.login_failed").count()
    refused = client.post("/api/v1/auth/token/", {"username": "documenter", "password": "pw-documenter-long-enough"})
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "Too many requests" in refused.json()["detail"]
    assert AuthToken.objects.count() == 0
    assert AuditEntry.objects.filter(action="auth.login_failed").count() == failures_before, "no password checked"


def test_the_limit_is_per_address(documenter, tight):
    client = APIClient()
    for _ in range(4):
        client.post("/api/v1/auth/token/", {"username": "documenter", "password": "wrong"}, REMOTE_ADDR="203.0.113.1")
    elsewhere = client.post(
        "/api/v1/auth/token/",
        {"username": "documenter", "password": "pw-documenter-long-enough"},
        REMOTE_ADDR="192.0.2.44",
    )
    assert elsewhere.status_code == 200


def test_a_throttle_event_writes_one_audit_entry_not_one_per_request(db, tight):
    client = APIClient()
    statuses = [client.get("/api/v1/public/counts/").status_code for _ in range(10)]
    assert statuses == [200] * 3 + [429] * 7
    entries = AuditEntry.objects.filter(action="ratelimit.exceeded")
    assert entries.count() == 1
    assert entries.get().details == {
        "limit": "public-count-list",
        "key": "ip",
        "rate": "3/m",
        "ip": "127.0.0.1",
        "path": "/api/v1/public/counts/",
    }


def test_the_sign_in_page_answers_429_in_arabic_too(documenter, tight):
    client = Client()
    for _ in range(3):
        client.post("/ar/accounts/login/", {"username": "documenter", "password": "wrong"})
    refused = client.post("/ar/accounts/login/", {"username": "documenter", "password": "wrong"})
    assert refused.status_code == 429
    assert refused["Retry-After"]
    html = refused.content.decode()
    assert 'dir="rtl"' in html
    assert "طلبات كثيرة" in html


def test_the_api_answers_429_in_arabic_when_asked(db, tight):
    client = APIClient()
    for _ in range(3):
        client.get("/api/v1/public/counts/")
    refused = client.get("/api/v1/public/counts/", HTTP_ACCEPT_LANGUAGE="ar")
    assert refused.status_code == 429
    assert "طلبات كثيرة" in refused.json()["detail"]


def test_public_pages_are_limited_and_the_health_check_is_not(db, tight):
    client = Client()
    assert [client.get("/en/figures/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert {client.get("/healthz").status_code for _ in range(10)} == {200}


def test_the_default_table_limits_sign_in_codes_and_published_figures(settings):
    for name in ("api-token", "page:login", "admin:login", "page:otp-verify", "public-count-export", "page:public"):
        assert name in settings.RATE_LIMITS
    assert "healthz" not in settings.RATE_LIMITS
