"""Who sees what: one queryset rule, enforced in every list and detail. Hidden records are 404."""

from __future__ import annotations

import pytest

from incidents.models import Status
from tests.conftest import client_for, make_incident, make_victim


@pytest.fixture
def records(documenter, second_documenter):
    """One incident per state by the documenter, plus a draft and a verified one by the second."""
    mine = {state: make_incident(documenter, status=state, title=f"mine {state}") for state in Status.values}
    other_draft = make_incident(second_documenter, title="other draft")
    other_submitted = make_incident(second_documenter, status=Status.SUBMITTED, title="other submitted")
    other_verified = make_incident(second_documenter, status=Status.VERIFIED, title="other verified")
    return {
        "mine": mine,
        "other_draft": other_draft,
        "other_submitted": other_submitted,
        "other_verified": other_verified,
    }


def listed_titles(client, path="/api/v1/incidents/"):
    response = client.get(path)
    assert response.status_code == 200
    return {row["title"] for row in response.json()["results"]}


def test_documenter_sees_own_records_in_every_state_and_others_verified_only(documenter, records):
    titles = listed_titles(client_for(documenter))
    assert titles == {f"mine {state}" for state in Status.values} | {"other verified"}


def test_documenter_gets_404_for_another_documenters_draft(documenter, records):
    client = client_for(documenter)
    for key in ("other_draft", "other_submitted"):
        assert client.get(f"/api/v1/incidents/{records[key].pk}/").status_code == 404
    assert client.get(f"/api/v1/incidents/{records['other_verified'].pk}/").status_code == 200


def test_documenter_cannot_change_a_verified_record_of_someone_else(documenter, records):
    response = client_for(documenter).patch(
        f"/api/v1/incidents/{records['other_verified'].pk}/", {"title": "hijacked"}, format="json"
    )
    assert response.status_code == 403
    records["other_verified"].refresh_from_db()
    assert records["other_verified"].title == "other verified"


def test_reviewer_sees_everything_except_other_peoples_drafts(reviewer, records):
    titles = listed_titles(client_for(reviewer))
    expected = {f"mine {s}" for s in Status.values if s != Status.DRAFT} | {"other submitted", "other verified"}
    assert titles == expected
    assert client_for(reviewer).get(f"/api/v1/incidents/{records['other_draft'].pk}/").status_code == 404


def test_admin_sees_everything_except_other_peoples_drafts(admin_user, records):
    titles = listed_titles(client_for(admin_user))
    assert "other draft" not in titles and "mine draft" not in titles
    assert "other submitted" in titles


def test_user_without_a_role_sees_nothing(outsider, records):
    client = client_for(outsider)
    assert client.get("/api/v1/incidents/").status_code == 403
    assert client.get(f"/api/v1/incidents/{records['other_verified'].pk}/").status_code == 403
    assert client.get("/api/v1/victims/").status_code == 403


def test_anonymous_visitor_is_asked_to_sign_in(anonymous_client, records):
    assert anonymous_client.get("/api/v1/incidents/").status_code == 401
    assert anonymous_client.get(f"/api/v1/incidents/{records['other_verified'].pk}/").status_code == 401
    assert anonymous_client.get("/api/v1/victims/").status_code == 401
    assert anonymous_client.get("/api/v1/locations/").status_code == 401


def test_filters_never_reveal_hidden_records(documenter, records):
    client = client_for(documenter)
    assert listed_titles(client, "/api/v1/incidents/?status=draft") == {"mine draft"}
    assert listed_titles(client, "/api/v1/incidents/?mine=false") == {"other verified"}


def test_victims_follow_their_own_and_their_incidents_visibility(documenter, second_documenter, records):
    hidden = make_victim(second_documenter, records["other_draft"], name="hidden")
    visible = make_victim(second_documenter, records["other_verified"], status=Status.VERIFIED, name="visible")
    mine = make_victim(documenter, records["mine"][Status.DRAFT], name="mine")
    client = client_for(documenter)
    names = {row["name"] for row in client.get("/api/v1/victims/").json()["results"]}
    assert names == {"visible", "mine"}
    assert client.get(f"/api/v1/victims/{hidden.pk}/").status_code == 404
    assert client.get(f"/api/v1/victims/{visible.pk}/").status_code == 200
    assert client.get(f"/api/v1/victims/{mine.pk}/").status_code == 200


def test_victim_cannot_be_attached_to_an_invisible_incident(documenter, records):
    response = client_for(documenter).post(
        "/api/v1/victims/", {"incident": records["other_draft"].pk, "sex": "male"}, format="json"
    )
    assert response.status_code == 400
    assert "incident" in response.json()
    # The answer is the same as for an incident that does not exist at all.
    missing = client_for(documenter).post("/api/v1/victims/", {"incident": 999999, "sex": "male"}, format="json")
    assert missing.json()["incident"][0].replace("999999", "N") == response.json()["incident"][0].replace(
        str(records["other_draft"].pk), "N"
    )


def test_only_the_author_edits_a_draft(documenter, second_documenter, reviewer):
    incident = make_incident(documenter)
    assert client_for(second_documenter).patch(f"/api/v1/incidents/{incident.pk}/", {"title": "x"}).status_code == 404
    assert client_for(reviewer).patch(f"/api/v1/incidents/{incident.pk}/", {"title": "x"}).status_code == 404
    response = client_for(documenter).patch(f"/api/v1/incidents/{incident.pk}/", {"title": "Corrected"}, format="json")
    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.title == "Corrected"
    assert incident.version == 2


def test_submitted_record_cannot_be_edited_by_its_author(documenter):
    incident = make_incident(documenter, status=Status.SUBMITTED)
    response = client_for(documenter).patch(f"/api/v1/incidents/{incident.pk}/", {"title": "late edit"}, format="json")
    assert response.status_code == 409
    incident.refresh_from_db()
    assert incident.title == "Airstrike on a market"


def test_reviewer_cannot_create_incidents(reviewer):
    from tests.incidents.test_constraints import incident_payload

    response = client_for(reviewer).post("/api/v1/incidents/", incident_payload(), format="json")
    assert response.status_code == 403


def test_author_deletes_own_draft_only(documenter):
    draft = make_incident(documenter)
    submitted = make_incident(documenter, status=Status.SUBMITTED)
    client = client_for(documenter)
    assert client.delete(f"/api/v1/incidents/{submitted.pk}/").status_code == 409
    assert client.delete(f"/api/v1/incidents/{draft.pk}/").status_code == 204
    assert client.get(f"/api/v1/incidents/{submitted.pk}/").status_code == 200
