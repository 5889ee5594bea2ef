"""API tokens: obtained with a password, stored hashed, expiring, revocable, sent as `Token <t>`."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient


def obtain(username: str, password: str):
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def test_documenter_obtains_and_uses_a_token(documenter):
    response = obtain("documenter", "pw-documenter-long-enough")
    assert response.status_code == 200
    token = response.json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/incidents/").status_code == 200


def test_wrong_password_gets_no_token(documenter):
    response = obtain("documenter", "wrong")
    assert response.status_code == 400
    assert "token" not in response.json()
    assert AuthToken.objects.count() == 0


def test_token_is_stored_only_as_a_digest(documenter):
    token = obtain("documenter", "pw-documenter-long-enough").json()["token"]
    stored = AuthToken.objects.get()
    assert token not in {stored.digest, stored.token_key}
    assert stored.digest and len(stored.digest) >= 64


def test_expired_token_is_refused(documenter):
    token = obtain("documenter", "pw-documenter-long-enough").json()["token"]
    AuthToken.objects.update(expiry=timezone.now() - dt.timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/incidents/").status_code == 401


def test_revoked_token_is_refused(documenter):
    token = obtain("documenter", "pw-documenter-long-enough").json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert client.get("/api/v1/incidents/").status_code == 401


def test_deactivated_user_is_refused_on_the_next_request(documenter):
    token = obtain("documenter", "pw-documenter-long-enough").json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    documenter.is_active = False
    documenter.save(update_fields=["is_active"])
    assert client.get("/api/v1/incidents/").status_code == 401


def test_role_removal_takes_effect_on_the_next_request(documenter):
    token = obtain("documenter", "pw-documenter-long-enough").json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/incidents/").status_code == 200
    documenter.groups.clear()
    assert client.get("/api/v1/incidents/").status_code == 403
