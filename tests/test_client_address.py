"""The client's address behind a reverse proxy (config/client.py), and everything keyed on it.

X-Forwarded-For is read only when the immediate peer is a trusted proxy, right to left, stopping
at the first address that is not a trusted proxy; a forged header from anybody else changes
nothing: not the lockout, not the audit log, not the logs, not the scheme.
(tests/test_behind_nginx.py proves the same through a real nginx.)
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory

from audit.models import AuditEntry
from config.client import client_address, current_client_address
from tests.security.test_headers_and_deploy import production_env

PASSWORD = "pw-documenter-long-enough"
PROXY = "127.0.0.1"


def seen(remote: str, forwarded: str | None = None) -> str:
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **meta))


@pytest.fixture
def behind_proxy(settings):
    settings.TRUSTED_PROXIES = [PROXY]
    settings.TRUSTED_PROXY_COUNT = 0
    return settings


def sign_in(client: Client, password: str, remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post("/en/accounts/login/", {"username": "documenter", "password": password}, **extra)


# --- the rule --------------------------------------------------------------------------------------


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXIES, settings.TRUSTED_PROXY_COUNT = [], 0
    assert seen("203.0.113.5", "198.51.100.7") == "203.0.113.5"


def test_from_a_trusted_proxy_the_address_it_appended_is_the_client(behind_proxy):
    assert seen(PROXY, "198.51.100.7") == "198.51.100.7"


def test_what_the_client_wrote_left_of_the_proxys_entry_is_not_believed(behind_proxy):
    assert seen(PROXY, "192.0.2.10, 10.9.9.9, 198.51.100.7") == "198.51.100.7"


def test_a_forged_header_from_a_peer_that_is_not_a_trusted_proxy_changes_nothing(behind_proxy):
    assert seen("203.0.113.66", "192.0.2.10") == "203.0.113.66"


def test_a_trusted_proxy_without_a_forwarded_header_is_itself_the_client(behind_proxy):
    assert seen(PROXY) == PROXY


def test_a_chain_of_trusted_proxies_is_walked_to_the_first_untrusted_hop(settings):
    settings.TRUSTED_PROXIES, settings.TRUSTED_PROXY_COUNT = ["10.0.0.0/8", "127.0.0.1"], 0
    assert seen("127.0.0.1", "192.0.2.10, 198.51.100.7, 10.1.2.3") == "198.51.100.7"


def test_when_every_hop_is_a_trusted_proxy_the_left_most_is_the_client(settings):
    settings.TRUSTED_PROXIES, settings.TRUSTED_PROXY_COUNT = ["10.0.0.0/8"], 0
    assert seen("10.0.0.1", "10.0.0.3, 10.0.0.2") == "10.0.0.3"


def test_a_count_alone_believes_that_many_hops_whatever_their_address(settings):
    settings.TRUSTED_PROXIES, settings.TRUSTED_PROXY_COUNT = [], 1
    assert seen("203.0.113.1", "192.0.2.10, 198.51.100.7") == "198.51.100.7"
    settings.TRUSTED_PROXY_COUNT = 2
    assert seen("203.0.113.1", "192.0.2.10, 198.51.100.7, 203.0.113.2") == "198.51.100.7"
    assert seen("203.0.113.1", "198.51.100.7") == "198.51.100.7", "fewer hops than proxies: the deepest one"


def test_a_count_caps_the_hops_believed_among_trusted_addresses(settings):
    settings.TRUSTED_PROXIES, settings.TRUSTED_PROXY_COUNT = ["10.0.0.0/8"], 1
    assert seen("10.0.0.1", "192.0.2.10, 10.0.0.5") == "10.0.0.5"


def test_a_malformed_hop_leaves_the_last_trusted_proxy_as_the_client(behind_proxy):
    assert seen(PROXY, "unknown") == PROXY
    assert seen(PROXY, "198.51.100.7, <script>") == PROXY


def test_ports_brackets_and_ipv4_mapped_addresses_are_read_as_plain_addresses(settings):
    settings.TRUSTED_PROXIES, settings.TRUSTED_PROXY_COUNT = ["127.0.0.1", "::1"], 0
    assert seen("::ffff:127.0.0.1", "198.51.100.7:51234") == "198.51.100.7"
    assert seen("::1", "[2001:db8::7]:443") == "2001:db8::7"
    assert seen("::1", "2001:db8::8") == "2001:db8::8"
    assert seen("::ffff:203.0.113.5") == "203.0.113.5"


def test_a_trusted_proxies_value_that_is_not_an_address_is_refused(settings):
    settings.TRUSTED_PROXIES = ["proxy.example.org"]
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        seen(PROXY, "198.51.100.7")


# --- what is keyed on it ---------------------------------------------------------------------------


def test_the_lockout_tells_two_clients_of_the_same_proxy_apart(documenter, behind_proxy):
    attacker, real_user = Client(), Client()
    for _ in range(behind_proxy.AXES_FAILURE_LIMIT):
        sign_in(attacker, "guess", PROXY, "198.51.100.66")
    assert sign_in(attacker, PASSWORD, PROXY, "198.51.100.66").status_code == 429
    response = sign_in(real_user, PASSWORD, PROXY, "192.0.2.10")
    assert response.status_code == 302
    assert real_user.session["_auth_user_id"] == str(documenter.pk)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.66"}


def test_an_attacker_cannot_lock_out_a_user_by_forging_the_users_address(documenter, behind_proxy):
    attacker = Client()
    for _ in range(behind_proxy.AXES_FAILURE_LIMIT + 1):
        # The proxy appends the attacker's real address after whatever the attacker wrote.
        sign_in(attacker, "guess", PROXY, "192.0.2.10, 198.51.100.66")
    assert sign_in(Client(), PASSWORD, PROXY, "192.0.2.10").status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.66"}


def test_a_client_reaching_the_app_directly_cannot_dodge_the_lockout_with_forged_headers(documenter, behind_proxy):
    client = Client()
    for n in range(behind_proxy.AXES_FAILURE_LIMIT):
        sign_in(client, "guess", "203.0.113.66", f"192.0.2.{n + 1}")
    assert sign_in(client, PASSWORD, "203.0.113.66", "192.0.2.200").status_code == 429


def test_the_audit_entry_of_a_failed_sign_in_names_the_client_not_the_proxy(documenter, behind_proxy):
    sign_in(Client(), "wrong", PROXY, "192.0.2.99, 198.51.100.7")
    entry = AuditEntry.objects.get(action="auth.login_failed")
    assert entry.details == {"username": "documenter", "ip": "198.51.100.7", "path": "/en/accounts/login/"}


def test_the_audit_entry_of_a_sign_in_names_the_client(documenter, behind_proxy):
    sign_in(Client(), PASSWORD, PROXY, "198.51.100.7")
    assert AuditEntry.objects.get(action="auth.login").details == {"ip": "198.51.100.7"}


def test_entries_other_than_sign_in_events_record_no_address(documenter, behind_proxy):
    from tests.conftest import client_for, make_incident

    incident = make_incident(documenter)
    before = AuditEntry.objects.count()
    response = client_for(documenter).post(
        f"/api/v1/incidents/{incident.pk}/submit/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7"
    )
    assert response.status_code == 200
    written = list(AuditEntry.objects.order_by("sequence")[before:])
    assert [entry.action for entry in written] and not [entry for entry in written if "ip" in entry.details]


def test_the_address_is_forgotten_when_the_request_ends(documenter, behind_proxy):
    sign_in(Client(), "wrong", PROXY, "198.51.100.7")
    assert current_client_address() is None


@pytest.fixture
def json_lines():
    handler = next(h for h in logging.getLogger().handlers if h.formatter.__class__.__name__ == "JsonFormatter")
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    finally:
        handler.setStream(previous or sys.stderr)


def test_log_records_of_a_request_name_its_client(db, behind_proxy, json_lines):
    Client().get("/api/v1/incidents/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    records = [r for r in json_lines() if r["logger"] == "django.request"]
    assert records and all(r["client_address"] == "198.51.100.7" for r in records)


def test_the_access_log_names_the_client_and_leaves_out_the_query(db, behind_proxy, json_lines):
    behind_proxy.ACCESS_LOG = True
    Client().get("/healthz?search=Ahmad", REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR="192.0.2.10")
    (record,) = [r for r in json_lines() if r["logger"] == "config.access"]
    assert record["client_address"] == "203.0.113.66"
    assert record["path"] == "/healthz" and record["status_code"] == 200 and record["method"] == "GET"
    assert "Ahmad" not in json.dumps(record)


def test_records_made_outside_a_request_carry_no_address(json_lines):
    logging.getLogger("incidents").warning("no request here")
    assert "client_address" not in json_lines()[0]


# --- the scheme: X-Forwarded-Proto -----------------------------------------------------------------


@pytest.fixture
def tls_at_the_proxy(behind_proxy):
    behind_proxy.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    behind_proxy.SECURE_HSTS_SECONDS = 31536000
    behind_proxy.SECURE_SSL_REDIRECT = True
    behind_proxy.ALLOWED_HOSTS = ["casualties.example.org", "127.0.0.1", "testserver"]
    return behind_proxy


def test_tls_ended_at_a_trusted_proxy_makes_the_request_secure(db, tls_at_the_proxy):
    response = Client().get("/en/accounts/login/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_forged_forwarded_proto_from_elsewhere_is_not_believed(db, tls_at_the_proxy):
    response = Client().get(
        "/en/accounts/login/", REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="127.0.0.1"
    )
    assert response.status_code == 301
    assert response["Location"] == "https://127.0.0.1/en/accounts/login/"
    assert "Strict-Transport-Security" not in response


def test_a_form_posted_over_tls_passes_the_csrf_origin_check_without_extra_origins(documenter, tls_at_the_proxy):
    assert tls_at_the_proxy.CSRF_TRUSTED_ORIGINS == []
    client = Client(enforce_csrf_checks=True)
    proxied = {
        "REMOTE_ADDR": PROXY,
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_X_FORWARDED_FOR": "198.51.100.7",
        "HTTP_HOST": "casualties.example.org",
    }
    client.get("/en/accounts/login/", **proxied)
    response = client.post(
        "/en/accounts/login/",
        {"username": "documenter", "password": PASSWORD, "csrfmiddlewaretoken": client.cookies["csrftoken"].value},
        HTTP_ORIGIN="https://casualties.example.org",
        **proxied,
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(documenter.pk)


def test_links_name_the_public_scheme_and_host(documenter, tls_at_the_proxy):
    from tests.conftest import client_for, make_incident

    make_incident(documenter)
    make_incident(documenter)
    response = client_for(documenter).get(
        "/api/v1/incidents/?page_size=1",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_HOST="casualties.example.org",
    )
    assert response.status_code == 200
    assert response.json()["next"].startswith("https://casualties.example.org/api/v1/incidents/")


def test_the_health_probe_answers_plain_http_without_a_redirect(db, tls_at_the_proxy):
    assert Client().get("/healthz", REMOTE_ADDR=PROXY).status_code == 200


# --- the deployment checks -------------------------------------------------------------------------


def deploy_check_ids() -> set[str]:
    return {message.id for message in checks.run_checks(include_deployment_checks=True, tags=["security"])}


def test_the_deploy_check_warns_when_tls_ends_at_a_proxy_nobody_trusts(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXIES, settings.TRUSTED_PROXY_COUNT = [], 0
    assert "config.W002" in deploy_check_ids()
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert "config.W002" not in deploy_check_ids()


def run_manage(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env=production_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_check_deploy_is_clean_behind_a_proxy_configured_as_documented(tmp_path):
    result = run_manage(
        tmp_path, "check", "--deploy", "--fail-level", "WARNING", SECURE_PROXY_SSL_HEADER="1", TRUSTED_PROXIES=PROXY
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_old_axes_proxy_count_is_read_as_a_loopback_proxy_and_flagged(tmp_path):
    shown = run_manage(
        tmp_path,
        "shell",
        "-c",
        "from django.conf import settings; print(settings.TRUSTED_PROXIES, settings.TRUSTED_PROXY_COUNT)",
        AXES_IPWARE_PROXY_COUNT="1",
    )
    assert shown.stdout.strip().splitlines()[-1] == "['127.0.0.0/8', '::1'] 1", shown.stderr
    check = run_manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", AXES_IPWARE_PROXY_COUNT="1")
    assert check.returncode != 0
    assert "config.W001" in check.stderr


def test_a_malformed_trusted_proxies_setting_stops_the_start(tmp_path):
    result = run_manage(tmp_path, "check", TRUSTED_PROXIES="127.0.0.1,proxy.example.org")
    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr and "proxy.example.org" in result.stderr
