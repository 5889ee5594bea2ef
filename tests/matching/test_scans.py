"""Duplicate scans through the service, the API and the command: who may, one at a time, what is stored."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from audit.models import AuditEntry
from incidents.workflow import IllegalTransition
from matching import scans
from matching import services as matching_services
from matching.models import CandidatePair, DuplicateScan
from outbox.models import OutboxMessage
from tests.conftest import client_for, make_incident, make_victim
from tests.matching.review_helpers import verified_victim

pytestmark = pytest.mark.django_db

TWIN = {"name": "Samira Hussein Mahmoud Alnajjar", "name_ar": "سميره حسين محمود النجار", "sex": "female"}


def twins(author, count: int = 2, **fields):
    incident = make_incident(author)
    return [make_victim(author, incident, **{**TWIN, "age_years": 20, **fields}) for _ in range(count)]


def scan_now(user, **options) -> DuplicateScan:
    scan = scans.start_scan(user, enqueue=False, **options)
    assert scans.run_scan(scan.pk) == DuplicateScan.State.DONE
    return DuplicateScan.objects.get(pk=scan.pk)


def test_a_reviewer_starts_a_scan_and_its_run_is_queued_through_the_outbox(
    reviewer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        scan = scans.start_scan(reviewer)
    assert scan.status == DuplicateScan.State.PENDING
    message = OutboxMessage.objects.get(task_name=scans.RUN_TASK)
    assert message.args == [scan.pk]
    assert AuditEntry.objects.filter(action="duplicates.scan_requested", actor=reviewer).count() == 1


def test_a_documenter_may_not_start_a_scan(documenter):
    with pytest.raises(PermissionDenied):
        scans.start_scan(documenter, enqueue=False)
    assert not DuplicateScan.objects.exists()


def test_a_second_scan_while_one_waits_is_refused_with_the_waiting_one(reviewer, admin_user):
    first = scans.start_scan(reviewer, enqueue=False)
    with pytest.raises(scans.ScanAlreadyRunning) as refused:
        scans.start_scan(admin_user, enqueue=False)
    assert refused.value.scan == first
    assert DuplicateScan.objects.count() == 1


def test_a_scan_stores_the_pair_of_two_records_of_one_person_with_score_likely_and_reasons(documenter, reviewer):
    a, b = twins(documenter)
    other = make_victim(documenter, a.incident, name="Khalil Tamous", name_ar="خليل طموس", age_years=70)
    scan = scan_now(reviewer)
    pair = CandidatePair.objects.get()
    assert (pair.victim_a_id, pair.victim_b_id) == (a.pk, b.pk)
    assert pair.likely and pair.score >= scan.threshold and pair.found_by == scan
    assert {"code": "name_same", "script": "ar"} in pair.reasons
    assert {"code": "incident_same"} in pair.reasons
    assert scan.summary == {"victims": 3, "pairs_compared": 1, "candidates": 1}
    assert not CandidatePair.objects.filter(victim_a=other).exists()
    finished = AuditEntry.objects.get(action="duplicates.scan_finished")
    assert finished.details == scan.summary


def test_running_a_finished_scan_again_changes_nothing(documenter, reviewer):
    twins(documenter)
    scan = scan_now(reviewer)
    assert scans.run_scan(scan.pk) == DuplicateScan.State.DONE
    assert CandidatePair.objects.count() == 1
    assert AuditEntry.objects.filter(action="duplicates.scan_finished").count() == 1


def test_a_new_scan_never_changes_a_decided_pair_and_refreshes_an_undecided_one(documenter, reviewer):
    a, b, c = twins(documenter, 3)
    scan_now(reviewer)
    decided = CandidatePair.objects.get(victim_a=a, victim_b=b)
    CandidatePair.objects.filter(pk=decided.pk).update(status=CandidatePair.State.DISMISSED, score=0.5, reasons=[])
    CandidatePair.objects.filter(victim_a=a, victim_b=c).update(score=0.1, reasons=[])
    second = scan_now(reviewer)
    decided.refresh_from_db()
    assert (decided.status, decided.score, decided.reasons) == (CandidatePair.State.DISMISSED, 0.5, [])
    refreshed = CandidatePair.objects.get(victim_a=a, victim_b=c)
    assert refreshed.score > 0.9 and refreshed.reasons
    assert second.candidates == 0 and CandidatePair.objects.count() == 3


def test_a_refreshed_pair_gets_a_new_version_so_a_decision_on_what_it_said_before_is_a_conflict(documenter, reviewer):
    a, b, c = (verified_victim(documenter, age_years=20, **TWIN) for _ in range(3))
    scan_now(reviewer)
    changed = CandidatePair.objects.get(victim_a=a, victim_b=c)
    CandidatePair.objects.filter(pk=changed.pk).update(score=0.3, likely=False, reasons=[])
    unchanged = CandidatePair.objects.get(victim_a=a, victim_b=b)
    scan_now(reviewer)
    changed.refresh_from_db()
    assert changed.version == 2 and changed.likely and changed.reasons  # the reviewer read version 1
    with pytest.raises(IllegalTransition):
        matching_services.decide(changed, reviewer, "dismiss", comment="looked at the old score", version=1)
    assert CandidatePair.objects.get(pk=unchanged.pk).version == unchanged.version == 1  # found again unchanged
    changed.refresh_from_db()
    assert changed.status == CandidatePair.State.CANDIDATE


def test_victims_marked_duplicates_and_rejected_victims_are_not_compared(documenter, reviewer):
    a, b, c = twins(documenter, 3)
    b.__class__.objects.filter(pk=b.pk).update(duplicate_of=a)
    b.__class__.objects.filter(pk=c.pk).update(status="rejected")
    scan = scan_now(reviewer)
    assert scan.victims == 1 and not CandidatePair.objects.exists()


def test_an_incremental_scan_compares_only_the_victims_added_since_the_last_scan(documenter, reviewer):
    old_a, old_b = twins(documenter)
    scan_now(reviewer)
    CandidatePair.objects.all().delete()  # were old pairs compared again, this one would come back
    new = make_victim(documenter, old_a.incident, **{**TWIN, "age_years": 20})
    scan = scan_now(reviewer, incremental=True)
    assert set(CandidatePair.objects.values_list("victim_a", "victim_b")) == {(old_a.pk, new.pk), (old_b.pk, new.pk)}
    assert scan.pairs_compared == 2 and scan.incremental


def test_the_api_starts_a_scan_with_202_and_a_second_with_409_and_the_running_scan(reviewer, admin_user):
    response = client_for(reviewer).post("/api/v1/duplicates/scan/", {}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending" and body["summary"] == {"victims": 0, "pairs_compared": 0, "candidates": 0}
    assert body["progress"] == {"done": 0, "total": 0}
    again = client_for(admin_user).post("/api/v1/duplicates/scan/", {}, format="json")
    assert again.status_code == 409 and again.json()["id"] == body["id"]
    assert DuplicateScan.objects.count() == 1


def test_the_api_shows_a_finished_scan_with_its_summary(documenter, reviewer):
    twins(documenter)
    scan = scan_now(reviewer)
    response = client_for(reviewer).get(f"/api/v1/duplicates/scans/{scan.pk}/")
    assert response.status_code == 200
    assert response.json()["status"] == "done" and response.json()["summary"]["candidates"] == 1


def test_the_api_refuses_a_bad_body_with_400(reviewer):
    response = client_for(reviewer).post("/api/v1/duplicates/scan/", {"incremental": "perhaps"}, format="json")
    assert response.status_code == 400 and not DuplicateScan.objects.exists()


def test_the_command_runs_a_scan_and_reports_its_figures_without_personal_data(documenter, reviewer):
    twins(documenter, identity_number="800111222", date_of_birth="2004-02-03")
    out = io.StringIO()
    call_command("find_duplicates", "--user", reviewer.username, stdout=out)
    text = out.getvalue()
    assert "1 new candidates" in text and "800111222" not in text and "2004" not in text
    assert DuplicateScan.objects.get().status == DuplicateScan.State.DONE
    reasons = repr(CandidatePair.objects.get().reasons)
    assert "identity_same" in reasons and "800111222" not in reasons and "2004" not in reasons


def test_a_running_scan_whose_process_died_does_not_block_a_new_one(reviewer):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the lock that tells a live scan from a dead one is PostgreSQL's")
    dead = DuplicateScan.objects.create(status=DuplicateScan.State.RUNNING, requested_by=reviewer)
    scan = scans.start_scan(reviewer, enqueue=False)
    dead.refresh_from_db()
    assert dead.status == DuplicateScan.State.FAILED and scan.status == DuplicateScan.State.PENDING
