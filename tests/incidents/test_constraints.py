"""Bad values are refused with a 400 and a message per field; the database enforces the invariants too."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from incidents.models import Incident, Victim
from tests.conftest import client_for, location, make_incident, perpetrator, skip_or_fail


def incident_payload(**overrides):
    payload = {
        "title": "Shelling",
        "occurred_on": "2020-01-15",
        "location": location().pk,
        "perpetrator": perpetrator().pk,
        "weapon": "artillery",
        "injured_count": 2,
    }
    payload.update(overrides)
    return payload


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("occurred_on", "2023-02-30"),
        ("occurred_on", "2999-01-01"),
        ("occurred_on", "1850-01-01"),
        ("injured_count", -1),
        ("injured_count", "1e999"),
        ("injured_count", 10**12),
        ("latitude", "91"),
        ("longitude", "-180.5"),
        ("weapon", "trebuchet"),
        ("date_precision", "hour"),
        ("title", "bad\u202etitle"),
        ("title", "nul\x00byte"),
        ("location", 999999),
    ],
)
def test_bad_incident_values_are_refused_with_a_field_message(documenter, field, value):
    response = client_for(documenter).post("/api/v1/incidents/", incident_payload(**{field: value}), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Incident.objects.count() == 0


def test_injured_as_huge_json_float_is_refused(documenter):
    body = (
        f'{{"title": "x", "occurred_on": "2020-01-01", "location": {location().pk}, '
        f'"perpetrator": {perpetrator().pk}, "injured_count": 1e999}}'
    )
    response = client_for(documenter).post("/api/v1/incidents/", body, content_type="application/json")
    assert response.status_code == 400
    assert "injured_count" in response.json()


def test_malformed_json_is_a_400(documenter):
    response = client_for(documenter).post("/api/v1/incidents/", "{not json", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("age_years", -1),
        ("age_years", 131),
        ("age_years", 200),
        ("sex", "other"),
        ("civilian_status", "spy"),
        ("roles", ["astronaut"]),
        ("date_of_death", "2999-01-01"),
        ("date_of_death", "2021-02-29"),
        ("name", "Ahmad\u202e"),
        ("name_ar", "أحمد\u2066"),
        ("place_of_death", 999999),
    ],
)
def test_bad_victim_values_are_refused_with_a_field_message(documenter, field, value):
    incident = make_incident(documenter)
    payload = {"incident": incident.pk, "sex": "male", "age_years": 30, field: value}
    response = client_for(documenter).post("/api/v1/victims/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Victim.objects.count() == 0


def test_age_group_contradicting_age_is_refused(documenter):
    incident = make_incident(documenter)
    response = client_for(documenter).post(
        "/api/v1/victims/", {"incident": incident.pk, "age_years": 10, "age_group": "adult"}, format="json"
    )
    assert response.status_code == 400
    assert "age_group" in response.json()


def test_arabic_persian_and_combining_marks_round_trip_byte_identical(documenter):
    incident = make_incident(documenter)
    names = {
        "name": "Mu\u0301hammad Zahra\u0302",  # combining acute and circumflex
        "name_ar": "فاطمه\u200cزهرا مُحَمَّد",  # Persian ZWNJ and Arabic harakat
    }
    response = client_for(documenter).post("/api/v1/victims/", {"incident": incident.pk, **names}, format="json")
    assert response.status_code == 201
    victim = Victim.objects.get()
    assert victim.name == names["name"]
    assert victim.name_ar == names["name_ar"]
    assert response.json()["name_ar"].encode() == names["name_ar"].encode()


def test_script_in_text_is_stored_verbatim(documenter):
    response = client_for(documenter).post(
        "/api/v1/incidents/", incident_payload(title="<script>alert(1)</script>"), format="json"
    )
    assert response.status_code == 201
    assert Incident.objects.get().title == "<script>alert(1)</script>"


@pytest.mark.parametrize(
    ("field", "value"),
    [("age_years", 131), ("date_of_death", dt.date(2999, 1, 1)), ("date_of_death", dt.date(1800, 1, 1))],
)
def test_database_refuses_invalid_victims_even_bypassing_the_api(documenter, field, value):
    from django.db import connection

    if value == dt.date(2999, 1, 1) and connection.vendor != "postgresql":
        skip_or_fail("the no-future-dates CHECK exists on PostgreSQL only (SQLite forbids CURRENT_DATE in CHECK)")
    incident = make_incident(documenter)
    with pytest.raises(IntegrityError), transaction.atomic():
        Victim.objects.create(
            incident=incident,
            created_by=documenter,
            age_group="adult" if field == "age_years" else "unknown",
            **{field: value},
        )


def test_database_refuses_a_negative_injured_count_and_a_future_incident(documenter):
    incident = make_incident(documenter)
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.filter(pk=incident.pk).update(injured_count=-5)
    from django.db import connection

    if connection.vendor == "postgresql":
        with pytest.raises(IntegrityError), transaction.atomic():
            Incident.objects.filter(pk=incident.pk).update(occurred_on=dt.date(2999, 1, 1))
    incident.refresh_from_db()
    assert incident.injured_count == 3


def test_database_refuses_age_group_contradicting_age(documenter):
    incident = make_incident(documenter)
    with pytest.raises(IntegrityError), transaction.atomic():
        Victim.objects.create(incident=incident, created_by=documenter, age_years=10, age_group="adult")


def test_clients_cannot_set_server_owned_fields(documenter, second_documenter):
    response = client_for(documenter).post(
        "/api/v1/incidents/",
        incident_payload(
            status="verified", created_by=second_documenter.pk, id=424242, created_at="2001-01-01T00:00:00Z"
        ),
        format="json",
    )
    assert response.status_code == 201
    incident = Incident.objects.get()
    assert incident.status == "draft"
    assert incident.created_by == documenter
    assert incident.pk != 424242
    assert incident.created_at.year > 2001
