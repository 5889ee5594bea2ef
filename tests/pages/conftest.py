"""The browser fixtures of tests/test_browser.py (Chromium, evidence storage), for the browser journeys here."""

from tests.test_browser import chromium, evidence_storage  # noqa: F401
