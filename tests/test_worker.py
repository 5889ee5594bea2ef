"""A real Celery worker, as a separate process, runs a task from Redis against PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache

from config.health import worker_ping
from tests.conftest import wait_for


@pytest.mark.worker
def test_real_worker_runs_a_task_against_redis_and_postgresql(celery_worker_process):
    nonce = uuid.uuid4().hex
    worker_ping.apply_async(args=[nonce], queue=celery_worker_process.queue)
    answer = wait_for(lambda: cache.get(f"worker-ping:{nonce}"), timeout=30)
    assert answer == {"locations": 15, "vendor": "postgresql"}


def test_healthz_reports_database_and_broker(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] is True
