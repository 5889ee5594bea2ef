"""The import's error report leaves through the one download helper (config/downloads.py): an
attachment with its file name, never sniffed, never cached. (The count export and the evidence
original are asserted the same way in tests/counts/test_exports.py and tests/evidence/test_media_access.py.)"""

from __future__ import annotations

from config.downloads import attachment
from tests.conftest import client_for
from tests.intake.conftest import HEADER, csv_bytes, imported


def test_the_error_report_is_an_uncached_unsniffed_attachment(documenter):
    record = imported(documenter, csv_bytes([HEADER, ["x"] * len(HEADER)]))
    response = client_for(documenter).get(f"/api/v1/imports/{record.pk}/errors/", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="')
    assert response["Content-Disposition"].endswith('.csv"')
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"


def test_a_non_ascii_name_is_sent_in_the_rfc_5987_form():
    response = attachment(b"x", "تقرير.csv", "text/csv")
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''%D8%AA%D9%82%D8%B1%D9%8A%D8%B1.csv"
    assert response["Content-Type"] == "text/csv"
    assert response["Cache-Control"] == "private, no-store"
