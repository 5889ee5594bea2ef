"""Requests too large for the server: a clear 4xx in JSON, nothing saved."""

from __future__ import annotations

import pytest

from incidents.models import Incident
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_a_json_body_over_the_size_limit_is_a_413_with_a_json_reason(documenter, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    client = client_for(documenter)

    response = client.post(
        "/api/v1/incidents/", data='{"title": "' + "x" * (2 * 1024 * 1024) + '"}', content_type="application/json"
    )

    assert response.status_code == 413
    assert "detail" in response.json()
    assert not Incident.objects.exists()


def test_too_many_form_fields_is_a_400_with_a_json_reason(documenter, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"f{n}=1" for n in range(50))

    response = client_for(documenter).post(
        "/api/v1/incidents/", data=body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400
    assert "detail" in response.json() or "non_field_errors" in response.json()
