"""A worker killed with SIGKILL in the middle of a count: the task runs again and leaves one snapshot."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import psycopg
import pytest
from django.db import connection

from counts import counting
from counts.models import CountSnapshot
from outbox.models import OutboxMessage
from tests.conftest import client_for, make_incident, make_victim, skip_or_fail, transactional, wait_for
from tests.outbox.test_outbox import broker_at, free_port, start_redis, stop  # noqa: F401 - fixture

VISIBILITY_SECONDS = 4


def start_worker(redis_url: str) -> subprocess.Popen:
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_SECONDS),
        # The outbox resends work sent but never completed; the starting worker sweeps it at once.
        "OUTBOX_RESEND_AFTER_SECONDS": str(VISIBILITY_SECONDS),
    }
    worker = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=1"),
            *("--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=INFO"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and worker.poll() is None:
        if "ready." in worker.stdout.readline():
            return worker
    os.killpg(worker.pid, signal.SIGKILL)
    pytest.fail("the worker did not start")


def kill_group(worker: subprocess.Popen) -> None:
    """SIGKILL the worker and its pool child at once: no chance to ack, requeue or clean up."""
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)


def require_real_workers() -> None:
    """Real workers need redis-server (a private broker) and PostgreSQL (they share the test database)."""
    if shutil.which("redis-server") is None:
        skip_or_fail("redis-server is not installed")
    if connection.vendor != "postgresql":
        skip_or_fail("a real worker needs PostgreSQL (it shares the test database)")


@contextlib.contextmanager
def killable_workers(broker_at) -> Iterator[tuple[str, list[subprocess.Popen], psycopg.Connection]]:  # noqa: F811
    """A private Redis as this test's broker, the list of workers the test starts in it (all killed at the end),
    and a second database connection (not in autocommit) to hold a table while a worker is killed."""
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    redis_server = start_redis(port)
    broker_at(url)
    workers: list[subprocess.Popen] = []
    db = connection.settings_dict
    blocker = psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"], autocommit=False
    )
    try:
        yield url, workers, blocker
    finally:
        blocker.close()
        for worker in workers:
            kill_group(worker)
        stop(redis_server)
        connection.close()


@pytest.mark.slow
@transactional
def test_a_worker_killed_mid_count_runs_it_again_and_leaves_one_snapshot(documenter, admin_user, broker_at):  # noqa: F811
    require_real_workers()
    incident = make_incident(documenter, status="verified")
    for number in range(3):
        make_victim(documenter, incident, status="verified", name=f"Victim {number}")
    with killable_workers(broker_at) as (url, workers, blocker):
        # Hold the victims table: the count claims its snapshot ("running"), then blocks mid-computation.
        blocker.execute("LOCK TABLE incidents_victim IN ACCESS EXCLUSIVE MODE")
        workers.append(start_worker(url))
        response = client_for(admin_user).post(
            "/api/v1/counts/", {"date_from": "2020-01-01", "date_to": "2020-12-31"}, format="json"
        )
        assert response.status_code == 202
        snapshot_id = response.json()["id"]
        wait_for(lambda: CountSnapshot.objects.get(pk=snapshot_id).status == "running", timeout=30)
        time.sleep(0.5)
        kill_group(workers[0])  # SIGKILL in the middle of the count
        blocker.rollback()  # the lock goes; the killed worker's transaction is gone with it

        assert CountSnapshot.objects.get(pk=snapshot_id).status == "running"
        time.sleep(VISIBILITY_SECONDS + 1)
        workers.append(start_worker(url))  # never acked, never completed: sent again, runs again
        try:
            wait_for(lambda: CountSnapshot.objects.get(pk=snapshot_id).status == "done", timeout=60)
        except BaseException:
            kill_group(workers[-1])
            with open("/tmp/second-worker.log", "w") as log:
                log.write(workers[-1].stdout.read())
            raise

        snapshot = CountSnapshot.objects.get(pk=snapshot_id)
        assert CountSnapshot.objects.count() == 1
        assert snapshot.attempts == 2, "claimed once by each worker"
        expected = counting.compute(counting.CountParameters(snapshot.date_from, snapshot.date_to))
        assert snapshot.result == expected.result and snapshot.fingerprint == expected.fingerprint
        assert snapshot.result["civilians"]["total"] == 3
        message = OutboxMessage.objects.get()
        assert message.completed_at is not None and message.attempts >= 2
