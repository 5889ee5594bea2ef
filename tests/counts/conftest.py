"""Fixtures shared by the count tests."""

from __future__ import annotations

import pytest

from counts import services as count_services


@pytest.fixture
def audit_events(monkeypatch):
    events: list[dict] = []
    original = count_services.record_event

    def record(**kwargs):
        events.append(kwargs)
        original(**kwargs)

    monkeypatch.setattr(count_services, "record_event", record)
    return events
