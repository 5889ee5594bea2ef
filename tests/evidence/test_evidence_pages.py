"""The evidence pages: testimony with a protected witness identity, uploads, and what reviewers see."""

from __future__ import annotations

import pytest
from django.test import Client

from evidence import models as evidence_models
from evidence.models import MediaItem, Witness
from incidents.models import Status
from tests.conftest import make_incident, web_client_for
from tests.evidence.conftest import CANARY_CONTACT, CANARY_NAME, jpeg_with_everything, upload

pytestmark = pytest.mark.django_db


def filled_testimony_form(**overrides) -> dict:
    fields = {
        "witness": "",
        "witness_name": CANARY_NAME,
        "witness_contact": CANARY_CONTACT,
        "witness_notes": "",
        "taken_on": "2020-01-16",
        "language": "ar",
        "statement": "رأيت الطائرة تقصف السوق.",
        "consent_to_publish": "",
    }
    fields.update(overrides)
    return fields


def test_documenter_records_testimony_registering_a_protected_witness(documenter):
    incident = make_incident(documenter)
    client = web_client_for(documenter)
    form = client.get(f"/en/incidents/{incident.pk}/testimony/").content.decode()
    assert "protected identity" in form
    response = client.post(f"/en/incidents/{incident.pk}/testimony/", filled_testimony_form())
    assert response.status_code == 302
    testimony = evidence_models.Testimony.objects.get()
    witness = Witness.objects.get()
    assert (testimony.witness, testimony.incident, testimony.created_by) == (witness, incident, documenter)
    page = client.get(f"/ar/incidents/{incident.pk}/", follow=True).content.decode()
    assert witness.code in page
    assert CANARY_NAME not in page and CANARY_CONTACT not in page
    assert CANARY_NAME not in client.get("/en/").content.decode()


def test_testimony_needs_a_witness_and_saves_nothing_when_invalid(documenter):
    incident = make_incident(documenter)
    client = web_client_for(documenter)
    no_witness = client.post(f"/en/incidents/{incident.pk}/testimony/", filled_testimony_form(witness_name=""))
    assert no_witness.status_code == 400
    assert "Choose a witness" in " ".join(no_witness.context["form"].errors["witness"])
    bad_language = client.post(
        f"/en/incidents/{incident.pk}/testimony/", filled_testimony_form(language="xx-not-offered")
    )
    assert bad_language.status_code == 400
    assert "language" in bad_language.context["form"].errors
    future = client.post(f"/en/incidents/{incident.pk}/testimony/", filled_testimony_form(taken_on="2999-01-01"))
    assert future.status_code == 400
    assert not evidence_models.Testimony.objects.exists()
    assert not Witness.objects.exists()


def test_testimony_cannot_be_added_to_a_submitted_incident(documenter):
    incident = make_incident(documenter, status=Status.SUBMITTED)
    response = web_client_for(documenter).post(f"/en/incidents/{incident.pk}/testimony/", filled_testimony_form())
    assert response.status_code == 403
    assert "Evidence can be added only" in response.content.decode()
    assert not Witness.objects.exists()


def test_a_source_cannot_be_added_to_a_submitted_incident(documenter):
    incident = make_incident(documenter, status=Status.SUBMITTED)
    client = web_client_for(documenter)
    for response in (
        client.get(f"/en/incidents/{incident.pk}/sources/new/"),
        client.post(f"/en/incidents/{incident.pk}/sources/new/", {"url": "https://example.org/report"}),
    ):
        assert response.status_code == 403
        assert "Evidence can be added only" in response.content.decode()
    assert not evidence_models.Source.objects.exists()
    # Once it is verified, sources may be added to it.
    incident.status = Status.VERIFIED
    incident.save(update_fields=["status"])
    assert client.get(f"/en/incidents/{incident.pk}/sources/new/").status_code == 200


def test_page_upload_seals_the_file_and_shows_its_thumbnail(documenter, media_root, django_capture_on_commit_callbacks):
    incident = make_incident(documenter)
    client = web_client_for(documenter)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/en/incidents/{incident.pk}/media/", {"file": upload(jpeg_with_everything()), "description": "Market"}
        )
    assert response.status_code == 302
    item = MediaItem.objects.get()
    assert (item.incident, item.created_by, item.description) == (incident, documenter, "Market")
    page = client.get(f"/en/incidents/{incident.pk}/").content.decode()
    assert f"/api/v1/media/{item.pk}/redacted/?thumbnail=1" in page
    assert "GPS position" not in page  # metadata is for reviewers


def test_page_upload_of_a_disguised_html_file_is_a_415_page(documenter, media_root):
    incident = make_incident(documenter)
    response = web_client_for(documenter).post(
        f"/ar/incidents/{incident.pk}/media/",
        {"file": upload(b"<html><script>alert(1)</script></html>", name="photo.jpg")},
    )
    assert response.status_code == 415
    assert 'dir="rtl"' in response.content.decode()
    assert not MediaItem.objects.exists()


def test_page_upload_refuses_a_missing_csrf_token(documenter, media_root):
    incident = make_incident(documenter)
    client = Client(enforce_csrf_checks=True)
    client.force_login(documenter)
    response = client.post(f"/en/incidents/{incident.pk}/media/", {"file": upload(jpeg_with_everything())})
    assert response.status_code == 403
    assert not MediaItem.objects.exists()


def test_reviewer_sees_the_gps_position_on_a_small_map(
    documenter, reviewer, media_root, django_capture_on_commit_callbacks
):
    incident = make_incident(documenter)
    with django_capture_on_commit_callbacks(execute=True):
        web_client_for(documenter).post(f"/en/incidents/{incident.pk}/media/", {"file": upload(jpeg_with_everything())})
    assert web_client_for(documenter).post(f"/en/incidents/{incident.pk}/submit/").status_code == 302
    assert MediaItem.objects.get().status == Status.SUBMITTED  # the page's submit takes the evidence along
    page = web_client_for(reviewer).get(f"/en/review/incidents/{incident.pk}/").content.decode()
    assert "GPS position recorded in the file" in page
    assert "35.93" in page  # 35° 55′ 50″ N
    assert 'class="gps-point"' in page
