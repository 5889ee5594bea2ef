"""Property-based requests generated from /api/v1/schema/ (schemathesis): never a server error, and
every documented response matches the schema. The number of examples per operation is bounded."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from knox.models import AuthToken
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounts.models import SecondFactorToken
from config.wsgi import application
from tests.conftest import make_incident, make_victim

EXAMPLES_PER_OPERATION = 3


@pytest.fixture
def api_schema(db, documenter, admin_user, settings, tmp_path):
    from config.celery import app
    from tests.evidence.conftest import KEY_A

    settings.WITNESS_KEYS = {"k1": KEY_A}
    settings.WITNESS_KEY_ID = "k1"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True  # counts requested by generated calls run in-process
    incident = make_incident(documenter)
    make_victim(documenter, incident)
    # Requests go straight to the WSGI handler: like Django's test client, keep it from closing the
    # test's database connection between requests (the test's transaction holds the data).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        app.conf.task_always_eager = previous


@pytest.fixture
def admin_token(admin_user) -> str:
    """The admin holds every permission: the widest surface. Token obtained as with a second factor."""
    instance, token = AuthToken.objects.create(admin_user)
    SecondFactorToken.objects.create(token=instance, device_id="schemathesis")
    return token


def test_api_never_errors_and_answers_as_documented(api_schema, admin_token):
    headers = {"Authorization": f"Token {admin_token}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    operations = [op for op in operations if not op.path.startswith(("/api/v1/docs/", "/api/v1/schema/"))]
    assert len(operations) > 40, "the whole API is exercised"
    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case):
            case.call_and_validate(headers=headers, checks=[not_a_server_error, response_schema_conformance])

        try:
            check()
        except Exception as error:
            raise AssertionError(f"{operation.method.upper()} {operation.path}: {error}") from error
