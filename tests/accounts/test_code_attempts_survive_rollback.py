"""Second-factor attempts leave a trace that the request's rollback (ATOMIC_REQUESTS) cannot undo:
wrong codes throttle the device and are audited, and a right code is spent once, whatever happens to
the request afterwards. Run on SQLite and on PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework.test import APIClient

from audit.models import AuditEntry
from incidents.models import Incident, Status
from tests.accounts.test_second_factor import current_code, enrolled, sign_in
from tests.conftest import client_for, make_incident

PASSWORD = "pw-reviewer-long-enough"


@pytest.fixture(autouse=True)
def _no_evidence_needed(settings):
    settings.REVIEW_MIN_EVIDENCE = 0


def wrong_code(device: TOTPDevice) -> str:
    return "000000" if current_code(device) != "000000" else "111111"


def test_wrong_codes_in_the_header_of_failing_requests_throttle_the_device_and_are_audited(documenter, reviewer):
    device = enrolled(reviewer)
    incident = make_incident(documenter, status=Status.SUBMITTED)
    client = client_for(reviewer, second_factor=False)
    for _ in range(3):
        url = f"/api/v1/incidents/{incident.pk}/review/"
        response = client.post(url, {"decision": "approve"}, format="json", HTTP_X_OTP=wrong_code(device))
        assert response.status_code == 403  # the request fails, and its transaction rolls back
    failures = AuditEntry.objects.filter(actor=reviewer, action="auth.otp_failed")
    assert failures.count() == 3
    assert {entry.details["via"] for entry in failures} == {"x-otp"}
    assert all(entry.details["ip"] == "127.0.0.1" for entry in failures)
    device.refresh_from_db()
    assert device.throttling_failure_count >= 1
    assert device.verify_is_allowed()[0] is False, "the device is throttled: the next try has to wait"
    assert Incident.objects.get(pk=incident.pk).status == Status.SUBMITTED


@pytest.mark.parametrize(
    ("state", "body", "failure"),
    [
        (Status.SUBMITTED, {"decision": "not-a-decision"}, 400),
        (Status.VERIFIED, {"decision": "approve"}, 409),
    ],
)
def test_a_right_code_sent_with_a_request_that_fails_cannot_be_used_again(documenter, reviewer, state, body, failure):
    device = enrolled(reviewer)
    failing = make_incident(documenter, status=state)
    other = make_incident(documenter, status=Status.SUBMITTED, title="other")
    client = client_for(reviewer, second_factor=False)
    code = current_code(device)
    response = client.post(f"/api/v1/incidents/{failing.pk}/review/", body, format="json", HTTP_X_OTP=code)
    assert response.status_code == failure
    url = f"/api/v1/incidents/{other.pk}/review/"
    replay = client.post(url, {"decision": "approve"}, format="json", HTTP_X_OTP=code)
    assert replay.status_code == 403
    assert Incident.objects.get(pk=other.pk).status == Status.SUBMITTED
    assert Incident.objects.get(pk=failing.pk).status == state


def test_a_right_code_at_token_issue_stays_spent_when_the_request_fails_afterwards(reviewer, monkeypatch):
    device = enrolled(reviewer)
    code = current_code(device)

    def broken_create(*args, **kwargs):
        raise RuntimeError("the token could not be stored")

    with monkeypatch.context() as patched:
        patched.setattr(AuthToken.objects, "create", broken_create)
        client = APIClient()
        client.raise_request_exception = False
        failed = client.post("/api/v1/auth/token/", {"username": "reviewer", "password": PASSWORD, "otp": code})
        assert failed.status_code == 500
    again = APIClient().post("/api/v1/auth/token/", {"username": "reviewer", "password": PASSWORD, "otp": code})
    assert again.status_code == 400 and "otp" in again.json()
    assert AuthToken.objects.count() == 0


def test_wrong_codes_at_token_issue_throttle_the_device_and_are_audited(reviewer):
    device = enrolled(reviewer)
    for _ in range(2):
        response = APIClient().post(
            "/api/v1/auth/token/", {"username": "reviewer", "password": PASSWORD, "otp": wrong_code(device)}
        )
        assert response.status_code == 400
    assert AuditEntry.objects.filter(actor=reviewer, action="auth.otp_failed", details__via="api-token").count() == 2
    device.refresh_from_db()
    assert device.verify_is_allowed()[0] is False
    assert AuthToken.objects.count() == 0


def test_a_right_code_on_the_verify_page_stays_spent_when_the_request_fails_afterwards(reviewer, monkeypatch):
    device = enrolled(reviewer)
    code = current_code(device)
    first = sign_in(reviewer)
    first.raise_request_exception = False

    def broken_login(*args, **kwargs):
        raise RuntimeError("the session could not be stored")

    with monkeypatch.context() as patched:
        patched.setattr("accounts.views.otp_login", broken_login)
        assert first.post("/en/account/two-factor/verify/", {"code": code}).status_code == 500
    second = sign_in(reviewer)
    assert second.post("/en/account/two-factor/verify/", {"code": code}).status_code == 400
    assert second.get("/en/").status_code == 302, "the code was spent by the failed request"


def test_wrong_codes_on_the_verify_page_throttle_the_device_and_are_audited(reviewer):
    device = enrolled(reviewer)
    client: Client = sign_in(reviewer)
    for _ in range(2):
        assert client.post("/en/account/two-factor/verify/", {"code": wrong_code(device)}).status_code == 400
    assert AuditEntry.objects.filter(actor=reviewer, action="auth.otp_failed", details__via="web").count() == 2
    device.refresh_from_db()
    assert device.verify_is_allowed()[0] is False
