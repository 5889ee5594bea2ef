"""Refusal pages in the site's layout and language: the sign-in lockout (django-axes, through
AXES_LOCKOUT_CALLABLE) and the rate limit say how long to wait; 403 and 404 are the site's pages too."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.conftest import web_client_for

PASSWORD = "pw-documenter-long-enough"


def lock_out(client: Client, language: str, ip: str = "203.0.113.40"):
    for _ in range(5):
        client.post(f"/{language}/accounts/login/", {"username": "documenter", "password": "wrong"}, REMOTE_ADDR=ip)
    return client.post(f"/{language}/accounts/login/", {"username": "documenter", "password": PASSWORD}, REMOTE_ADDR=ip)


@pytest.fixture
def five_attempts(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.RATELIMIT_ENABLE = False  # the lockout, not the address's rate limit, is what answers here


@pytest.mark.parametrize(
    ("language", "title", "wait"),
    [("en", "Too many attempts", "Try again in 15 minutes."), ("ar", "محاولات كثيرة", "15")],
)
def test_a_locked_out_sign_in_gets_the_sites_page_in_its_language_with_the_wait(
    documenter, settings, five_attempts, language, title, wait
):
    import datetime as dt

    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
    locked = lock_out(Client(), language)
    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"
    html = locked.content.decode()
    assert 'class="site-header"' in html and f'lang="{language}"' in html
    assert title in html and wait in html
    assert ('dir="rtl"' in html) == (language == "ar")


def test_the_lockout_page_follows_the_configured_cool_off(documenter, settings, five_attempts):
    import datetime as dt

    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=30)
    html = lock_out(Client(), "en", ip="203.0.113.41").content.decode()
    assert "Try again in 30 minutes." in html


def test_a_locked_out_token_request_gets_json_with_the_wait(documenter, settings, five_attempts):
    client = APIClient()
    for _ in range(5):
        client.post("/api/v1/auth/token/", {"username": "documenter", "password": "wrong"}, REMOTE_ADDR="203.0.113.42")
    locked = client.post(
        "/api/v1/auth/token/", {"username": "documenter", "password": PASSWORD}, REMOTE_ADDR="203.0.113.42"
    )
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/json"
    assert "Try again in 15 minutes" in locked.json()["detail"]
    assert locked["Retry-After"] == "900"


def test_a_rate_limited_page_uses_the_site_layout_and_says_how_long_to_wait(documenter, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "page:public": {"ip": "2/m"}}
    client = Client()
    for _ in range(2):
        client.get("/ar/figures/")
    refused = client.get("/ar/figures/")
    assert refused.status_code == 429
    html = refused.content.decode()
    assert 'class="site-header"' in html and 'dir="rtl"' in html
    assert "طلبات كثيرة" in html
    wait = html[html.index('<p class="wait">') :].split("</p>")[0]
    assert "حاول مجددًا بعد دقيقة واحدة" in wait  # a one-minute window, said in words


@pytest.mark.parametrize(("language", "words"), [("en", "Not allowed"), ("ar", "غير مسموح")])
def test_a_403_page_is_the_sites_page_in_its_language(documenter, language, words):
    response = web_client_for(documenter).get(f"/{language}/counts/")
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="site-header"' in html and words in html and f'lang="{language}"' in html


@pytest.mark.parametrize(("language", "words"), [("en", "Not found"), ("ar", "غير موجود")])
def test_a_404_page_is_the_sites_page_in_its_language(documenter, language, words):
    response = web_client_for(documenter).get(f"/{language}/incidents/999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'class="site-header"' in html and words in html and f'lang="{language}"' in html
