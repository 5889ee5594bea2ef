"""A media upload whose body is not a multipart form (JSON of any other shape) is a 400, never a 500."""

from __future__ import annotations

import pytest

from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("body", ["[]", "[1, 2]", "null", "123", '"text"'])
def test_a_media_upload_with_a_json_body_that_is_not_an_object_is_a_400(documenter, incident, body):
    response = client_for(documenter).post("/api/v1/media/", data=body, content_type="application/json")

    assert response.status_code == 400
