"""The same request sent twice (a double click, a retry) creates one record: `Idempotency-Key`."""

from __future__ import annotations

import datetime as dt
import threading

from django.db import connection
from django.utils import timezone

from counts.models import CountSnapshot
from evidence.models import Source
from incidents.models import Incident
from tests.conftest import client_for, location, make_incident, perpetrator, skip_or_fail, transactional

PURGE_TASK = "accounts.idempotency.purge_expired"


def incident_body(title: str = "Shelling of the bakery") -> dict:
    return {
        "title": title,
        "occurred_on": "2020-01-15",
        "location": location().pk,
        "perpetrator": perpetrator().pk,
        "weapon": "artillery",
    }


def test_a_retried_create_with_the_same_key_creates_one_incident(documenter):
    client = client_for(documenter)
    first = client.post("/api/v1/incidents/", incident_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = client.post("/api/v1/incidents/", incident_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["id"] == first.json()["id"]
    assert second["Idempotent-Replayed"] == "true"
    assert Incident.objects.count() == 1


def test_without_a_key_each_request_creates(documenter):
    client = client_for(documenter)
    client.post("/api/v1/incidents/", incident_body(), format="json")
    client.post("/api/v1/incidents/", incident_body(), format="json")
    assert Incident.objects.count() == 2


def test_the_same_key_with_a_different_body_is_refused(documenter):
    client = client_for(documenter)
    client.post("/api/v1/incidents/", incident_body("one"), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = client.post("/api/v1/incidents/", incident_body("two"), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()
    assert list(Incident.objects.values_list("title", flat=True)) == ["one"]


def test_keys_are_per_user(documenter, second_documenter):
    client_for(documenter).post("/api/v1/incidents/", incident_body(), format="json", HTTP_IDEMPOTENCY_KEY="same")
    theirs = client_for(second_documenter).post(
        "/api/v1/incidents/", incident_body(), format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert Incident.objects.filter(created_by=second_documenter).count() == 1


def test_a_refused_request_leaves_its_key_free_for_the_corrected_retry(documenter):
    client = client_for(documenter)
    bad = client.post(
        "/api/v1/incidents/",
        {**incident_body(), "occurred_on": "2023-02-30"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-3",
    )
    assert bad.status_code == 400
    good = client.post("/api/v1/incidents/", incident_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert good.status_code == 201
    assert Incident.objects.count() == 1


def test_evidence_and_counts_honour_the_key(documenter, admin_user):
    incident = make_incident(documenter)
    client = client_for(documenter)
    body = {"incident": incident.pk, "kind": "web_page", "url": "https://example.org/x", "title": "Report"}
    for _ in range(2):
        assert client.post("/api/v1/sources/", body, format="json", HTTP_IDEMPOTENCY_KEY="src").status_code == 201
    assert Source.objects.count() == 1
    admin = client_for(admin_user)
    window = {"date_from": "2020-01-01", "date_to": "2020-12-31"}
    first = admin.post("/api/v1/counts/", window, format="json", HTTP_IDEMPOTENCY_KEY="count")
    again = admin.post("/api/v1/counts/", window, format="json", HTTP_IDEMPOTENCY_KEY="count")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"]
    assert CountSnapshot.objects.count() == 1


def test_an_unprintable_or_huge_key_is_a_400(documenter):
    client = client_for(documenter)
    response = client.post("/api/v1/incidents/", incident_body(), format="json", HTTP_IDEMPOTENCY_KEY="x" * 201)
    assert response.status_code == 400
    assert Incident.objects.count() == 0


@transactional
def test_two_copies_arriving_at_once_create_one_record(documenter):
    if connection.vendor != "postgresql":
        skip_or_fail("concurrent transactions need PostgreSQL")
    barrier = threading.Barrier(2)
    answers: list[tuple[int, int | None]] = []

    def send() -> None:
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            response = client_for(documenter).post(
                "/api/v1/incidents/", incident_body(), format="json", HTTP_IDEMPOTENCY_KEY="double-click"
            )
            answers.append((response.status_code, response.json().get("id")))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert Incident.objects.count() == 1
    assert sorted(code for code, _ in answers) in ([201, 201], [201, 409])
    assert {pk for code, pk in answers if code == 201} == {Incident.objects.get().pk}


def test_expired_records_are_purged_by_the_scheduled_task_without_any_new_request(documenter, settings):
    from accounts.models import IdempotentRequest
    from config.celery import app

    client = client_for(documenter)
    client.post("/api/v1/incidents/", incident_body("old"), format="json", HTTP_IDEMPOTENCY_KEY="old")
    client.post("/api/v1/incidents/", incident_body("new"), format="json", HTTP_IDEMPOTENCY_KEY="new")
    IdempotentRequest.objects.filter(key="old").update(created_at=timezone.now() - dt.timedelta(days=3))
    scheduled = {entry["task"]: entry for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    task = app.tasks[PURGE_TASK]
    assert PURGE_TASK in scheduled, "Celery beat runs the purge"
    assert task.apply().get() == 1
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new"]
    assert Incident.objects.count() == 2, "only replay records go, never the records they created"


def test_a_key_older_than_the_retention_runs_anew_instead_of_replaying(documenter):
    from accounts.models import IdempotentRequest

    client = client_for(documenter)
    client.post("/api/v1/incidents/", incident_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-old")
    IdempotentRequest.objects.update(created_at=timezone.now() - dt.timedelta(days=3))
    again = client.post("/api/v1/incidents/", incident_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-old")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Incident.objects.count() == 2
    assert IdempotentRequest.objects.count() == 1
