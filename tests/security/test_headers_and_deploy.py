"""Response headers (CSP without 'unsafe-inline', HSTS, nosniff, referrer policy, framing) and check --deploy."""

from __future__ import annotations

import base64
import os
import re
import secrets
import subprocess
import sys

import pytest
from django.test import Client

from tests.conftest import web_client_for


def csp_of(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.mark.parametrize("path", ["/en/accounts/login/", "/ar/accounts/login/", "/api/v1/docs/", "/api/v1/schema/"])
def test_every_response_carries_the_security_headers(db, path):
    response = Client().get(path)
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    policy = csp_of(response)
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]


def test_hsts_is_sent_over_https_when_enabled(db, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = Client().get("/en/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in response["Strict-Transport-Security"]


def test_pages_have_no_inline_script_or_style_so_the_policy_holds(documenter, admin_user):
    pages = [
        (Client(), "/en/accounts/login/"),
        (web_client_for(documenter), "/en/"),
        (web_client_for(documenter), "/ar/"),
        (web_client_for(admin_user), "/en/admin/"),
        (Client(), "/api/v1/docs/"),
    ]
    for client, path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        inline_scripts = [s for s in re.findall(r"<script\b([^>]*)>", html) if "src=" not in s and "json" not in s]
        assert not inline_scripts, (path, inline_scripts)
        assert not re.search(r"<style\b", html), path
        assert not re.search(r"\son[a-z]+=", html), (path, "inline event handler")


def production_env(tmp_path, **extra: str) -> dict[str, str]:
    # Nothing of the test process's own environment that production would not have (the browser tests
    # set DJANGO_ALLOW_ASYNC_UNSAFE for Playwright).
    leave_out = {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in leave_out}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        HTTPS="1",
        ALLOWED_HOSTS="casualties.example.org",
        VAR_DIR=str(tmp_path),
        WITNESS_KEYS="k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        WITNESS_KEY_ID="k1",
        AUDIT_KEYS="a1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        **extra,
    )
    return env


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_without_https(tmp_path):
    env = production_env(tmp_path)
    env.pop("HTTPS")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr  # HSTS
