"""On PostgreSQL, the application's run-time role can append to the audit and custody chains and do
its normal work, but cannot rewrite them, empty them, or switch their triggers off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
from django.core.management import call_command
from django.db import connection

from audit.services import verify_chains
from tests.conftest import client_for, make_incident, skip_or_fail, transactional

# Each append-only table and its row trigger (audit 0002, evidence 0002).
TABLES = {"audit_auditentry": "audit_entries_append_only", "evidence_custodyevent": "evidence_custody_append_only"}
REFUSED = [
    "UPDATE {table} SET sequence = sequence",
    "DELETE FROM {table}",
    "TRUNCATE {table}",
    "ALTER TABLE {table} DISABLE TRIGGER USER",
    "ALTER TABLE {table} DISABLE TRIGGER ALL",
]
APPLICATION_WORK = r"""
import json
from django.contrib.auth import get_user_model
from audit.services import record_event
from evidence import services
from evidence.models import CustodyEvent, MediaItem
user = get_user_model().objects.get(username="documenter")
item = MediaItem.objects.get()
record_event(actor=user, action="test.runtime_role")
services.open_original(actor=user, item=item)
services.check_fixity(item.original_id)
print(json.dumps(sorted(CustodyEvent.objects.filter(item=item).values_list("action", flat=True))))
"""


def execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


def url_for(role: str) -> str:
    db = connection.settings_dict
    return f"postgresql://{role}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def runtime_role(settings, tmp_path):
    if connection.vendor != "postgresql":
        skip_or_fail("database roles are PostgreSQL's")
    role = f"test_runtime_{uuid.uuid4().hex[:10]}"  # roles are cluster-wide: never a fixed name
    execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        call_command("runtime_role_grants", role, "--execute")
        yield role
    finally:
        execute(f'DROP OWNED BY "{role}"')
        execute(f'DROP ROLE "{role}"')


@transactional
def test_the_runtime_role_appends_to_the_chains_but_cannot_rewrite_or_unprotect_them(
    documenter, runtime_role, settings, tmp_path
):
    import psycopg

    from tests.evidence.conftest import KEY_A, plain_png, upload

    settings.WITNESS_KEYS, settings.WITNESS_KEY_ID = {"k1": KEY_A}, "k1"
    settings.MEDIA_ROOT = tmp_path / "media"
    incident = make_incident(documenter)
    uploaded = client_for(documenter).post(
        "/api/v1/media/", {"file": upload(plain_png((6, 6))), "incident": incident.pk}, format="multipart"
    )
    assert uploaded.status_code == 201
    # The application's own work, connected as the run-time role: audit entries and custody events.
    env = {**os.environ, "DATABASE_URL": url_for(runtime_role), "MEDIA_ROOT": str(settings.MEDIA_ROOT)}
    env.pop("REDIS_URL", None)
    work = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", APPLICATION_WORK],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(settings.BASE_DIR),
    )
    assert work.returncode == 0, work.stderr[-3000:]
    actions = json.loads(work.stdout.strip().splitlines()[-1])
    # The upload's working copy may be derived meanwhile by a worker (REDIS_URL is set under CI): not this test's.
    assert [a for a in actions if a not in ("derived", "derivation_failed")] == [
        "downloaded",
        "fixity_checked",
        "uploaded",
    ]
    # What an intruder holding the run-time role's credentials tries.
    with psycopg.connect(url_for(runtime_role), autocommit=True) as intruder:
        for table, trigger in TABLES.items():
            for statement in REFUSED:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    intruder.execute(statement.format(table=table))
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                intruder.execute(f"DROP TRIGGER {trigger} ON {table}")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                intruder.execute(f"ALTER TABLE {table} OWNER TO CURRENT_USER")
        assert intruder.execute("SELECT count(*) FROM audit_auditentry").fetchone()[0] >= 1, "it still reads"
    reports = verify_chains()
    assert all(report.ok for report in reports), reports


def test_the_grants_are_printed_for_the_operator(capsys):
    if connection.vendor != "postgresql":
        skip_or_fail("database roles are PostgreSQL's")
    call_command("runtime_role_grants", "app_runtime")
    printed = capsys.readouterr().out
    revoked = 'REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON "audit_auditentry", "evidence_custodyevent"'
    assert revoked in printed
    assert 'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "public" TO "app_runtime"' in printed
