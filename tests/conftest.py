"""Named actors and plain builders shared by every test.

The actors: a documenter, a second documenter, a reviewer, an admin, and an anonymous visitor.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from incidents import services
from incidents.models import Incident, Location, Perpetrator, Status, Victim

ON_CI = os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str) -> None:
    """A missing tool skips a test on a newcomer's machine, but fails it under CI."""
    if ON_CI:
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def map_outline() -> None:
    """The country outline the maps draw, built from npm by `make assets` (not committed)."""
    from django.contrib.staticfiles import finders

    if not finders.find("vendor/outline.geojson"):
        skip_or_fail("static/vendor/outline.geojson is not built: run `make assets` (make test does)")


def pytest_configure(config: Any) -> None:
    from django.conf import settings

    # Password hashing is deliberately slow; tests create many users and need no such protection.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _plain_static_storage(settings: Any) -> None:
    # Hashed static names need `collectstatic`; tests render pages from the source files instead.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings: Any) -> None:
    # Rate limits, the sign-in back-off and audit aggregation count in the "ratelimit" cache (Redis under
    # REDIS_URL): each test counts from zero under its own key prefix, without flushing a shared Redis.
    import uuid

    if "ratelimit" not in settings.CACHES:
        return
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {**settings.CACHES["ratelimit"], "KEY_PREFIX": f"test-{uuid.uuid4().hex}"},
    }


def make_user(username: str, *groups: str, **extra: Any):
    user = get_user_model().objects.create_user(username=username, password=f"pw-{username}-long-enough", **extra)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def documenter(db):
    return make_user("documenter", "documenter")


@pytest.fixture
def second_documenter(db):
    return make_user("documenter2", "documenter")


@pytest.fixture
def reviewer(db):
    return make_user("reviewer", "reviewer")


@pytest.fixture
def second_reviewer(db):
    return make_user("reviewer2", "reviewer")


@pytest.fixture
def admin_user(db):
    return make_user("admin", "admin", is_staff=True)


@pytest.fixture
def outsider(db):
    """Signed in, but holding no role."""
    return make_user("outsider")


class _SignedInWithSecondFactor:
    """Stands for a token obtained with a verified TOTP code (see accounts.auth)."""

    second_factor_verified = True


def client_for(user=None, second_factor: bool = True) -> APIClient:
    """An API client signed in as `user`; by default as after a verified second factor.

    Tests of the second factor itself pass `second_factor=False`: the client then sends a real token
    obtained with the password only, so the request meets the API's authentication as it would.
    """
    client = APIClient()
    if user is not None and second_factor:
        client.force_authenticate(user, token=_SignedInWithSecondFactor())
    elif user is not None:
        from knox.models import AuthToken

        _instance, token = AuthToken.objects.create(user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def web_client_for(user=None, second_factor: bool = True):
    """A browser-like client signed in as `user`, with a verified TOTP device for reviewers and admins.

    `second_factor=False`: signed in with the password only, and no device at all.
    """
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    if user is not None:
        client.force_login(user)
        if not second_factor:
            return client
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
            user=user, name="test device", confirmed=True
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


def location(name: str = "Idlib") -> Location:
    return Location.objects.get(name=name)


def perpetrator(name: str = "Syrian regime forces") -> Perpetrator:
    return Perpetrator.objects.get(name=name)


def make_incident(author, status: str = Status.DRAFT, **overrides: Any) -> Incident:
    """An incident created through the service, then put in `status` (test arrangement only)."""
    fields = {
        "title": "Airstrike on a market",
        "description": "Warplanes struck the market at noon.",
        "occurred_on": dt.date(2020, 1, 15),
        "location": location(),
        "perpetrator": perpetrator(),
        "weapon": "fixed_wing_aircraft",
        "injured_count": 3,
    }
    fields.update(overrides)
    incident = services.create_incident(author=author, **fields)
    if status != Status.DRAFT:
        Incident.objects.filter(pk=incident.pk).update(status=status)
        incident.refresh_from_db()
    return incident


def make_victim(author, incident: Incident, status: str = Status.DRAFT, **overrides: Any) -> Victim:
    fields = {"name": "Ahmad", "name_ar": "أحمد", "sex": "male", "age_years": 30}
    fields.update(overrides)
    if incident.status not in (Status.DRAFT, Status.CHANGES_REQUESTED, Status.VERIFIED):
        # Arrange: add to an editable incident, then restore the incident's state.
        original = incident.status
        Incident.objects.filter(pk=incident.pk).update(status=Status.DRAFT)
        incident.refresh_from_db()
        victim = services.create_victim(author=incident.created_by, incident=incident, **fields)
        Incident.objects.filter(pk=incident.pk).update(status=original)
        incident.refresh_from_db()
    else:
        victim = services.create_victim(author=author, incident=incident, **fields)
    if status != Status.DRAFT:
        Victim.objects.filter(pk=victim.pk).update(status=status)
        victim.refresh_from_db()
    return victim


@pytest.fixture(scope="session")
def chromium():
    """Chromium driven by Playwright, one for the whole session (tests/test_browser.py launches it)."""
    from tests.test_browser import launch_chromium

    yield from launch_chromium()


# --- A real Celery worker, consuming from Redis, writing to the test database -------------------


# Transactional tests flush the database; serialized rollback restores the migrations' seed data
# (places, parties, groups) for them. Use this mark instead of django_db(transaction=True).
transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def celery_worker_process(django_db_serialized_rollback, transactional_db):
    """Start `celery -A config worker` as a separate process on a private queue; yield the queue name.

    Needs REDIS_URL and PostgreSQL (the worker must share the test database); skips on a newcomer's
    SQLite machine, fails under CI.
    """
    import signal
    import subprocess
    import sys
    import time
    import uuid

    from django.conf import settings
    from django.db import connection

    if not settings.REDIS_URL:
        skip_or_fail("REDIS_URL is not set: no broker for a real worker")
    if connection.vendor != "postgresql":
        skip_or_fail("a real worker needs PostgreSQL (an SQLite test database is private to this process)")
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    if db.get("PASSWORD"):
        database_url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": settings.REDIS_URL}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    process.queue = queue  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    ready = False
    lines: list[str] = []
    while time.monotonic() < deadline and process.poll() is None:
        line = process.stdout.readline()
        lines.append(line)
        if "ready." in line:
            ready = True
            break
    if not ready:
        process.kill()
        pytest.fail("the Celery worker did not start:\n" + "".join(lines[-40:]))
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        connection.close()


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2):
    """Poll until predicate() is truthy; return its value, or fail the test after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s")
