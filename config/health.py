"""Liveness for operators: `/healthz` checks the database and the broker; `worker_ping` proves a worker runs."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def _broker_ok() -> bool | None:
    if not settings.REDIS_URL:
        return None  # tasks run eagerly in-process
    import redis

    try:
        return bool(redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping())
    except Exception:
        return False


def healthz(request: HttpRequest) -> JsonResponse:
    database, broker = _database_ok(), _broker_ok()
    healthy = database and broker is not False
    return JsonResponse({"database": database, "broker": broker}, status=200 if healthy else 503)


@shared_task(name="health.worker_ping")
def worker_ping(nonce: str) -> None:
    """Read the database and write the answer to the cache: proof a worker reaches both."""
    from incidents.models import Location

    cache.set(f"worker-ping:{nonce}", {"locations": Location.objects.count(), "vendor": connection.vendor}, 300)
