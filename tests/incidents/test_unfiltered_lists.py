"""A list request with no filter parameters (only paging) builds no filter form, and answers exactly what
the same request through the form answers (an empty filter value takes the form's path); a bad filter
value is still a 400 naming the field."""

from __future__ import annotations

import pytest

from incidents.models import Status
from matching.models import CandidatePair
from tests.conftest import client_for, make_incident, make_victim

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(documenter, second_documenter):
    victims = []
    for author in (documenter, second_documenter):
        incident = make_incident(author, status=Status.VERIFIED)
        victims += [make_victim(author, incident, status=Status.VERIFIED, name=name) for name in ("Omar", "Sara", "")]
    CandidatePair.objects.create(victim_a=victims[0], victim_b=victims[3], score=0.9, likely=True)
    CandidatePair.objects.create(victim_a=victims[1], victim_b=victims[4], score=0.6, likely=False)
    return victims


@pytest.mark.parametrize(
    ("plain", "through_the_form"),
    [
        ("/api/v1/victims/", "/api/v1/victims/?died_from="),
        ("/api/v1/victims/?page_size=2&page=2", "/api/v1/victims/?page_size=2&page=2&died_from="),
        ("/api/v1/incidents/?page_size=1", "/api/v1/incidents/?page_size=1&occurred_from="),
        ("/api/v1/duplicates/", "/api/v1/duplicates/?source="),
    ],
)
def test_an_unfiltered_page_answers_what_the_form_answers(rows, reviewer, plain, through_the_form):
    client = client_for(reviewer)
    plain_response, form_response = client.get(plain), client.get(through_the_form)

    assert plain_response.status_code == form_response.status_code == 200
    assert plain_response.json()["results"] == form_response.json()["results"]
    assert plain_response.json()["count"] == form_response.json()["count"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/victims/?page=1&sex=unknown-value", "sex"),
        ("/api/v1/incidents/?occurred_from=not-a-date", "occurred_from"),
        ("/api/v1/duplicates/?likely=perhaps", "likely"),
    ],
)
def test_a_bad_filter_value_is_still_a_400_naming_the_field(reviewer, path, field):
    response = client_for(reviewer).get(path)

    assert response.status_code == 400
    assert field in response.json()
