"""Every API sign-in (with and without a code, success and failure) and every refused request writes
one audit entry: who, what, outcome, the client's address; never a token, a password or a witness."""

from __future__ import annotations

from django.test import Client
from rest_framework.test import APIClient

from audit.models import AuditEntry
from incidents.models import Status
from tests.accounts.test_second_factor import current_code, enrolled
from tests.conftest import client_for, make_incident, web_client_for


def new_entries(before: int):
    return list(AuditEntry.objects.filter(sequence__gt=before).order_by("sequence"))


def last_sequence() -> int:
    entry = AuditEntry.objects.order_by("-sequence").first()
    return entry.sequence if entry else 0


def test_an_api_sign_in_without_a_code_writes_one_entry(documenter):
    before = last_sequence()
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "documenter", "password": "pw-documenter-long-enough"},
        REMOTE_ADDR="192.0.2.7",
    )
    assert response.status_code == 200
    [entry] = new_entries(before)
    assert (entry.action, entry.actor_id) == ("auth.login", documenter.pk)
    assert entry.details == {
        "via": "api-token",
        "second_factor": False,
        "ip": "192.0.2.7",
        "path": "/api/v1/auth/token/",
    }
    assert response.json()["token"] not in str(entry.details)


def test_an_api_sign_in_with_a_code_writes_one_entry(reviewer):
    device = enrolled(reviewer)
    before = last_sequence()
    response = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "reviewer", "password": "pw-reviewer-long-enough", "otp": current_code(device)},
    )
    assert response.status_code == 200
    [entry] = new_entries(before)
    assert entry.action == "auth.login" and entry.details["second_factor"] is True


def test_a_failed_api_sign_in_writes_one_entry_with_the_address(documenter):
    before = last_sequence()
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "documenter", "password": "wrong"}, REMOTE_ADDR="198.51.100.3"
    )
    assert response.status_code == 400
    [entry] = new_entries(before)
    assert entry.action == "auth.login_failed"
    assert entry.details == {"username": "documenter", "ip": "198.51.100.3", "path": "/api/v1/auth/token/"}
    assert "wrong" not in str(entry.details)


def test_a_wrong_code_at_sign_in_writes_one_entry(reviewer):
    enrolled(reviewer)
    before = last_sequence()
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "reviewer", "password": "pw-reviewer-long-enough", "otp": "12"}
    )
    assert response.status_code == 400
    [entry] = new_entries(before)
    assert entry.action == "auth.otp_failed" and entry.details["via"] == "api-token"


def test_a_record_hidden_from_the_caller_is_a_refusal_on_the_audit_log(documenter, second_documenter):
    draft = make_incident(documenter)
    before = last_sequence()
    response = client_for(second_documenter).get(f"/api/v1/incidents/{draft.pk}/?q=secret")
    assert response.status_code == 404
    [entry] = new_entries(before)
    assert (entry.action, entry.actor_id) == ("access.refused", second_documenter.pk)
    assert entry.details == {
        "status": 404,
        "method": "GET",
        "path": f"/api/v1/incidents/{draft.pk}/",
        "view": "incident-detail",
        "reason": "not_found",
        "ip": "127.0.0.1",
    }


def test_a_refused_action_is_audited_although_its_transaction_rolls_back(documenter):
    incident = make_incident(documenter, status=Status.SUBMITTED)
    before = last_sequence()
    response = client_for(documenter).post(f"/api/v1/incidents/{incident.pk}/review/", {"decision": "approve"})
    assert response.status_code == 403
    [entry] = new_entries(before)
    assert entry.details["status"] == 403 and entry.details["view"] == "incident-review"


def test_a_missing_second_factor_is_audited_with_the_user(reviewer):
    before = last_sequence()
    assert client_for(reviewer, second_factor=False).get("/api/v1/incidents/").status_code == 403
    [entry] = new_entries(before)
    assert entry.actor_id == reviewer.pk and entry.details["reason"] == "second_factor_required"


def test_a_refused_page_is_audited(documenter, second_documenter):
    draft = make_incident(documenter)
    client = web_client_for(second_documenter)
    before = last_sequence()
    assert client.get(f"/en/incidents/{draft.pk}/").status_code == 404
    [entry] = new_entries(before)
    assert entry.details["view"] == "incident-detail" and entry.details["status"] == 404


def test_anonymous_refusals_are_written_once_per_address_per_window(db):
    before = last_sequence()
    client = APIClient()
    for _ in range(20):
        assert client.get("/api/v1/incidents/").status_code == 401
    [entry] = new_entries(before)
    assert entry.actor_id is None and entry.details["reason"] == "not_authenticated"
    assert entry.details["anonymous_refusals_written_once_per_seconds"] == 60
    client.get("/api/v1/incidents/", REMOTE_ADDR="192.0.2.99")
    assert len(new_entries(before)) == 2, "another address gets its own entry"


def test_an_unknown_url_is_not_a_refusal_of_anything(db):
    before = last_sequence()
    assert Client().get("/api/v1/no-such-thing/").status_code == 404
    assert new_entries(before) == []
