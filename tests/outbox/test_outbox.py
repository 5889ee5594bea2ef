"""The transactional outbox: work is stored with the request's data, survives a broker outage, runs once."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from audit.models import AuditEntry
from config.celery import app as celery_app
from incidents import services as incident_services
from outbox import services as outbox
from outbox.models import OutboxMessage
from tests.conftest import client_for, skip_or_fail, transactional, wait_for
from tests.outbox import probe  # noqa: F401 - registers the probe task

INCIDENT = {
    "title": "Shelling of a bakery",
    "description": "Artillery shells hit the queue outside the bakery.",
    "occurred_on": "2020-02-01",
    "location": None,
    "perpetrator": None,
    "weapon": "artillery",
    "injured_count": 4,
}


def probe_runs(marker: int) -> int:
    return AuditEntry.objects.filter(action="test.outbox_probe", details__marker=marker).count()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def broker_at(monkeypatch):
    """Point this process's Celery app at a given Redis URL (no eager mode), restoring it afterwards."""
    conf = celery_app.conf
    saved = (conf.broker_url, conf.task_always_eager)

    def reset_connections() -> None:
        # Drop the app's references only: kombu keeps pools per URL in a registry, and closing one
        # would leave a closed pool for the next user of that URL.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    def point(url: str) -> None:
        conf.broker_url = url
        conf.task_always_eager = False
        reset_connections()

    yield point
    conf.broker_url, conf.task_always_eager = saved
    reset_connections()


@pytest.fixture
def eager_tasks():
    """Tasks run in-process (as on a newcomer's machine), whatever broker this run uses."""
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = saved


def create_incident_enqueuing_probe(marker: int):
    """The incident service, plus one outbox message in the same transaction (as counts and evidence do)."""
    original = incident_services.create_incident

    def create(**kwargs):
        incident = original(**kwargs)
        outbox.enqueue("tests.outbox_probe", marker)
        return incident

    return mock.patch.object(incident_services, "create_incident", side_effect=create)


def incident_payload() -> dict:
    from incidents.models import Location, Perpetrator

    return {
        **INCIDENT,
        "location": Location.objects.get(name="Idlib").pk,
        "perpetrator": Perpetrator.objects.get(name="Syrian regime forces").pk,
    }


def test_enqueue_runs_the_task_after_commit_and_marks_it_done(db, eager_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox.enqueue("tests.outbox_probe", 11)
    message.refresh_from_db()
    assert message.sent_at is not None and message.completed_at is not None
    assert probe_runs(11) == 1


def test_work_enqueued_in_a_transaction_that_rolls_back_is_never_queued(db, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        outbox.enqueue("tests.outbox_probe", 12)
        assert OutboxMessage.objects.count() == 1  # stored in the caller's transaction
        raise RuntimeError("the request failed after enqueuing")
    assert OutboxMessage.objects.count() == 0
    assert callbacks == []
    assert probe_runs(12) == 0


def test_a_message_delivered_twice_runs_once(db, eager_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = outbox.enqueue("tests.outbox_probe", 13)
    assert outbox.deliver(message.pk) is False
    assert probe_runs(13) == 1


def test_enqueue_takes_ids_only_and_known_tasks_only(db):
    with pytest.raises(TypeError):
        outbox.enqueue("tests.outbox_probe", "Witness Name")
    with pytest.raises(LookupError):
        outbox.enqueue("no.such.task", 1)
    assert OutboxMessage.objects.count() == 0


def test_with_the_broker_down_a_submission_answers_quickly_and_the_work_is_kept(
    documenter, broker_at, django_capture_on_commit_callbacks
):
    broker_at(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    started = time.monotonic()
    with create_incident_enqueuing_probe(14), django_capture_on_commit_callbacks(execute=True):
        response = client_for(documenter).post("/api/v1/incidents/", incident_payload(), format="json")
    elapsed = time.monotonic() - started
    assert response.status_code == 201
    assert elapsed < 2.0, f"the request waited {elapsed:.2f} s on a dead broker"
    message = OutboxMessage.objects.get()
    assert message.sent_at is None and message.completed_at is None
    assert message.last_error
    assert message.args == [14]
    # The sweep, with the broker still down, keeps it too and does not hang.
    started = time.monotonic()
    assert outbox.relay_pending() == 0
    assert time.monotonic() - started < 2.0
    assert OutboxMessage.objects.unsent().count() == 1


def start_redis(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    pytest.fail("redis-server did not start")


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def start_worker(redis_url: str) -> subprocess.Popen:
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-I", "tests.outbox.probe"),
            *("--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=INFO"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    lines: list[str] = []
    while time.monotonic() < deadline and worker.poll() is None:
        line = worker.stdout.readline()
        lines.append(line)
        if "ready." in line:
            return worker
    worker.kill()
    pytest.fail("the worker did not start:\n" + "".join(lines[-30:]))


@pytest.mark.slow
@transactional
def test_redis_stopped_and_restarted_the_work_runs_exactly_once(documenter, broker_at):
    if shutil.which("redis-server") is None:
        skip_or_fail("redis-server is not installed")
    if connection.vendor != "postgresql":
        skip_or_fail("a real worker needs PostgreSQL (it shares the test database)")
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    redis_server = start_redis(port)
    broker_at(url)
    worker = None
    try:
        stop(redis_server)  # the broker goes down
        started = time.monotonic()
        with create_incident_enqueuing_probe(15):
            response = client_for(documenter).post("/api/v1/incidents/", incident_payload(), format="json")
        assert response.status_code == 201
        assert time.monotonic() - started < 2.0
        assert OutboxMessage.objects.unsent().count() == 1
        assert probe_runs(15) == 0

        redis_server = start_redis(port)  # the broker returns; a worker starts and sweeps the outbox
        worker = start_worker(url)
        wait_for(lambda: probe_runs(15) == 1, timeout=30)
        # Later sweeps (beat, the command) find nothing more to send; the work never runs twice.
        outbox.relay_pending()
        call_command("relay_outbox")
        time.sleep(2)
        assert probe_runs(15) == 1
        message = OutboxMessage.objects.get()
        assert message.completed_at is not None
    finally:
        if worker is not None:
            stop(worker)
        stop(redis_server)
        connection.close()
