"""Import fixtures: a private MEDIA_ROOT (where uploaded lists are kept) per test, tasks in-process, and
builders of real files — CSV in each accepted encoding, XLSX written with openpyxl — from the Gaza Ministry of
Health list in data/ (names, ids, ages, sexes of real people: nothing here prints them)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from intake.models import Import
from tests.conftest import client_for

ROOT = Path(__file__).resolve().parent.parent.parent
MOH_APRIL = ROOT / "data" / "gaza-moh-2024-04-13.csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = [
    "record_id",
    "incident_key",
    "occurred_on",
    "location",
    "perpetrator",
    "weapon",
    "name",
    "name_ar",
    "sex",
    "age_years",
    "identity_number",
]


@pytest.fixture(autouse=True)
def import_storage(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    settings.IMPORT_ROOT = ""
    settings.IMPORT_BATCH_ROWS = 50  # several batches (and progress steps) even for small test files
    return settings.MEDIA_ROOT / "imports"


@pytest.fixture(autouse=True)
def eager_tasks(request):
    """Tasks run in-process here, also when REDIS_URL is set; the killed-worker test runs real workers."""
    from config.celery import app

    if request.node.get_closest_marker("worker") is not None:
        yield
        return
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


def moh_people(limit: int | None = None, start: int = 0) -> list[dict[str, str]]:
    with open(MOH_APRIL, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return rows[start : start + limit] if limit is not None else rows[start:]


def moh_rows(people: list[dict[str, str]], per_incident: int = 3) -> list[list[str]]:
    """The MoH people as rows of an import: one incident per `per_incident` people (Idlib, by Russian forces)."""
    rows = [HEADER]
    for index, person in enumerate(people):
        age = person["age"] if person["age"] not in ("", "-1") else ""
        rows.append(
            [
                f"moh-{index + 1}",
                f"strike-{index // per_incident + 1}",
                "15/01/2020",
                "Idlib",
                "Russian forces",
                "fixed_wing_aircraft",
                person["en_name"].strip(),
                person["name"].strip(),
                person["sex"],
                age,
                "" if person["id"].startswith("missing") else person["id"],
            ]
        )
    return rows


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    text = buffer.getvalue()
    if encoding == "utf-8-sig":
        return "\ufeff".encode() + text.encode("utf-8")
    return text.encode(encoding)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "victims"
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("notes").append(["this second sheet is not read"])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def upload(user, content: bytes, name: str = "list.csv", source: str = "MoH 2024-04-13", **fields: Any):
    """POST /api/v1/imports/ as `user`; the response."""
    kind = XLSX_TYPE if name.endswith(".xlsx") else "text/csv"
    body = {"file": SimpleUploadedFile(name, content, content_type=kind), "source": source}
    body.update(
        {key: ("true" if value is True else "false" if value is False else value) for key, value in fields.items()}
    )
    return client_for(user).post("/api/v1/imports/", body, format="multipart")


def imported(user, content: bytes, name: str = "list.csv", source: str = "MoH 2024-04-13", **fields: Any) -> Import:
    """Upload and (tasks being eager) run an import; the import as stored afterwards."""
    with TestCase.captureOnCommitCallbacks(execute=True):  # the test's transaction never commits: relay now
        response = upload(user, content, name, source, **fields)
    assert response.status_code == 202, response.content
    return Import.objects.get(pk=response.json()["id"])


def report(user, record: Import, report_format: str) -> list[list[str]]:
    """The import's error report, downloaded through the API and read back into rows (header first)."""
    response = client_for(user).get(f"/api/v1/imports/{record.pk}/errors/", {"format": report_format})
    assert response.status_code == 200, response.content
    content = b"".join(response.streaming_content)
    if report_format == "csv":
        assert content.startswith("\ufeff".encode())
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True)
    rows = []
    for sheet in workbook.worksheets:
        for index, row in enumerate(sheet.iter_rows(values_only=True)):
            if index == 0 and rows:
                continue  # a further sheet repeats the header
            rows.append(["" if cell is None else str(cell) for cell in row])
    return rows
