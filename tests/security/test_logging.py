"""Structured JSON logs: one record per line whatever the values; witness fields masked in logs and error reports."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest
from django.test import RequestFactory
from django.views.debug import ExceptionReporter

from config.logging import MASK

CANARY = "Canary Witness Zahra al-Fulani"
CANARY_PHONE = "+963-999-000-111"
NOTES = "met at the clinic"


@pytest.fixture
def json_lines():
    """The configured console handler (JSON formatter and masking filter), writing into a buffer."""
    handler = next(h for h in logging.getLogger().handlers if h.formatter.__class__.__name__ == "JsonFormatter")
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield lambda: buffer.getvalue().splitlines()
    finally:
        handler.setStream(previous or sys.stderr)


def test_newlines_and_control_characters_cannot_forge_a_log_line(json_lines):
    forged = 'x"}\n{"time": "2020-01-01", "level": "CRITICAL", "message": "admin logged in"}\r\x1b[2K\x00'
    logging.getLogger("incidents").warning("sign-in failed for %s", forged, extra={"username": forged})
    lines = json_lines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["level"] == "WARNING"
    assert record["message"] == f"sign-in failed for {forged}"
    assert record["username"] == forged
    assert "\x1b" not in lines[0] and "\x00" not in lines[0]


def test_witness_fields_in_log_records_are_masked(json_lines):
    logging.getLogger("evidence").info(
        "testimony saved",
        extra={"witness_name": CANARY, "payload": {"contact": CANARY_PHONE, "language": "ar"}, "testimony_id": 7},
    )
    line = json_lines()[0]
    assert CANARY not in line and CANARY_PHONE not in line
    record = json.loads(line)
    assert record["witness_name"] == MASK
    assert record["payload"] == {"contact": MASK, "language": "ar"}
    assert record["testimony_id"] == 7


def test_error_reports_mask_witness_fields_in_post_data_and_local_variables(settings):
    settings.DEBUG = False
    request = RequestFactory().post(
        "/api/v1/witnesses/", {"name": CANARY, "contact": CANARY_PHONE, "notes": NOTES, "code": "W-1"}
    )

    def handler(witness_name: str, contact: str) -> None:
        raise RuntimeError("boom")

    try:
        handler(CANARY, CANARY_PHONE)
    except RuntimeError:
        reporter = ExceptionReporter(request, *sys.exc_info())
        text = reporter.get_traceback_text()
        html = reporter.get_traceback_html()
    for report in (text, html):
        assert CANARY not in report
        assert CANARY_PHONE not in report
        assert NOTES not in report
        assert "W-1" in report, "other fields are still reported"


def test_a_server_error_page_shows_nothing_of_the_request(client, settings):
    settings.DEBUG = False
    response = client.get("/en/no-such-page/?witness_name=" + CANARY.replace(" ", "+"))
    assert response.status_code == 404
    assert CANARY not in response.content.decode()
