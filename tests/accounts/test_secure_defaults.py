"""DEBUG off without HTTPS is said loudly: a system check every command shows (and `check --deploy
--fail-level WARNING` fails on), and a log line when the web application starts."""

from __future__ import annotations

import subprocess
import sys

from tests.security.test_headers_and_deploy import production_env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)


def test_every_command_warns_when_debug_is_off_and_https_is_unset(tmp_path):
    env = production_env(tmp_path)
    env.pop("HTTPS")
    result = run([sys.executable, "manage.py", "check"], env)
    assert result.returncode == 0, result.stderr  # a warning, not a refusal: the command still runs
    assert "accounts.W001" in result.stderr
    assert "HTTPS" in result.stderr


def test_check_deploy_fails_on_the_plain_http_warning(tmp_path):
    env = production_env(tmp_path)
    env.pop("HTTPS")
    result = run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "accounts.W001" in result.stderr


def test_the_web_application_logs_a_warning_at_start_without_https(tmp_path):
    env = production_env(tmp_path)
    env.pop("HTTPS")
    result = run([sys.executable, "-c", "import config.wsgi"], env)
    assert result.returncode == 0, result.stderr
    assert '"level": "WARNING"' in result.stderr and "HTTPS" in result.stderr


def test_no_warning_with_https_on_or_in_development(tmp_path):
    quiet = run([sys.executable, "-c", "import config.wsgi"], production_env(tmp_path))
    assert "HTTPS" not in quiet.stderr
    development = production_env(tmp_path)
    development.pop("HTTPS")
    development["DEBUG"] = "1"
    checked = run([sys.executable, "manage.py", "check"], development)
    assert checked.returncode == 0 and "accounts.W001" not in checked.stderr
