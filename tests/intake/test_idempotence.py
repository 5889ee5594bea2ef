"""(source, record_id) identifies a record: the same file twice changes nothing; a corrected file updates only
the rows that changed, and only while they are the importer's drafts or sent back for changes; a failed import
runs again from where it stopped; a dry run reports what the import will do and writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import TestCase

from audit.models import AuditEntry
from evidence.models import Source
from incidents.models import Incident, Status, Victim
from intake import rows as intake_rows
from intake import services
from intake.models import Import
from tests.conftest import client_for
from tests.intake.conftest import HEADER, csv_bytes, imported, moh_people, moh_rows, xlsx_bytes

PEOPLE = 60


def state() -> dict:
    """Everything an import may write, to compare before and after."""
    return {
        "incidents": sorted(Incident.objects.values_list("id", "version", "updated_at", "location_id", "status")),
        "victims": sorted(Victim.objects.values_list("id", "version", "updated_at", "age_years", "name", "status")),
        "sources": sorted(Source.objects.values_list("id", "incident_id")),
    }


def batches(record: Import) -> list[dict]:
    return [
        e.details for e in AuditEntry.objects.filter(action="import.batch", target_id=record.pk).order_by("sequence")
    ]


@pytest.fixture
def first_import(documenter):
    rows = moh_rows(moh_people(PEOPLE))
    record = imported(documenter, csv_bytes(rows))
    assert record.summary["victims_created"] == PEOPLE
    return rows, record


def test_importing_the_same_file_twice_creates_and_changes_nothing(documenter, first_import):
    rows, _first = first_import
    before = state()
    again = imported(documenter, csv_bytes(rows))
    assert again.status == "done"
    assert again.summary == {**again.summary, "rows": PEOPLE, "unchanged": PEOPLE, "victims_created": 0}
    assert again.summary["incidents_created"] == again.summary["updated"] == again.summary["errors"] == 0
    assert state() == before
    assert batches(again) == []  # nothing created or changed: no entry naming records


def test_the_same_list_saved_as_xlsx_is_unchanged_too(documenter, first_import):
    rows, _first = first_import
    for row in rows[1:]:
        row[2] = dt.datetime(2020, 1, 15)  # a date cell instead of the text 15/01/2020
        row[9] = int(row[9]) if row[9] else None
    before = state()
    again = imported(documenter, xlsx_bytes(rows), name="list.xlsx")
    assert again.summary["unchanged"] == PEOPLE and again.summary["updated"] == 0
    assert state() == before


def test_a_corrected_file_updates_only_the_rows_that_changed(documenter, first_import):
    rows, first = first_import
    corrected = [list(row) for row in rows]
    corrected[5][HEADER.index("age_years")] = "77"  # a victim's age
    corrected[7][HEADER.index("location")] = "Aleppo"  # the place of row 7's incident (it defines strike-3)
    corrected.append(["moh-new", "strike-1", "", "", "", "", "New Person", "شخص جديد", "f", "20", ""])
    before = {v.origin_record_id: v for v in Victim.objects.all()}
    again = imported(documenter, csv_bytes(corrected))
    assert again.summary == {
        **again.summary,
        "rows": PEOPLE + 1,
        "updated": 2,
        "victims_created": 1,
        "unchanged": PEOPLE - 2,
        "incidents_created": 0,
        "errors": 0,
    }
    after = {v.origin_record_id: v for v in Victim.objects.select_related("incident")}
    changed = {
        key
        for key in before
        if (before[key].version, before[key].age_years) != (after[key].version, after[key].age_years)
    }
    assert changed == {"moh-5"}
    assert after["moh-5"].age_years == 77 and after["moh-5"].version == before["moh-5"].version + 1
    strike_3 = Incident.objects.get(origin_key="key:strike-3")
    assert strike_3.location.name == "Aleppo" and strike_3.version == 2
    assert set(Incident.objects.exclude(pk=strike_3.pk).values_list("version", flat=True)) == {1}
    assert after["moh-new"].incident == Incident.objects.get(origin_key="key:strike-1")
    entries = batches(again)  # one per batch (of 50 rows here) that created or changed records
    named = {key: [span for entry in entries for span in entry[key]] for key in entries[0]}
    assert named["victims_updated"] == [[after["moh-5"].pk, after["moh-5"].pk]]
    assert named["incidents_updated"] == [[strike_3.pk, strike_3.pk]]
    assert named["victims_created"] == [[after["moh-new"].pk, after["moh-new"].pk]]
    assert named["incidents_created"] == named["sources_created"] == []
    assert Source.objects.count() == first.summary["sources_created"]  # no second source for an existing incident


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (Status.SUBMITTED, "locked"),
        (Status.VERIFIED, "locked"),
        (Status.REJECTED, "locked"),
        (Status.CHANGES_REQUESTED, "updated"),
    ],
)
def test_a_changed_row_updates_its_record_only_while_the_importer_may_edit_it(
    documenter, first_import, status, outcome
):
    rows, _first = first_import
    target = Victim.objects.get(origin_record_id="moh-4")
    Victim.objects.filter(pk=target.pk).update(status=status)
    corrected = [list(row) for row in rows]
    corrected[4][HEADER.index("age_years")] = "99"
    before = state()
    again = imported(documenter, csv_bytes(corrected))
    target.refresh_from_db()
    if outcome == "locked":
        assert list(again.errors.values_list("row", "column", "code", "message_en", "message_ar")) == [
            (
                5,
                "record_id",
                "locked",
                "This row changed, but its record is under review or verified: reopen it first.",
                "تغيّر هذا الصف، لكن سجله قيد المراجعة أو موثَّق: أعد فتحه أولاً.",
            )
        ]
        assert again.summary["updated"] == 0 and again.summary["rows_with_errors"] == 1
        assert state() == before
    else:
        assert again.summary["updated"] == 1 and again.summary["errors"] == 0
        assert (target.age_years, target.status) == (99, Status.CHANGES_REQUESTED)


def test_a_row_moved_to_another_incident_is_an_error(documenter, first_import):
    rows, _first = first_import
    corrected = [list(row) for row in rows]
    corrected[4][HEADER.index("incident_key")] = "strike-9"
    before = state()
    again = imported(documenter, csv_bytes(corrected))
    assert list(again.errors.values_list("row", "column", "code")) == [(5, "incident_key", "moved")]
    assert state() == before


def test_another_documenters_changed_rows_of_the_same_list_are_refused(documenter, second_documenter, first_import):
    rows, _first = first_import
    corrected = [list(row) for row in rows]
    corrected[2][HEADER.index("name")] = "Changed"
    before = state()
    again = imported(second_documenter, csv_bytes(corrected))
    assert list(again.errors.values_list("row", "code")) == [(3, "not_yours")]
    assert again.summary["unchanged"] == PEOPLE - 1
    assert state() == before


def test_a_new_victim_may_join_a_verified_incident_of_an_earlier_import(documenter, first_import):
    rows, _first = first_import
    Incident.objects.filter(origin_key="key:strike-1").update(status=Status.VERIFIED)
    Incident.objects.filter(origin_key="key:strike-2").update(status=Status.SUBMITTED)
    extra = [list(row) for row in rows]
    extra.append(["late-1", "strike-1", "", "", "", "", "Late One", "", "m", "40", ""])
    extra.append(["late-2", "strike-2", "", "", "", "", "Late Two", "", "m", "41", ""])
    again = imported(documenter, csv_bytes(extra))
    assert Victim.objects.get(origin_record_id="late-1").status == Status.DRAFT
    assert list(again.errors.values_list("row", "code")) == [(PEOPLE + 3, "incident_closed")]
    assert not Victim.objects.filter(origin_record_id="late-2").exists()


def test_a_dry_run_reports_what_the_import_will_do_and_writes_nothing(documenter, first_import):
    rows, _first = first_import
    corrected = [list(row) for row in rows]
    corrected[5][HEADER.index("age_years")] = "200"
    corrected[6][HEADER.index("age_years")] = "66"
    corrected.append(["moh-new", "", "2020-02-02", "Hama", "ISIS", "", "New", "", "m", "", ""])
    before = state()
    dry = imported(documenter, csv_bytes(corrected), dry_run=True)
    assert state() == before
    real = imported(documenter, csv_bytes(corrected))
    assert dry.summary == real.summary
    assert dry.summary == {**dry.summary, "updated": 1, "victims_created": 1, "incidents_created": 1, "errors": 1}
    fields = ("row", "column", "value", "code", "message_en", "message_ar")
    assert list(dry.errors.values_list(*fields)) == list(real.errors.values_list(*fields))


def test_a_failed_import_runs_again_from_where_it_stopped_and_ends_as_one_uninterrupted_run(documenter, monkeypatch):
    rows = moh_rows(moh_people(200))
    original = intake_rows.RowReader.read

    def broken(self, number, cells):
        if number == 130:
            raise RuntimeError("a bug met on row 130")
        return original(self, number, cells)

    monkeypatch.setattr(intake_rows.RowReader, "read", broken)
    record = imported(documenter, csv_bytes(rows))
    assert record.status == "failed"
    assert (
        record.failure_reason == "The import stopped on an unexpected error; run it again, or tell the technical team."
    )
    assert record.rows_done == 100  # two batches of 50 were written with their checkpoint
    assert Victim.objects.count() == 100
    monkeypatch.setattr(intake_rows.RowReader, "read", original)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client_for(documenter).post(f"/api/v1/imports/{record.pk}/run-again/")
    assert response.status_code == 202
    record.refresh_from_db()
    assert record.status == "done" and record.attempts == 2
    assert record.summary == {**record.summary, "rows": 200, "victims_created": 200, "unchanged": 0, "errors": 0}
    assert Victim.objects.count() == 200 == Victim.objects.values("origin_record_id").distinct().count()
    assert Incident.objects.count() == record.summary["incidents_created"] == 67
    assert Source.objects.count() == 67


def test_only_a_failed_import_runs_again(documenter, first_import):
    _rows, record = first_import
    response = client_for(documenter).post(f"/api/v1/imports/{record.pk}/run-again/")
    assert response.status_code == 409
    assert response.json() == {"detail": "Only a failed import can be run again."}


def test_running_a_finished_import_again_does_nothing(documenter, first_import):
    _rows, record = first_import
    before = state()
    assert services.run_import(record.pk) == "done"
    assert state() == before
