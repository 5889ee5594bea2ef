"""The restore drill: pg_dump, pg_restore --exit-on-error into a scratch database; rows, audit chain, media hashes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from django.db import connection

from tests.conftest import client_for, make_incident, skip_or_fail, transactional


@pytest.fixture
def drill_ready(settings, tmp_path):
    if connection.vendor != "postgresql":
        skip_or_fail("the restore drill needs PostgreSQL")
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        skip_or_fail("pg_dump / pg_restore are not installed (postgresql-client)")
    from tests.evidence.conftest import KEY_A

    settings.WITNESS_KEYS = {"k1": KEY_A}
    settings.WITNESS_KEY_ID = "k1"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield settings.MEDIA_ROOT
    app.conf.task_always_eager = previous


def seed(documenter) -> None:
    from tests.evidence.conftest import plain_png, upload

    incident = make_incident(documenter)
    client = client_for(documenter)
    response = client.post(
        "/api/v1/media/",
        {"file": upload(plain_png((12, 12)), "p.png", "image/png"), "incident": incident.pk},
        format="multipart",
    )
    assert response.status_code == 201
    assert client.post(f"/api/v1/incidents/{incident.pk}/submit/").status_code == 200


def run_drill(media_root, *args: str) -> subprocess.CompletedProcess:
    """The command as an operator runs it, against the test database (committed: a transactional test)."""
    from tests.evidence.conftest import KEY_A

    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "MEDIA_ROOT": str(media_root), "WITNESS_KEYS": f"k1:{KEY_A}"}
    env.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", "restore_drill", *args], env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
@transactional
def test_restore_drill_passes_on_a_whole_backup(documenter, drill_ready):
    seed(documenter)
    result = run_drill(drill_ready)
    text = result.stdout
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pg_restore" not in result.stderr
    assert "restore drill passed" in text
    assert "audit chain intact in the restored copy" in text
    assert "media originals verified against their recorded SHA-256: 1" in text


@pytest.mark.slow
@transactional
def test_restore_drill_fails_when_a_media_original_in_the_backup_was_altered(documenter, drill_ready, tmp_path):
    seed(documenter)
    backup = tmp_path / "media-backup"
    shutil.copytree(drill_ready, backup)
    original = next(p for p in (backup / "evidence").rglob("*") if p.is_file() and "originals" in str(p))
    original.chmod(0o600)
    original.write_bytes(original.read_bytes() + b"tampered")
    result = run_drill(drill_ready, "--media-backup", str(backup))
    assert result.returncode != 0
    assert "media original changed in the backup" in result.stderr
