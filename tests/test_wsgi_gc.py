"""The web worker's garbage collector (config/wsgi.py): what the application loaded is frozen out of the
collector's view; WEB_GC_TUNING=0 keeps Python's defaults. Checked in a fresh interpreter that loads
config.wsgi as gunicorn does (never in the test process)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import gc, json
import config.wsgi
print(json.dumps({"frozen": gc.get_freeze_count(), "threshold": gc.get_threshold(),
                  "views_loaded": "matching.api" in __import__("sys").modules}))
"""


def _load_wsgi(**extra: str) -> dict:
    env = {
        **os.environ,
        "SECRET_KEY": secrets.token_urlsafe(64),
        "DEBUG": "",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **extra,
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("setting", [None, "1"])
def test_the_worker_freezes_what_it_loaded(setting):
    found = _load_wsgi(**({"WEB_GC_TUNING": setting} if setting else {}))

    assert found["views_loaded"]  # the URLconf and its views were imported before freezing
    assert found["frozen"] > 10_000  # Django and the apps: out of every collection's way
    assert found["threshold"][0] == 700  # Python's own


def test_web_gc_tuning_off_keeps_pythons_defaults():
    found = _load_wsgi(WEB_GC_TUNING="0")

    assert found["frozen"] == 0
