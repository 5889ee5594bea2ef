"""A real nginx, configured by the documented file (docs/nginx/casualties.conf), in front of gunicorn.

The test makes a self-signed certificate, templates the documented configuration (ports, certificate,
upstream: nothing else changes) and starts Debian's nginx and a gunicorn with production settings
(DEBUG off, HTTPS=1, SECURE_PROXY_SSL_HEADER=1, TRUSTED_PROXIES=127.0.0.1), both sharing the test
database. Clients connect from two loopback addresses, 127.0.0.2 and 127.0.0.3; nginx reaches gunicorn
from 127.0.0.1. Asserted: the lockout tells the two clients apart; the audit entry and the logs name
the real client; a forged X-Forwarded-For, through nginx or straight to gunicorn, changes nothing;
TLS ending at nginx still gives secure cookies, HSTS, CSRF origins and public links; and a 500 MB
upload streams through without the web worker's memory passing the benchmark's bound (150 MB).

Skipped with a reason where nginx is not installed (`make system-test-deps` installs it); fails
under CI. See docs/deploy-behind-a-proxy.md.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from bench.run import wav_header
from tests.conftest import make_incident, make_user, skip_or_fail, transactional

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTED = ROOT / "docs" / "nginx" / "casualties.conf"
PUBLIC_HOST = "casualties.example.org"
PROXY_ADDRESS = "127.0.0.1"  # nginx reaches gunicorn from here: the one trusted proxy
CLIENT_A, CLIENT_B = "127.0.0.2", "127.0.0.3"
PASSWORD = "pw-documenter-long-enough"
PEAK_RSS_BOUND_MB = 150  # bench/run.py's goal for the 500 MB upload
UPLOAD_MB = 500


# --- the documented configuration, templated -------------------------------------------------------


def documented_config() -> str:
    return DOCUMENTED.read_text()


def substitute(text: str, pattern: str, replacement: str, expected: int) -> str:
    """Replace a documented line; fail loudly when the documentation no longer has it as expected."""
    result, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    assert count == expected, f"docs/nginx/casualties.conf: expected {expected} × {pattern!r}, found {count}"
    return result


def templated_site(*, https_port: int, http_port: int, upstream_port: int, cert: Path, key: Path, ipv6: bool) -> str:
    """The documented file with only the deployment-specific values changed."""
    text = documented_config()
    text = substitute(text, r"^(\s*)listen 80;", rf"\1listen {PROXY_ADDRESS}:{http_port};", 1)
    text = substitute(text, r"^(\s*)listen 443 ssl\b", rf"\1listen {PROXY_ADDRESS}:{https_port} ssl", 2)
    # IPv6 listeners on IPv6 loopback when this machine has one, else left out.
    six = r"\1listen [::1]:{port}\2" if ipv6 else r"\1# (no IPv6 loopback here)"
    text = substitute(text, r"^(\s*)listen \[::\]:80(;)", six.format(port=http_port), 1)
    text = substitute(text, r"^(\s*)listen \[::\]:443( ssl.*)$", six.format(port=https_port), 2)
    text = substitute(text, r"^(\s*)server 127\.0\.0\.1:8000;", rf"\1server 127.0.0.1:{upstream_port};", 1)
    text = substitute(text, r"^(\s*ssl_certificate)\s+\S+;", rf"\1 {cert};", 1)
    text = substitute(text, r"^(\s*ssl_certificate_key)\s+\S+;", rf"\1 {key};", 1)
    return text


def main_config(tmp: Path, site: Path) -> str:
    """The nginx.conf around the site file: every path in a private directory, in the foreground."""
    user = ""
    if os.geteuid() == 0:
        import grp
        import pwd

        # As root the master would hand the workers to "nobody", who cannot read this private directory.
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name} {grp.getgrgid(os.getegid()).gr_name};"
    return f"""
daemon off;
master_process on;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
{user}
events {{ worker_connections 256; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/client_body_temp;
    proxy_temp_path {tmp}/proxy_temp;
    fastcgi_temp_path {tmp}/fastcgi_temp;
    uwsgi_temp_path {tmp}/uwsgi_temp;
    scgi_temp_path {tmp}/scgi_temp;
    default_type application/octet-stream;
    include {site};
}}
"""


def documented_directive(name: str, location: str | None = None) -> list[str]:
    text = documented_config()
    if location is not None:
        start = text.index(f"location {location} {{")
        text = text[start : text.index("}", start)]
    return re.findall(rf"^\s*{name}\s+([^;]+);", text, flags=re.MULTILINE)


def size_in_bytes(value: str) -> int:
    units = {"k": 1024, "m": 1024**2, "g": 1024**3}
    value = value.strip().lower()
    return int(value[:-1]) * units[value[-1]] if value[-1] in units else int(value)


# --- checks of the documented file that need no nginx ----------------------------------------------


def test_the_documented_upload_limit_lets_django_answer_for_every_upload_it_accepts():
    from evidence.uploads import FORM_OVERHEAD_BYTES

    django_refuses_above = settings.MEDIA_MAX_UPLOAD_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE + FORM_OVERHEAD_BYTES
    for location in ("/api/v1/media/", "~ ^/(en|ar)/incidents/[0-9]+/media/$"):
        (limit,) = documented_directive("client_max_body_size", location)
        assert django_refuses_above <= size_in_bytes(limit) <= django_refuses_above + 16 * 1024**2, location
        assert documented_directive("proxy_request_buffering", location) == ["off"], location


def test_the_documented_proxy_waits_as_long_as_the_documented_gunicorn():
    (gunicorn_timeout,) = re.findall(r"gunicorn config\.wsgi .*--timeout (\d+)", documented_config())
    assert documented_directive("proxy_read_timeout") == [f"{gunicorn_timeout}s"]
    assert documented_directive("proxy_send_timeout") == [f"{gunicorn_timeout}s"]


def test_the_documented_proxy_sets_every_header_the_application_reads():
    headers = dict(value.split(None, 1) for value in documented_directive("proxy_set_header"))
    assert headers["Host"] == "$http_host"
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    # Headers the application does not use are cleared, so a client's copy never reaches it.
    assert headers["X-Forwarded-Host"] == headers["X-Forwarded-Port"] == headers["Forwarded"] == '""'


# --- the running stack -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, PUBLIC_HOST)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(PUBLIC_HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def test_database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


def tls_connection(
    port: int, tls: ssl.SSLContext, source: str, server_name: str = PUBLIC_HOST, timeout: float = 120
) -> http.client.HTTPSConnection:
    """Through nginx, over TLS, from a chosen loopback address, naming the public host (SNI and Host)."""
    connection = http.client.HTTPSConnection(
        server_name, port, timeout=timeout, context=tls, source_address=(source, 0)
    )
    # The name is not in DNS: connect to the loopback proxy, and still send and verify the public name.
    connection._create_connection = lambda address, timeout, source_address: socket.create_connection(  # type: ignore[attr-defined]
        (PROXY_ADDRESS, address[1]), timeout, source_address
    )
    return connection


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def cookies(self) -> SimpleCookie:
        jar: SimpleCookie = SimpleCookie()
        for value in self.headers.get_all("Set-Cookie") or []:
            jar.load(value)
        return jar


@dataclass
class Stack:
    tmp: Path
    https_port: int
    http_port: int
    app_port: int
    tls: ssl.SSLContext
    gunicorn: subprocess.Popen
    nginx: subprocess.Popen
    app_log: Path

    def connection(
        self, source: str, server_name: str = PUBLIC_HOST, timeout: float = 120
    ) -> http.client.HTTPSConnection:
        return tls_connection(self.https_port, self.tls, source, server_name, timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        source: str = CLIENT_A,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        connection = self.connection(source)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Response(response.status, response.headers, response.read())
        finally:
            connection.close()

    def sign_in(self, password: str, source: str, forged_for: str | None = None) -> Response:
        headers = {"Content-Type": "application/json"}
        if forged_for:
            headers["X-Forwarded-For"] = forged_for
        body = json.dumps({"username": "documenter", "password": password}).encode()
        return self.request("POST", "/api/v1/auth/token/", source=source, body=body, headers=headers)

    # Straight to gunicorn, plain HTTP, bypassing nginx.
    def direct(self, method: str, path: str, *, source: str, headers: dict[str, str], body: bytes = b"") -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.app_port, timeout=60, source_address=(source, 0))
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            return Response(response.status, response.headers, response.read())
        finally:
            connection.close()

    def log_records(self) -> list[dict[str, Any]]:
        records = []
        for line in self.app_log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                if line.startswith("{"):
                    records.append(json.loads(line))
        return records

    def worker_pids(self, process: subprocess.Popen | None = None) -> list[int]:
        pid = (process or self.gunicorn).pid
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            return [int(child) for child in listing.read().split()]

    def nginx_body_files(self) -> list[str]:
        """Request bodies nginx is spooling to disk now. nginx unlinks its temporary files as soon as
        it opens them, so they are found among its workers' open files, not in the directory."""
        found = []
        for pid in self.worker_pids(self.nginx):
            with contextlib.suppress(OSError):
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    with contextlib.suppress(OSError):
                        target = os.readlink(fd)
                        if "client_body_temp" in target:
                            found.append(target)
        return found


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the process's peak resident set size so far (as bench/run.py reads it)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for process {pid}")


def wait_until(what: str, ready, process: subprocess.Popen, log: Path, timeout: float = 180) -> bool:
    """True once `ready()` holds; False when the process exited first (the log says why)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with contextlib.suppress(OSError, http.client.HTTPException, ssl.SSLError):
            if ready():
                return True
        time.sleep(0.5)
    stop(process)
    pytest.fail(f"{what} did not answer within {timeout} s:\n{log.read_text(errors='replace')[-4000:]}")


def start_on_free_ports(what: str, launch, ready, log: Path, attempts: int = 3):
    """`launch(ports)` on fresh free ports until it listens; again on other ports when another process
    on this shared machine took one in between (the log then says "in use")."""
    for attempt in range(attempts):
        ports = (free_port(), free_port())
        process = launch(ports)
        if wait_until(what, lambda ports=ports: ready(ports), process, log):
            return process, ports
        text = log.read_text(errors="replace")
        if "in use" not in text or attempt == attempts - 1:
            pytest.fail(f"{what} exited with {process.returncode}:\n{text[-4000:]}")
        log.write_text("")
    raise AssertionError("unreachable")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def collect_static(static_root: Path) -> None:
    """The production manifest (hashed names), without WhiteNoise's compressed copies: compressing
    takes minutes on a busy machine and has nothing to do with the proxy."""
    from django.core.management import call_command
    from django.test import override_settings

    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=static_root, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(scope="module")
def stack(django_db_setup, tmp_path_factory) -> Iterator[Stack]:
    nginx_binary = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)), None
    )
    if nginx_binary is None:
        skip_or_fail("nginx is not installed (`make system-test-deps` installs Debian's nginx)")
    try:
        with socket.socket() as probe:
            probe.bind((CLIENT_B, 0))
    except OSError:
        skip_or_fail(f"this machine cannot send from {CLIENT_B} (a loopback address other than 127.0.0.1)")
    tmp = tmp_path_factory.mktemp("behind-nginx")
    cert, key = self_signed_certificate(tmp)
    collect_static(tmp / "static")

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        HTTPS="1",
        SECURE_PROXY_SSL_HEADER="1",
        TRUSTED_PROXIES=PROXY_ADDRESS,
        ALLOWED_HOSTS=PUBLIC_HOST,
        DATABASE_URL=test_database_url(),
        REDIS_URL=settings.REDIS_URL,  # as the test run has it: Redis in CI, eager tasks on a bare machine
        WITNESS_KEYS="k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        WITNESS_KEY_ID="k1",
        VAR_DIR=str(tmp / "var"),
        MEDIA_ROOT=str(tmp / "media"),
        STATIC_ROOT=str(tmp / "static"),
        ACCESS_LOG="1",
        PYTHONUNBUFFERED="1",
    )
    app_log = tmp / "gunicorn.log"
    outputs = []

    def launch_gunicorn(ports: tuple[int, int]) -> subprocess.Popen:
        outputs.append(app_log.open("ab"))
        command = [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{ports[0]}"]
        # As documented (docs/deploy-behind-a-proxy.md), with one worker whose memory the upload test reads.
        command += ["--workers", "1", "--timeout", "600", "--forwarded-allow-ips", PROXY_ADDRESS]
        return subprocess.Popen(
            [*command, "--log-level", "warning"], cwd=ROOT, env=env, stdout=outputs[-1], stderr=subprocess.STDOUT
        )

    def gunicorn_ready(ports: tuple[int, int]) -> bool:
        connection = http.client.HTTPConnection(PROXY_ADDRESS, ports[0], timeout=30)
        try:
            connection.request("GET", "/healthz", headers={"Host": PUBLIC_HOST})
            return connection.getresponse().status == 200
        finally:
            connection.close()

    gunicorn = None
    nginx = None
    try:
        gunicorn, (app_port, _unused) = start_on_free_ports("gunicorn", launch_gunicorn, gunicorn_ready, app_log)
        site, conf, error_log = tmp / "casualties.conf", tmp / "nginx.conf", tmp / "error.log"
        nginx_command = [nginx_binary, "-p", str(tmp), "-c", str(conf), "-e", str(error_log)]
        tls = ssl.create_default_context(cafile=str(cert))

        def launch_nginx(ports: tuple[int, int]) -> subprocess.Popen:
            https_port, http_port = ports
            site.write_text(
                templated_site(
                    https_port=https_port,
                    http_port=http_port,
                    upstream_port=app_port,
                    cert=cert,
                    key=key,
                    ipv6=has_ipv6_loopback(),
                )
            )
            conf.write_text(main_config(tmp, site))
            checked = subprocess.run([*nginx_command, "-t"], capture_output=True, text=True, timeout=60)
            if checked.returncode != 0:
                pytest.fail(f"nginx refuses the documented configuration:\n{checked.stderr}\n{site.read_text()}")
            outputs.append(error_log.open("ab"))
            return subprocess.Popen(nginx_command, stdout=outputs[-1], stderr=subprocess.STDOUT)

        def nginx_ready(ports: tuple[int, int]) -> bool:
            connection = tls_connection(ports[0], tls, CLIENT_A, timeout=30)
            try:
                connection.request("GET", "/healthz")
                return connection.getresponse().status == 200
            finally:
                connection.close()

        nginx, (https_port, http_port) = start_on_free_ports("nginx", launch_nginx, nginx_ready, error_log)
        yield Stack(tmp, https_port, http_port, app_port, tls, gunicorn, nginx, app_log)
    finally:
        for process in (nginx, gunicorn):
            if process is not None:
                stop(process)
        for output in outputs:
            output.close()
        if settings.REDIS_URL:
            from config.celery import app as celery_app

            with contextlib.suppress(Exception):
                celery_app.control.purge()  # media tasks queued for files that are gone with tmp


@pytest.fixture
def documenter_account(stack):
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    user = make_user("documenter", "documenter")
    # The tests' fast hasher (conftest) is not one production accepts: hash as gunicorn will check it.
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save(update_fields=["password"])
    return user


# --- the client's address: lockout, audit, logs ----------------------------------------------------


@transactional
def test_the_lockout_tells_two_clients_of_the_proxy_apart(stack, documenter_account):
    from axes.models import AccessAttempt

    failures = [
        # The attacker writes the other client's address into X-Forwarded-For: nginx appends its own.
        stack.sign_in("wrong", CLIENT_A, forged_for=CLIENT_B).status
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert failures[:-1] == [400] * (settings.AXES_FAILURE_LIMIT - 1)
    locked = stack.sign_in(PASSWORD, CLIENT_A)
    assert locked.status == 429, "even the right password is refused from the locked-out address"
    assert b"token" not in locked.body
    elsewhere = stack.sign_in(PASSWORD, CLIENT_B)
    assert elsewhere.status == 200, elsewhere.body
    assert elsewhere.json()["token"]
    attempts = AccessAttempt.objects.all()
    assert [(a.username, a.ip_address) for a in attempts] == [("documenter", CLIENT_A)]
    assert attempts[0].failures_since_start >= settings.AXES_FAILURE_LIMIT


@transactional
def test_the_audit_entry_of_a_failed_sign_in_names_the_real_client(stack, documenter_account):
    from audit.models import AuditEntry

    assert stack.sign_in("wrong", CLIENT_A, forged_for="192.0.2.77").status == 400
    (entry,) = AuditEntry.objects.filter(action="auth.login_failed")
    assert entry.details == {"username": "documenter", "ip": CLIENT_A, "path": "/api/v1/auth/token/"}


@transactional
def test_the_logs_name_the_real_client(stack, documenter_account):
    marker = f"/api/v1/no-such-thing-{uuid.uuid4().hex}/"
    assert stack.request("GET", marker, source=CLIENT_B, headers={"X-Forwarded-For": "192.0.2.77"}).status == 404
    time.sleep(0.5)
    records = [r for r in stack.log_records() if marker in json.dumps(r)]
    loggers = {r["logger"] for r in records}
    assert {"django.request", "config.access"} <= loggers, records
    assert {r["client_address"] for r in records} == {CLIENT_B}


@transactional
def test_a_forged_forwarded_for_sent_straight_to_gunicorn_is_ignored(stack, documenter_account):
    from axes.models import AccessAttempt

    from audit.models import AuditEntry

    marker = uuid.uuid4().hex
    response = stack.direct(
        "POST",
        f"/api/v1/auth/token/?m={marker}",
        source=CLIENT_A,
        headers={
            "Host": PUBLIC_HOST,
            "X-Forwarded-For": CLIENT_B,
            "X-Forwarded-Proto": "https",  # a claim of TLS, from a peer that is not the proxy
            "Content-Type": "application/json",
        },
        body=json.dumps({"username": "documenter", "password": "wrong"}).encode(),
    )
    # Taken for what it is: plain HTTP from 127.0.0.2, sent to HTTPS before any sign-in is tried.
    assert response.status == 301
    assert response.headers["Location"] == f"https://{PUBLIC_HOST}/api/v1/auth/token/?m={marker}"
    assert not AccessAttempt.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="auth.").exists()
    time.sleep(0.5)
    (record,) = [r for r in stack.log_records() if r.get("logger") == "config.access" and r.get("status_code") == 301]
    assert record["client_address"] == CLIENT_A and record["path"] == "/api/v1/auth/token/"


@transactional
def test_the_rate_limits_tell_two_clients_of_the_proxy_apart(stack, documenter_account):
    # Each attempt names another (unknown) username, so the per-username lockout never answers:
    # a 429 with Retry-After here is the rate limit's.
    limited = None
    for n in range(300):
        body = json.dumps({"username": f"nobody-{n}", "password": "wrong"}).encode()
        response = stack.request(
            "POST", "/api/v1/auth/token/", source=CLIENT_A, body=body, headers={"Content-Type": "application/json"}
        )
        if response.status == 429:
            limited = response
            break
    assert limited is not None, "no rate limit within 300 failed sign-ins from one address"
    assert limited.headers["Retry-After"]
    body = json.dumps({"username": "documenter", "password": PASSWORD}).encode()
    other = stack.request(
        "POST", "/api/v1/auth/token/", source=CLIENT_B, body=body, headers={"Content-Type": "application/json"}
    )
    assert other.status == 200, "the other client of the same proxy is not limited"


# --- TLS at the proxy: cookies, HSTS, CSRF origins, public links ----------------------------------


@transactional
def test_tls_at_the_proxy_gives_secure_cookies_hsts_and_a_passing_csrf_origin_check(stack, documenter_account):
    from audit.models import AuditEntry

    page = stack.request("GET", "/en/accounts/login/", source=CLIENT_A)
    assert page.status == 200
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    csrf = page.cookies()["csrftoken"]
    assert csrf["secure"] is True
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1).decode()
    form = f"username=documenter&password={PASSWORD}&csrfmiddlewaretoken={token}".encode()
    signed_in = stack.request(
        "POST",
        "/en/accounts/login/",
        source=CLIENT_A,
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf.value}",
            # What a browser sends: the public origin, with the port it connected to.
            "Origin": f"https://{PUBLIC_HOST}:{stack.https_port}",
        },
    )
    assert signed_in.status == 302, signed_in.body[:500]
    assert signed_in.headers["Location"] == "/en/"
    (audited,) = AuditEntry.objects.filter(action="auth.login")
    assert audited.details == {"ip": CLIENT_A}
    session = signed_in.cookies()["sessionid"]
    assert session["secure"] is True and session["httponly"] is True
    home = stack.request("GET", "/en/", source=CLIENT_A, headers={"Cookie": f"sessionid={session.value}"})
    assert home.status == 200 and b"documenter" in home.body


@transactional
def test_a_post_from_another_origin_is_still_refused(stack, documenter_account):
    page = stack.request("GET", "/en/accounts/login/", source=CLIENT_A)
    csrf = page.cookies()["csrftoken"].value
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1).decode()
    refused = stack.request(
        "POST",
        "/en/accounts/login/",
        source=CLIENT_A,
        body=f"username=documenter&password={PASSWORD}&csrfmiddlewaretoken={token}".encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={csrf}",
            "Origin": "https://attacker.example",
        },
    )
    assert refused.status == 403
    assert "sessionid" not in refused.cookies()


@transactional
def test_links_and_redirects_use_the_public_scheme_and_host(stack, documenter_account):
    from knox.models import AuthToken

    make_incident(documenter_account)
    make_incident(documenter_account)
    _instance, token = AuthToken.objects.create(documenter_account)
    listing = stack.request("GET", "/api/v1/incidents/?page_size=1", headers={"Authorization": f"Token {token}"})
    assert listing.status == 200
    assert listing.json()["next"].startswith(f"https://{PUBLIC_HOST}:{stack.https_port}/api/v1/incidents/?")
    assert stack.request("GET", "/").headers["Location"] == "/en/"
    # Plain HTTP at the proxy: a redirect to HTTPS on the public name.
    connection = http.client.HTTPConnection(PROXY_ADDRESS, stack.http_port, timeout=60, source_address=(CLIENT_A, 0))
    connection.request("GET", "/en/?x=1", headers={"Host": PUBLIC_HOST})
    redirect = connection.getresponse()
    assert redirect.status == 301
    assert redirect.headers["Location"] == f"https://{PUBLIC_HOST}/en/?x=1"
    connection.close()


def test_a_name_the_proxy_does_not_serve_is_refused_at_the_handshake(stack):
    for name in ("other.example.org", PROXY_ADDRESS):
        connection = stack.connection(CLIENT_A, server_name=name, timeout=30)
        with pytest.raises(ssl.SSLError):
            connection.request("GET", "/healthz")
        connection.close()


def test_static_files_come_through_the_proxy_with_long_caching(stack):
    manifest = json.loads((stack.tmp / "static" / "staticfiles.json").read_text())
    hashed = manifest["paths"]["favicon.svg"]
    response = stack.request("GET", f"/static/{hashed}")
    assert response.status == 200
    assert response.body == (ROOT / "static" / "favicon.svg").read_bytes()
    assert "immutable" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- a large upload streams through --------------------------------------------------------------


@transactional
def test_a_500_mb_upload_streams_through_the_proxy_within_the_memory_bound(stack, documenter_account):
    from knox.models import AuthToken

    incident = make_incident(documenter_account)
    _instance, token = AuthToken.objects.create(documenter_account)
    data_size = UPLOAD_MB * 1024**2
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="incident"\r\n\r\n{incident.pk}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="description"\r\n\r\nthrough nginx\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="long-recording.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    header = wav_header(data_size)
    block = os.urandom(1024**2)
    digest = hashlib.sha256()
    spooled_by_nginx: list[str] = []

    def body() -> Iterator[bytes]:
        """Generated as it is sent: the test never holds more than one megabyte of it."""
        yield head
        digest.update(header)
        yield header
        for n in range(UPLOAD_MB):
            chunk = block[:-4] + n.to_bytes(4, "little")  # no two megabytes alike
            digest.update(chunk)
            yield chunk
            if n == UPLOAD_MB // 2:
                spooled_by_nginx.extend(stack.nginx_body_files())
        yield tail

    length = len(head) + len(header) + data_size + len(tail)
    connection = stack.connection(CLIENT_A, timeout=600)
    try:
        connection.putrequest("POST", "/api/v1/media/")
        connection.putheader("Authorization", f"Token {token}")
        connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        connection.putheader("Content-Length", str(length))
        connection.endheaders()
        for chunk in body():
            connection.send(chunk)
        response = connection.getresponse()
        status, answer = response.status, response.read()
    finally:
        connection.close()

    assert status == 201, answer[:500]
    assert json.loads(answer)["sha256"] == digest.hexdigest()
    assert spooled_by_nginx == [], "nginx buffered the upload to its disk"
    (worker,) = stack.worker_pids()
    peak = peak_rss_mb(worker)
    print(f"500 MB through nginx: gunicorn worker peak RSS {peak:.1f} MB")  # shown with -s / -rA
    assert peak <= PEAK_RSS_BOUND_MB, f"the web worker's peak RSS was {peak:.1f} MB"


def test_an_upload_beyond_the_documented_limit_is_refused_by_the_proxy_before_the_body(stack):
    (limit,) = documented_directive("client_max_body_size", "/api/v1/media/")
    connection = stack.connection(CLIENT_A, timeout=60)
    try:
        connection.putrequest("POST", "/api/v1/media/")
        connection.putheader("Content-Type", "multipart/form-data; boundary=x")
        connection.putheader("Content-Length", str(size_in_bytes(limit) + 1))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
    finally:
        connection.close()
