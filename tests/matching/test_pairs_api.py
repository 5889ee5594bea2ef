"""The pair API: GET /api/v1/duplicates/, POST .../<id>/decide/, POST /api/v1/victims/<id>/unmerge/."""

from __future__ import annotations

import pytest

from audit.models import AuditEntry
from matching import services
from matching.models import CandidatePair
from tests.conftest import client_for, make_incident, make_victim
from tests.matching.review_helpers import fresh, pair_of, verified_victim

pytestmark = pytest.mark.django_db

FIELDS = {"id", "victim_a", "victim_b", "score", "likely", "reasons", "status", "decided_by", "decided_at", "comment"}


@pytest.fixture
def pair(documenter, second_documenter):
    first = verified_victim(documenter, name="Khaled Omar", name_ar="خالد عمر", identity_number="998877")
    second = verified_victim(second_documenter, name="Khalid Omar", name_ar="خالد عمر", identity_number="998877")
    return pair_of(first, second, score=0.91)


def test_the_list_shows_each_pair_with_the_contract_fields(reviewer, pair):
    response = client_for(reviewer).get("/api/v1/duplicates/")
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert set(row) == FIELDS
    assert (row["id"], row["score"], row["likely"], row["status"]) == (pair.pk, 0.91, True, "candidate")
    assert row["reasons"] == [
        "same Arabic name after normalisation",
        "ages 34 and 35",
        "same date of death",
        "places 2 km apart",
    ]
    assert (row["decided_by"], row["decided_at"], row["comment"]) == (None, None, "")


def test_the_victims_of_a_pair_read_exactly_as_the_victims_endpoint_shows_them(reviewer, pair):
    client = client_for(reviewer)
    (row,) = client.get("/api/v1/duplicates/").json()["results"]
    assert row["victim_a"] == client.get(f"/api/v1/victims/{pair.victim_a_id}/").json()
    assert row["victim_b"] == client.get(f"/api/v1/victims/{pair.victim_b_id}/").json()


def test_reasons_are_given_in_the_requests_language(reviewer, pair):
    response = client_for(reviewer).get("/api/v1/duplicates/", HTTP_ACCEPT_LANGUAGE="ar")
    assert response.json()["results"][0]["reasons"][:2] == ["الاسم العربي نفسه بعد التوحيد", "العمران 34 و35"]


def test_the_list_is_highest_score_first(reviewer, documenter, pair):
    higher = pair_of(verified_victim(documenter), verified_victim(documenter), score=0.99)
    lower = pair_of(verified_victim(documenter), verified_victim(documenter), score=0.2, likely=False)
    ids = [row["id"] for row in client_for(reviewer).get("/api/v1/duplicates/").json()["results"]]
    assert ids == [higher.pk, pair.pk, lower.pk]


def test_the_list_filters_by_status_and_likely(reviewer, documenter, pair):
    unlikely = pair_of(verified_victim(documenter), verified_victim(documenter), score=0.3, likely=False)
    dismissed = services.decide(
        pair_of(verified_victim(documenter), verified_victim(documenter), score=0.8), reviewer, "dismiss"
    )
    client = client_for(reviewer)

    def ids(**params):
        return {row["id"] for row in client.get("/api/v1/duplicates/", params).json()["results"]}

    assert ids(status="candidate") == {pair.pk, unlikely.pk}
    assert ids(status="dismissed") == {dismissed.pk}
    assert ids(status="candidate", likely="true") == {pair.pk}
    assert ids(likely="false") == {unlikely.pk}


def test_the_list_filters_by_place_subtree(reviewer, documenter, pair):
    from incidents.models import Location

    aleppo = Location.objects.get(name="Aleppo", level="governorate")
    there = pair_of(
        verified_victim(documenter, make_incident(documenter, status="verified", location=aleppo)),
        verified_victim(documenter),
    )
    rows = client_for(reviewer).get("/api/v1/duplicates/", {"location": aleppo.pk}).json()["results"]
    assert [row["id"] for row in rows] == [there.pk]


@pytest.mark.parametrize("params", [{"status": "merged"}, {"likely": "maybe"}, {"location": "Idlib"}])
def test_an_unknown_filter_value_is_a_400(reviewer, pair, params):
    response = client_for(reviewer).get("/api/v1/duplicates/", params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


def test_a_pair_with_a_victim_the_caller_may_not_see_is_not_listed_and_is_404_on_decide(
    reviewer, documenter, second_documenter, pair
):
    hidden_draft = make_victim(second_documenter, make_incident(second_documenter))
    hidden = pair_of(verified_victim(documenter), hidden_draft)
    client = client_for(reviewer)
    assert [row["id"] for row in client.get("/api/v1/duplicates/").json()["results"]] == [pair.pk]
    response = client.post(f"/api/v1/duplicates/{hidden.pk}/decide/", {"decision": "dismiss"}, format="json")
    assert response.status_code == 404
    assert CandidatePair.objects.get(pk=hidden.pk).status == "candidate"


@pytest.mark.parametrize("actor", ["documenter", "second_documenter", "outsider"])
def test_only_reviewers_and_admins_reach_the_pairs(request, actor, pair):
    client = client_for(request.getfixturevalue(actor))
    assert client.get("/api/v1/duplicates/").status_code == 403
    body = {"decision": "confirm", "keep": pair.victim_a_id}
    assert client.post(f"/api/v1/duplicates/{pair.pk}/decide/", body, format="json").status_code == 403
    assert CandidatePair.objects.get(pk=pair.pk).status == "candidate"


def test_confirming_through_the_api_marks_the_other_victim_and_answers_with_the_pair(reviewer, pair):
    response = client_for(reviewer).post(
        f"/api/v1/duplicates/{pair.pk}/decide/",
        {"decision": "confirm", "keep": pair.victim_b_id, "comment": "Same man, two lists."},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["decided_by"], body["comment"]) == ("confirmed", reviewer.pk, "Same man, two lists.")
    assert body["victim_a"]["duplicate_of"] == pair.victim_b_id
    assert fresh(pair.victim_a).duplicate_of_id == pair.victim_b_id


def test_a_second_decision_through_the_api_is_a_409(reviewer, second_reviewer, pair):
    client_for(reviewer).post(f"/api/v1/duplicates/{pair.pk}/decide/", {"decision": "dismiss"}, format="json")
    response = client_for(second_reviewer).post(
        f"/api/v1/duplicates/{pair.pk}/decide/", {"decision": "confirm", "keep": pair.victim_a_id}, format="json"
    )
    assert response.status_code == 409
    assert "already decided" in response.json()["detail"]
    assert fresh(pair.victim_b).duplicate_of_id is None


def test_the_api_refuses_a_decision_by_the_author_of_both_records(admin_user):
    own = pair_of(verified_victim(admin_user), verified_victim(admin_user))
    response = client_for(admin_user).post(
        f"/api/v1/duplicates/{own.pk}/decide/", {"decision": "dismiss"}, format="json"
    )
    assert response.status_code == 403
    assert "four eyes" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"decision": "merge", "keep": None}, "decision"),
        ({"decision": "confirm"}, "keep"),
        ({"decision": "confirm", "keep": "first"}, "keep"),
        ({"decision": "confirm", "keep": 10**30}, "keep"),
    ],
)
def test_bad_decisions_are_400s_naming_the_field(reviewer, pair, body, field):
    response = client_for(reviewer).post(f"/api/v1/duplicates/{pair.pk}/decide/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert CandidatePair.objects.get(pk=pair.pk).status == "candidate"


def test_keeping_a_victim_outside_the_pair_is_a_400(reviewer, documenter, pair):
    other = verified_victim(documenter)
    response = client_for(reviewer).post(
        f"/api/v1/duplicates/{pair.pk}/decide/", {"decision": "confirm", "keep": other.pk}, format="json"
    )
    assert response.status_code == 400 and "keep" in response.json()
    assert fresh(other).duplicate_of_id is None


def test_unmerge_through_the_api_clears_duplicate_of(reviewer, second_reviewer, pair):
    services.decide(pair, reviewer, "confirm", keep=pair.victim_a_id)
    response = client_for(second_reviewer).post(
        f"/api/v1/victims/{pair.victim_b_id}/unmerge/", {"reason": "Different mothers."}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["duplicate_of"] is None
    assert AuditEntry.objects.for_target(pair.victim_b).filter(action="victim.unmerge").count() == 1


def test_unmerge_without_a_reason_is_a_400(reviewer, pair):
    services.decide(pair, reviewer, "confirm", keep=pair.victim_a_id)
    response = client_for(reviewer).post(f"/api/v1/victims/{pair.victim_b_id}/unmerge/", {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    assert fresh(pair.victim_b).duplicate_of_id == pair.victim_a_id


def test_unmerging_a_victim_that_is_no_duplicate_is_a_409(reviewer, pair):
    response = client_for(reviewer).post(
        f"/api/v1/victims/{pair.victim_a_id}/unmerge/", {"reason": "Checking."}, format="json"
    )
    assert response.status_code == 409


def test_unmerging_a_victim_the_caller_cannot_see_is_a_404(reviewer, second_documenter):
    draft = make_victim(second_documenter, make_incident(second_documenter))
    response = client_for(reviewer).post(f"/api/v1/victims/{draft.pk}/unmerge/", {"reason": "x"}, format="json")
    assert response.status_code == 404


def test_documenters_may_not_unmerge(reviewer, documenter, pair):
    services.decide(pair, reviewer, "confirm", keep=pair.victim_a_id)
    response = client_for(documenter).post(
        f"/api/v1/victims/{pair.victim_b_id}/unmerge/", {"reason": "Mine."}, format="json"
    )
    assert response.status_code == 403
    assert fresh(pair.victim_b).duplicate_of_id == pair.victim_a_id
