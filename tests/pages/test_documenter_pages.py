"""The documenter's pages: my cases, the incident form (with autosave), victims, submission."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from audit.models import AuditEntry
from incidents import workflow
from incidents.models import Incident, Status, Victim
from tests.conftest import location, make_incident, make_victim, perpetrator, web_client_for

pytestmark = pytest.mark.django_db


def incident_form(**overrides) -> dict:
    fields = {
        "title": "Shelling of the bakery",
        "location": location("Idlib").pk,
        "perpetrator": perpetrator("Russian forces").pk,
        "weapon": "artillery",
        "occurred_on": "2020-01-20",
        "date_precision": "day",
        "injured_count": "4",
        "description": "Shells hit the queue at the bakery.",
        "latitude": "",
        "longitude": "",
    }
    fields.update(overrides)
    return fields


def test_documenter_creates_a_draft_incident_through_the_form(documenter):
    response = web_client_for(documenter).post("/en/incidents/new/", incident_form())
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/en/incidents/{incident.pk}/"
    assert incident.status == Status.DRAFT
    assert incident.created_by == documenter
    assert incident.perpetrator == perpetrator("Russian forces")
    assert incident.occurred_on == dt.date(2020, 1, 20)
    assert incident.injured_count == 4


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"occurred_on": "2999-01-01"}, "occurred_on", "This date is in the future."),
        ({"occurred_on": "2023-02-30"}, "occurred_on", "Enter a valid date."),
        ({"injured_count": "-1"}, "injured_count", "greater than or equal to 0"),
        ({"latitude": "95"}, "latitude", "less than or equal to 90"),
        ({"title": "bad\u202etitle"}, "title", "bidirectional override"),
    ],
)
def test_invalid_incident_is_refused_with_a_message_on_the_field(documenter, overrides, field, message):
    response = web_client_for(documenter).post("/en/incidents/new/", incident_form(**overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert message in " ".join(response.context["form"].errors[field])
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Incident.objects.exists()


def test_arabic_form_errors_are_in_arabic(documenter):
    response = web_client_for(documenter).post("/ar/incidents/new/", incident_form(title=""))
    html = response.content.decode()
    assert response.status_code == 400
    assert 'dir="rtl"' in html
    assert "هذا الحقل مطلوب" in html


def test_autosave_creates_one_draft_then_updates_it(documenter):
    client = web_client_for(documenter)
    first = client.post("/en/incidents/new/", incident_form(), headers={"X-Autosave": "1"})
    assert first.status_code == 200
    body = first.json()
    assert body["saved"] is True
    incident = Incident.objects.get()
    assert body["url"] == f"/en/incidents/{incident.pk}/"
    second = client.post(body["url"], incident_form(title="Shelling of the bakery queue"), headers={"X-Autosave": "1"})
    assert second.status_code == 200
    assert Incident.objects.count() == 1
    incident.refresh_from_db()
    assert incident.title == "Shelling of the bakery queue"
    assert incident.version == 2


def test_autosave_of_an_incomplete_form_saves_nothing_and_says_why(documenter):
    response = web_client_for(documenter).post(
        "/en/incidents/new/", incident_form(title=""), headers={"X-Autosave": "1"}
    )
    assert response.status_code == 400
    assert response.json()["saved"] is False
    assert "title" in response.json()["errors"]
    assert not Incident.objects.exists()


def test_place_picker_lists_the_tree_in_the_page_language(documenter):
    html = web_client_for(documenter).get("/ar/incidents/new/").content.decode()
    assert "data-searchable" in html
    assert "سوريا" in html
    assert "\u00a0\u00a0\u00a0إدلب" in html  # Idlib indented under Syria


def test_reviewer_cannot_open_the_new_incident_form(reviewer):
    response = web_client_for(reviewer).get("/en/incidents/new/")
    assert response.status_code == 403
    assert "Only documenters may record incidents" in response.content.decode()


def test_documenter_cannot_see_another_documenters_draft(documenter, second_documenter):
    incident = make_incident(second_documenter)
    response = web_client_for(documenter).get(f"/en/incidents/{incident.pk}/")
    assert response.status_code == 404


def test_editing_a_submitted_incident_is_refused_with_409_and_nothing_changes(documenter):
    incident = make_incident(documenter, status=Status.SUBMITTED)
    response = web_client_for(documenter).post(f"/en/incidents/{incident.pk}/", incident_form(title="Changed"))
    assert response.status_code == 409
    assert "cannot be edited" in response.content.decode()
    incident.refresh_from_db()
    assert incident.title == "Airstrike on a market"


def test_someone_elses_verified_incident_cannot_be_edited(documenter, second_documenter):
    incident = make_incident(second_documenter, status=Status.VERIFIED)
    response = web_client_for(documenter).post(f"/en/incidents/{incident.pk}/", incident_form(title="Changed"))
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.title == "Airstrike on a market"


def test_quick_victim_row_adds_a_victim_with_derived_category(documenter):
    incident = make_incident(documenter)
    client = web_client_for(documenter)
    response = client.post(
        f"/en/incidents/{incident.pk}/victims/",
        {
            "name_ar": "فاطمة",
            "name": "Fatima",
            "sex": "female",
            "age_years": "9",
            "age_group": "unknown",
            "civilian_status": "civilian",
            "roles": ["medical"],
        },
    )
    assert response.status_code == 302
    victim = Victim.objects.get()
    assert (victim.category, victim.age_group, victim.roles, victim.created_by) == (
        "child",
        "child",
        ["medical"],
        documenter,
    )
    page = client.get(f"/ar/incidents/{incident.pk}/").content.decode()
    assert "فاطمة" in page
    assert 'class="category category-child">طفل' in page


def test_victim_age_contradicting_the_age_group_is_refused_on_the_field(documenter):
    incident = make_incident(documenter)
    response = web_client_for(documenter).post(
        f"/en/incidents/{incident.pk}/victims/",
        {"name": "Omar", "sex": "male", "age_years": "40", "age_group": "child", "civilian_status": "civilian"},
    )
    assert response.status_code == 400
    assert "age_group" in response.context["form"].errors
    assert not Victim.objects.exists()


def test_victim_edit_and_delete_by_the_author(documenter):
    incident = make_incident(documenter)
    victim = make_victim(documenter, incident)
    client = web_client_for(documenter)
    response = client.post(
        f"/en/victims/{victim.pk}/",
        {
            "name_ar": "أحمد",
            "name": "Ahmad",
            "sex": "female",
            "age_years": "30",
            "age_group": "adult",
            "civilian_status": "civilian",
        },
    )
    assert response.status_code == 302
    victim.refresh_from_db()
    assert victim.category == "woman"
    assert client.post(f"/en/victims/{victim.pk}/delete/").status_code == 302
    assert not Victim.objects.exists()


def test_submit_sends_the_incident_and_its_victims_to_review(documenter):
    incident = make_incident(documenter)
    victim = make_victim(documenter, incident)
    response = web_client_for(documenter).post(f"/en/incidents/{incident.pk}/submit/")
    assert response.status_code == 302
    incident.refresh_from_db()
    victim.refresh_from_db()
    assert (incident.status, victim.status) == (Status.SUBMITTED, Status.SUBMITTED)
    assert AuditEntry.objects.filter(action="incidents.submit", target_id=incident.pk).count() == 1


def test_submitting_twice_is_a_409_with_a_reason(documenter):
    incident = make_incident(documenter, status=Status.SUBMITTED)
    response = web_client_for(documenter).post(f"/en/incidents/{incident.pk}/submit/")
    assert response.status_code == 409
    assert "Cannot submit a record that is submitted" in response.content.decode()


def test_my_cases_shows_the_reviewers_comment_on_a_sent_back_incident(documenter, reviewer):
    incident = make_incident(documenter, title="Sent back one")
    workflow.submit(documenter, incident)
    workflow.review(reviewer, incident, "request_changes", "Add the source of the date, please.")
    html = web_client_for(documenter).get("/en/").content.decode()
    assert "Sent back one" in html
    assert "Add the source of the date, please." in html
    detail = web_client_for(documenter).get(f"/en/incidents/{incident.pk}/").content.decode()
    assert "Sent back for changes" in detail
    assert "Add the source of the date, please." in detail


def test_get_on_post_only_actions_is_refused(documenter):
    incident = make_incident(documenter)
    assert web_client_for(documenter).get(f"/en/incidents/{incident.pk}/submit/").status_code == 405


def test_anonymous_visitor_is_sent_to_sign_in(db):
    response = Client().get("/ar/incidents/new/")
    assert response.status_code == 302
    assert response["Location"].startswith("/ar/accounts/login/")
