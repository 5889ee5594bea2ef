"""Findings of the review of main: bad input in filters and the review queue, and hidden records in filters."""

from __future__ import annotations

import pytest

from incidents.models import Incident, Status
from tests.conftest import client_for, make_incident, make_victim, web_client_for

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"


@pytest.mark.parametrize("path", ["incidents", "victims"])
@pytest.mark.parametrize("param", ["location", "perpetrator"])
def test_a_huge_place_or_party_id_in_a_list_filter_finds_nothing_instead_of_a_500(reviewer, path, param):
    response = client_for(reviewer).get(f"/api/v1/{path}/?{param}={HUGE}")

    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize("param", ["location", "perpetrator"])
def test_a_huge_place_or_party_id_in_the_review_queue_finds_nothing_instead_of_a_500(reviewer, documenter, param):
    make_incident(documenter, status=Status.SUBMITTED)

    response = client_for(reviewer).get(f"/api/v1/review-queue/?{param}={HUGE}")

    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_filtering_victims_by_a_hidden_incident_looks_exactly_like_an_absent_one(documenter, second_documenter):
    hidden = make_incident(second_documenter)  # another documenter's draft
    make_victim(second_documenter, hidden)
    client = client_for(documenter)

    on_hidden = client.get(f"/api/v1/victims/?incident={hidden.pk}")
    on_absent = client.get(f"/api/v1/victims/?incident={hidden.pk + 1000}")

    assert on_hidden.status_code == on_absent.status_code == 200
    assert on_hidden.json()["count"] == on_absent.json()["count"] == 0
    assert client.get("/api/v1/victims/?incident=abc").status_code == 400
    # An id no row could hold names no incident: nothing found, as for any absent one (no overflow, no 500).
    on_huge = client.get(f"/api/v1/victims/?incident={HUGE}")
    assert on_huge.status_code == 200 and on_huge.json()["count"] == 0


def test_a_documenter_reviewing_their_own_incident_is_refused_before_any_evidence_rule(documenter, settings):
    settings.REVIEW_MIN_EVIDENCE = 1
    incident = make_incident(documenter, status=Status.SUBMITTED)

    response = client_for(documenter).post(
        f"/api/v1/incidents/{incident.pk}/review/", {"decision": "approve"}, format="json"
    )

    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED


@pytest.mark.parametrize("query", ["kind=bogus", "kind=incidents,bogus", "location=abc", "perpetrator=1,x"])
def test_a_malformed_review_queue_filter_is_a_400_naming_the_field_not_a_silently_widened_queue(
    reviewer, documenter, query
):
    make_incident(documenter, status=Status.SUBMITTED)

    response = client_for(reviewer).get(f"/api/v1/review-queue/?{query}")

    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_the_review_queue_pages_like_every_other_list(reviewer, documenter):
    for _n in range(3):
        make_incident(documenter, status=Status.SUBMITTED)

    body = client_for(reviewer).get("/api/v1/review-queue/?page_size=2").json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert len(body["results"]) == 2


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


def test_a_fractional_place_id_in_a_list_filter_is_not_truncated_to_a_real_place(reviewer, documenter):
    incident = make_incident(documenter, status=Status.VERIFIED)

    response = client_for(reviewer).get(f"/api/v1/incidents/?location={incident.location_id}.5")

    # A number, so not a 400 (that is for text); but 9.5 names no place, so nothing is found.
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert client_for(reviewer).get(f"/api/v1/incidents/?location={incident.location_id}").json()["count"] == 1


@pytest.mark.parametrize("model", ["incident", "victim"])
def test_the_django_admin_hides_other_peoples_drafts_like_the_api(documenter, admin_user, model):

    incident = make_incident(documenter, title="Draft-title-Zq9")
    victim = make_victim(documenter, incident, name="Draft-victim-Zq9")
    record = incident if model == "incident" else victim
    browser = web_client_for(admin_user)

    listing = browser.get(f"/en/admin/incidents/{model}/")
    detail = browser.get(f"/en/admin/incidents/{model}/{record.pk}/change/")
    absent = browser.get(f"/en/admin/incidents/{model}/{record.pk + 1000}/change/")

    assert listing.status_code == 200
    assert b"Zq9" not in listing.content
    # The admin answers a hidden record exactly as an absent one: back to its index, nothing shown.
    assert (detail.status_code, detail["Location"]) == (absent.status_code, absent["Location"]) == (302, "/en/admin/")
    assert b"Zq9" not in detail.content


def test_the_review_queue_counts_and_pages_every_submitted_record_beyond_a_thousand(reviewer, documenter, settings):
    settings.API_EXACT_COUNT_LIMIT = 0  # exact counts on PostgreSQL too (large lists are estimated otherwise)
    template = make_incident(documenter, status=Status.SUBMITTED)
    fields = {
        f.attname: getattr(template, f.attname)
        for f in Incident._meta.concrete_fields
        if not f.primary_key and not f.generated
    }
    Incident.objects.bulk_create([Incident(**fields) for _n in range(1000)])

    body = client_for(reviewer).get("/api/v1/review-queue/?kind=incidents&page=21").json()

    assert body["count"] == 1001
    assert len(body["results"]) == 1
    assert body["results"][0]["kind"] == "incidents"
    assert body["results"][0]["label"].endswith(template.title)
