"""Imported records follow the ordinary rules: drafts of the importer (another documenter sees none of them, nor
do reviewers); with `submit`, each new incident goes to review with its victims and its documented source through
the workflow; a reviewer approves the source, then the incident. Imports themselves are seen by their importer
and by admins only; every import is audited as its importer's."""

from __future__ import annotations

import pytest

from audit.models import AuditEntry
from evidence.models import Source
from incidents.models import Incident, Status, Victim
from tests.conftest import client_for, web_client_for
from tests.intake.conftest import csv_bytes, imported, moh_people, moh_rows

PEOPLE = 12  # four incidents of three


def ids(user, path: str) -> set[int]:
    response = client_for(user).get(path, {"page_size": 200})
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def test_without_submit_the_records_are_the_importers_drafts_seen_by_nobody_else(
    documenter, second_documenter, reviewer, admin_user
):
    imported(documenter, csv_bytes(moh_rows(moh_people(PEOPLE))))
    assert set(Incident.objects.values_list("status", flat=True)) == {Status.DRAFT}
    assert set(Victim.objects.values_list("status", flat=True)) == {Status.DRAFT}
    assert set(Source.objects.values_list("status", flat=True)) == {Status.DRAFT}
    assert len(ids(documenter, "/api/v1/victims/")) == PEOPLE
    for user in (second_documenter, reviewer, admin_user):
        assert ids(user, "/api/v1/victims/") == set()
        assert ids(user, "/api/v1/incidents/") == set()
        assert ids(user, "/api/v1/sources/") == set()


def test_with_submit_each_new_incident_goes_to_review_with_its_victims_and_source(
    documenter, second_documenter, reviewer
):
    record = imported(documenter, csv_bytes(moh_rows(moh_people(PEOPLE))), submit=True)
    assert record.status == "done" and record.submit
    assert record.summary["submitted"] == record.summary["incidents_created"] == 4
    for model in (Incident, Victim, Source):
        assert set(model.objects.values_list("status", flat=True)) == {Status.SUBMITTED}
    # Through the workflow: one audited move per record, by the importer.
    moves = AuditEntry.objects.filter(action__in=["incidents.submit", "victims.submit", "sources.submit"])
    assert moves.count() == 4 + PEOPLE + 4
    assert set(moves.values_list("actor", "from_state", "to_state")) == {(documenter.pk, "draft", "submitted")}
    assert len(ids(reviewer, "/api/v1/victims/")) == PEOPLE
    assert len(ids(reviewer, "/api/v1/incidents/")) == 4
    assert ids(second_documenter, "/api/v1/victims/") == set()
    queue = client_for(reviewer).get("/api/v1/review-queue/").json()
    assert queue  # the submitted records wait for a reviewer


def test_a_reviewer_approves_an_imported_incident_once_its_documented_source_is_approved(
    documenter, reviewer, settings
):
    settings.REVIEW_MIN_EVIDENCE = 1
    imported(documenter, csv_bytes(moh_rows(moh_people(3))), submit=True)
    incident = Incident.objects.get()
    client = client_for(reviewer)
    refused = client.post(f"/api/v1/incidents/{incident.pk}/review/", {"decision": "approve"}, format="json")
    assert refused.status_code == 409  # no approved evidence yet
    source = Source.objects.get(incident=incident)
    assert (
        client.post(f"/api/v1/sources/{source.pk}/review/", {"decision": "approve"}, format="json").status_code == 200
    )
    approved = client.post(f"/api/v1/incidents/{incident.pk}/review/", {"decision": "approve"}, format="json")
    assert approved.status_code == 200, approved.content
    assert set(Victim.objects.values_list("status", flat=True)) == {Status.VERIFIED}


def test_submit_sends_only_the_incidents_this_import_created(documenter):
    rows = moh_rows(moh_people(6))
    imported(documenter, csv_bytes(rows))  # two draft incidents
    rows.append(["late", "strike-9", "2020-01-16", "Hama", "ISIS", "", "Late", "", "m", "50", ""])
    record = imported(documenter, csv_bytes(rows), submit=True)
    assert record.summary["submitted"] == 1
    assert dict(Incident.objects.values_list("origin_key", "status")) == {
        "key:strike-1": Status.DRAFT,
        "key:strike-2": Status.DRAFT,
        "key:strike-9": Status.SUBMITTED,
    }


def test_a_dry_run_with_submit_submits_nothing(documenter):
    record = imported(documenter, csv_bytes(moh_rows(moh_people(3))), dry_run=True, submit=True)
    assert not record.submit and record.summary["submitted"] == 0
    assert not Incident.objects.exists()


def test_imports_are_seen_by_their_importer_and_admins_only(documenter, second_documenter, reviewer, admin_user):
    mine = imported(documenter, csv_bytes(moh_rows(moh_people(3))))
    theirs = imported(second_documenter, csv_bytes(moh_rows(moh_people(3, start=10))), source="Other list")
    assert ids(documenter, "/api/v1/imports/") == {mine.pk}
    assert ids(second_documenter, "/api/v1/imports/") == {theirs.pk}
    assert ids(admin_user, "/api/v1/imports/") == {mine.pk, theirs.pk}
    refused = client_for(reviewer).get("/api/v1/imports/")
    assert refused.status_code == 403
    assert client_for(None).get("/api/v1/imports/").status_code == 401
    # The page and the API give a reviewer (no importer) the same reason, in English and Arabic.
    reason = "Only documenters and admins may import lists."
    assert refused.json()["detail"] == reason
    for language, text in (("en", reason), ("ar", "لا يستورد القوائم إلا الموثِّقون والمديرون.")):
        page = web_client_for(reviewer).get(f"/{language}/imports/")
        assert page.status_code == 403 and text in page.content.decode(), language
    assert client_for(second_documenter).get(f"/api/v1/imports/{mine.pk}/").status_code == 404
    assert client_for(second_documenter).get(f"/api/v1/imports/{mine.pk}/errors/", {"format": "csv"}).status_code == 404
    assert client_for(admin_user).get(f"/api/v1/imports/{mine.pk}/errors/", {"format": "csv"}).status_code == 200


def test_an_admin_reads_someone_elses_error_report_only_with_a_second_factor(documenter, admin_user):
    record = imported(documenter, csv_bytes(moh_rows(moh_people(3))))
    without = client_for(admin_user, second_factor=False).get(f"/api/v1/imports/{record.pk}/errors/", {"format": "csv"})
    assert without.status_code == 403
    own = client_for(documenter, second_factor=False).get(f"/api/v1/imports/{record.pk}/errors/", {"format": "csv"})
    assert own.status_code == 200


def test_the_import_is_shown_as_api_md_says(documenter):
    record = imported(documenter, csv_bytes(moh_rows(moh_people(3))), source="MoH 2024-04-13")
    body = client_for(documenter).get(f"/api/v1/imports/{record.pk}/").json()
    assert {"id", "status", "source", "dry_run", "submit", "progress", "summary", "created_at", "finished_at"} <= set(
        body
    )
    assert body["status"] == "done" and body["source"] == "MoH 2024-04-13" and body["dry_run"] is False
    assert body["progress"] == {"rows_done": 3, "rows_total": 3}
    assert {
        key: body["summary"][key]
        for key in ("rows", "incidents_created", "victims_created", "updated", "unchanged", "errors")
    } == {
        "rows": 3,
        "incidents_created": 1,
        "victims_created": 3,
        "updated": 0,
        "unchanged": 0,
        "errors": 0,
    }
    assert (body["encoding"], body["delimiter"], body["file_format"]) == ("utf-8", ",", "csv")
    assert body["sha256"] == record.sha256 and len(body["sha256"]) == 64
    assert body["finished_at"] is not None
    assert {"column": "record_id", "meaning": "The row's id in the source list (required)"} in body["columns"]


def test_an_import_is_audited_as_its_importers_with_its_counts(documenter):
    record = imported(documenter, csv_bytes(moh_rows(moh_people(3))))
    entries = AuditEntry.objects.filter(target_type="intake.import", target_id=record.pk).order_by("sequence")
    assert [e.action for e in entries] == ["import.requested", "import.batch", "import.finished"]
    assert {e.actor_id for e in entries} == {documenter.pk}
    requested, batch, finished = entries
    assert requested.details["sha256"] == record.sha256 and requested.details["source"] == "MoH 2024-04-13"
    assert finished.details["victims_created"] == 3 and finished.details["incidents_created"] == 1
    victim_ids = sorted(Victim.objects.values_list("pk", flat=True))
    assert batch.details["victims_created"] == [[victim_ids[0], victim_ids[-1]]]
    names = [p["name"] for p in moh_people(3)]
    for entry in entries:  # names are personal data: never in the audit log
        assert not any(name in str(entry.details) + entry.comment for name in names)


@pytest.mark.parametrize("user", ["reviewer", "outsider"])
def test_users_without_a_documenters_role_cannot_import(db, request, user):
    from tests.intake.conftest import upload

    response = upload(request.getfixturevalue(user), csv_bytes(moh_rows(moh_people(1))))
    assert response.status_code == 403
    assert not Incident.objects.exists()
