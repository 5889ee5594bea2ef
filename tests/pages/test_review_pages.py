"""The reviewer's pages: the queue (oldest first, filters) and decisions, with refusals as pages."""

from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEntry
from incidents import workflow
from incidents.models import Incident, Status, Victim
from tests.conftest import location, make_incident, make_user, make_victim, perpetrator, web_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_evidence_needed(settings):
    settings.REVIEW_MIN_EVIDENCE = 0


def submitted_incident(author, **overrides) -> Incident:
    incident = make_incident(author, **overrides)
    workflow.submit(author, incident)
    return incident


def test_queue_lists_submitted_records_oldest_first(documenter, reviewer):
    first = submitted_incident(documenter, title="First in")
    second = submitted_incident(documenter, title="Second in")
    make_incident(documenter, title="Still a draft")
    html = web_client_for(reviewer).get("/en/review/").content.decode()
    assert html.index("First in") < html.index("Second in")
    assert "Still a draft" not in html
    assert f"/en/review/incidents/{first.pk}/" in html and f"/en/review/incidents/{second.pk}/" in html


def test_queue_filters_by_place_subtree_and_perpetrator(documenter, reviewer):
    submitted_incident(documenter, title="In Idlib", location=location("Idlib"))
    submitted_incident(documenter, title="In Aleppo", location=location("Aleppo"), perpetrator=perpetrator("ISIS"))
    client = web_client_for(reviewer)
    syria = location("Syria").pk
    by_place = client.get(f"/en/review/?location={location('Idlib').pk}").content.decode()
    assert "In Idlib" in by_place and "In Aleppo" not in by_place
    by_country = client.get(f"/en/review/?location={syria}").content.decode()
    assert "In Idlib" in by_country and "In Aleppo" in by_country
    alliance = perpetrator("Syrian-Russian alliance").pk
    by_party = client.get(f"/en/review/?perpetrator={alliance}").content.decode()
    assert "In Idlib" in by_party and "In Aleppo" not in by_party


def test_documenter_has_no_review_queue(documenter):
    response = web_client_for(documenter).get("/ar/review/")
    assert response.status_code == 403
    assert 'dir="rtl"' in response.content.decode()


def test_reviewer_approves_an_incident_deciding_each_victim(documenter, reviewer):
    incident = make_incident(documenter)
    kept = make_victim(documenter, incident, name="Kept")
    dropped = make_victim(documenter, incident, name="Dropped")
    workflow.submit(documenter, incident)
    client = web_client_for(reviewer)
    page = client.get(f"/en/review/incidents/{incident.pk}/").content.decode()
    assert f'name="victim_{kept.pk}"' in page and f'name="victim_{dropped.pk}"' in page
    response = client.post(
        f"/en/review/incidents/{incident.pk}/",
        {
            "decision": "approve",
            "comment": "Matches the footage.",
            f"victim_{kept.pk}": "approve",
            f"victim_{dropped.pk}": "reject",
        },
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    kept.refresh_from_db()
    dropped.refresh_from_db()
    assert (incident.status, kept.status, dropped.status) == (Status.VERIFIED, Status.VERIFIED, Status.REJECTED)
    entry = AuditEntry.objects.get(action="incidents.approve", target_id=incident.pk)
    assert (entry.actor, entry.comment) == (reviewer, "Matches the footage.")


def test_request_changes_without_a_comment_is_refused_on_the_field(documenter, reviewer):
    incident = submitted_incident(documenter)
    response = web_client_for(reviewer).post(f"/en/review/incidents/{incident.pk}/", {"decision": "request_changes"})
    assert response.status_code == 400
    assert "A comment is required" in " ".join(response.context["form"].errors["comment"])
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED


def test_a_decision_that_lost_to_a_concurrent_one_is_a_409_page(documenter, reviewer, second_reviewer):
    incident = submitted_incident(documenter)
    client = web_client_for(reviewer)
    assert client.get(f"/en/review/incidents/{incident.pk}/").status_code == 200
    workflow.review(second_reviewer, incident, "reject", "Duplicate of an earlier report.")
    response = client.post(f"/en/review/incidents/{incident.pk}/", {"decision": "approve"})
    assert response.status_code == 409
    assert "Cannot approve a record that is rejected" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == Status.REJECTED
    arabic = client.post(f"/ar/review/incidents/{incident.pk}/", {"decision": "approve"})
    assert arabic.status_code == 409
    assert "غير ممكن في الحالة الحالية للسجل" in arabic.content.decode()


def test_nobody_reviews_their_own_incident(db):
    admin = make_user("chief", "admin")
    incident = submitted_incident(admin)
    client = web_client_for(admin)
    page = client.get(f"/en/review/incidents/{incident.pk}/").content.decode()
    assert "another reviewer must decide it" in page
    response = client.post(f"/en/review/incidents/{incident.pk}/", {"decision": "approve"})
    assert response.status_code == 403
    assert "Nobody reviews their own work" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED


def test_reviewer_reopens_a_verified_incident_with_a_reason(documenter, reviewer):
    incident = submitted_incident(documenter)
    workflow.review(reviewer, incident, "approve")
    client = web_client_for(reviewer)
    refused = client.post(f"/en/review/incidents/{incident.pk}/reopen/", {"reason": ""})
    assert refused.status_code == 400
    response = client.post(f"/en/review/incidents/{incident.pk}/reopen/", {"reason": "New footage contradicts it."})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED


def test_review_page_of_an_unknown_kind_or_hidden_record_is_404(documenter, reviewer):
    draft = make_incident(documenter)
    client = web_client_for(reviewer)
    assert client.get(f"/en/review/incidents/{draft.pk}/").status_code == 404
    assert client.get(f"/en/review/widgets/{draft.pk}/").status_code == 404


def test_victim_review_page_decides_one_victim(documenter, reviewer):
    incident = make_incident(documenter, status=Status.VERIFIED)
    victim = make_victim(documenter, incident)
    workflow.submit(documenter, victim)
    response = web_client_for(reviewer).post(f"/ar/review/victims/{victim.pk}/", {"decision": "approve"})
    assert response.status_code == 302
    victim.refresh_from_db()
    assert victim.status == Status.VERIFIED
    assert Victim.objects.count() == 1


def test_admin_group_member_uses_the_admin_for_vocabularies(db):
    admin = make_user("vocab-admin", "admin")  # not is_staff: the role is enough
    client = web_client_for(admin)
    index = client.get("/ar/admin/")
    assert index.status_code == 200
    assert client.get("/en/admin/incidents/location/").status_code == 200
    assert client.get("/en/admin/incidents/reportingperiod/add/").status_code == 200


def test_documenter_is_kept_out_of_the_admin(documenter):
    response = web_client_for(documenter).get("/en/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_login_form_admits_the_admin_role(db):
    make_user("vocab-admin", "admin")
    response = Client().post(
        "/en/admin/login/?next=/en/admin/",
        {"username": "vocab-admin", "password": "pw-vocab-admin-long-enough", "next": "/en/admin/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/en/admin/"
