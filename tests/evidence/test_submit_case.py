"""Submitting an incident puts the whole case before a reviewer: its victims and its evidence."""

from __future__ import annotations

from evidence.models import MediaItem, Source
from incidents.models import Incident, Victim
from tests.conftest import client_for, make_incident, make_victim
from tests.evidence.conftest import plain_png, upload


def test_submitting_an_incident_through_the_api_submits_its_draft_evidence(documenter, reviewer, settings):
    settings.REVIEW_MIN_EVIDENCE = 1
    incident = make_incident(documenter)
    make_victim(documenter, incident)
    client = client_for(documenter)
    source = client.post(
        "/api/v1/sources/",
        {"incident": incident.pk, "kind": "news_article", "url": "https://example.org/a", "title": "Report"},
        format="json",
    )
    assert source.status_code == 201, source.content
    media = client.post(
        "/api/v1/media/",
        {"incident": incident.pk, "file": upload(plain_png(), "p.png", "image/png")},
        format="multipart",
    )
    assert media.status_code == 201, media.content

    assert client.post(f"/api/v1/incidents/{incident.pk}/submit/").status_code == 200
    assert Source.objects.get().status == "submitted"
    assert MediaItem.objects.get().status == "submitted"
    assert Victim.objects.get().status == "submitted"

    reviewing = client_for(reviewer)
    too_early = reviewing.post(f"/api/v1/incidents/{incident.pk}/review/", {"decision": "approve"})
    assert too_early.status_code == 409
    assert "approve its evidence first" in too_early.json()["detail"]
    assert reviewing.post(f"/api/v1/sources/{source.json()['id']}/review/", {"decision": "approve"}).status_code == 200
    assert reviewing.post(f"/api/v1/incidents/{incident.pk}/review/", {"decision": "approve"}).status_code == 200
    assert Incident.objects.get().status == "verified"
    assert Victim.objects.get().status == "verified"


def test_submitting_an_incident_leaves_other_authors_evidence_alone(documenter, second_documenter):
    incident = make_incident(documenter, status="verified")
    theirs = client_for(second_documenter).post(
        "/api/v1/sources/",
        {"incident": incident.pk, "kind": "web_page", "url": "https://example.org/b", "title": "Theirs"},
        format="json",
    )
    assert theirs.status_code == 201, theirs.content
    assert Source.objects.get().status == "draft"
