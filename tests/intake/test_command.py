"""`manage.py import_list FILE --source NAME [--dry-run] [--submit] [--user USERNAME]`: the API's import from a
terminal, with its progress, its summary and the error report written on request."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from incidents.models import Incident, Victim
from intake.models import Import
from tests.intake.conftest import csv_bytes, moh_people, moh_rows, xlsx_bytes


def run(*args: str) -> str:
    output = io.StringIO()
    call_command("import_list", *args, stdout=output)
    return output.getvalue()


def test_the_command_imports_a_list_showing_progress_and_summary(documenter, tmp_path):
    path = tmp_path / "moh.csv"
    path.write_bytes(csv_bytes(moh_rows(moh_people(120))))
    output = run(str(path), "--source", "MoH 2024-04-13", "--user", documenter.username)
    record = Import.objects.get()
    assert f"import #{record.pk}: CSV, utf-8, delimiter ','" in output
    assert "[##############################] 100% 120/120 rows" in output  # the bar, a line per tenth off a terminal
    assert "rows 120, incidents_created 40, victims_created 120, updated 0, unchanged 0, errors 0" in output
    assert (record.created_by, record.file_name, record.status) == (documenter, "moh.csv", "done")
    assert Victim.objects.filter(created_by=documenter, status="draft").count() == 120


def test_a_dry_run_writes_nothing_and_the_report_is_written_where_asked(documenter, tmp_path):
    rows = moh_rows(moh_people(10))
    rows[2][rows[0].index("age_years")] = "200"
    path = tmp_path / "moh.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    report = tmp_path / "errors.csv"
    output = run(str(path), "--source", "MoH", "--user", documenter.username, "--dry-run", "--report", str(report))
    assert "dry run: rows 10, incidents_created 4, victims_created 9" in output
    assert not Victim.objects.exists() and not Incident.objects.exists()
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "row,column,value,message_en,message_ar"
    assert lines[1].startswith("3,age_years,200,Ensure this value is less than or equal to 130.,")


def test_submit_sends_the_new_incidents_for_review(documenter, tmp_path):
    path = tmp_path / "moh.csv"
    path.write_bytes(csv_bytes(moh_rows(moh_people(6))))
    output = run(str(path), "--source", "MoH", "--user", documenter.username, "--submit", "--no-progress")
    assert "submitted 2" in output and "[" not in output
    assert set(Incident.objects.values_list("status", flat=True)) == {"submitted"}


def test_the_only_superuser_imports_when_no_user_is_named(tmp_path, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="pw-root-long-enough")
    path = tmp_path / "moh.csv"
    path.write_bytes(csv_bytes(moh_rows(moh_people(3))))
    run(str(path), "--source", "MoH", "--no-progress")
    assert Import.objects.get().created_by == root


@pytest.mark.parametrize(
    ("content", "arguments", "message"),
    [
        (
            b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
            ["--user", "documenter"],
            "not imported: This is not a CSV or XLSX file.",
        ),
        (b"", ["--user", "documenter"], "not imported: The file is empty."),
        (b"record_id\n1\n", ["--user", "reviewer"], "reviewer may not import lists"),
        (b"record_id\n1\n", ["--user", "nobody"], "no active user 'nobody'"),
        (b"record_id\n1\n", [], "name the importer with --user"),
        (b"record_id\n1\n", ["--user", "documenter", "--report", "x.pdf"], "--report must name a .csv or .xlsx file"),
    ],
)
def test_refusals_are_clear_errors(documenter, reviewer, tmp_path, content, arguments, message):
    path = tmp_path / "list.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        run(str(path), "--source", "MoH", "--no-progress", *arguments)
    assert not Import.objects.exists()


def test_a_failed_import_ends_the_command_with_its_reason(documenter, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(b"nickname\r\nx\r\n")
    with pytest.raises(CommandError, match="failed: The header row has errors"):
        run(str(path), "--source", "MoH", "--user", documenter.username, "--no-progress")
    assert Import.objects.get().status == "failed"
