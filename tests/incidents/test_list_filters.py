"""List filters of incidents and victims: odd ids find nothing (never a 500, never a wrong place), and a
hidden record's id reads exactly like an absent one."""

from __future__ import annotations

import pytest

from incidents.models import Status
from tests.conftest import client_for, make_incident, make_victim

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"


@pytest.mark.parametrize("path", ["incidents", "victims"])
@pytest.mark.parametrize("param", ["location", "perpetrator"])
def test_a_huge_place_or_party_id_in_a_list_filter_finds_nothing_instead_of_a_500(reviewer, path, param):
    response = client_for(reviewer).get(f"/api/v1/{path}/?{param}={HUGE}")

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


def test_a_fractional_place_id_in_a_list_filter_is_not_truncated_to_a_real_place(reviewer, documenter):
    incident = make_incident(documenter, status=Status.VERIFIED)

    response = client_for(reviewer).get(f"/api/v1/incidents/?location={incident.location_id}.5")

    # A number, so not a 400 (that is for text); but 9.5 names no place, so nothing is found.
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert client_for(reviewer).get(f"/api/v1/incidents/?location={incident.location_id}").json()["count"] == 1
