"""Changing a password revokes all of the user's API tokens; signing out of the site revokes the
tokens that browser session obtained (and no others)."""

from __future__ import annotations

from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from audit.models import AuditEntry
from tests.conftest import make_user, web_client_for

PASSWORD = "pw-documenter-long-enough"
NEW_PASSWORD = "a-new-and-long-passphrase-7"


def token(client=None) -> str:
    response = (client or APIClient()).post("/api/v1/auth/token/", {"username": "documenter", "password": PASSWORD})
    assert response.status_code == 200
    return response.json()["token"]


def works(value: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {value}")
    return client.get("/api/v1/incidents/").status_code == 200


def test_changing_the_password_on_the_site_revokes_every_token(documenter):
    tokens = [token(), token()]
    client = Client()
    assert client.post("/en/accounts/login/", {"username": "documenter", "password": PASSWORD}).status_code == 302
    changed = client.post(
        "/en/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    assert not any(works(value) for value in tokens)
    assert AuthToken.objects.count() == 0
    entry = AuditEntry.objects.get(action="auth.tokens_revoked")
    assert entry.details == {"reason": "password_changed", "tokens": 2, "ip": "127.0.0.1"}


def test_an_admin_setting_a_password_revokes_the_users_tokens(documenter):
    value = token()
    admin = web_client_for(make_user("root", is_staff=True, is_superuser=True))
    response = admin.post(
        f"/en/admin/auth/user/{documenter.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content[:2000]
    assert not works(value)


def test_signing_out_of_the_site_revokes_the_tokens_that_session_obtained_only(documenter):
    browser = Client()
    assert browser.post("/en/accounts/login/", {"username": "documenter", "password": PASSWORD}).status_code == 302
    from_the_browser = token(browser)
    from_a_field_app = token()
    assert works(from_the_browser) and works(from_a_field_app)
    browser.post("/en/accounts/logout/")
    assert not works(from_the_browser)
    assert works(from_a_field_app), "a token obtained elsewhere is not this session's"
    assert AuditEntry.objects.filter(action="auth.tokens_revoked", details__reason="signed_out").count() == 1
