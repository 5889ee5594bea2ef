"""The import page in a real browser (Chromium, as tests/test_browser.py drives it), in English at desktop width
and in Arabic at phone width, right to left: a documenter checks a file, reads the preview, imports it, watches
the progress bar move while the import works, reads the summary and downloads the error report (XLSX and CSV)."""

from __future__ import annotations

import csv
import io
import threading
import time

import pytest
from django.db import connection, transaction

from incidents.models import Victim
from intake import pipeline, services
from intake.models import Import
from outbox import services as outbox
from tests.conftest import make_user, transactional
from tests.intake.conftest import csv_bytes, moh_people, moh_rows
from tests.test_browser import Session

PEOPLE = 120
WORDS = {
    "en": {"viewport": {"width": 1280, "height": 900}, "check": "Check the file", "summary": "Victims created"},
    "ar": {"viewport": {"width": 390, "height": 844}, "check": "افحص الملف", "summary": "الضحايا المُنشأة"},
}


@pytest.fixture
def background_imports(monkeypatch, settings, tmp_path):
    """Imports run in a thread of their own, a little slowed down, as a worker would run them beside the
    web server: the page must show them moving."""
    settings.IMPORT_BATCH_ROWS = 10  # (MEDIA_ROOT: the intake tests' own, see conftest.py)
    original = pipeline.Run._process
    threads: list[threading.Thread] = []

    def slowly(self, items):
        original(self, items)
        time.sleep(0.25)

    def run(import_id: int) -> None:
        try:
            services.run_import(import_id)
        finally:
            connection.close()

    def enqueue(task_name: str, *ids: int):
        assert task_name == services.RUN_TASK

        def start() -> None:
            thread = threading.Thread(target=run, args=ids, daemon=True)
            threads.append(thread)
            thread.start()

        transaction.on_commit(start)

    monkeypatch.setattr(pipeline.Run, "_process", slowly)
    monkeypatch.setattr(outbox, "enqueue", enqueue)
    yield tmp_path
    for thread in threads:
        thread.join(timeout=60)


def progress_values(page) -> list[int]:
    """The progress bar's value, read until the page reloads to show the summary."""
    seen: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            value = page.eval_on_selector(".import-progress progress", "e => e.max > 1 ? e.value : -1")
        except Exception:
            break
        if value >= 0 and (not seen or seen[-1] != value):
            seen.append(int(value))
        page.wait_for_timeout(120)
    return seen


@pytest.mark.browser
@transactional
@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_documenter_checks_imports_and_follows_a_list_in_the_browser(
    chromium,
    live_server,
    background_imports,
    language,
):
    words = WORDS[language]
    documenter = make_user(f"importer-{language}", "documenter")
    rows = moh_rows(moh_people(PEOPLE))
    rows[4][rows[0].index("age_years")] = "200"  # one row with an error
    rows[9][rows[0].index("sex")] = "=1+1"  # and a formula-like one
    path = background_imports / "moh.csv"
    path.write_bytes(csv_bytes(rows))

    session = Session(chromium, live_server.url, language, words["viewport"], "6-import")
    page = session.page
    session.sign_in(documenter.username)
    session.go("/imports/")
    session.check_page("imports-empty")
    page.set_input_files("#import-file", str(path))
    page.fill("#import-source", "MoH 2024-04-13")
    page.click(f"text={words['check']}")
    page.wait_for_url(lambda url: "/imports/" in url and url.rstrip("/").split("/")[-1].isdigit())
    checked = progress_values(page)
    page.wait_for_selector(".import-summary")
    session.check_page("dry-run-preview")
    assert page.locator(".import-columns tbody tr").count() == len(rows[0])
    assert page.locator(".import-preview tbody tr").count() == 5
    assert page.locator(".import-errors tbody tr").count() == 2
    assert not Victim.objects.exists()

    dry_run = Import.objects.get()
    page.check("#submit-for-review")
    page.click(".carry-out button[type=submit]")
    page.wait_for_url(lambda url: url.rstrip("/").split("/")[-1].isdigit() and f"/{dry_run.pk}/" not in url)
    moving = progress_values(page)
    assert len([value for value in moving if 0 < value < PEOPLE]) >= 2, f"the bar moved: {moving} (check: {checked})"
    assert moving == sorted(moving)
    page.wait_for_selector(".import-summary")
    session.check_page("import-done")
    assert words["summary"] in page.locator(".import-summary").inner_text()
    record = Import.objects.filter(dry_run=False).get()
    assert record.status == "done" and record.summary["victims_created"] == PEOPLE - 2
    assert Victim.objects.count() == PEOPLE - 2 and set(Victim.objects.values_list("status", flat=True)) == {
        "submitted"
    }

    with page.expect_download() as xlsx_download:
        page.click("a.report-xlsx")
    from openpyxl import load_workbook

    assert xlsx_download.value.suggested_filename == f"import-{record.pk}-errors.xlsx"
    content = io.BytesIO(open(xlsx_download.value.path(), "rb").read())  # noqa: SIM115
    sheet = load_workbook(content, read_only=True).worksheets[0]
    report_rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert report_rows[0] == ["row", "column", "value", "message_en", "message_ar"]
    assert [(row[0], row[1], row[2]) for row in report_rows[1:]] == [(5, "age_years", "200"), (10, "sex", "'=1+1")]
    with page.expect_download() as csv_download:
        page.click("a.report-csv")
    with open(csv_download.value.path(), encoding="utf-8-sig", newline="") as handle:
        assert [row[:3] for row in csv.reader(handle)][1:] == [["5", "age_years", "200"], ["10", "sex", "'=1+1"]]
    session.close()
