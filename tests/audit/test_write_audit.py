"""Every write leaves one audit entry: who, which record, which fields (names only, never values).

Through the public surface: the API, the pages and the Django admin, with named actors. A refused
write leaves no entry; a witness's identity, an identity number and a date of birth never reach the log.
"""

from __future__ import annotations

import json

import pytest

from audit.models import AuditEntry
from evidence.models import MediaItem, Source, Testimony, Witness
from incidents.models import Incident, Location, Perpetrator, Victim
from tests.conftest import client_for, location, make_incident, make_victim, perpetrator, web_client_for
from tests.evidence.conftest import CANARY_CONTACT, CANARY_NAME, eager_tasks, evidence_settings, plain_png, upload

__all__ = ["eager_tasks", "evidence_settings"]  # the evidence fixtures: witness keys, a private MEDIA_ROOT

pytestmark = pytest.mark.django_db

IDENTITY_NUMBER = "ID-canary-5512093"
BIRTH_DATE = "1987-03-09"


def entries_since(before: int):
    return list(AuditEntry.objects.filter(sequence__gt=before).order_by("sequence"))


def last_sequence() -> int:
    entry = AuditEntry.objects.order_by("-sequence").first()
    return entry.sequence if entry else 0


def one_entry(before: int, action: str, actor, record) -> AuditEntry:
    """The one entry the write left (refusal logs such as access.refused aside)."""
    written = [entry for entry in entries_since(before) if entry.action != "access.refused"]
    assert [entry.action for entry in written] == [action]
    entry = written[0]
    assert (entry.actor_id, entry.target_type, entry.target_id) == (actor.pk, record._meta.label_lower, record.pk)
    return entry


def everything_logged() -> str:
    return json.dumps([[e.action, e.comment, e.details, e.from_state, e.to_state] for e in AuditEntry.objects.all()])


def incident_body(**overrides):
    body = {
        "title": "Shelling of the bakery",
        "occurred_on": "2020-01-20",
        "location": location("Idlib").pk,
        "perpetrator": perpetrator("Russian forces").pk,
        "weapon": "artillery",
        "injured_count": 2,
    }
    return {**body, **overrides}


# --- Incidents and victims: the API ------------------------------------------------------------------


def test_api_incident_create_change_delete_are_each_one_entry(documenter):
    client = client_for(documenter)
    before = last_sequence()
    created = client.post("/api/v1/incidents/", incident_body(), format="json")
    assert created.status_code == 201
    incident = Incident.objects.get(pk=created.json()["id"])
    entry = one_entry(before, "incident.created", documenter, incident)
    assert set(entry.details["fields"]) == {
        "title",
        "occurred_on",
        "location",
        "perpetrator",
        "weapon",
        "injured_count",
    }

    before = last_sequence()
    changed = client.patch(f"/api/v1/incidents/{incident.pk}/", {"title": "Bakery", "injured_count": 3}, format="json")
    assert changed.status_code == 200
    assert one_entry(before, "incident.changed", documenter, incident).details["fields"] == ["injured_count", "title"]

    before = last_sequence()
    assert client.delete(f"/api/v1/incidents/{incident.pk}/").status_code == 204
    one_entry(before, "incident.deleted", documenter, incident)
    assert not Incident.objects.filter(pk=incident.pk).exists()


def test_api_victim_writes_name_the_fields_but_never_the_identifying_values(documenter):
    incident = make_incident(documenter)
    client = client_for(documenter)
    before = last_sequence()
    created = client.post(
        "/api/v1/victims/",
        {
            "incident": incident.pk,
            "name": "Ahmad",
            "sex": "male",
            "age_years": 30,
            "identity_number": IDENTITY_NUMBER,
            "date_of_birth": BIRTH_DATE,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    victim = Victim.objects.get(pk=created.json()["id"])
    entry = one_entry(before, "victim.created", documenter, victim)
    assert {"identity_number", "date_of_birth", "name", "age_years"} <= set(entry.details["fields"])
    assert entry.details["incident"] == incident.pk

    before = last_sequence()
    patched = client.patch(f"/api/v1/victims/{victim.pk}/", {"identity_number": "ID-other-77"}, format="json")
    assert patched.status_code == 200
    assert one_entry(before, "victim.changed", documenter, victim).details["fields"] == ["identity_number"]

    before = last_sequence()
    assert client.delete(f"/api/v1/victims/{victim.pk}/").status_code == 204
    one_entry(before, "victim.deleted", documenter, victim)
    logged = everything_logged()
    assert IDENTITY_NUMBER not in logged and "ID-other-77" not in logged and BIRTH_DATE not in logged


def test_refused_writes_write_no_entry(documenter, second_documenter, reviewer, anonymous_client):
    incident = make_incident(documenter)
    victim = make_victim(documenter, incident)
    before = last_sequence()
    # Another documenter, a reviewer, anonymous: none may change the draft; bad input is refused too.
    assert client_for(second_documenter).patch(f"/api/v1/incidents/{incident.pk}/", {"title": "x"}).status_code == 404
    assert client_for(reviewer).post("/api/v1/incidents/", incident_body(), format="json").status_code == 403
    assert anonymous_client.post("/api/v1/incidents/", incident_body(), format="json").status_code in (401, 403)
    assert client_for(documenter).post("/api/v1/incidents/", incident_body(occurred_on="1850-01-01")).status_code == 400
    other = make_incident(documenter, title="Other")
    before = last_sequence()
    moved = client_for(documenter).patch(f"/api/v1/victims/{victim.pk}/", {"incident": other.pk}, format="json")
    assert moved.status_code == 400 and "incident" in moved.json()
    make_incident(documenter, status="submitted")  # (arrangement: its own creation entry)
    before = last_sequence()
    incident.status = "submitted"
    Incident.objects.filter(pk=incident.pk).update(status="submitted")
    assert client_for(documenter).delete(f"/api/v1/incidents/{incident.pk}/").status_code == 409
    assert [e.action for e in entries_since(before) if e.action != "access.refused"] == []


# --- Evidence: the API --------------------------------------------------------------------------------


def test_api_witness_and_testimony_writes_never_log_the_identity(documenter):
    incident = make_incident(documenter)
    client = client_for(documenter)
    before = last_sequence()
    made = client.post("/api/v1/witnesses/", {"name": CANARY_NAME, "contact": CANARY_CONTACT}, format="json")
    assert made.status_code == 201
    witness = Witness.objects.get(pk=made.json()["id"])
    registered = [e for e in entries_since(before) if e.action == "witness.registered"]
    assert len(registered) == 1 and registered[0].actor_id == documenter.pk
    assert registered[0].details["fields"] == ["contact", "name"]

    before = last_sequence()
    assert client.patch(f"/api/v1/witnesses/{witness.pk}/", {"contact": "+963-new"}, format="json").status_code == 200
    changed = [e for e in entries_since(before) if e.action == "witness.identity_changed"]
    assert len(changed) == 1 and changed[0].details["fields"] == ["contact"]

    before = last_sequence()
    body = {
        "incident": incident.pk,
        "witness": witness.pk,
        "taken_on": "2020-01-21",
        "language": "ar",
        "statement": "s",
    }
    created = client.post("/api/v1/testimonies/", body, format="json")
    assert created.status_code == 201
    testimony = Testimony.objects.get(pk=created.json()["id"])
    entry = one_entry(before, "testimony.created", documenter, testimony)
    assert {"incident", "witness", "taken_on", "language", "statement"} <= set(entry.details["fields"])

    before = last_sequence()
    assert client.patch(f"/api/v1/testimonies/{testimony.pk}/", {"statement": "t"}, format="json").status_code == 200
    assert one_entry(before, "testimony.changed", documenter, testimony).details["fields"] == ["statement"]
    before = last_sequence()
    assert client.delete(f"/api/v1/testimonies/{testimony.pk}/").status_code == 204
    one_entry(before, "testimony.deleted", documenter, testimony)

    logged = everything_logged()
    assert CANARY_NAME not in logged and CANARY_CONTACT not in logged and "+963-new" not in logged


def test_api_source_writes_keep_their_action_names(documenter):
    incident = make_incident(documenter)
    client = client_for(documenter)
    before = last_sequence()
    created = client.post(
        "/api/v1/sources/", {"incident": incident.pk, "kind": "published_report", "title": "R"}, format="json"
    )
    assert created.status_code == 201, created.json()
    source = Source.objects.get(pk=created.json()["id"])
    assert set(one_entry(before, "sources.created", documenter, source).details["fields"]) >= {"incident", "title"}
    before = last_sequence()
    assert client.patch(f"/api/v1/sources/{source.pk}/", {"note": "n"}, format="json").status_code == 200
    assert one_entry(before, "sources.changed", documenter, source).details["fields"] == ["note"]
    before = last_sequence()
    assert client.delete(f"/api/v1/sources/{source.pk}/").status_code == 204
    one_entry(before, "sources.deleted", documenter, source)


def test_api_media_upload_and_edit_are_audited(documenter):
    incident = make_incident(documenter)
    client = client_for(documenter)
    before = last_sequence()
    response = client.post(
        "/api/v1/media/",
        {"file": upload(plain_png(), "p.png", "image/png"), "incident": incident.pk, "description": "A photo"},
        format="multipart",
    )
    assert response.status_code == 201
    item = MediaItem.objects.get(pk=response.json()["id"])
    assert one_entry(before, "media.created", documenter, item).details["fields"] == ["description", "file", "incident"]
    before = last_sequence()
    assert client.patch(f"/api/v1/media/{item.pk}/", {"description": "B"}, format="json").status_code == 200
    assert one_entry(before, "media.changed", documenter, item).details["fields"] == ["description"]


# --- The pages ---------------------------------------------------------------------------------------


def test_page_forms_write_through_the_audited_services(documenter):
    browser = web_client_for(documenter)
    before = last_sequence()
    form = {**incident_body(), "date_precision": "day", "description": "", "latitude": "", "longitude": ""}
    assert browser.post("/en/incidents/new/", form).status_code == 302
    incident = Incident.objects.get(title="Shelling of the bakery")
    one_entry(before, "incident.created", documenter, incident)

    before = last_sequence()
    assert browser.post(f"/en/incidents/{incident.pk}/", {**form, "title": "Bakery"}).status_code == 302
    assert one_entry(before, "incident.changed", documenter, incident).details["fields"] == ["title"]

    before = last_sequence()
    row = {"name": "Fatima", "sex": "female", "age_years": "9", "age_group": "unknown", "civilian_status": "civilian"}
    browser.post(f"/en/incidents/{incident.pk}/victims/", row)
    victim = Victim.objects.get(incident=incident)
    one_entry(before, "victim.created", documenter, victim)

    before = last_sequence()
    browser.post(f"/en/incidents/{incident.pk}/sources/new/", {"kind": "published_report", "title": "A report"})
    one_entry(before, "sources.created", documenter, Source.objects.get(incident=incident))


# --- The admin (reference data) ------------------------------------------------------------------------


def test_admin_reference_writes_are_audited_like_the_api(admin_user):
    browser = web_client_for(admin_user)
    before = last_sequence()
    added = browser.post("/en/admin/incidents/perpetrator/add/", {"name": "New party", "name_ar": "", "parent": ""})
    assert added.status_code == 302
    party = Perpetrator.objects.get(name="New party")
    assert one_entry(before, "party.created", admin_user, party).details["fields"] == ["name"]

    idlib = Location.objects.get(name="Idlib")
    before = last_sequence()
    changed = browser.post(
        f"/en/admin/incidents/location/{idlib.pk}/change/",
        {
            "name": "Idlib",
            "name_ar": "محافظة إدلب",
            "level": idlib.level,
            "parent": idlib.parent_id,
            "latitude": idlib.latitude,
            "longitude": idlib.longitude,
        },
    )
    assert changed.status_code == 302
    assert one_entry(before, "place.changed", admin_user, idlib).details["fields"] == ["name_ar"]

    before = last_sequence()
    assert browser.post(f"/en/admin/incidents/perpetrator/{party.pk}/delete/", {"post": "yes"}).status_code == 302
    one_entry(before, "party.deleted", admin_user, party)
