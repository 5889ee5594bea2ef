"""A form sent twice (a double click, a resent page) creates one record."""

from __future__ import annotations

import re

from counts.models import CountSnapshot
from incidents.models import Incident, Victim
from tests.conftest import make_incident, web_client_for
from tests.pages.test_documenter_pages import incident_form


def token_in(html: str) -> str:
    match = re.search(r'name="form_token" value="([0-9a-f]{32})"', html)
    assert match, "the form carries a one-time token"
    return match.group(1)


def test_the_new_incident_form_sent_twice_creates_one_draft(documenter):
    client = web_client_for(documenter)
    token = token_in(client.get("/en/incidents/new/").content.decode())
    first = client.post("/en/incidents/new/", {**incident_form(), "form_token": token})
    second = client.post("/en/incidents/new/", {**incident_form(), "form_token": token})
    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"]
    assert Incident.objects.count() == 1


def test_a_form_with_errors_leaves_its_token_for_the_corrected_copy(documenter):
    client = web_client_for(documenter)
    token = token_in(client.get("/en/incidents/new/").content.decode())
    assert client.post("/en/incidents/new/", {**incident_form(title=""), "form_token": token}).status_code == 400
    assert client.post("/en/incidents/new/", {**incident_form(), "form_token": token}).status_code == 302
    assert Incident.objects.count() == 1


def test_a_victim_row_sent_twice_is_added_once(documenter):
    incident = make_incident(documenter)
    client = web_client_for(documenter)
    token = token_in(client.get(f"/en/incidents/{incident.pk}/").content.decode())
    row = {
        "name": "Fatima",
        "name_ar": "فاطمة",
        "sex": "female",
        "age_years": "9",
        "age_group": "unknown",
        "civilian_status": "civilian",
        "form_token": token,
    }
    client.post(f"/en/incidents/{incident.pk}/victims/", row)
    client.post(f"/en/incidents/{incident.pk}/victims/", row)
    assert Victim.objects.count() == 1


def test_a_fresh_form_creates_again(documenter):
    client = web_client_for(documenter)
    for _ in range(2):
        token = token_in(client.get("/en/incidents/new/").content.decode())
        client.post("/en/incidents/new/", {**incident_form(), "form_token": token})
    assert Incident.objects.count() == 2


def test_a_count_requested_twice_from_the_page_runs_once(admin_user):
    client = web_client_for(admin_user)
    token = token_in(client.get("/en/counts/").content.decode())
    window = {"date_from": "2020-01-01", "date_to": "2020-03-31", "form_token": token}
    first = client.post("/en/counts/", window)
    second = client.post("/en/counts/", window)
    assert first.status_code == 302, first.content[:300]
    assert second["Location"] == first["Location"]
    assert CountSnapshot.objects.count() == 1
