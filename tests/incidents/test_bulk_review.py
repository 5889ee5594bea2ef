"""Bulk review (POST /api/v1/review/bulk/) and an incident's review deciding its evidence in one step."""

from __future__ import annotations

import datetime as dt

import pytest

from audit.models import AuditEntry
from evidence import services as evidence
from evidence.models import Source
from evidence.models import Testimony as TestimonyModel
from incidents.models import Incident, Status, Victim
from tests.conftest import client_for, make_incident, make_victim

BULK = "/api/v1/review/bulk/"


@pytest.fixture(autouse=True)
def _witness_keys(settings):
    from tests.evidence.conftest import KEY_A

    settings.WITNESS_KEYS = {"k1": KEY_A}
    settings.WITNESS_KEY_ID = "k1"
    settings.REVIEW_MIN_EVIDENCE = 1


def submitted_source(author, incident, title="Report") -> Source:
    source = evidence.create_source(author=author, incident=incident, url="https://example.org/r", title=title)
    Source.objects.filter(pk=source.pk).update(status=Status.SUBMITTED)
    source.refresh_from_db()
    return source


def submitted_testimony(author, incident) -> TestimonyModel:
    witness = evidence.register_witness(author=author, name="Witness One")
    testimony = evidence.create_testimony(
        author=author, incident=incident, witness=witness, taken_on=dt.date(2020, 1, 16), language="ar", statement="x"
    )
    TestimonyModel.objects.filter(pk=testimony.pk).update(status=Status.SUBMITTED)
    return testimony


def submit_incident(incident) -> None:
    """Arrange: the incident is under review (its evidence is visible to reviewers only then)."""
    Incident.objects.filter(pk=incident.pk).update(status=Status.SUBMITTED)
    incident.refresh_from_db()


def case(author):
    """A draft incident with a source, a victim and a testimony, all submitted."""
    incident = make_incident(author)
    source = submitted_source(author, incident)
    testimony = submitted_testimony(author, incident)
    victim = make_victim(author, incident, status=Status.SUBMITTED)
    Incident.objects.filter(pk=incident.pk).update(status=Status.SUBMITTED)
    incident.refresh_from_db()
    return incident, source, testimony, victim


def test_bulk_approval_decides_each_source_and_records_one_audit_entry_each(documenter, reviewer):
    incident = make_incident(documenter)
    sources = [submitted_source(documenter, incident, f"Report {n}") for n in range(3)]
    submit_incident(incident)
    before = AuditEntry.objects.count()
    response = client_for(reviewer).post(
        BULK, {"kind": "sources", "ids": [s.pk for s in sources], "decision": "approve"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"results": {str(s.pk): "ok" for s in sources}}
    assert set(Source.objects.values_list("status", flat=True)) == {Status.VERIFIED}
    assert AuditEntry.objects.count() - before == 3
    assert Incident.objects.get(pk=incident.pk).status == Status.SUBMITTED


def test_one_refusal_does_not_stop_the_others(documenter, reviewer):
    incident = make_incident(documenter)
    waiting = submitted_source(documenter, incident, "waiting")
    draft = evidence.create_source(author=documenter, incident=incident, url="https://example.org/d", title="draft")
    verified = submitted_source(documenter, incident, "done")
    Source.objects.filter(pk=verified.pk).update(status=Status.VERIFIED)
    submit_incident(incident)
    response = client_for(reviewer).post(
        BULK,
        {
            "kind": "sources",
            "ids": [waiting.pk, draft.pk, verified.pk, 999_999],
            "decision": "reject",
            "comment": "No.",
        },
        format="json",
    )
    assert response.json()["results"] == {
        str(waiting.pk): "ok",
        str(draft.pk): "not_found",  # another person's draft is not visible to a reviewer
        str(verified.pk): "not_submitted",
        "999999": "not_found",
    }
    assert Source.objects.get(pk=waiting.pk).status == Status.REJECTED
    assert Source.objects.get(pk=verified.pk).status == Status.VERIFIED


def test_bulk_refuses_a_reviewers_own_record_by_the_four_eyes_rule(documenter, reviewer, admin_user):
    incident = make_incident(admin_user)
    own = submitted_source(admin_user, incident)
    submit_incident(incident)
    response = client_for(admin_user).post(
        BULK, {"kind": "sources", "ids": [own.pk], "decision": "approve"}, format="json"
    )
    assert response.json()["results"] == {str(own.pk): "own_record"}
    assert Source.objects.get(pk=own.pk).status == Status.SUBMITTED


def test_bulk_approving_incidents_without_evidence_says_so_per_incident(documenter, reviewer):
    bare = make_incident(documenter, status=Status.SUBMITTED)
    evidenced, source, _testimony, victim = case(documenter)
    Source.objects.filter(pk=source.pk).update(status=Status.VERIFIED)
    response = client_for(reviewer).post(
        BULK, {"kind": "incidents", "ids": [bare.pk, evidenced.pk], "decision": "approve"}, format="json"
    )
    assert response.json()["results"] == {str(bare.pk): "evidence_missing", str(evidenced.pk): "ok"}
    assert Incident.objects.get(pk=bare.pk).status == Status.SUBMITTED
    assert Victim.objects.get(pk=victim.pk).status == Status.VERIFIED  # approved with its incident


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "witnesses", "ids": [1], "decision": "approve"}, "kind"),
        ({"kind": "sources", "ids": [], "decision": "approve"}, "ids"),
        ({"kind": "sources", "ids": ["x"], "decision": "approve"}, "ids"),
        ({"kind": "sources", "ids": [1], "decision": "publish"}, "decision"),
        ({"kind": "sources", "ids": [1], "decision": "reject", "comment": ""}, "comment"),
        ({"kind": "sources", "ids": list(range(1, 502)), "decision": "approve"}, "ids"),
    ],
)
def test_bad_bulk_requests_are_400_naming_the_field(reviewer, body, field):
    response = client_for(reviewer).post(BULK, body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_documenters_may_not_decide_in_bulk(documenter, second_documenter):
    incident = make_incident(documenter)
    source = submitted_source(documenter, incident)
    submit_incident(incident)
    response = client_for(second_documenter).post(
        BULK, {"kind": "sources", "ids": [source.pk], "decision": "approve"}, format="json"
    )
    assert response.status_code == 403
    assert Source.objects.get(pk=source.pk).status == Status.SUBMITTED


def test_bulk_needs_the_second_factor(documenter, reviewer):
    incident = make_incident(documenter)
    source = submitted_source(documenter, incident)
    submit_incident(incident)
    response = client_for(reviewer, second_factor=False).post(
        BULK, {"kind": "sources", "ids": [source.pk], "decision": "approve"}, format="json"
    )
    assert response.status_code == 403
    assert Source.objects.get(pk=source.pk).status == Status.SUBMITTED


def test_an_incident_is_approved_with_its_evidence_in_one_step(documenter, reviewer):
    incident, source, testimony, victim = case(documenter)
    response = client_for(reviewer).post(
        f"/api/v1/incidents/{incident.pk}/review/",
        {
            "decision": "approve",
            "comment": "Matches the sources.",
            "evidence": {"sources": {str(source.pk): "approve"}, "testimonies": {str(testimony.pk): "reject"}},
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert Incident.objects.get(pk=incident.pk).status == Status.VERIFIED
    assert Source.objects.get(pk=source.pk).status == Status.VERIFIED
    assert TestimonyModel.objects.get(pk=testimony.pk).status == Status.REJECTED
    assert Victim.objects.get(pk=victim.pk).status == Status.VERIFIED


def test_a_refused_piece_of_evidence_leaves_the_whole_case_undecided(documenter, reviewer):
    incident, source, _testimony, victim = case(documenter)
    other = make_incident(documenter)
    elsewhere = submitted_source(documenter, other, "elsewhere")
    submit_incident(other)
    response = client_for(reviewer).post(
        f"/api/v1/incidents/{incident.pk}/review/",
        {"decision": "approve", "evidence": {"sources": {str(source.pk): "approve", str(elsewhere.pk): "approve"}}},
        format="json",
    )
    assert response.status_code == 400
    assert "evidence" in response.json()
    statuses = [m.objects.get(pk=r.pk).status for m, r in ((Incident, incident), (Source, source), (Victim, victim))]
    assert statuses == [Status.SUBMITTED] * 3


def test_evidence_decisions_name_known_kinds_only(documenter, reviewer):
    incident, *_rest = case(documenter)
    response = client_for(reviewer).post(
        f"/api/v1/incidents/{incident.pk}/review/",
        {"decision": "approve", "evidence": {"witnesses": {"1": "approve"}}},
        format="json",
    )
    assert response.status_code == 400
    assert Incident.objects.get(pk=incident.pk).status == Status.SUBMITTED


def test_evidence_decisions_apply_to_incidents_only(documenter, reviewer):
    _incident, source, _t, victim = case(documenter)
    response = client_for(reviewer).post(
        f"/api/v1/victims/{victim.pk}/review/",
        {"decision": "approve", "evidence": {"sources": {str(source.pk): "approve"}}},
        format="json",
    )
    assert response.status_code == 400
    assert Source.objects.get(pk=source.pk).status == Status.SUBMITTED
