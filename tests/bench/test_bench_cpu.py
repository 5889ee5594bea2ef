"""bench/cpu.py sends requests through Django's WSGI handler in-process, with a real token, as gunicorn's
worker calls it: statuses as the API answers them, and a CPU figure per list."""

from __future__ import annotations

import pytest
from knox.models import AuthToken

from bench import cpu
from incidents.models import Status
from tests.conftest import make_incident, make_victim

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _connections_kept_across_requests(settings):
    """As Django's test client does: requests here run inside the test's transaction, so the handler must
    not close the database connection at each request's start and end (gunicorn's worker does)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_the_wsgi_caller_answers_as_the_api_does(documenter, settings):
    _instance, token = AuthToken.objects.create(documenter)
    get = cpu.wsgi_caller()

    assert get("/healthz") == 200
    assert get("/api/v1/incidents/?page_size=5", token) == 200
    assert get("/api/v1/incidents/") == 401
    assert get("/api/v1/incidents/", "not-a-token") == 401
    assert get("/api/v1/victims/?status=not-a-status", token) == 400


def test_cpu_per_request_reports_each_list_and_healthz(documenter, settings, monkeypatch):
    incident = make_incident(documenter, status=Status.VERIFIED)
    make_victim(documenter, incident, status=Status.VERIFIED)
    _instance, token = AuthToken.objects.create(documenter)
    monkeypatch.setattr(
        "bench.run.list_paths", lambda kind: [f"/api/v1/{kind}/", f"/api/v1/{kind}/?status=verified&page_size=1"]
    )

    found = cpu.cpu_per_request(token, ["incidents", "victims"], requests=4, runs=2)

    assert set(found) == {"healthz", "incidents", "victims"}
    assert all(figure["cpu_ms"] > 0 and figure["wall_ms"] > 0 for figure in found.values())
