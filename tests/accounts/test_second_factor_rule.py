"""Without a verified second factor, a reviewer, an admin or a holder of the witness-identity permission
can do nothing on the API but obtain a token with a code (or sign out); documenters are unaffected.
(The whole surface, role by role, with and without the second factor: tests/security/authz_table.py.)"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from knox.models import AuthToken

from counts.models import CountSnapshot
from evidence import services as evidence
from incidents.models import Location, Perpetrator, Status
from tests.accounts.test_second_factor import current_code, enrolled, sign_in
from tests.conftest import client_for, make_incident


@pytest.fixture(autouse=True)
def _witness_keys(settings):
    from tests.evidence.conftest import KEY_A

    settings.WITNESS_KEYS = {"k1": KEY_A}
    settings.WITNESS_KEY_ID = "k1"


def test_a_reviewer_token_without_a_code_reads_nothing(documenter, reviewer):
    make_incident(documenter, status=Status.SUBMITTED)
    response = client_for(reviewer, second_factor=False).get("/api/v1/incidents/")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Your account needs a second factor")


def test_an_admin_token_without_a_code_writes_no_places_and_starts_no_counts(admin_user):
    client = client_for(admin_user, second_factor=False)
    places = Location.objects.count()
    place = client.post("/api/v1/locations/", {"name": "New", "name_ar": "جديد", "level": "country"}, format="json")
    count = client.post("/api/v1/counts/", {"date_from": "2020-01-01", "date_to": "2020-12-31"}, format="json")
    assert (place.status_code, count.status_code) == (403, 403)
    assert Location.objects.count() == places
    assert CountSnapshot.objects.count() == 0


def test_an_identity_holder_without_a_code_reads_no_witness(documenter):
    documenter.user_permissions.add(Permission.objects.get(codename="view_witness_identity"))
    evidence.register_witness(author=documenter, name="Canary Witness", contact="+963 000")
    response = client_for(documenter, second_factor=False).get("/api/v1/witnesses/")
    assert response.status_code == 403
    assert b"Canary" not in response.content


def test_a_password_only_browser_session_is_refused_on_the_api(documenter, reviewer):
    enrolled(reviewer)
    make_incident(documenter, status=Status.SUBMITTED)
    client = sign_in(reviewer)  # the password, but no code yet
    assert client.get("/api/v1/incidents/").status_code == 403
    assert client.get("/api/v1/public/counts/").status_code == 403


def test_a_reviewer_with_no_device_at_all_is_refused(documenter, reviewer):
    response = client_for(reviewer, second_factor=False).get("/api/v1/victims/")
    assert response.status_code == 403
    assert sign_in(reviewer).get("/api/v1/victims/").status_code == 403


def test_a_token_without_a_code_can_still_sign_out(reviewer):
    client = client_for(reviewer, second_factor=False)
    assert client.post("/api/v1/auth/logout/").status_code == 204
    assert AuthToken.objects.count() == 0


def test_a_fresh_code_in_the_header_verifies_one_request(documenter, reviewer):
    device = enrolled(reviewer)
    make_incident(documenter, status=Status.SUBMITTED)
    client = client_for(reviewer, second_factor=False)
    assert client.get("/api/v1/incidents/", HTTP_X_OTP=current_code(device)).status_code == 200
    assert client.get("/api/v1/incidents/").status_code == 403, "the next request needs its own code"


def test_a_verified_browser_session_and_a_token_with_a_code_are_let_through(documenter, reviewer):
    device = enrolled(reviewer)
    client = sign_in(reviewer)
    assert client.post("/en/account/two-factor/verify/", {"code": current_code(device)}).status_code == 302
    assert client.get("/api/v1/incidents/").status_code == 200
    assert client_for(reviewer).get("/api/v1/incidents/").status_code == 200


def test_documenters_without_a_second_factor_are_unaffected(documenter):
    client = client_for(documenter, second_factor=False)
    assert client.get("/api/v1/incidents/").status_code == 200
    created = client.post(
        "/api/v1/incidents/",
        {
            "title": "Shelling",
            "description": "Shells hit the square.",
            "occurred_on": "2020-01-15",
            "location": Location.objects.get(name="Idlib").pk,
            "perpetrator": Perpetrator.objects.get(name="Syrian regime forces").pk,
            "weapon": "artillery",
            "injured_count": 0,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
