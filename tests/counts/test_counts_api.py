"""Count snapshots through the API, the task and the command: request, compute, publish, correct, read."""

from __future__ import annotations

import io
import threading
import uuid

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F

from config.celery import app as celery_app
from config.health import worker_ping
from counts import counting
from counts import services as count_services
from counts.models import CountSnapshot
from counts.tasks import compute_count_snapshot
from incidents.models import ReportingPeriod, Victim
from tests.conftest import client_for, skip_or_fail, wait_for
from tests.counts import scenario as sc

WINDOW = {"date_from": "2020-01-12", "date_to": "2020-01-27"}


@pytest.fixture
def world(documenter):
    return sc.build(documenter)


@pytest.fixture
def eager_tasks():
    """Run enqueued tasks in-process (the Celery app is configured once, from settings, at start-up)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


def done_snapshot(admin, **parameters) -> CountSnapshot:
    parameters = parameters or {"date_from": sc.WINDOW[0], "date_to": sc.WINDOW[1]}
    snapshot = count_services.request_count(actor=admin, enqueue=False, **parameters)
    return count_services.run_count(snapshot.pk)


# --- Requesting and computing --------------------------------------------------------------------


def test_admin_requests_a_count_and_gets_a_pending_snapshot(world, admin_user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client_for(admin_user).post("/api/v1/counts/", WINDOW, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "pending"
    assert body["date_from"] == "2020-01-12" and body["date_to"] == "2020-01-27"
    assert body["locations"] == [] and body["perpetrators"] == []
    assert body["result"] is None and body["fingerprint"] == "" and body["published_at"] is None
    for field in ("id", "computed_at", "summary_en", "summary_ar", "period"):
        assert field in body
    assert len(callbacks) == 1  # the task is enqueued only once the request commits
    assert CountSnapshot.objects.get().status == "pending"


def test_the_task_computes_the_snapshot_after_commit(
    world, admin_user, eager_tasks, django_capture_on_commit_callbacks
):
    client = client_for(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/counts/", WINDOW, format="json")
    snapshot_id = response.json()["id"]
    body = client.get(f"/api/v1/counts/{snapshot_id}/").json()
    assert body["status"] == "done"
    assert body["result"] == sc.expected_result(world)
    assert body["fingerprint"] == counting.compute(counting.CountParameters(*sc.WINDOW)).fingerprint
    assert body["computed_at"] is not None
    assert body["summary_en"].startswith(
        "At least 11 civilians, including three children and three women (adult female), were killed, "
        "and one massacre committed, between January 12, 2020, and January 27, 2020."
    )
    assert body["summary_ar"].startswith("قُتل ما لا يقل عن 11 مدنياً، بينهم ثلاثة أطفال وثلاث سيدات (أنثى بالغة)")


def test_filters_are_stored_sorted_and_named_in_the_summary(world, admin_user):
    snapshot = done_snapshot(
        admin_user,
        date_from=sc.WINDOW[0],
        date_to=sc.WINDOW[1],
        locations=[world.places["idlib"].pk],
        perpetrators=[world.parties["russia"].pk, world.parties["alliance"].pk],
    )
    assert snapshot.perpetrators == sorted([world.parties["russia"].pk, world.parties["alliance"].pk])
    assert snapshot.result["civilians"]["total"] == 5  # I1: the alliance's victims in Idlib
    assert snapshot.summary_en.startswith(
        "At least five civilians, including a child and a woman (adult female), were killed, and one massacre "
        "committed, by Syrian-Russian alliance in Idlib between January 12, 2020, and "
        "January 27, 2020. Syrian regime forces killed five civilians"
    )
    assert "على يد التحالف السوري الروسي في إدلب" in snapshot.summary_ar


def test_a_reporting_period_can_replace_the_dates(world, admin_user, eager_tasks, django_capture_on_commit_callbacks):
    period = ReportingPeriod.objects.create(
        name="January", name_ar="كانون الثاني", start=sc.WINDOW[0], end=sc.WINDOW[1]
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin_user).post("/api/v1/counts/", {"period": period.pk}, format="json")
    assert response.status_code == 202
    snapshot = CountSnapshot.objects.get(pk=response.json()["id"])
    assert (snapshot.date_from, snapshot.date_to, snapshot.period) == (*sc.WINDOW, period)
    assert snapshot.result == sc.expected_result(world)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "date_from"),
        ({"date_from": "2020-01-12"}, "date_to"),
        ({"date_from": "2020-01-27", "date_to": "2020-01-12"}, "date_to"),
        ({"date_from": "2020-02-30", "date_to": "2020-03-01"}, "date_from"),
        ({**WINDOW, "locations": [999999]}, "locations"),
        ({**WINDOW, "perpetrators": "all"}, "perpetrators"),
        ({**WINDOW, "period": 999999}, "period"),
        ({**WINDOW, "supersedes": 999999}, "supersedes"),
    ],
)
def test_bad_count_requests_get_a_400_with_the_field(world, admin_user, payload, field):
    response = client_for(admin_user).post("/api/v1/counts/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not CountSnapshot.objects.exists()


def test_period_and_dates_together_are_refused(world, admin_user):
    period = ReportingPeriod.objects.create(name="P", start=sc.WINDOW[0], end=sc.WINDOW[1])
    response = client_for(admin_user).post("/api/v1/counts/", {**WINDOW, "period": period.pk}, format="json")
    assert response.status_code == 400
    assert "period" in response.json()


@pytest.mark.parametrize("actor", ["documenter", "second_documenter", "reviewer", "outsider"])
def test_non_admins_cannot_request_list_or_read_counts(world, admin_user, actor, request):
    user = request.getfixturevalue(actor)
    snapshot = done_snapshot(admin_user)
    client = client_for(user)
    assert client.post("/api/v1/counts/", WINDOW, format="json").status_code == 403
    assert client.get("/api/v1/counts/").status_code == 403
    assert client.get(f"/api/v1/counts/{snapshot.pk}/").status_code == 403
    assert client.post(f"/api/v1/counts/{snapshot.pk}/publish/").status_code == 403
    assert client.get(f"/api/v1/counts/{snapshot.pk}/export/?format=csv").status_code == 403
    assert CountSnapshot.objects.count() == 1
    assert CountSnapshot.objects.get().published_at is None


def test_anonymous_visitors_cannot_reach_the_admin_endpoints(world, admin_user, anonymous_client):
    snapshot = done_snapshot(admin_user)
    assert anonymous_client.post("/api/v1/counts/", WINDOW, format="json").status_code == 401
    assert anonymous_client.get("/api/v1/counts/").status_code == 401
    assert anonymous_client.get(f"/api/v1/counts/{snapshot.pk}/").status_code == 401
    assert anonymous_client.post(f"/api/v1/counts/{snapshot.pk}/publish/").status_code == 401
    assert CountSnapshot.objects.get().published_at is None


def test_admins_list_snapshots_and_filter_by_status(world, admin_user):
    done = done_snapshot(admin_user)
    pending = count_services.request_count(
        actor=admin_user, date_from=sc.WINDOW[0], date_to=sc.WINDOW[1], enqueue=False
    )
    client = client_for(admin_user)
    listing = client.get("/api/v1/counts/").json()
    assert [item["id"] for item in listing["results"]] == [pending.pk, done.pk]
    assert [item["id"] for item in client.get("/api/v1/counts/?status=done").json()["results"]] == [done.pk]
    assert client.get("/api/v1/counts/999999/").status_code == 404


# --- The task: idempotent, concurrent, redelivered, failing ------------------------------------------


def test_running_the_task_twice_gives_one_result(world, admin_user, audit_events):
    snapshot = count_services.request_count(
        actor=admin_user, date_from=sc.WINDOW[0], date_to=sc.WINDOW[1], enqueue=False
    )
    assert compute_count_snapshot.apply(args=[snapshot.pk]).get() == "done"
    first = CountSnapshot.objects.get(pk=snapshot.pk)
    assert compute_count_snapshot.apply(args=[snapshot.pk]).get() == "done"
    second = CountSnapshot.objects.get(pk=snapshot.pk)
    assert (second.result, second.fingerprint, second.computed_at) == (
        first.result,
        first.fingerprint,
        first.computed_at,
    )
    assert second.attempts == 1
    assert [event["action"] for event in audit_events] == ["count.requested", "count.computed"]
    assert CountSnapshot.objects.count() == 1


def test_a_redelivered_task_finishes_a_snapshot_left_running(world, admin_user):
    snapshot = count_services.request_count(
        actor=admin_user, date_from=sc.WINDOW[0], date_to=sc.WINDOW[1], enqueue=False
    )
    # The worker died after claiming it: the snapshot is left running, and the message is redelivered.
    CountSnapshot.objects.filter(pk=snapshot.pk).update(status="running", attempts=1)
    assert count_services.run_count(snapshot.pk).status == "done"
    snapshot.refresh_from_db()
    assert snapshot.attempts == 2
    assert snapshot.result == sc.expected_result(world)


def test_a_failing_computation_is_marked_failed_with_a_reason(world, admin_user, monkeypatch):
    snapshot = count_services.request_count(
        actor=admin_user, date_from=sc.WINDOW[0], date_to=sc.WINDOW[1], enqueue=False
    )

    def broken(parameters):
        raise ValueError("the place tree has a cycle")

    monkeypatch.setattr(counting, "compute", broken)
    assert count_services.run_count(snapshot.pk).status == "failed"
    snapshot.refresh_from_db()
    assert snapshot.failure_reason == "ValueError: the place tree has a cycle"
    assert snapshot.result is None and snapshot.fingerprint == ""
    body = client_for(admin_user).get(f"/api/v1/counts/{snapshot.pk}/").json()
    assert (body["status"], body["failure_reason"]) == ("failed", "ValueError: the place tree has a cycle")
    monkeypatch.undo()
    assert count_services.run_count(snapshot.pk).status == "failed"  # a failed snapshot is not silently recomputed


def test_a_lost_database_connection_leaves_the_snapshot_running_for_a_retry(world, admin_user, monkeypatch):
    from django.db import OperationalError

    snapshot = count_services.request_count(
        actor=admin_user, date_from=sc.WINDOW[0], date_to=sc.WINDOW[1], enqueue=False
    )

    def lost(parameters):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(counting, "compute", lost)
    with pytest.raises(OperationalError):
        count_services.run_count(snapshot.pk)
    snapshot.refresh_from_db()
    assert snapshot.status == "running"
    monkeypatch.undo()
    assert count_services.run_count(snapshot.pk).status == "done"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_workers_computing_at_once_leave_one_result(documenter, admin_user, audit_events):
    if connection.vendor != "postgresql":
        skip_or_fail("concurrent transactions need PostgreSQL")
    world = sc.build(documenter)
    snapshot = count_services.request_count(
        actor=admin_user, date_from=sc.WINDOW[0], date_to=sc.WINDOW[1], enqueue=False
    )
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []
    original = counting.compute

    def slow_compute(parameters):
        figures = original(parameters)
        barrier.wait(timeout=20)  # both have computed before either stores
        return figures

    def worker():
        try:
            count_services.run_count(snapshot.pk)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    counting.compute = slow_compute
    try:
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        barrier.wait(timeout=20)
        for thread in threads:
            thread.join(timeout=30)
    finally:
        counting.compute = original
    assert errors == []
    snapshot.refresh_from_db()
    assert snapshot.status == "done"
    assert snapshot.attempts == 2
    assert snapshot.result == sc.expected_result(world)
    assert [event["action"] for event in audit_events].count("count.computed") == 1
    assert CountSnapshot.objects.count() == 1


@pytest.mark.worker
def test_the_task_runs_on_a_real_worker_against_postgresql(celery_worker_process, documenter, admin_user):
    world = sc.build(documenter)
    snapshot = count_services.request_count(
        actor=admin_user, date_from=sc.WINDOW[0], date_to=sc.WINDOW[1], enqueue=False
    )
    compute_count_snapshot.apply_async(args=[snapshot.pk], queue=celery_worker_process.queue)
    wait_for(lambda: CountSnapshot.objects.filter(pk=snapshot.pk, status="done").exists(), timeout=60)
    snapshot.refresh_from_db()
    assert snapshot.result == sc.expected_result(world)
    assert snapshot.fingerprint == counting.compute(counting.CountParameters(*sc.WINDOW)).fingerprint
    # Delivered again (as after a worker crash): still one result. The worker takes one message at a
    # time from this queue, so once the ping sent after it answers, the second delivery has run.
    computed_at = snapshot.computed_at
    compute_count_snapshot.apply_async(args=[snapshot.pk], queue=celery_worker_process.queue)
    nonce = uuid.uuid4().hex
    worker_ping.apply_async(args=[nonce], queue=celery_worker_process.queue)
    wait_for(lambda: cache.get(f"worker-ping:{nonce}"), timeout=30)
    snapshot.refresh_from_db()
    assert (snapshot.computed_at, snapshot.attempts) == (computed_at, 1)
    assert CountSnapshot.objects.count() == 1


# --- Publication and corrections ------------------------------------------------------------------


def test_admin_publishes_a_done_snapshot_once(world, admin_user, audit_events):
    snapshot = done_snapshot(admin_user)
    client = client_for(admin_user)
    response = client.post(f"/api/v1/counts/{snapshot.pk}/publish/")
    assert response.status_code == 200
    assert response.json()["published_at"] is not None
    again = client.post(f"/api/v1/counts/{snapshot.pk}/publish/")
    assert again.status_code == 409
    assert "published_at" not in again.json()
    assert [event["action"] for event in audit_events].count("count.published") == 1
    from audit.models import AuditEntry

    published = AuditEntry.objects.for_target(snapshot).get(action="count.published")
    assert (published.actor, published.to_state) == (admin_user, "published")


@pytest.mark.parametrize("state", ["pending", "running", "failed"])
def test_only_done_snapshots_can_be_published(world, admin_user, state):
    snapshot = count_services.request_count(
        actor=admin_user, date_from=sc.WINDOW[0], date_to=sc.WINDOW[1], enqueue=False
    )
    CountSnapshot.objects.filter(pk=snapshot.pk).update(status=state)
    response = client_for(admin_user).post(f"/api/v1/counts/{snapshot.pk}/publish/")
    assert response.status_code == 409
    assert CountSnapshot.objects.get(pk=snapshot.pk).published_at is None


def test_a_published_snapshot_is_frozen_by_the_database(world, admin_user):
    snapshot = count_services.publish(actor=admin_user, snapshot=done_snapshot(admin_user))
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        CountSnapshot.objects.filter(pk=snapshot.pk).update(summary_en="Nobody died.")
    with pytest.raises((IntegrityError, DatabaseError)), transaction.atomic():
        CountSnapshot.objects.filter(pk=snapshot.pk).update(published_at=None)
    snapshot.refresh_from_db()
    assert snapshot.summary_en.startswith("At least 11 civilians")
    assert snapshot.published_at is not None


def test_recomputing_after_publication_changes_nothing(world, admin_user):
    snapshot = count_services.publish(actor=admin_user, snapshot=done_snapshot(admin_user))
    Victim.objects.filter(pk=world.victims["man30"].pk).update(version=F("version") + 1)
    assert count_services.run_count(snapshot.pk).fingerprint == snapshot.fingerprint


def test_a_correction_supersedes_a_published_snapshot(
    world, admin_user, eager_tasks, django_capture_on_commit_callbacks
):
    original = count_services.publish(
        actor=admin_user,
        snapshot=done_snapshot(
            admin_user, date_from=sc.WINDOW[0], date_to=sc.WINDOW[1], locations=[world.places["idlib"].pk]
        ),
    )
    Victim.objects.filter(pk=world.victims["woman50"].pk).update(civilian_status="combatant")  # found to be wrong
    client = client_for(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/counts/", {"supersedes": original.pk}, format="json")
    assert response.status_code == 202, response.json()
    correction = CountSnapshot.objects.get(pk=response.json()["id"])
    assert correction.supersedes == original
    assert (correction.date_from, correction.date_to, correction.locations) == (
        original.date_from,
        original.date_to,
        original.locations,
    )
    assert (original.result["civilians"]["total"], correction.result["civilians"]["total"]) == (6, 5)
    assert correction.fingerprint != original.fingerprint
    assert client.post(f"/api/v1/counts/{correction.pk}/publish/").status_code == 200
    public = {item["id"]: item for item in client_for().get("/api/v1/public/counts/").json()["results"]}
    assert public[original.pk]["superseded_by"] == [correction.pk]
    assert public[correction.pk]["supersedes"] == original.pk
    assert public[original.pk]["result"]["civilians"]["total"] == 6  # the original stays as published


def test_a_correction_of_a_period_count_keeps_the_period(world, admin_user):
    period = ReportingPeriod.objects.create(name="January", start=sc.WINDOW[0], end=sc.WINDOW[1])
    original = count_services.publish(actor=admin_user, snapshot=done_snapshot(admin_user, period=period))
    response = client_for(admin_user).post("/api/v1/counts/", {"supersedes": original.pk}, format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["period"], body["date_from"], body["date_to"], body["supersedes"]) == (
        period.pk,
        "2020-01-12",
        "2020-01-27",
        original.pk,
    )


def test_only_a_published_snapshot_can_be_corrected(world, admin_user):
    draft = done_snapshot(admin_user)
    response = client_for(admin_user).post("/api/v1/counts/", {"supersedes": draft.pk}, format="json")
    assert response.status_code == 400
    assert "supersedes" in response.json()


def test_the_schema_documents_the_count_endpoints(db):
    import yaml
    from django.test import Client

    schema = yaml.safe_load(Client().get("/api/v1/schema/").content)
    for path in [
        "/api/v1/counts/",
        "/api/v1/counts/{id}/",
        "/api/v1/counts/{id}/publish/",
        "/api/v1/counts/{id}/export/",
        "/api/v1/public/counts/",
        "/api/v1/public/counts/{id}/",
    ]:
        assert path in schema["paths"], path
    assert "202" in schema["paths"]["/api/v1/counts/"]["post"]["responses"]
    export_parameters = {item["name"] for item in schema["paths"]["/api/v1/counts/{id}/export/"]["get"]["parameters"]}
    assert "format" in export_parameters


# --- The public ---------------------------------------------------------------------------------

PUBLIC_FIELDS = {
    "id",
    "date_from",
    "date_to",
    "period",
    "locations",
    "perpetrators",
    "massacre_threshold",
    "rule_version",
    "fingerprint",
    "computed_at",
    "published_at",
    "supersedes",
    "superseded_by",
    "summary_en",
    "summary_ar",
    "result",
}


def test_anonymous_visitors_see_only_published_snapshots(world, admin_user, anonymous_client):
    published = count_services.publish(actor=admin_user, snapshot=done_snapshot(admin_user))
    unpublished = done_snapshot(admin_user)
    pending = count_services.request_count(
        actor=admin_user, date_from=sc.WINDOW[0], date_to=sc.WINDOW[1], enqueue=False
    )
    listing = anonymous_client.get("/api/v1/public/counts/")
    assert listing.status_code == 200
    assert [item["id"] for item in listing.json()["results"]] == [published.pk]
    assert anonymous_client.get(f"/api/v1/public/counts/{published.pk}/").status_code == 200
    assert anonymous_client.get(f"/api/v1/public/counts/{unpublished.pk}/").status_code == 404
    assert anonymous_client.get(f"/api/v1/public/counts/{pending.pk}/").status_code == 404
    # Read-only for everyone: the method itself is not allowed, whoever asks.
    assert anonymous_client.post("/api/v1/public/counts/", WINDOW, format="json").status_code == 405


def test_the_public_view_carries_figures_and_summaries_and_nothing_personal(world, admin_user, anonymous_client):
    published = count_services.publish(
        actor=admin_user,
        snapshot=done_snapshot(
            admin_user, date_from=sc.WINDOW[0], date_to=sc.WINDOW[1], perpetrators=[world.parties["alliance"].pk]
        ),
    )
    body = anonymous_client.get(f"/api/v1/public/counts/{published.pk}/").json()
    assert set(body) == PUBLIC_FIELDS
    assert body["perpetrators"] == [sc.named(world.parties["alliance"])]
    assert body["result"]["civilians"]["total"] == 10
    assert body["summary_en"] == published.summary_en and body["summary_ar"] == published.summary_ar
    text = str(body)
    for private in ("admin", "documenter", "Ahmad", "أحمد", "created_by", "published_by", "failure_reason"):
        assert private not in text


# --- The command ---------------------------------------------------------------------------------


def test_the_command_computes_a_snapshot_with_the_same_parameters(world, admin_user):
    out = io.StringIO()
    call_command(
        "compute_count",
        "--from",
        "2020-01-12",
        "--to",
        "2020-01-27",
        "--perpetrator",
        str(world.parties["alliance"].pk),
        "--as",
        "admin",
        stdout=out,
    )
    snapshot = CountSnapshot.objects.get()
    assert (snapshot.status, snapshot.created_by, snapshot.perpetrators) == (
        "done",
        admin_user,
        [world.parties["alliance"].pk],
    )
    assert snapshot.result["civilians"]["total"] == 10
    assert snapshot.summary_en in out.getvalue()
    assert snapshot.fingerprint in out.getvalue()


def test_the_command_dry_run_stores_nothing(world):
    out = io.StringIO()
    call_command("compute_count", "--from", "2020-01-12", "--to", "2020-01-27", "--dry-run", stdout=out)
    assert '"total": 11' in out.getvalue()
    assert not CountSnapshot.objects.exists()


@pytest.mark.parametrize(
    "arguments",
    [
        ["--from", "2020-02-30", "--to", "2020-03-01"],
        ["--from", "2020-01-27", "--to", "2020-01-12"],
        ["--from", "2020-01-12"],
        ["--from", "2020-01-12", "--to", "2020-01-27", "--location", "999999"],
        ["--from", "2020-01-12", "--to", "2020-01-27", "--as", "documenter"],
    ],
)
def test_the_command_refuses_bad_parameters(world, arguments):
    with pytest.raises((CommandError, SystemExit)):
        call_command("compute_count", *arguments, stdout=io.StringIO(), stderr=io.StringIO())
    assert not CountSnapshot.objects.exists()


def test_a_count_request_succeeds_while_the_broker_is_down(
    world, admin_user, monkeypatch, settings, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError as BrokerDown

    def unreachable(*args, **kwargs):
        raise BrokerDown("Error 111 connecting to 127.0.0.1:6399. Connection refused.")

    from outbox.models import OutboxMessage
    from outbox.tasks import deliver

    settings.CELERY_TASK_ALWAYS_EAGER = False
    # The outbox relays after commit; the broker refuses (tests/outbox stops a real Redis for this).
    monkeypatch.setattr(deliver, "apply_async", unreachable)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin_user).post("/api/v1/counts/", WINDOW, format="json")
    assert response.status_code == 202
    snapshot = CountSnapshot.objects.get()
    assert snapshot.status == "pending"
    assert OutboxMessage.objects.unsent().get().args == [snapshot.pk]
    # When the broker is back, or from the command line: the kept request is computed.
    call_command("compute_count", "--pending", stdout=io.StringIO())
    snapshot.refresh_from_db()
    assert snapshot.status == "done"
    assert snapshot.result == sc.expected_result(world)


def test_the_command_computes_a_stored_pending_snapshot(world, admin_user):
    pending = count_services.request_count(
        actor=admin_user, date_from=sc.WINDOW[0], date_to=sc.WINDOW[1], enqueue=False
    )
    call_command("compute_count", "--snapshot", str(pending.pk), stdout=io.StringIO())
    pending.refresh_from_db()
    assert pending.status == "done"


def test_a_count_queued_under_the_task_name_of_before_the_move_still_runs(world, admin_user):
    """Messages stored by the outbox (or waiting in Redis) before the upgrade name the old task."""
    from outbox import services as outbox
    from outbox.models import OutboxMessage

    pending = count_services.request_count(
        actor=admin_user, date_from=sc.WINDOW[0], date_to=sc.WINDOW[1], enqueue=False
    )
    queued_before = OutboxMessage.objects.create(task_name="incidents.compute_count_snapshot", args=[pending.pk])

    assert outbox.deliver(queued_before.pk) is True

    pending.refresh_from_db()
    assert pending.status == "done"
    assert pending.result == sc.expected_result(world)
    queued_before.refresh_from_db()
    assert queued_before.completed_at is not None


def test_a_new_count_is_queued_under_the_counts_task_name(world, admin_user, django_capture_on_commit_callbacks):
    from outbox.models import OutboxMessage

    with django_capture_on_commit_callbacks(execute=False):
        response = client_for(admin_user).post("/api/v1/counts/", WINDOW, format="json")

    assert response.status_code == 202
    assert list(OutboxMessage.objects.values_list("task_name", "args")) == [
        ("counts.compute_count_snapshot", [response.json()["id"]])
    ]
