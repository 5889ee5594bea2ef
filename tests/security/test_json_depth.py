"""Deeply nested JSON is a 400 with a reason on every JSON endpoint, never a 500 (RecursionError)."""

from __future__ import annotations

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from audit.models import AuditEntry
from incidents.models import Incident
from tests.conftest import client_for


def nested(depth: int) -> str:
    return '{"username": ' + "[" * depth + "]" * depth + ', "password": "x"}'


@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_json_to_the_token_endpoint_is_a_400_anonymously(db, depth):
    client = APIClient()
    client.raise_request_exception = False
    entries_before = AuditEntry.objects.count()
    response = client.post("/api/v1/auth/token/", nested(depth), content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]
    assert AuthToken.objects.count() == 0
    assert AuditEntry.objects.count() == entries_before


def test_deeply_nested_json_in_a_record_is_a_400_and_creates_nothing(documenter):
    client = client_for(documenter)
    client.raise_request_exception = False
    body = '{"title": "x", "description": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = client.post("/api/v1/incidents/", body, content_type="application/json")
    assert response.status_code == 400
    assert Incident.objects.count() == 0


def test_json_nested_as_deep_as_real_requests_is_still_accepted(documenter):
    # A review with per-victim decisions nests three levels; the limit leaves ample room above that.
    response = client_for(documenter).post(
        "/api/v1/auth/token/",
        {"username": "documenter", "password": "pw-documenter-long-enough", "extra": {"a": {"b": [1, [2]]}}},
        format="json",
    )
    assert response.status_code == 200
