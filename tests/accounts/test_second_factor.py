"""Reviewers and admins need a TOTP second factor: on pages, and for review/reopen on the API."""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework.test import APIClient

from audit.models import AuditEntry
from incidents.models import Incident, Status
from tests.conftest import client_for, make_incident

PASSWORD = "pw-{}-long-enough"


@pytest.fixture(autouse=True)
def _no_evidence_needed(settings):
    settings.REVIEW_MIN_EVIDENCE = 0


def current_code(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


def sign_in(user) -> Client:
    client = Client()
    response = client.post(
        "/en/accounts/login/", {"username": user.username, "password": PASSWORD.format(user.username)}
    )
    assert response.status_code == 302
    return client


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def test_reviewer_signing_in_is_sent_to_enrol_before_any_page(reviewer):
    client = sign_in(reviewer)
    response = client.get("/en/")
    assert response.status_code == 302
    assert response["Location"].startswith("/en/account/two-factor/enrol/")


def test_documenter_needs_no_second_factor(documenter):
    assert sign_in(documenter).get("/en/").status_code == 200


def test_enrolment_shows_a_qr_code_and_key_and_a_valid_code_confirms_the_device(reviewer):
    from tests.accounts.test_enrolment_links import issue

    client = sign_in(reviewer)
    assert client.get(issue("reviewer")).status_code == 302  # an admin's one-time enrolment link
    page = client.get("/en/account/two-factor/enrol/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in html
    device = TOTPDevice.objects.get(user=reviewer, confirmed=False)
    key = re.search(r'<code dir="ltr">([A-Z2-7=]+)</code>', html).group(1)
    assert len(key) >= 32
    wrong = client.post(
        "/en/account/two-factor/enrol/", {"code": "000000" if current_code(device) != "000000" else "111111"}
    )
    assert wrong.status_code == 400
    assert not TOTPDevice.objects.filter(user=reviewer, confirmed=True).exists()
    time.sleep(1.1)  # django-otp throttles: after a wrong code the next try waits a second
    session_before = client.cookies["sessionid"].value
    confirmed = client.post("/en/account/two-factor/enrol/", {"code": current_code(device)})
    assert confirmed.status_code == 302
    assert TOTPDevice.objects.filter(user=reviewer, confirmed=True).count() == 1
    assert client.cookies["sessionid"].value != session_before, "the session rotates once verified"
    assert client.get("/en/").status_code == 200
    assert AuditEntry.objects.filter(actor=reviewer, action="auth.otp_enrolled").count() == 1


def test_enrolled_admin_must_verify_a_code_after_the_password(admin_user):
    device = enrolled(admin_user)
    client = sign_in(admin_user)
    assert client.get("/en/admin/").status_code == 302
    assert client.get("/en/").headers["Location"].startswith("/en/account/two-factor/verify/")
    response = client.post("/en/account/two-factor/verify/?next=/en/admin/", {"code": current_code(device)})
    assert response.status_code == 302 and response["Location"] == "/en/admin/"
    assert client.get("/en/admin/").status_code == 200


def test_a_code_cannot_be_used_twice(reviewer):
    device = enrolled(reviewer)
    code = current_code(device)
    first = sign_in(reviewer)
    assert first.post("/en/account/two-factor/verify/", {"code": code}).status_code == 302
    second = sign_in(reviewer)
    replay = second.post("/en/account/two-factor/verify/", {"code": code})
    assert replay.status_code == 400
    assert second.get("/en/").status_code == 302, "the replayed code did not sign the second session in"
    assert AuditEntry.objects.filter(actor=reviewer, action="auth.otp_failed").count() == 1


def test_next_parameter_cannot_send_the_user_elsewhere(reviewer):
    device = enrolled(reviewer)
    client = sign_in(reviewer)
    response = client.post("/en/account/two-factor/verify/?next=https://evil.example/", {"code": current_code(device)})
    assert response.status_code == 302
    assert response["Location"] == "/en/"


# --- API ---------------------------------------------------------------------------------------


def test_api_review_without_a_second_factor_is_refused(documenter, reviewer):
    incident = make_incident(documenter, status=Status.SUBMITTED)
    response = client_for(reviewer, second_factor=False).post(
        f"/api/v1/incidents/{incident.pk}/review/", {"decision": "approve"}, format="json"
    )
    assert response.status_code == 403
    assert "second factor" in response.json()["detail"]
    assert Incident.objects.get(pk=incident.pk).status == Status.SUBMITTED


def test_api_review_with_a_fresh_code_in_the_header_and_the_code_refused_the_second_time(documenter, reviewer):
    device = enrolled(reviewer)
    first = make_incident(documenter, status=Status.SUBMITTED)
    second = make_incident(documenter, status=Status.SUBMITTED, title="second")
    client = client_for(reviewer, second_factor=False)
    code = current_code(device)
    ok = client.post(f"/api/v1/incidents/{first.pk}/review/", {"decision": "approve"}, format="json", HTTP_X_OTP=code)
    assert ok.status_code == 200
    replay = client.post(
        f"/api/v1/incidents/{second.pk}/review/", {"decision": "approve"}, format="json", HTTP_X_OTP=code
    )
    assert replay.status_code == 403
    assert Incident.objects.get(pk=second.pk).status == Status.SUBMITTED


def test_token_obtained_with_a_code_may_review_and_one_without_may_not(documenter, reviewer):
    device = enrolled(reviewer)
    incident = make_incident(documenter, status=Status.SUBMITTED)
    plain = APIClient().post("/api/v1/auth/token/", {"username": "reviewer", "password": PASSWORD.format("reviewer")})
    assert plain.status_code == 200 and plain.json()["second_factor"] is False
    strong = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "reviewer", "password": PASSWORD.format("reviewer"), "otp": current_code(device)},
    )
    assert strong.status_code == 200 and strong.json()["second_factor"] is True
    weak_client, strong_client = APIClient(), APIClient()
    weak_client.credentials(HTTP_AUTHORIZATION=f"Token {plain.json()['token']}")
    strong_client.credentials(HTTP_AUTHORIZATION=f"Token {strong.json()['token']}")
    url = f"/api/v1/incidents/{incident.pk}/review/"
    assert weak_client.post(url, {"decision": "approve"}, format="json").status_code == 403
    assert strong_client.post(url, {"decision": "approve"}, format="json").status_code == 200


def test_token_request_with_a_wrong_code_gets_no_token(reviewer):
    enrolled(reviewer)
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "reviewer", "password": PASSWORD.format("reviewer"), "otp": "12345x"}
    )
    assert response.status_code == 400
    assert "otp" in response.json()
    assert AuthToken.objects.count() == 0


def test_session_verified_on_the_web_may_review_through_the_api(documenter, reviewer):
    device = enrolled(reviewer)
    incident = make_incident(documenter, status=Status.SUBMITTED)
    client = sign_in(reviewer)
    client.post("/en/account/two-factor/verify/", {"code": current_code(device)})
    csrf = client.get("/en/").cookies  # any page sets the CSRF cookie for the next POST
    del csrf
    response = client.post(
        f"/api/v1/incidents/{incident.pk}/review/", {"decision": "approve"}, content_type="application/json"
    )
    # Session authentication enforces CSRF; the test client skips CSRF checks by default.
    assert response.status_code == 200


def test_schema_documents_the_second_factor(db):
    import yaml

    schema = yaml.safe_load(Client().get("/api/v1/schema/").content)
    review = schema["paths"]["/api/v1/incidents/{id}/review/"]["post"]
    assert any(p["name"] == "X-OTP" and p["in"] == "header" for p in review["parameters"])
    token_request = schema["components"]["schemas"]["TokenRequestRequest"]["properties"]
    assert "otp" in token_request
