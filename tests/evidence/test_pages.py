"""The evidence page of an incident, in English and Arabic; witnesses by code only; text escaped."""

from __future__ import annotations

import pytest
from django.test import Client

from evidence import services
from evidence.models import DerivativeStatus, MediaItem
from incidents.models import Incident, Status
from tests.conftest import client_for, make_user, web_client_for
from tests.evidence.conftest import CANARY_NAME, jpeg_with_everything, upload


def page_client(user) -> Client:
    # Signed in as after the second factor (reviewers and admins verify a TOTP code on pages).
    return web_client_for(user)


@pytest.fixture
def evidence(documenter, incident, django_capture_on_commit_callbacks):
    witness = services.register_witness(author=documenter, name=CANARY_NAME)
    testimony = services.create_testimony(
        author=documenter,
        incident=incident,
        witness=witness,
        taken_on="2020-01-16",
        language="ar",
        statement="<script>alert('x')</script> رأيت الطائرة",
    )
    source = services.create_source(
        author=documenter, incident=incident, title="Council statement", url="https://example.org/statement"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(documenter).post(
            "/api/v1/media/", {"file": upload(jpeg_with_everything()), "incident": incident.pk}, format="multipart"
        )
    item = MediaItem.objects.get(pk=response.json()["id"])
    return {"witness": witness, "testimony": testimony, "source": source, "item": item}


@pytest.mark.parametrize(("prefix", "direction", "heading"), [("en", "ltr", "Evidence"), ("ar", "rtl", "الأدلة")])
def test_documenter_sees_the_evidence_of_their_incident(documenter, incident, evidence, prefix, direction, heading):
    response = page_client(documenter).get(f"/{prefix}/evidence/incidents/{incident.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'dir="{direction}"' in html and heading in html
    assert evidence["witness"].code in html
    assert CANARY_NAME not in html, "identity is read only through the audited API"
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "رأيت الطائرة" in html
    assert 'href="https://example.org/statement" rel="noopener noreferrer nofollow"' in html
    assert f"/api/v1/media/{evidence['item'].pk}/redacted/?thumbnail=1" in html
    assert f"/api/v1/media/{evidence['item'].pk}/original/" in html
    assert response["Cache-Control"] == "private, no-store"


def test_reviewer_sees_a_failed_working_copy_and_no_one_elses_drafts(reviewer, documenter, incident, evidence):
    MediaItem.objects.filter(pk=evidence["item"].pk).update(
        status=Status.SUBMITTED,
        derivative_status=DerivativeStatus.FAILED,
        derivative_note="working copy failed: MemoryError",
    )
    Incident.objects.filter(pk=incident.pk).update(status=Status.SUBMITTED)
    html = page_client(reviewer).get(f"/en/evidence/incidents/{incident.pk}/").content.decode()
    assert "working copy failed: MemoryError" in html
    assert "Council statement" not in html, "the source is still the documenter's draft"
    assert evidence["witness"].code not in html, "so is the testimony"
    assert f"/api/v1/media/{evidence['item'].pk}/original/" in html


def test_hidden_incidents_are_404_and_visitors_without_a_role_are_refused(second_documenter, incident, evidence):
    assert page_client(second_documenter).get(f"/en/evidence/incidents/{incident.pk}/").status_code == 404
    assert page_client(make_user("nobody")).get(f"/en/evidence/incidents/{incident.pk}/").status_code == 403
    anonymous = Client().get(f"/en/evidence/incidents/{incident.pk}/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_documenter_of_a_verified_incident_gets_no_original_link(second_documenter, incident, evidence):
    Incident.objects.filter(pk=incident.pk).update(status=Status.VERIFIED)
    MediaItem.objects.filter(pk=evidence["item"].pk).update(status=Status.VERIFIED)
    html = page_client(second_documenter).get(f"/en/evidence/incidents/{incident.pk}/").content.decode()
    assert f"/api/v1/media/{evidence['item'].pk}/redacted/" in html
    assert f"/api/v1/media/{evidence['item'].pk}/original/" not in html
