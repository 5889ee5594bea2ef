"""A victim's identifying fields (docs/api.md, "Victims"): personal data, shown to the
record's author, reviewers and admins only; `origin` says which source list and row a record came from."""

from __future__ import annotations

import datetime as dt

from incidents.models import Status, Victim
from tests.conftest import client_for, make_incident, make_victim


def _create(client, incident, **fields):
    body = {"incident": incident.pk, "name": "Test person", "sex": "male", **fields}
    return client.post("/api/v1/victims/", body, format="json")


def test_author_records_and_reads_identity_number_and_date_of_birth(documenter):
    incident = make_incident(documenter)
    response = _create(client_for(documenter), incident, identity_number="400123456", date_of_birth="1990-05-01")
    assert response.status_code == 201, response.content
    assert response.json()["identity_number"] == "400123456"
    assert response.json()["date_of_birth"] == "1990-05-01"
    assert response.json()["origin"] is None
    victim = Victim.objects.get(pk=response.json()["id"])
    assert (victim.identity_number, victim.date_of_birth) == ("400123456", dt.date(1990, 5, 1))


def test_reviewer_and_admin_see_the_personal_data_of_a_submitted_victim(documenter, reviewer, admin_user):
    incident = make_incident(documenter, status=Status.SUBMITTED)
    victim = make_victim(
        documenter, incident, status=Status.SUBMITTED, identity_number="900", date_of_birth=dt.date(2001, 1, 2)
    )
    for user in (reviewer, admin_user):
        body = client_for(user).get(f"/api/v1/victims/{victim.pk}/").json()
        assert body["identity_number"] == "900"
        assert body["date_of_birth"] == "2001-01-02"


def test_another_documenter_sees_a_verified_victim_without_its_personal_data(documenter, second_documenter):
    incident = make_incident(documenter, status=Status.VERIFIED)
    victim = make_victim(
        documenter, incident, status=Status.VERIFIED, identity_number="900", date_of_birth=dt.date(2001, 1, 2)
    )
    detail = client_for(second_documenter).get(f"/api/v1/victims/{victim.pk}/").json()
    listed = client_for(second_documenter).get("/api/v1/victims/").json()["results"]
    assert detail["name"] == victim.name
    for body in (detail, *listed):
        assert "identity_number" not in body
        assert "date_of_birth" not in body


def test_origin_is_read_only_and_shown_for_an_imported_record(documenter):
    incident = make_incident(documenter)
    victim = make_victim(documenter, incident)
    # Only an import sets the origin (intake's service); here it is set directly.
    Victim.objects.filter(pk=victim.pk).update(origin_source="MoH 2024-04-13", origin_record_id="42")
    client = client_for(documenter)
    assert client.get(f"/api/v1/victims/{victim.pk}/").json()["origin"] == {
        "source": "MoH 2024-04-13",
        "record_id": "42",
    }
    response = client.patch(f"/api/v1/victims/{victim.pk}/", {"origin": None}, format="json")
    assert response.status_code == 200
    victim.refresh_from_db()
    assert (victim.origin_source, victim.origin_record_id) == ("MoH 2024-04-13", "42")


def test_a_date_of_birth_in_the_future_or_before_1900_is_refused(documenter):
    incident = make_incident(documenter)
    client = client_for(documenter)
    future = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    for value in (future, "1850-01-01", "2023-02-30"):
        response = _create(client, incident, date_of_birth=value)
        assert response.status_code == 400
        assert "date_of_birth" in response.json()
    assert not Victim.objects.exists()


def test_an_identity_number_with_a_bidi_override_is_refused(documenter):
    response = _create(client_for(documenter), make_incident(documenter), identity_number="12\u202e34")
    assert response.status_code == 400
    assert "identity_number" in response.json()
