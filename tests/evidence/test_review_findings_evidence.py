"""Findings of the review of main, evidence side: bodies of the wrong shape, hidden records in filters."""

from __future__ import annotations

import datetime as dt

import pytest

from evidence import services
from tests.conftest import client_for, make_incident, web_client_for

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"


@pytest.mark.parametrize("body", ["[]", "[1, 2]", "null", "123", '"text"'])
def test_a_media_upload_with_a_json_body_that_is_not_an_object_is_a_400(documenter, incident, body):
    response = client_for(documenter).post("/api/v1/media/", data=body, content_type="application/json")

    assert response.status_code == 400


@pytest.mark.parametrize("path", ["testimonies", "sources", "media"])
def test_filtering_evidence_by_a_hidden_incident_looks_exactly_like_an_absent_one(documenter, second_documenter, path):
    hidden = make_incident(second_documenter)
    client = client_for(documenter)

    on_hidden = client.get(f"/api/v1/{path}/?incident={hidden.pk}")
    on_absent = client.get(f"/api/v1/{path}/?incident={hidden.pk + 1000}")
    on_huge = client.get(f"/api/v1/{path}/?incident={HUGE}")

    assert on_hidden.status_code == on_absent.status_code == on_huge.status_code == 200
    assert on_hidden.json()["count"] == on_absent.json()["count"] == 0
    assert client.get(f"/api/v1/{path}/?incident=abc").status_code == 400


def test_filtering_testimony_by_a_hidden_witness_looks_exactly_like_an_absent_one(
    documenter, second_documenter, verified_incident
):
    theirs = services.register_witness(author=second_documenter, name="Their witness")
    services.create_testimony(
        author=second_documenter,
        incident=verified_incident,
        witness=theirs,
        taken_on=dt.date(2020, 1, 16),
        language="ar",
        statement="...",
    )
    client = client_for(documenter)

    on_hidden = client.get(f"/api/v1/testimonies/?witness={theirs.pk}")
    on_absent = client.get(f"/api/v1/testimonies/?witness={theirs.pk + 1000}")

    assert on_hidden.status_code == on_absent.status_code == 200
    assert on_hidden.json()["count"] == on_absent.json()["count"] == 0


@pytest.mark.parametrize("model", ["testimony", "source"])
def test_the_django_admin_hides_evidence_of_other_peoples_drafts_like_the_api(documenter, admin_user, incident, model):

    witness = services.register_witness(author=documenter, name="Someone")
    testimony = services.create_testimony(
        author=documenter,
        incident=incident,
        witness=witness,
        taken_on=dt.date(2020, 1, 16),
        language="ar",
        statement="s",
    )
    source = services.create_source(author=documenter, incident=incident, title="Draft-source-Zq9")
    record = testimony if model == "testimony" else source
    browser = web_client_for(admin_user)

    listing = browser.get(f"/en/admin/evidence/{model}/")
    detail = browser.get(f"/en/admin/evidence/{model}/{record.pk}/change/")
    absent = browser.get(f"/en/admin/evidence/{model}/{record.pk + 1000}/change/")

    assert listing.status_code == 200
    assert witness.code.encode() not in listing.content and b"Zq9" not in listing.content
    # The admin answers a hidden record exactly as an absent one: back to its index, nothing shown.
    assert (detail.status_code, detail["Location"]) == (absent.status_code, absent["Location"]) == (302, "/en/admin/")
