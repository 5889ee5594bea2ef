"""The browser fixtures of tests/test_browser.py (evidence storage), for the browser journeys here.

Chromium itself is the session fixture `chromium` of tests/conftest.py."""

from tests.test_browser import evidence_storage  # noqa: F401
