"""Production refuses to start without a strong SECRET_KEY."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from config.settings import secret_key_problem


@pytest.mark.parametrize(
    "key",
    [
        "",
        "short",
        "django-insecure-" + "x" * 60,
        "a" * 80,
        "changeme" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL",
    ],
)
def test_weak_secret_keys_are_named_as_such(key):
    assert secret_key_problem(key) is not None


def test_a_random_secret_key_is_accepted():
    import secrets

    assert secret_key_problem(secrets.token_urlsafe(64)) is None


def test_production_refuses_to_start_with_a_default_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env.update(SECRET_KEY="django-insecure-default", DEBUG="0", VAR_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
