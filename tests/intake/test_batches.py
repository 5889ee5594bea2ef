"""Large batches (IMPORT_BATCH_ROWS 5,000) and the read-ahead (IMPORT_READ_AHEAD): one bad row among
thousands is reported and the others are imported; a row the database itself refuses inside a batch becomes
that row's error while the rest of the batch is written (the COPY path on PostgreSQL); the same file again is
every row unchanged; the read-ahead on or off gives the same import, row errors and records."""

from __future__ import annotations

import pytest
from django.db import connection

from evidence.models import Source
from incidents.models import Incident, Victim
from intake.models import RowError
from tests.intake.conftest import HEADER, csv_bytes, imported, moh_people, moh_rows, report
from tests.intake.test_errors import every_error_rows

ROWS = 5_200  # more than one batch of 5,000
AGE = HEADER.index("age_years")
NAME = HEADER.index("name")


@pytest.fixture
def big_batches(settings):
    settings.IMPORT_BATCH_ROWS = 5_000


def errors_of(record) -> list[tuple]:
    return list(
        RowError.objects.filter(source_import=record)
        .order_by("row", "column", "code")
        .values_list("row", "column", "value", "code", "message_en", "message_ar")
    )


def victims_of(source: str) -> list[tuple]:
    return sorted(
        Victim.objects.filter(origin_source=source).values_list(
            "origin_record_id", "incident__origin_key", "name", "name_ar", "sex", "age_years", "age_group", "status"
        )
    )


def test_one_bad_row_among_5000_row_batches_is_reported_and_every_other_row_imported(documenter, big_batches):
    rows = moh_rows(moh_people(ROWS))
    rows[2603][AGE] = "two hundred"  # spreadsheet row 2604, the second row of its incident
    record = imported(documenter, csv_bytes(rows))
    assert record.status == "done"
    assert record.summary["rows"] == ROWS
    assert record.summary["victims_created"] == ROWS - 1
    assert record.summary["rows_with_errors"] == 1
    assert [(e.row, e.column, e.value) for e in RowError.objects.filter(source_import=record)] == [
        (2604, "age_years", "two hundred")
    ]
    assert Victim.objects.filter(origin_source=record.source).count() == ROWS - 1
    assert not Victim.objects.filter(origin_record_id=rows[2603][0]).exists()
    incidents = Incident.objects.filter(origin_source=record.source)
    assert incidents.count() == ROWS // 3 + 1
    assert Source.objects.filter(incident__in=incidents).count() == incidents.count()

    again = imported(documenter, csv_bytes(rows))
    assert again.status == "done"
    assert again.summary["unchanged"] == ROWS - 1
    assert again.summary["victims_created"] == again.summary["incidents_created"] == again.summary["updated"] == 0
    assert again.summary["rows_with_errors"] == 1  # the bad row is reported again, not silently skipped
    assert Victim.objects.filter(origin_source=record.source).count() == ROWS - 1


@pytest.fixture
def database_refuses_a_name():
    """The database itself refuses one name (as it would a concurrent import's row): a check the row
    reader does not make, so only the insert can find it."""
    refused = "Refused By The Database"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE incidents_victim ADD CONSTRAINT test_refused CHECK (name <> '{refused}')")
        else:
            cursor.execute(
                "CREATE TRIGGER test_refused BEFORE INSERT ON incidents_victim "
                f"WHEN NEW.name = '{refused}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
    yield refused
    # On PostgreSQL the constraint goes with the test's transaction, which is rolled back (it cannot be
    # dropped while the inserts' deferred foreign key checks are pending).
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS test_refused")


def test_a_row_the_database_refuses_inside_a_batch_is_that_rows_error_and_the_batch_is_written(
    documenter, big_batches, database_refuses_a_name
):
    rows = moh_rows(moh_people(300))
    rows[5][NAME] = database_refuses_a_name  # row 6: the second victim of incident strike-2
    record = imported(documenter, csv_bytes(rows))
    assert record.status == "done"
    assert record.summary["victims_created"] == 299
    assert record.summary["rows_with_errors"] == 1
    assert [(e.row, e.code) for e in RowError.objects.filter(source_import=record)] == [(6, "refused")]
    strike = Incident.objects.get(origin_source=record.source, origin_key="key:strike-2")
    assert sorted(strike.victims.values_list("origin_record_id", flat=True)) == ["moh-4", "moh-6"]
    assert Incident.objects.filter(origin_source=record.source).count() == 100


@pytest.mark.parametrize("batch_rows", [50, 5_000])
def test_the_read_ahead_on_or_off_gives_the_same_import_errors_and_records(documenter, settings, batch_rows):
    settings.IMPORT_BATCH_ROWS = batch_rows
    good = moh_rows(moh_people(240))
    header = every_error_rows()[0]
    # The list with every kind of row error, then the MoH rows in its columns, a blank row among them.
    rows = every_error_rows() + [
        [dict(zip(HEADER, values, strict=True)).get(name, "") for name in header] for values in good[1:]
    ]
    rows.insert(120, [""] * len(header))
    outcomes = {}
    for read_ahead in (True, False):
        settings.IMPORT_READ_AHEAD = read_ahead
        source = f"list read ahead {read_ahead}"
        first = imported(documenter, csv_bytes(rows), source=source)
        again = imported(documenter, csv_bytes(rows), source=source)
        assert first.status == again.status == "done"
        assert again.summary["victims_created"] == again.summary["updated"] == 0
        assert again.summary["unchanged"] == first.summary["victims_created"]
        outcomes[read_ahead] = {
            "summaries": (first.summary, again.summary),
            "errors": (errors_of(first), errors_of(again)),
            "report": report(documenter, first, "csv"),
            "victims": victims_of(source),
        }
    assert outcomes[True]["summaries"][0]["victims_created"] >= 240
    assert outcomes[True]["summaries"][0]["rows_with_errors"] >= 10
    assert outcomes[True] == outcomes[False]
