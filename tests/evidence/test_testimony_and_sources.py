"""Testimony and documented sources: who records them, what is refused, review, and the evidence count."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from evidence import models as evidence_models
from evidence import services
from evidence.models import MediaItem, Source
from incidents.models import Incident, Status
from tests.conftest import client_for, make_incident
from tests.evidence.conftest import jpeg_with_everything, upload


@pytest.fixture
def witness(documenter):
    return services.register_witness(author=documenter, name="Witness One")


def statement_payload(incident, witness, **overrides):
    payload = {
        "incident": incident.pk,
        "witness": witness.pk,
        "taken_on": "2020-01-16",
        "language": "ar",
        "statement": "سمعتُ صوت الطائرة ثم الانفجار.\nThen the second strike.",
        "consent_to_publish": False,
    }
    payload.update(overrides)
    return payload


def source_payload(incident, **overrides):
    payload = {
        "incident": incident.pk,
        "kind": "web_page",
        "url": "https://example.org/report",
        "archive_url": "https://archive.example.org/web/2020/https://example.org/report",
        "title": "Local council statement",
        "published_on": "2020-01-17",
        "note": "Lists the names of the dead.",
    }
    payload.update(overrides)
    return payload


def test_documenter_records_testimony_with_the_interviewer_set_by_the_server(documenter, incident, witness):
    response = client_for(documenter).post("/api/v1/testimonies/", statement_payload(incident, witness), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft" and body["interviewer"] == documenter.pk
    assert body["witness"] == witness.pk and body["witness_code"] == witness.code
    assert body["statement"] == statement_payload(incident, witness)["statement"], "Arabic round-trips byte-identical"
    assert "name" not in body


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("taken_on", "2023-02-30"),
        ("taken_on", "2999-01-01"),
        ("taken_on", "1800-01-01"),
        ("language", "Arabic; DROP TABLE"),
        ("language", ""),
        ("statement", "forged\u202eline"),
        ("statement", "nul\x00byte"),
        ("consent_to_publish", "perhaps"),
    ],
)
def test_bad_testimony_values_are_400_with_a_field_message(documenter, incident, witness, field, value):
    response = client_for(documenter).post(
        "/api/v1/testimonies/", statement_payload(incident, witness, **{field: value}), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not evidence_models.Testimony.objects.exists()


def test_script_in_a_statement_is_stored_verbatim(documenter, incident, witness):
    statement = "<script>alert('x')</script> & \"quotes\""
    response = client_for(documenter).post(
        "/api/v1/testimonies/", statement_payload(incident, witness, statement=statement), format="json"
    )
    assert response.status_code == 201
    assert evidence_models.Testimony.objects.get().statement == statement


def test_testimony_cannot_name_another_documenters_witness_or_hidden_incident(
    documenter, second_documenter, incident, witness
):
    other_incident = make_incident(second_documenter)
    client = client_for(second_documenter)
    response = client.post("/api/v1/testimonies/", statement_payload(other_incident, witness), format="json")
    assert response.status_code == 400 and "witness" in response.json()
    own_witness = services.register_witness(author=second_documenter, name="Two")
    response = client.post("/api/v1/testimonies/", statement_payload(incident, own_witness), format="json")
    assert response.status_code == 400 and "incident" in response.json()
    assert not evidence_models.Testimony.objects.exists()


def test_testimony_on_someone_elses_submitted_incident_is_refused(documenter, second_documenter, witness):
    other = make_incident(second_documenter, status=Status.SUBMITTED)
    assert Incident.objects.visible_to(documenter).filter(pk=other.pk).count() == 0
    response = client_for(documenter).post("/api/v1/testimonies/", statement_payload(other, witness), format="json")
    assert response.status_code == 400


def test_testimony_may_be_added_to_a_verified_incident(documenter, second_documenter):
    verified = make_incident(second_documenter, status=Status.VERIFIED)
    own_witness = services.register_witness(author=documenter, name="W")
    response = client_for(documenter).post(
        "/api/v1/testimonies/", statement_payload(verified, own_witness), format="json"
    )
    assert response.status_code == 201


def test_reviewer_cannot_record_testimony(reviewer, incident, witness):
    Incident.objects.filter(pk=incident.pk).update(status=Status.VERIFIED)
    response = client_for(reviewer).post("/api/v1/testimonies/", statement_payload(incident, witness), format="json")
    assert response.status_code == 403


def test_only_the_author_edits_testimony_and_only_while_editable(documenter, second_documenter, incident, witness):
    testimony = services.create_testimony(
        author=documenter, incident=incident, witness=witness, taken_on="2020-01-16", language="en", statement="x"
    )
    url = f"/api/v1/testimonies/{testimony.pk}/"
    assert client_for(second_documenter).patch(url, {"statement": "y"}, format="json").status_code == 404
    assert client_for(documenter).patch(url, {"statement": "y"}, format="json").status_code == 200
    evidence_models.Testimony.objects.filter(pk=testimony.pk).update(status=Status.SUBMITTED)
    assert client_for(documenter).patch(url, {"statement": "z"}, format="json").status_code == 409
    assert client_for(documenter).delete(url).status_code == 409
    testimony.refresh_from_db()
    assert testimony.statement == "y" and testimony.version == 2


def test_testimony_goes_through_review_with_four_eyes(documenter, reviewer, incident, witness):
    testimony = services.create_testimony(
        author=documenter, incident=incident, witness=witness, taken_on="2020-01-16", language="en", statement="x"
    )
    url = f"/api/v1/testimonies/{testimony.pk}/"
    assert client_for(reviewer).post(f"{url}review/", {"decision": "approve"}, format="json").status_code == 404
    Incident.objects.filter(pk=incident.pk).update(status=Status.SUBMITTED)
    assert client_for(documenter).post(f"{url}submit/").status_code == 200
    assert client_for(documenter).post(f"{url}review/", {"decision": "approve"}, format="json").status_code == 403
    response = client_for(reviewer).post(f"{url}review/", {"decision": "approve", "comment": "ok"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "verified"
    assert client_for(reviewer).post(f"{url}review/", {"decision": "approve"}, format="json").status_code == 409
    history = client_for(reviewer).get(f"{url}history/").json()
    assert [entry["action"] for entry in history] == ["testimony.created", "testimonies.submit", "testimonies.approve"]


def test_media_goes_through_review(documenter, reviewer, incident):
    response = client_for(documenter).post(
        "/api/v1/media/", {"file": upload(jpeg_with_everything()), "incident": incident.pk}, format="multipart"
    )
    url = f"/api/v1/media/{response.json()['id']}/"
    Incident.objects.filter(pk=incident.pk).update(status=Status.SUBMITTED)
    assert client_for(documenter).post(f"{url}submit/").json()["status"] == "submitted"
    decision = client_for(reviewer).post(
        f"{url}review/", {"decision": "request_changes", "comment": "Blurred faces needed"}, format="json"
    )
    assert decision.status_code == 200 and decision.json()["status"] == "changes_requested"


def test_sources_accept_http_urls_only(documenter, incident):
    client = client_for(documenter)
    for bad in ("javascript:alert(1)", "ftp://example.org/x", "file:///etc/passwd", "data:text/html,hi"):
        response = client.post("/api/v1/sources/", source_payload(incident, url=bad), format="json")
        assert response.status_code == 400 and "url" in response.json(), bad
        response = client.post("/api/v1/sources/", source_payload(incident, archive_url=bad), format="json")
        assert response.status_code == 400 and "archive_url" in response.json(), bad
    assert not Source.objects.exists()
    response = client.post("/api/v1/sources/", source_payload(incident), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "draft"


def test_a_published_report_needs_no_url(documenter, incident):
    response = client_for(documenter).post(
        "/api/v1/sources/",
        source_payload(incident, kind="published_report", url="", archive_url="", title="SNHR monthly report"),
        format="json",
    )
    assert response.status_code == 201


def test_a_source_naming_nowhere_is_refused_when_created_and_when_edited(documenter, incident):
    # The API requires a title; the service (which the pages and imports call too) holds the rule itself.
    with pytest.raises(ValidationError) as refused:
        services.create_source(author=documenter, incident=incident, kind="web_page", note="No link kept")
    assert "url" in refused.value.message_dict
    assert not Source.objects.exists()
    source = services.create_source(author=documenter, incident=incident, url="https://example.org/report")
    with pytest.raises(ValidationError) as refused:
        services.update_source(actor=documenter, source=source, url="")
    assert "url" in refused.value.message_dict
    source.refresh_from_db()
    assert source.url == "https://example.org/report"
    assert services.update_source(actor=documenter, source=source, url="", title="SNHR report").title == "SNHR report"


def test_sources_follow_the_visibility_rule(documenter, second_documenter, reviewer, incident):
    source = services.create_source(author=documenter, incident=incident, title="Draft source", url="https://a.example")
    assert client_for(second_documenter).get(f"/api/v1/sources/{source.pk}/").status_code == 404
    assert client_for(reviewer).get(f"/api/v1/sources/{source.pk}/").status_code == 404  # someone else's draft
    Source.objects.filter(pk=source.pk).update(status=Status.SUBMITTED)
    Incident.objects.filter(pk=incident.pk).update(status=Status.SUBMITTED)
    assert client_for(reviewer).get(f"/api/v1/sources/{source.pk}/").status_code == 200
    assert client_for(second_documenter).get("/api/v1/sources/").json()["results"] == []


def test_approved_evidence_lets_an_incident_be_approved(settings, documenter, reviewer, incident, witness):
    settings.REVIEW_MIN_EVIDENCE = 2
    testimony = services.create_testimony(
        author=documenter, incident=incident, witness=witness, taken_on="2020-01-16", language="en", statement="x"
    )
    source = services.create_source(author=documenter, incident=incident, title="Report", url="https://a.example")
    response = client_for(documenter).post(
        "/api/v1/media/", {"file": upload(jpeg_with_everything()), "incident": incident.pk}, format="multipart"
    )
    item = MediaItem.objects.get(pk=response.json()["id"])
    Incident.objects.filter(pk=incident.pk).update(status=Status.SUBMITTED)
    url = f"/api/v1/incidents/{incident.pk}/review/"
    assert client_for(reviewer).post(url, {"decision": "approve"}, format="json").status_code == 409
    # Drafts and rejected items do not count; verified ones do, of every sort.
    evidence_models.Testimony.objects.filter(pk=testimony.pk).update(status=Status.VERIFIED)
    Source.objects.filter(pk=source.pk).update(status=Status.REJECTED)
    assert services.approved_evidence_count(incident) == 1
    assert client_for(reviewer).post(url, {"decision": "approve"}, format="json").status_code == 409
    MediaItem.objects.filter(pk=item.pk).update(status=Status.VERIFIED)
    assert services.approved_evidence_count(incident) == 2
    response = client_for(reviewer).post(url, {"decision": "approve"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "verified"
    other = make_incident(documenter)
    assert services.approved_evidence_count(other) == 0


@pytest.mark.parametrize(
    ("actor", "create", "list_count", "detail", "update"),
    [
        ("documenter", 201, 1, 200, 200),
        ("second_documenter", 400, 0, 404, 404),
        ("reviewer", 403, 0, 404, 403),
        ("admin_user", 400, 0, 404, 404),
        ("outsider", 403, None, 403, 403),
        ("anonymous", 401, None, 401, 401),
    ],
)
@pytest.mark.parametrize("kind", ["testimonies", "sources"])
def test_access_per_role_to_draft_evidence(
    request, documenter, incident, witness, actor, create, list_count, detail, update, kind
):
    """The documenter's draft incident: only they may add to it, and their drafts are theirs alone."""
    user = None if actor == "anonymous" else request.getfixturevalue(actor)
    if kind == "testimonies":
        record = services.create_testimony(
            author=documenter, incident=incident, witness=witness, taken_on="2020-01-16", language="en", statement="x"
        )
        payload, change = statement_payload(incident, witness), {"statement": "changed"}
    else:
        record = services.create_source(author=documenter, incident=incident, title="Report", url="https://a.example")
        payload, change = source_payload(incident), {"title": "changed"}
    client = client_for(user)
    assert client.post(f"/api/v1/{kind}/", payload, format="json").status_code == create
    listed = client.get(f"/api/v1/{kind}/")
    if list_count is None:  # no role: not signed in (401) or signed in without one (403)
        assert listed.status_code == (401 if actor == "anonymous" else 403)
    else:
        assert listed.json()["count"] == list_count + (1 if create == 201 else 0)
    assert client.get(f"/api/v1/{kind}/{record.pk}/").status_code == detail
    assert client.patch(f"/api/v1/{kind}/{record.pk}/", change, format="json").status_code == update


def test_clients_cannot_set_server_owned_testimony_fields(documenter, incident, witness, second_documenter):
    response = client_for(documenter).post(
        "/api/v1/testimonies/",
        statement_payload(
            incident, witness, status="verified", created_by=second_documenter.pk, interviewer=second_documenter.pk
        ),
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "draft" and body["created_by"] == documenter.pk and body["interviewer"] == documenter.pk
