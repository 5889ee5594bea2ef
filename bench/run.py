"""`make bench`: the figures at a million victims, each against a baseline measured in the same run.

Runs on PostgreSQL only (DATABASE_URL); refuses otherwise. Fills the database with synthetic records
(`manage.py generate_synthetic`) unless it already holds the requested amount, then measures:

1. a full count snapshot over all time vs. the same figures by hand-written SQL (bench/floor.py);
2. a one-year window count (and its floor);
3. the incident, victim and review-queue list endpoints (and the duplicates list once it exists; pages
   of 50, with filters) under 20 concurrent clients on gunicorn, against `/healthz` under the same load
   (the server's own floor; goal p95 ≤ 1.5× its p95); plus the number of SQL queries per page at
   several page sizes (must not grow with the page), and the CPU ms per request of each list and of
   `/healthz` in-process (bench/cpu.py);
4. the streaming CSV export of every counted victim vs. PostgreSQL's own `COPY ... TO STDOUT` of the
   same rows;
5. a 500 MB media upload through the API: peak RSS of the web worker, and upload throughput vs.
   `sha256sum` on the same file.

Each figure is the median of `--runs` runs. Results go to bench/results.json and to the "Figures"
tables of README.md and bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results.json"
ALL_TIME = (dt.date(1900, 1, 1), dt.date(2100, 12, 31))
ALL_FIGURES = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "10")
ONE_YEAR = (dt.date(2015, 1, 1), dt.date(2015, 12, 31))


# --- small helpers -----------------------------------------------------------------------------


def say(message: str) -> None:
    print(message, flush=True)


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the process's peak resident set size so far."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def children_of(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as listing:
            return [int(part) for part in listing.read().split()]
    except OSError:
        return []


# --- the application under test ------------------------------------------------------------------


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def machine_facts(raw: Any) -> dict[str, Any]:
    version = raw.execute("SHOW server_version").fetchone()[0]
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3, 1),
        "postgresql": version,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def data_facts(raw: Any) -> dict[str, Any]:
    def one(sql: str) -> Any:
        return raw.execute(sql).fetchone()[0]

    return {
        "victims": one("SELECT COUNT(*) FROM incidents_victim"),
        "incidents": one("SELECT COUNT(*) FROM incidents_incident"),
        "verified_civilian_victims": one(
            "SELECT COUNT(*) FROM incidents_victim WHERE status = 'verified' AND civilian_status = 'civilian'"
        ),
        "victim_table_mb": round(one("SELECT pg_total_relation_size('incidents_victim')") / 1024**2),
        "incident_table_mb": round(one("SELECT pg_total_relation_size('incidents_incident')") / 1024**2),
    }


def ensure_data(victims: int, incidents: int, seed: int, regenerate: bool) -> None:
    from bench.synthetic import SYNTHETIC_PREFIX
    from incidents.models import Incident, Victim

    present = Victim.objects.filter(created_by__username__startswith=SYNTHETIC_PREFIX).count()
    present_incidents = Incident.objects.filter(created_by__username__startswith=SYNTHETIC_PREFIX).count()
    if (present, present_incidents) == (victims, incidents) and not regenerate:
        say(f"data: {present} synthetic victims in {present_incidents} incidents already present (--regenerate)")
        return
    say(f"data: generating {victims} victims in {incidents} incidents (seed {seed})")
    from django.core.management import call_command

    call_command("generate_synthetic", victims=victims, incidents=incidents, seed=seed, replace=True, verbosity=1)


def bench_user(username: str, group: str):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user, created = get_user_model().objects.get_or_create(username=username, defaults={"is_staff": group == "admin"})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get(name=group))
    return user


def token_for(user) -> str:
    """An API token as a client gets it; for reviewers and admins, one obtained with a second factor
    (as `POST /api/v1/auth/token/` with an `otp` code gives), so exports are allowed."""
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from knox.models import AuthToken

    from accounts.models import SecondFactorToken

    instance, token = AuthToken.objects.create(user, expiry=dt.timedelta(hours=2))
    if user.has_perm("incidents.review_record"):
        device, _ = TOTPDevice.objects.get_or_create(user=user, name="benchmark", defaults={"confirmed": True})
        SecondFactorToken.objects.create(token=instance, device_id=device.persistent_id)
    return token


# --- figures 1 and 2: counts ---------------------------------------------------------------------


def app_parameters(date_from: dt.date, date_to: dt.date):
    from counts import counting

    return counting.CountParameters(date_from=date_from, date_to=date_to)


def app_count(date_from: dt.date, date_to: dt.date) -> dict:
    """The application's own count (counts/counting.py), exactly as the Celery task computes it."""
    from counts import counting

    figures = counting.compute(app_parameters(date_from, date_to))
    return {**figures.result, "fingerprint": figures.fingerprint}


def fingerprint_header(date_from: dt.date, date_to: dt.date) -> str:
    """The fingerprint's first line(s), as counting.py writes them: rule version and parameters."""
    from counts import counting

    parameters = app_parameters(date_from, date_to)
    return f"rule={counting.RULE_VERSION}\nparameters={parameters.canonical()}\n"


def floor_count(raw: Any, date_from: dt.date, date_to: dt.date) -> dict:
    from django.conf import settings

    from bench.floor import CountParameters, compute

    with raw.transaction():
        raw.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return compute(
            raw,
            "postgresql",
            CountParameters(
                date_from,
                date_to,
                threshold=settings.MASSACRE_THRESHOLD,
                fingerprint_header=fingerprint_header(date_from, date_to),
            ),
        )


def count_figure(raw: Any, name: str, window: tuple[dt.date, dt.date], runs: int, goal: dict) -> dict:
    floor_samples, app_samples = [], []
    floor_result = app_result = None
    for _ in range(runs):  # interleaved, so both see the same cache state
        started = time.perf_counter()
        floor_result = floor_count(raw, *window)
        floor_samples.append(time.perf_counter() - started)
        started = time.perf_counter()
        app_result = app_count(*window)
        app_samples.append(time.perf_counter() - started)
    app, floor = statistics.median(app_samples), statistics.median(floor_samples)
    same = comparable(app_result) == comparable(floor_result)
    return {
        "name": name,
        "window": [window[0].isoformat(), window[1].isoformat()],
        "measured_s": round(app, 4),
        "baseline_s": round(floor, 4),
        "ratio": round(app / floor, 2),
        "runs_s": [round(s, 4) for s in app_samples],
        "baseline_runs_s": [round(s, 4) for s in floor_samples],
        "counted_victims": floor_result["civilians"]["total"],
        "figures_match_floor": same,
        "goal": goal,
    }


def comparable(result: dict | None) -> Any:
    """A count's figures reduced to plain values: row labels by id (or date), every number, the fingerprint."""
    if result is None:
        return None
    numbers = ("total", "children", "women", "men", "unknown", "massacres")

    def rows(key: str, label: str) -> list:
        return sorted(
            (row[label]["id"] if isinstance(row[label], dict) else str(row[label]), *(row[n] for n in numbers))
            for row in result.get(key, [])
        )

    return {
        "civilians": result["civilians"],
        "massacres": result["massacres"],
        "injured": result["injured"],
        "incidents": result["incidents"],
        "roles": result["roles"],
        "by_perpetrator": rows("by_perpetrator", "perpetrator"),
        "by_location": rows("by_location", "location"),
        "by_date": rows("by_date", "date"),
        "fingerprint": result.get("fingerprint"),
    }


# --- figure 3: list endpoints under load ---------------------------------------------------------


class Gunicorn:
    """A gunicorn serving config.wsgi with production settings (DEBUG off) on a free local port."""

    def __init__(self, workers: int, threads: int, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "DEBUG": "",
            "ALLOWED_HOSTS": "127.0.0.1",
            "PYTHONWARNINGS": "ignore::UserWarning",  # whitenoise: no collectstatic for an API benchmark
            **(extra_env or {}),
        }
        env.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--worker-class",
                "gthread" if threads > 1 else "sync",
                "--timeout",
                "600",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                status, _ = self.get("/healthz")
                if status == 200:
                    return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz within 60 s")

    def get(self, path: str, token: str | None = None) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        try:
            connection.request("GET", path, headers={"Authorization": f"Token {token}"} if token else {})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def worker_pids(self) -> list[int]:
        return children_of(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def load(server: Gunicorn, paths: list[str], token: str | None, clients: int, per_client: int) -> dict:
    """`clients` threads on keep-alive connections, each sending `per_client` requests round the paths."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        headers = {"Authorization": f"Token {token}"} if token else {}
        mine = []
        barrier.wait()
        for index in range(per_client):
            path = paths[(number + index) % len(paths)]
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                with lock:
                    failures.append(f"{response.status} {path}")
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} failed requests, e.g. {failures[:3]}")
    return {
        "requests": len(latencies),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "throughput_rps": round(len(latencies) / elapsed, 1),
    }


def list_paths(kind: str) -> list[str]:
    from incidents.models import Incident, Location, Perpetrator

    aleppo = Location.objects.get(name="Aleppo", level="governorate").pk
    idlib = Location.objects.get(name="Idlib", level="governorate").pk
    alliance = Perpetrator.objects.get(name="Syrian-Russian alliance").pk
    regime = Perpetrator.objects.get(name="Syrian regime forces").pk
    some_incident = Incident.objects.filter(status="verified").order_by("id").values_list("pk", flat=True)[1000]
    if kind == "review-queue":
        return [
            "/api/v1/review-queue/",
            "/api/v1/review-queue/?kind=incidents",
            "/api/v1/review-queue/?kind=victims",
            f"/api/v1/review-queue/?location={idlib}",
            "/api/v1/review-queue/?page=2",
        ]
    if kind == "duplicates":
        return ["/api/v1/duplicates/", "/api/v1/duplicates/?page=2"]
    if kind == "incidents":
        return [
            "/api/v1/incidents/",
            "/api/v1/incidents/?status=verified&occurred_from=2014-01-01&occurred_to=2014-12-31",
            f"/api/v1/incidents/?location={aleppo}&perpetrator={alliance}",
            f"/api/v1/incidents/?weapon=barrel_bomb&perpetrator={regime}&page=3",
            f"/api/v1/incidents/?status=submitted&location={idlib}",
        ]
    return [
        "/api/v1/victims/",
        "/api/v1/victims/?status=verified&category=child",
        f"/api/v1/victims/?occurred_from=2015-01-01&occurred_to=2015-06-30&location={idlib}",
        f"/api/v1/victims/?incident={some_incident}",
        f"/api/v1/victims/?civilian_status=civilian&sex=female&perpetrator={alliance}&page=5",
    ]


def queries_per_page(user, kind: str) -> dict[str, int]:
    """SQL statements per list request at page sizes 10, 50 and 200 (must be the same), each with no
    estimated count kept (the first request for a list); "50 warm": the next request for it.

    Counted by an execute wrapper (every statement the request sends, BEGIN and COMMIT aside): the
    query log is cleared at each request's start, which confuses a CaptureQueriesContext around it.
    """
    from django.db import connection
    from django.test import Client

    try:
        from config.api import forget_estimates
    except ImportError:  # measuring code from before estimates were kept

        def forget_estimates() -> None:
            return None

    token = token_for(user)
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}")
    # One request first, so every page size meets the token alike (its look-up kept for
    # API_TOKEN_CACHE_SECONDS): a new token's first request reads it, whatever the page size.
    client.get(f"/api/v1/{kind}/", {"page_size": 1})
    counts = {}
    for size in (10, 50, 200, "50 warm"):
        if size != "50 warm":
            forget_estimates()
        else:
            size = 50
        statements: list[str] = []

        def count(execute, sql, params, many, context, statements=statements):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = client.get(f"/api/v1/{kind}/", {"page_size": size})
        if response.status_code != 200:
            raise RuntimeError(f"/api/v1/{kind}/ answered {response.status_code}")
        counts[str(size) if str(size) not in counts else f"{size} warm"] = len(statements)
    return counts


def list_kinds() -> list[str]:
    """The lists measured: incidents, victims, the review queue, and the duplicates list once it exists."""
    from django.urls import Resolver404, resolve

    kinds = ["incidents", "victims", "review-queue"]
    try:
        resolve("/api/v1/duplicates/")
    except Resolver404:
        return kinds
    return [*kinds, "duplicates"]


BENCH_PAIR_COMMENT = "bench: synthetic candidate pair"
BENCH_PAIR_REASONS = [{"code": "incident_same", "params": {}}, {"code": "sex_same", "params": {}}]


@contextlib.contextmanager
def candidate_pairs(pairs: int) -> Iterator[int]:
    """Candidate pairs for the duplicates list, written directly (no scan): each verified victim with the
    next victim of its incident, up to `pairs`, scores spread over 0.2-1.0, removed again afterwards.
    Pairs a scan found (if any) are left as they are and listed with them."""
    from django.db import connection

    from matching.models import CandidatePair

    table = CandidatePair._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (victim_a_id, victim_b_id, score, likely, reasons, status, comment, version,
                                 created_at, updated_at)
            SELECT a, b, s, s >= 0.995, %s::jsonb, 'candidate', %s, 1,
                   now(), now()
            FROM (
                SELECT id AS a, lead(id) OVER (PARTITION BY incident_id ORDER BY id) AS b,
                       0.2 + 0.8 * ((id * 7919) %% 1000) / 1000.0 AS s
                FROM incidents_victim WHERE status = 'verified'
            ) p
            WHERE b IS NOT NULL
            ORDER BY a
            LIMIT %s
            ON CONFLICT DO NOTHING
            """,
            [json.dumps(BENCH_PAIR_REASONS), BENCH_PAIR_COMMENT, pairs],
        )
        made = cursor.rowcount
        cursor.execute(f"ANALYZE {table}")
    try:
        yield made
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE comment = %s", [BENCH_PAIR_COMMENT])


def list_figure(user, clients: int, per_client: int, runs: int, workers: int, threads: int) -> list[dict]:
    token = token_for(user)
    figures = []
    kinds = list_kinds()
    with contextlib.ExitStack() as stack:
        pairs = stack.enter_context(candidate_pairs(BENCH_PAIRS)) if "duplicates" in kinds else 0
        server = Gunicorn(workers, threads)
        stack.callback(server.stop)
        for kind in kinds:
            figures.append(_list_figure(server, token, user, kind, clients, per_client, runs, workers, threads))
        if pairs:
            figures[-1]["pairs"] = pairs
        server.stop()  # CPU per request (bench/cpu.py) with the machine free of the server's workers
        cpu = list_cpu(token, kinds, runs)
    for kind, figure in zip(kinds, figures, strict=True):
        figure["cpu_ms_per_request"] = cpu[kind]["cpu_ms"]
        figure["healthz_cpu_ms_per_request"] = cpu["healthz"]["cpu_ms"]
    return figures


def list_cpu(token: str, kinds: list[str], runs: int) -> dict[str, dict[str, float]]:
    """CPU ms per request of each list and /healthz, in-process through the WSGI handler (bench/cpu.py),
    with DEBUG off as in production (DEBUG keeps every statement's text)."""
    from django.conf import settings

    from bench.cpu import cpu_per_request

    debug, settings.DEBUG = settings.DEBUG, False
    try:
        return cpu_per_request(token, kinds, requests=25, runs=max(runs, 3))
    finally:
        settings.DEBUG = debug


BENCH_PAIRS = 20_000


def _list_figure(server, token, user, kind, clients, per_client, runs, workers, threads) -> dict:
    """One list under load, against /healthz in the same run, and its statements per page."""
    paths = list_paths(kind)
    for path in paths:  # warm every worker's connection and the caches
        for _ in range(workers * max(threads, 1)):
            status, body = server.get(path, token)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}: {body[:200]!r}")
    samples, baselines = [], []
    for _ in range(runs):
        baselines.append(load(server, ["/healthz"], None, clients, per_client))
        samples.append(load(server, paths, token, clients, per_client))
    p95 = round(statistics.median(sample["p95_ms"] for sample in samples), 1)
    base = statistics.median(sample["p95_ms"] for sample in baselines)
    return {
        "name": f"{kind} list, page of 50 with filters, {clients} concurrent clients",
        "measured_p95_ms": p95,
        "measured_p50_ms": round(statistics.median(sample["p50_ms"] for sample in samples), 1),
        "throughput_rps": round(statistics.median(sample["throughput_rps"] for sample in samples), 1),
        "baseline": "/healthz under the same load (gunicorn + Django + one SELECT 1)",
        "baseline_p95_ms": round(base, 1),
        "ratio": round(p95 / base, 2) if base else None,
        "runs": samples,
        "baseline_runs": baselines,
        "paths": [re.sub(r"incident=\d+", "incident=<id>", path) for path in paths],
        "queries_per_page": queries_per_page(user, kind),
        "server": f"gunicorn {workers} workers x {threads} threads",
        "goal": {"p95_ratio_to_healthz_at_most": 1.5, "queries_constant": True},
    }


# --- figure 4: streaming export ------------------------------------------------------------------


def export_figure(raw: Any, admin, runs: int) -> dict:
    name = "streaming CSV export of every counted victim (all time)"
    goal = {"seconds_at_most": 10}
    from bench.floor import CountParameters, counted_victims_copy_sql
    from counts import services

    snapshot = services.request_count(actor=admin, enqueue=False, date_from=ALL_TIME[0], date_to=ALL_TIME[1])
    snapshot = services.run_count(snapshot.pk)
    token = token_for(admin)
    copy_sql, copy_params = counted_victims_copy_sql(CountParameters(*ALL_TIME))
    server = Gunicorn(1, 1)
    digests: dict[str, set[str]] = {"app": set(), "floor": set()}
    rows = []
    try:
        path = f"/api/v1/counts/{snapshot.pk}/victims.csv"

        def download() -> None:
            digest = hashlib.sha256()
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=600)
            connection.request("GET", path, headers={"Authorization": f"Token {token}"})
            response = connection.getresponse()
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}: {response.read(300)!r}")
            lines = 0
            first = True
            while chunk := response.read(1 << 20):
                lines += chunk.count(b"\n")
                if first:  # the floor has no header: hash the body only
                    chunk = chunk.split(b"\n", 1)[1]
                    first = False
                digest.update(chunk)
            rows.append(lines - 1)
            digests["app"].add(digest.hexdigest())
            connection.close()

        def copy_floor() -> None:
            digest = hashlib.sha256()
            with raw.cursor() as cursor, cursor.copy(copy_sql, copy_params) as copy:
                for block in copy:
                    digest.update(block)
            digests["floor"].add(digest.hexdigest())

        app_samples, floor_samples, rss = [], [], []
        for _ in range(runs):
            floor_samples.append(timed(copy_floor))
            raw.rollback()
            app_samples.append(timed(download))
            rss.append(max(peak_rss_mb(pid) for pid in server.worker_pids()))
    finally:
        server.stop()
    app, floor = statistics.median(app_samples), statistics.median(floor_samples)
    return {
        "name": name,
        "measured_s": round(app, 3),
        "baseline": "hand-written COPY (same rows, same bytes) TO STDOUT, read by psycopg",
        "baseline_s": round(floor, 3),
        "ratio": round(app / floor, 2),
        "rows": rows[-1] if rows else 0,
        "same_bytes_as_floor": len(digests["app"]) == 1 and digests["app"] == digests["floor"],
        "worker_peak_rss_mb": round(max(rss), 1),
        "runs_s": [round(s, 3) for s in app_samples],
        "baseline_runs_s": [round(s, 3) for s in floor_samples],
        "goal": goal,
    }


# --- figure 5: a 500 MB upload -------------------------------------------------------------------


def wav_header(data_size: int) -> bytes:
    """The 44-byte header of a PCM WAV (stereo, 44.1 kHz, 16 bit) holding `data_size` bytes of samples."""
    return (
        b"RIFF"
        + (36 + data_size).to_bytes(4, "little")
        + b"WAVEfmt "
        + (16).to_bytes(4, "little")
        + (1).to_bytes(2, "little")  # PCM
        + (2).to_bytes(2, "little")  # stereo
        + (44100).to_bytes(4, "little")
        + (44100 * 4).to_bytes(4, "little")
        + (4).to_bytes(2, "little")
        + (16).to_bytes(2, "little")
        + b"data"
        + data_size.to_bytes(4, "little")
    )


def wav_file(directory: Path, megabytes: int) -> Path:
    """A valid PCM WAV of `megabytes` MB of noise (an allowed type, decided by content)."""
    path = directory / "bench-upload.wav"
    data_size = megabytes * 1024 * 1024
    header = wav_header(data_size)
    block = os.urandom(1 << 20)
    with path.open("wb") as target:
        target.write(header)
        for _ in range(megabytes):
            target.write(block)
    return path


def multipart_upload(port: int, token: str, path: Path, fields: dict[str, str]) -> tuple[int, bytes]:
    """POST a multipart form with the file streamed from disk (the client never holds it in memory)."""
    boundary = uuid.uuid4().hex
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + path.stat().st_size + len(tail)

    def body() -> Iterator[bytes]:
        yield head
        with path.open("rb") as source:
            while chunk := source.read(1 << 20):
                yield chunk
        yield tail

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1200)
    connection.putrequest("POST", "/api/v1/media/")
    connection.putheader("Authorization", f"Token {token}")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(length))
    connection.endheaders()
    for chunk in body():
        connection.send(chunk)
    response = connection.getresponse()
    return response.status, response.read()


def handler_hash_rate(path: Path, media_root: Path) -> tuple[float, str]:
    """MB/s of the application's own upload path (HashingUploadHandler: hash + write + fsync per chunk),
    fed the file in its chunk size in-process; returns the rate and the digest it computed."""
    from django.test import override_settings

    from evidence.uploads import HashingUploadHandler

    size = path.stat().st_size
    with override_settings(MEDIA_ROOT=str(media_root)):
        handler = HashingUploadHandler(None, limit=size + 1)
        handler.new_file("file", path.name, "audio/wav", size)
        started = time.perf_counter()
        offset = 0
        with path.open("rb") as source:
            while chunk := source.read(handler.chunk_size):
                handler.receive_data_chunk(chunk, offset)
                offset += len(chunk)
        upload = handler.file_complete(offset)
        elapsed = time.perf_counter() - started
        upload.discard()
    return size / 1024**2 / elapsed, upload.sha256


def upload_figure(documenter, runs: int, megabytes: int) -> dict:
    name = f"{megabytes} MB media upload through the API"
    goal = {"peak_rss_mb_at_most": 150, "hash_speed_share_of_sha256sum_at_least": 0.5}
    from incidents import services
    from incidents.models import Incident

    incident = Incident.objects.filter(created_by=documenter, status="draft").first()
    if incident is None:
        template = Incident.objects.filter(status="verified").first()
        incident = services.create_incident(
            author=documenter,
            title="Benchmark upload target",
            occurred_on=template.occurred_on,
            location=template.location,
            perpetrator=template.perpetrator,
        )
    token = token_for(documenter)
    scratch = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    media_root = scratch / "media"
    # With a broker the media task is queued for a worker, as in production; without one it would run
    # eagerly inside the upload request and be timed with it.
    server = Gunicorn(1, 1, {"MEDIA_ROOT": str(media_root)})
    try:
        source = wav_file(scratch, megabytes)
        size_mb = source.stat().st_size / 1024**2
        sha_samples, upload_samples, hash_rates, rss = [], [], [], []
        expected = ""
        for _ in range(runs):

            def sha256sum() -> None:
                nonlocal expected
                done = subprocess.run(["sha256sum", str(source)], check=True, capture_output=True, text=True)
                expected = done.stdout.split()[0]

            sha_samples.append(timed(sha256sum))
            rate, digest = handler_hash_rate(source, scratch / "handler")
            if digest != expected:
                raise RuntimeError("the upload handler's SHA-256 differs from sha256sum's")
            hash_rates.append(rate)
            status = body = None

            def upload() -> None:
                nonlocal status, body
                status, body = multipart_upload(
                    server.port, token, source, {"incident": str(incident.pk), "description": "benchmark"}
                )

            upload_samples.append(timed(upload))
            if status not in (200, 201, 202):
                raise RuntimeError(f"upload answered {status}: {body[:300]!r}")
            if json.loads(body).get("sha256") != expected:
                raise RuntimeError("the API's SHA-256 differs from sha256sum's")
            rss.append(max(peak_rss_mb(pid) for pid in server.worker_pids()))
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    if os.environ.get("REDIS_URL"):
        from config.celery import app as celery_app

        celery_app.control.purge()  # the queued media tasks name files that are gone now
    sha_speed = size_mb / statistics.median(sha_samples)
    hash_speed = statistics.median(hash_rates)
    upload_speed = size_mb / statistics.median(upload_samples)
    return {
        "name": name,
        "measured_peak_rss_mb": round(max(rss), 1),
        "measured_hash_mb_s": round(hash_speed, 1),
        "measured_upload_mb_s": round(upload_speed, 1),
        "baseline": "sha256sum on the same file (page-cached)",
        "baseline_mb_s": round(sha_speed, 1),
        "ratio": round(hash_speed / sha_speed, 2),
        "upload_ratio": round(upload_speed / sha_speed, 2),
        "runs_s": [round(s, 2) for s in upload_samples],
        "baseline_runs_s": [round(s, 2) for s in sha_samples],
        "media_task": "queued (REDIS_URL set)" if os.environ.get("REDIS_URL") else "ran eagerly inside the request",
        "note": (
            "hash speed: the upload handler (SHA-256 + write + fsync per 256 KB chunk) in-process; upload: "
            "the whole HTTP request (multipart parsing, hashing, writing, sealing, the response)"
        ),
        "goal": goal,
    }


# --- reporting -----------------------------------------------------------------------------------


def goal_met(figure: dict) -> bool:
    goal = figure["goal"]
    checks = []
    if "ratio_at_most" in goal:
        checks.append(figure["ratio"] <= goal["ratio_at_most"])
    if "seconds_at_most" in goal:
        checks.append(figure["measured_s"] <= goal["seconds_at_most"])
    if "p95_ratio_to_healthz_at_most" in goal:
        checks.append(figure["ratio"] <= goal["p95_ratio_to_healthz_at_most"])
    if "p95_ms_at_most" in goal:
        checks.append(figure["measured_p95_ms"] <= goal["p95_ms_at_most"])
    if goal.get("queries_constant"):
        cold = {size: n for size, n in figure["queries_per_page"].items() if not size.endswith("warm")}
        checks.append(len(set(cold.values())) == 1)
    if "peak_rss_mb_at_most" in goal:
        checks.append(figure["measured_peak_rss_mb"] <= goal["peak_rss_mb_at_most"])
    if "hash_speed_share_of_sha256sum_at_least" in goal:
        checks.append(figure["ratio"] >= goal["hash_speed_share_of_sha256sum_at_least"])
    # Duplicate matching (bench/matching.py): quality on the ministry's lists.
    for key, field in (
        ("precision_at_least", "precision"),
        ("recall_at_least", "recall"),
        ("candidate_recall_at_least", "candidate_recall"),
    ):
        if key in goal:
            checks.append(figure[field] >= goal[key])
    if "figures_match_floor" in figure:
        checks.append(figure["figures_match_floor"])
    if "same_bytes_as_floor" in figure:
        checks.append(figure["same_bytes_as_floor"])
    return all(checks)


GOAL_TEXT = {
    "precision_at_least": "precision ≥ {}",
    "recall_at_least": "recall ≥ {}",
    "candidate_recall_at_least": "candidate recall ≥ {}",
    "ratio_at_most": "≤ {}× the floor",
    "seconds_at_most": "≤ {} s",
    "p95_ms_at_most": "p95 ≤ {} ms",
    "p95_ratio_to_healthz_at_most": "p95 ≤ {}× /healthz p95",
    "queries_constant": "queries per page constant",
    "peak_rss_mb_at_most": "peak RSS ≤ {} MB",
    "hash_speed_share_of_sha256sum_at_least": "hashing ≥ {}× sha256sum",
    "reported": "none ({})",
}


def table_rows(results: dict) -> list[str]:
    rows = ["| Figure | Goal | Measured (median) | Baseline, same run | Ratio | Met |", "|---|---|---|---|---|---|"]
    for figure in results["figures"]:
        goal = "; ".join(GOAL_TEXT.get(key, key).format(value) for key, value in figure["goal"].items())
        if "measured_s" in figure and figure.get("show_ms"):
            measured = f"{figure['measured_s'] * 1000:.1f} ms" + (
                f" ({figure['detail']})" if figure.get("detail") else ""
            )
            baseline = f"{figure['baseline_s'] * 1000:.1f} ms"
        elif "measured_s" in figure:
            measured = f"{figure['measured_s']:.2f} s" + (f" ({figure['detail']})" if figure.get("detail") else "")
            baseline = f"{figure['baseline_s']:.2f} s"
        elif "measured_p95_ms" in figure:
            measured = (
                f"p95 {figure['measured_p95_ms']} ms, p50 {figure['measured_p50_ms']} ms, "
                f"{figure['throughput_rps']} req/s; queries per page ("
                + "/".join(figure["queries_per_page"])
                + "): "
                + "/".join(str(v) for v in figure["queries_per_page"].values())
            )
            baseline = f"/healthz p95 {figure['baseline_p95_ms']} ms"
            if "cpu_ms_per_request" in figure:
                measured += f"; CPU {figure['cpu_ms_per_request']} ms/request"
                baseline += f"; CPU {figure['healthz_cpu_ms_per_request']} ms/request"
        else:
            measured = (
                f"peak RSS {figure['measured_peak_rss_mb']} MB; hashing {figure['measured_hash_mb_s']} MB/s; "
                f"whole upload {figure['measured_upload_mb_s']} MB/s ({figure['upload_ratio']} of sha256sum)"
            )
            baseline = f"sha256sum {figure['baseline_mb_s']} MB/s"
        met = "yes" if figure["met"] else "**no**"
        rows.append(f"| {figure['name']} | {goal} | {measured} | {baseline} | {figure.get('ratio', '')} | {met} |")
    machine, data = results["machine"], results["data"]
    rows.append("")
    rows.append(
        f"Machine: {machine['cores']} cores ({machine['cpu']}), {machine['memory_gb']} GB, PostgreSQL "
        f"{machine['postgresql']}, Python {machine['python']}; load average (1/5/15 min) "
        f"{'/'.join(str(v) for v in machine['load_average_at_start'])} at the start, "
        f"{'/'.join(str(v) for v in machine.get('load_average_at_end', []))} at the end (a shared machine). "
        f"Data: {data['victims']:,} victims in "
        f"{data['incidents']:,} incidents ({data['verified_civilian_victims']:,} verified civilian). "
        f"Measured {results['measured_at']}, {results['runs']} runs per figure."
    )
    return rows


def write_table(path: Path, rows: list[str]) -> None:
    start, end = "<!-- bench:figures:start -->", "<!-- bench:figures:end -->"
    text = path.read_text(encoding="utf-8")
    if start not in text:
        return
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    path.write_text(before + start + "\n" + "\n".join(rows) + "\n" + end + after, encoding="utf-8")


def import_figures(raw: Any, documenter: Any, rows: int) -> list[dict]:
    """Figure 6, the import of a list: measured in bench/imports.py."""
    from bench.imports import import_figures as measure

    return measure(raw, documenter, rows)


def rollup_figures(raw: Any, runs: int, rows: int) -> list[dict]:
    """Figure 7, window counts from the rollups and their cost to writes: measured in bench/rollups.py."""
    from bench.rollups import rollup_figures as measure

    return measure(raw, runs, rows, ALL_TIME, ONE_YEAR)


def matching_quality() -> dict:
    """Figure 8, duplicate matching on the ministry's two lists: measured in bench/matching.py."""
    from bench.matching import quality

    return quality()


def matching_speed(new: int) -> list[dict]:
    """Figure 9, full and incremental duplicate scans of the database's victims: bench/matching.py."""
    from bench.matching import speed

    return speed(new)


def matching_db_figures(database_url: str, victims: int, new: int) -> list[dict]:
    """Figure 10, duplicate scans through PostgreSQL (bench/matching_db.py), in a database of its own next to
    the bench database (created, migrated, dropped again): the scan compares every victim of its database."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(database_url)
    name = f"{parts.path.lstrip('/')}_dups"
    own_url = urlunsplit(parts._replace(path=f"/{name}"))
    admin = psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)
    try:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        with tempfile.NamedTemporaryFile(suffix=".json") as output:
            command = [sys.executable, "-m", "bench.matching_db", "--victims", str(victims), "--new", str(new),
                       "--output", output.name]  # fmt: skip
            say(f"figure 10: {victims:,} victims, then {new:,} new, in database {name}")
            subprocess.run(command, check=True, cwd=ROOT, env={**os.environ, "DATABASE_URL": own_url})
            return json.loads(Path(output.name).read_text(encoding="utf-8"))
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--victims", type=int, default=1_000_000)
    parser.add_argument("--incidents", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--regenerate", action="store_true", help="rebuild the synthetic data even if present")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests-per-client", type=int, default=25)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--upload-mb", type=int, default=500)
    parser.add_argument("--import-rows", type=int, default=1_000_000, help="rows of the list figure 6 imports")
    parser.add_argument("--matching-new", type=int, default=10_000, help="new victims of figure 9's incremental scan")
    parser.add_argument(
        "--matching-db-victims", type=int, default=1_000_000, help="victims of figure 10 (scans through PostgreSQL)"
    )
    parser.add_argument(
        "--rollup-rows", type=int, default=100_000, help="rows figure 7 copies with and without triggers"
    )
    parser.add_argument(
        "--only", default=",".join(ALL_FIGURES), help="comma-separated figures to measure (1 count, 2 window, ...)"
    )
    parser.add_argument("--no-write", action="store_true", help="print only; leave results.json and READMEs")
    parser.add_argument("--report-only", action="store_true", help="rewrite the READMEs' tables from results.json")
    args = parser.parse_args(argv)
    if args.report_only:
        rows = table_rows(json.loads(RESULTS.read_text(encoding="utf-8")))
        write_table(ROOT / "README.md", rows)
        write_table(ROOT / "bench" / "README.md", rows)
        say("\n".join(rows))
        return 0

    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        print(
            "make bench measures PostgreSQL and refuses to run without it: set DATABASE_URL=postgres://... to a "
            "database it may fill with a million synthetic records (not your production database).",
            file=sys.stderr,
        )
        return 2
    setup_django()
    import psycopg
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    only = {part.strip() for part in args.only.split(",")}
    if only - {"6", "8", "10"}:  # figures 6 (the import), 8 (matching quality), 10 (its database) bring their own
        ensure_data(args.victims, args.incidents, args.seed, args.regenerate)
    raw = psycopg.connect(database_url, autocommit=True)
    raw.execute("VACUUM ANALYZE incidents_victim")
    raw.execute("VACUUM ANALYZE incidents_incident")
    results: dict[str, Any] = {
        "measured_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "runs": args.runs,
        "machine": machine_facts(raw),
        "data": data_facts(raw),
        "figures": [],
    }
    say(f"machine: {json.dumps(results['machine'])}")
    say(f"data: {json.dumps(results['data'])}")
    admin = bench_user("bench-admin", "admin")
    reviewer = bench_user("bench-reviewer", "reviewer")
    documenter = bench_user("bench-documenter", "documenter")
    raw.autocommit = False
    steps = [
        (
            "1",
            lambda: [count_figure(raw, "full count snapshot, all time", ALL_TIME, args.runs, {"ratio_at_most": 1.5})],
        ),
        ("2", lambda: [count_figure(raw, "one-year window count", ONE_YEAR, args.runs, {"seconds_at_most": 0.3})]),
        (
            "3",
            lambda: list_figure(
                reviewer, args.clients, args.requests_per_client, args.runs, args.workers, args.threads
            ),
        ),
        ("4", lambda: [export_figure(raw, admin, args.runs)]),
        ("5", lambda: [upload_figure(documenter, max(1, min(args.runs, 3)), args.upload_mb)]),
        ("6", lambda: import_figures(raw, documenter, args.import_rows)),  # bench/imports.py
        ("7", lambda: rollup_figures(raw, args.runs, args.rollup_rows)),  # bench/rollups.py
        ("8", lambda: [matching_quality()]),  # bench/matching.py
        ("9", lambda: matching_speed(args.matching_new)),  # bench/matching.py
        ("10", lambda: matching_db_figures(database_url, args.matching_db_victims, args.matching_new)),
    ]
    for key, step in steps:
        if key not in only:
            continue
        for figure in step():
            figure["met"] = goal_met(figure)
            results["figures"].append(figure)
            say(json.dumps({k: v for k, v in figure.items() if not k.endswith("runs")}, default=str))
    raw.close()
    results["machine"]["load_average_at_end"] = [round(value, 2) for value in os.getloadavg()]
    if only != set(ALL_FIGURES) and RESULTS.exists():
        # Some figures measured (--only): the others keep their last measurement.
        measured = {figure["name"] for figure in results["figures"]}
        earlier = json.loads(RESULTS.read_text(encoding="utf-8")).get("figures", [])
        results["figures"] = [f for f in earlier if f["name"] not in measured] + results["figures"]
    rows = table_rows(results)
    say("\n".join(rows))
    if not args.no_write:
        RESULTS.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
        write_table(ROOT / "README.md", rows)
        write_table(ROOT / "bench" / "README.md", rows)
        say(f"wrote {RESULTS.relative_to(ROOT)}, README.md and bench/README.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
