"""The review workflow through the API: one transition table, four eyes, compare-and-set, audit trail."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from audit.models import AppendOnlyError, AuditEntry
from incidents import workflow
from incidents.models import Incident, Status, Victim
from tests.conftest import client_for, make_incident, make_user, make_victim, skip_or_fail, transactional

D, S, C, V, R = "draft", "submitted", "changes_requested", "verified", "rejected"
STATES = [D, S, C, V, R]


@pytest.fixture(autouse=True)
def _no_evidence_minimum(settings):
    # Evidence items arrive with the evidence app; the minimum itself is tested below.
    settings.REVIEW_MIN_EVIDENCE = 0


def act(client, incident, action):
    if action == "submit":
        return client.post(f"/api/v1/incidents/{incident.pk}/submit/")
    if action == "reopen":
        return client.post(f"/api/v1/incidents/{incident.pk}/reopen/", {"reason": "new evidence"}, format="json")
    return client.post(
        f"/api/v1/incidents/{incident.pk}/review/", {"decision": action, "comment": "checked"}, format="json"
    )


# For an incident written by `documenter`: role → action → {state before: (HTTP status, state after)}.
# 404 where the role may not see the record; 403 without the right; 409 for an illegal move.
def _same(code):
    return {state: (code, state) for state in STATES}


EXPECTED = {
    "author": {
        "submit": {D: (200, S), S: (409, S), C: (200, S), V: (409, V), R: (409, R)},
        "approve": _same(403),
        "reject": _same(403),
        "request_changes": _same(403),
        "reopen": _same(403),
    },
    "second_documenter": {
        "submit": {D: (404, D), S: (404, S), C: (404, C), V: (403, V), R: (404, R)},
        "approve": {D: (404, D), S: (404, S), C: (404, C), V: (403, V), R: (404, R)},
        "reject": {D: (404, D), S: (404, S), C: (404, C), V: (403, V), R: (404, R)},
        "request_changes": {D: (404, D), S: (404, S), C: (404, C), V: (403, V), R: (404, R)},
        "reopen": {D: (404, D), S: (404, S), C: (404, C), V: (403, V), R: (404, R)},
    },
    "reviewer": {
        "submit": {D: (404, D), S: (403, S), C: (403, C), V: (403, V), R: (403, R)},
        "approve": {D: (404, D), S: (200, V), C: (409, C), V: (409, V), R: (409, R)},
        "reject": {D: (404, D), S: (200, R), C: (409, C), V: (409, V), R: (409, R)},
        "request_changes": {D: (404, D), S: (200, C), C: (409, C), V: (409, V), R: (409, R)},
        "reopen": {D: (404, D), S: (409, S), C: (409, C), V: (200, S), R: (409, R)},
    },
    "anonymous": {action: _same(401) for action in ["submit", "approve", "reject", "request_changes", "reopen"]},
}
EXPECTED["admin"] = EXPECTED["reviewer"]

CASES = [
    (role, action, state, *EXPECTED[role][action][state])
    for role in EXPECTED
    for action in EXPECTED[role]
    for state in STATES
]


@pytest.mark.parametrize(("role", "action", "state", "code", "after"), CASES)
def test_transition_table(role, action, state, code, after, documenter, second_documenter, reviewer, admin_user):
    incident = make_incident(documenter, status=state)
    actors = {
        "author": documenter,
        "second_documenter": second_documenter,
        "reviewer": reviewer,
        "admin": admin_user,
        "anonymous": None,
    }
    # Refusals have their own audit entry (access.refused, tests/accounts); here: transitions only.
    transitions = AuditEntry.objects.exclude(action="access.refused")
    entries_before = transitions.count()
    response = act(client_for(actors[role]), incident, action)
    assert response.status_code == code, response.content
    incident.refresh_from_db()
    assert incident.status == after
    assert transitions.count() == entries_before + (1 if code == 200 else 0)
    if code == 200:
        entry = AuditEntry.objects.order_by("-sequence").first()
        assert (entry.from_state, entry.to_state, entry.actor) == (state, after, actors[role])
        assert entry.action == f"incidents.{action}"


def test_reviewer_cannot_approve_own_incident(documenter):
    both = make_user("both", "documenter", "reviewer")
    incident = make_incident(both, status=Status.SUBMITTED)
    response = act(client_for(both), incident, "approve")
    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED


def test_admin_cannot_approve_own_victim(admin_user, reviewer):
    incident = make_incident(admin_user, status=Status.VERIFIED)
    victim = make_victim(admin_user, incident, status=Status.SUBMITTED)
    client = client_for(admin_user)
    response = client.post(f"/api/v1/victims/{victim.pk}/review/", {"decision": "approve"}, format="json")
    assert response.status_code == 403
    assert client_for(reviewer).post(f"/api/v1/victims/{victim.pk}/review/", {"decision": "approve"}).status_code == 200
    victim.refresh_from_db()
    assert victim.status == Status.VERIFIED


@pytest.mark.parametrize("decision", ["reject", "request_changes"])
def test_reject_and_request_changes_need_a_comment(documenter, reviewer, decision):
    incident = make_incident(documenter, status=Status.SUBMITTED)
    response = client_for(reviewer).post(
        f"/api/v1/incidents/{incident.pk}/review/", {"decision": decision, "comment": "  "}, format="json"
    )
    assert response.status_code == 400
    assert "comment" in response.json()
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED


def test_unknown_decision_is_a_400(documenter, reviewer):
    incident = make_incident(documenter, status=Status.SUBMITTED)
    response = client_for(reviewer).post(f"/api/v1/incidents/{incident.pk}/review/", {"decision": "maybe"})
    assert response.status_code == 400
    assert "decision" in response.json()


def test_reopen_needs_a_reason(documenter, reviewer):
    incident = make_incident(documenter, status=Status.VERIFIED)
    response = client_for(reviewer).post(f"/api/v1/incidents/{incident.pk}/reopen/", {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    incident.refresh_from_db()
    assert incident.status == Status.VERIFIED


def test_submitting_an_incident_submits_its_draft_victims(documenter):
    incident = make_incident(documenter)
    victims = [make_victim(documenter, incident, name=f"v{i}") for i in range(3)]
    response = client_for(documenter).post(f"/api/v1/incidents/{incident.pk}/submit/")
    assert response.status_code == 200
    assert response.json()["status"] == "submitted"
    assert set(Victim.objects.filter(pk__in=[v.pk for v in victims]).values_list("status", flat=True)) == {S}
    assert AuditEntry.objects.filter(action="victims.submit").count() == 3


def test_edit_after_submit_is_refused(documenter):
    incident = make_incident(documenter)
    victim = make_victim(documenter, incident)
    client = client_for(documenter)
    client.post(f"/api/v1/incidents/{incident.pk}/submit/")
    assert client.patch(f"/api/v1/incidents/{incident.pk}/", {"title": "late"}, format="json").status_code == 409
    assert client.patch(f"/api/v1/victims/{victim.pk}/", {"name": "late"}, format="json").status_code == 409
    incident.refresh_from_db()
    victim.refresh_from_db()
    assert (incident.title, victim.name) == ("Airstrike on a market", "Ahmad")


def test_changes_requested_goes_back_to_the_author_with_the_comment(documenter, reviewer):
    incident = make_incident(documenter)
    victim = make_victim(documenter, incident)
    client = client_for(documenter)
    client.post(f"/api/v1/incidents/{incident.pk}/submit/")
    response = client_for(reviewer).post(
        f"/api/v1/incidents/{incident.pk}/review/",
        {"decision": "request_changes", "comment": "Which market? Add the street."},
        format="json",
    )
    assert response.status_code == 200
    victim.refresh_from_db()
    assert victim.status == C
    assert client.patch(f"/api/v1/incidents/{incident.pk}/", {"title": "Market on Main St"}).status_code == 200
    history = client.get(f"/api/v1/incidents/{incident.pk}/history/").json()
    # The record's whole trail: its transitions and its author's change after them (field names only).
    assert [h["action"] for h in history] == [
        "incident.created",
        "incidents.submit",
        "incidents.request_changes",
        "incident.changed",
    ]
    assert history[2]["comment"] == "Which market? Add the street."
    assert history[2]["actor"] == "reviewer"
    assert client.post(f"/api/v1/incidents/{incident.pk}/submit/").status_code == 200
    victim.refresh_from_db()
    assert victim.status == S


def test_approving_an_incident_approves_its_submitted_victims(documenter, reviewer):
    incident = make_incident(documenter)
    victims = [make_victim(documenter, incident, name=f"v{i}") for i in range(2)]
    client_for(documenter).post(f"/api/v1/incidents/{incident.pk}/submit/")
    response = client_for(reviewer).post(f"/api/v1/incidents/{incident.pk}/review/", {"decision": "approve"})
    assert response.status_code == 200
    assert set(Victim.objects.filter(pk__in=[v.pk for v in victims]).values_list("status", flat=True)) == {V}


def test_per_victim_decisions_on_an_incident(documenter, reviewer):
    incident = make_incident(documenter)
    keep, drop, _other = (make_victim(documenter, incident, name=n) for n in ("keep", "drop", "other"))
    client_for(documenter).post(f"/api/v1/incidents/{incident.pk}/submit/")
    response = client_for(reviewer).post(
        f"/api/v1/incidents/{incident.pk}/review/",
        {"decision": "approve", "comment": "ok", "victims": {str(keep.pk): "approve", str(drop.pk): "reject"}},
        format="json",
    )
    assert response.status_code == 200
    statuses = dict(Victim.objects.values_list("name", "status"))
    assert statuses == {"keep": V, "drop": R, "other": S}


def test_per_victim_map_naming_a_foreign_victim_is_a_400_and_changes_nothing(documenter, reviewer):
    incident = make_incident(documenter)
    make_victim(documenter, incident)
    elsewhere = make_victim(documenter, make_incident(documenter, title="other"))
    client_for(documenter).post(f"/api/v1/incidents/{incident.pk}/submit/")
    response = client_for(reviewer).post(
        f"/api/v1/incidents/{incident.pk}/review/",
        {"decision": "approve", "victims": {str(elsewhere.pk): "approve"}},
        format="json",
    )
    assert response.status_code == 400
    incident.refresh_from_db()
    assert incident.status == S  # the whole decision was rolled back
    assert not AuditEntry.objects.filter(action="incidents.approve").exists()


def test_victim_added_to_a_verified_incident_is_reviewed_on_its_own(documenter, second_documenter, reviewer):
    incident = make_incident(documenter, status=Status.VERIFIED)
    client = client_for(second_documenter)
    created = client.post("/api/v1/victims/", {"incident": incident.pk, "name": "late", "sex": "female"}, format="json")
    assert created.status_code == 201
    assert created.json()["status"] == "draft"
    victim_id = created.json()["id"]
    assert client.post(f"/api/v1/victims/{victim_id}/submit/").status_code == 200
    approved = client_for(reviewer).post(f"/api/v1/victims/{victim_id}/review/", {"decision": "approve"})
    assert approved.status_code == 200
    assert approved.json()["status"] == "verified"
    incident.refresh_from_db()
    assert incident.status == V


def test_reopen_takes_a_victim_out_of_the_verified_set(documenter, reviewer):
    incident = make_incident(documenter, status=Status.VERIFIED)
    victim = make_victim(documenter, incident, status=Status.VERIFIED)

    def counted():
        return set(
            Victim.objects.filter(
                status=Status.VERIFIED, incident__status=Status.VERIFIED, civilian_status="civilian"
            ).values_list("pk", flat=True)
        )

    assert counted() == {victim.pk}
    response = client_for(reviewer).post(f"/api/v1/victims/{victim.pk}/reopen/", {"reason": "Name disputed"})
    assert response.status_code == 200
    assert counted() == set()
    client_for(reviewer).post(f"/api/v1/incidents/{incident.pk}/reopen/", {"reason": "Date disputed"})
    incident.refresh_from_db()
    assert incident.status == S


def test_incident_approval_needs_the_minimum_of_approved_evidence(settings, documenter, reviewer, monkeypatch):
    settings.REVIEW_MIN_EVIDENCE = 1
    incident = make_incident(documenter, status=Status.SUBMITTED)
    monkeypatch.setattr(workflow, "_EVIDENCE_COUNTERS", [])
    client = client_for(reviewer)
    response = client.post(f"/api/v1/incidents/{incident.pk}/review/", {"decision": "approve"})
    assert response.status_code == 409
    assert "evidence" in response.json()["detail"]
    workflow.register_evidence_counter(lambda i: 1 if i.pk == incident.pk else 0)
    assert client.post(f"/api/v1/incidents/{incident.pk}/review/", {"decision": "approve"}).status_code == 200


def test_history_is_readable_only_by_those_who_see_the_record(documenter, second_documenter, reviewer):
    incident = make_incident(documenter)
    client_for(documenter).post(f"/api/v1/incidents/{incident.pk}/submit/")
    assert client_for(reviewer).get(f"/api/v1/incidents/{incident.pk}/history/").status_code == 200
    assert client_for(second_documenter).get(f"/api/v1/incidents/{incident.pk}/history/").status_code == 404


def test_review_queue_lists_submitted_records_oldest_first_without_own(documenter, reviewer):
    from incidents.models import Location

    first = make_incident(documenter, title="first")
    second = make_incident(documenter, title="second", location=Location.objects.get(name="Aleppo"))
    make_incident(documenter, title="still a draft")
    client = client_for(documenter)
    client.post(f"/api/v1/incidents/{first.pk}/submit/")
    client.post(f"/api/v1/incidents/{second.pk}/submit/")
    victim = make_victim(documenter, make_incident(documenter, status=Status.VERIFIED, title="old"), name="late")
    client.post(f"/api/v1/victims/{victim.pk}/submit/")
    queue = client_for(reviewer).get("/api/v1/review-queue/")
    assert queue.status_code == 200
    rows = queue.json()["results"]
    assert [(r["kind"], r["id"]) for r in rows] == [
        ("incidents", first.pk),
        ("incidents", second.pk),
        ("victims", victim.pk),
    ]
    aleppo = Location.objects.get(name="Aleppo").pk
    only_aleppo = client_for(reviewer).get(f"/api/v1/review-queue/?kind=incidents&location={aleppo}").json()
    assert [r["id"] for r in only_aleppo["results"]] == [second.pk]
    assert client_for(documenter).get("/api/v1/review-queue/").status_code == 403


def test_audit_entries_refuse_updates_and_deletes_through_the_orm(documenter):
    incident = make_incident(documenter)
    client_for(documenter).post(f"/api/v1/incidents/{incident.pk}/submit/")
    entry = AuditEntry.objects.get(action="incidents.submit")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(comment="forged")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    entry.comment = "forged"
    with pytest.raises(AppendOnlyError):
        entry.save()
    assert AuditEntry.objects.get(pk=entry.pk).comment == ""


def test_postgresql_refuses_audit_updates_even_in_raw_sql(documenter):
    if connection.vendor != "postgresql":
        skip_or_fail("the append-only trigger exists on PostgreSQL")
    from django.db import DatabaseError, transaction

    incident = make_incident(documenter)
    client_for(documenter).post(f"/api/v1/incidents/{incident.pk}/submit/")
    for sql in ("UPDATE audit_auditentry SET comment = 'forged'", "DELETE FROM audit_auditentry"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert AuditEntry.objects.filter(action="incidents.submit").count() == 1


@transactional
def test_two_reviewers_approving_at_once_exactly_one_wins(documenter, reviewer, second_reviewer):
    if connection.vendor != "postgresql":
        skip_or_fail("concurrent transactions need PostgreSQL")
    incident = make_incident(documenter, status=Status.SUBMITTED)
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def approve(user):
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            response = client_for(user).post(
                f"/api/v1/incidents/{incident.pk}/review/", {"decision": "approve"}, format="json"
            )
            results[user.username] = response.status_code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(user,)) for user in (reviewer, second_reviewer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results.values()) == [200, 409]
    assert AuditEntry.objects.filter(action="incidents.approve").count() == 1
    assert Incident.objects.get(pk=incident.pk).status == Status.VERIFIED


def test_a_documenter_reviewing_their_own_incident_is_refused_before_any_evidence_rule(documenter, settings):
    settings.REVIEW_MIN_EVIDENCE = 1
    incident = make_incident(documenter, status=Status.SUBMITTED)

    response = client_for(documenter).post(
        f"/api/v1/incidents/{incident.pk}/review/", {"decision": "approve"}, format="json"
    )

    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED
