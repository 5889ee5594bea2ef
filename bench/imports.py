"""`make bench` figure 6: importing a list of a million rows, against COPY of the same rows as the floor.

1. The list: `write_list(path, rows, seed)` writes a CSV in the import's own columns, one row per person
   killed, ~5 per incident (grouped by incident_key), with names, ages and sexes sampled from the Gaza
   Ministry of Health list in data/ (its ids are not used: record ids are synthetic), places and parties
   by English or Arabic name, dates day-first as Arabic spreadsheets write them.
2. The floor: the same incidents and victims, already resolved to ids, written by PostgreSQL's COPY into
   the same tables (all indexes and constraints), in a transaction that is rolled back.
3. The import: `intake.services.run_import` in a real Celery worker (solo pool, a private queue) when
   REDIS_URL is set, else in a child process; its peak memory is the process's VmHWM.
4. The re-import of the same file: every row must come back `unchanged`.
Afterwards the imported records are deleted again, so other figures see the same database every run.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
PEOPLE = ROOT / "data" / "gaza-moh-2024-04-13.csv"
COLUMNS = [
    "record_id",
    "incident_key",
    "occurred_on",
    "location",
    "perpetrator",
    "weapon",
    "name",
    "name_ar",
    "sex",
    "age_years",
    "civilian_status",
    "roles",
    "identity_number",
]
PLACES = [
    "Idlib",
    "إدلب",
    "Aleppo",
    "حلب",
    "Hama",
    "Homs",
    "Daraa",
    "Rif Dimashq",
    "ريف دمشق",
    "Deir ez-Zor",
    "Raqqa",
    "Syria > Latakia",
]
PARTIES = ["Syrian regime forces", "Russian forces", "القوات الروسية", "ISIS", "Syrian Democratic Forces"]
WEAPONS = ["fixed_wing_aircraft", "barrel_bomb", "artillery", "missile", "drone", "ground_attack", "other"]


def people() -> list[tuple[str, str, str, str]]:
    with open(PEOPLE, encoding="utf-8", newline="") as handle:
        return [(row["name"], row["en_name"], row["age"], row["sex"]) for row in csv.DictReader(handle)]


def write_list(path: Path, rows: int, seed: int = 13) -> Path:
    """A CSV list of `rows` victims in ~rows/5 incidents (deterministic for a seed)."""
    randomness = random.Random(seed)
    sample = people()
    start = dt.date(2011, 3, 15)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        written, incident = 0, 0
        while written < rows:
            incident += 1
            size = min(rows - written, 1 + int(randomness.expovariate(0.25)))
            day = start + dt.timedelta(days=randomness.randrange(0, 4700))
            place, party = randomness.choice(PLACES), randomness.choice(PARTIES)
            weapon = randomness.choice(WEAPONS)
            for position in range(size):
                name_ar, name, age, sex = randomness.choice(sample)
                first = position == 0
                writer.writerow(
                    [
                        f"B{written + 1:07d}",
                        f"I{incident:06d}",
                        day.strftime("%d/%m/%Y") if first else "",
                        place if first else "",
                        party if first else "",
                        weapon if first else "",
                        name,
                        name_ar,
                        sex,
                        age if age and age != "-1" else "",
                        "civilian" if randomness.random() > 0.05 else "combatant",
                        "medical" if randomness.random() < 0.01 else "",
                        str(400_000_000 + written) if randomness.random() < 0.7 else "",
                    ]
                )
                written += 1
    return path


def peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process (all its threads) has used so far; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class DatabaseCpu:
    """CPU seconds used by the PostgreSQL backends that connected to this database after `since`
    (the import's worker's connections), read from /proc while they live (the server runs on this machine).
    On a shared machine wall time grows with the load; CPU time mostly does not, so the figure says both."""

    def __init__(self, raw: Any, since: dt.datetime) -> None:
        self.raw, self.since, self.used = raw, since, {}

    def poll(self) -> None:
        with self.raw.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_start >= %s",
                [self.since],
            )
            for (pid,) in cursor.fetchall():
                self.used[pid] = max(self.used.get(pid, 0.0), cpu_seconds(pid))

    @property
    def seconds(self) -> float:
        return sum(self.used.values())


# --- The floor: COPY of the same rows ------------------------------------------------------------------------


def copy_floor(raw: Any, path: Path, user_id: int) -> tuple[float, int, float]:
    """COPY the list's incidents and victims (resolved beforehand) into the real tables; roll back.
    Returns the wall time, the rows, and the CPU seconds of the database backend that ran it."""
    from incidents.models import Location, Perpetrator, age_group_for

    places = {
        name: pk
        for pk, name, name_ar in Location.objects.values_list("pk", "name", "name_ar")
        for name in (name, name_ar)
    }
    places["Syria > Latakia"] = places["Latakia"]
    parties = {
        name: pk
        for pk, name, name_ar in Perpetrator.objects.values_list("pk", "name", "name_ar")
        for name in (name, name_ar)
    }
    incidents, victims = io.StringIO(), io.StringIO()
    now = dt.datetime.now(dt.UTC).isoformat()
    with raw.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM incidents_incident")
        next_incident = cursor.fetchone()[0] + 1_000_000
    current = None
    rows = 0
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            rows += 1
            if row["occurred_on"]:
                current = next_incident
                next_incident += 1
                day, month, year = row["occurred_on"].split("/")
                incidents.write(
                    "\t".join(
                        [
                            str(current),
                            "draft",
                            str(user_id),
                            now,
                            now,
                            "1",
                            f"floor {row['incident_key']}",
                            "",
                            f"{year}-{month}-{day}",
                            "day",
                            str(places[row["location"]]),
                            str(parties[row["perpetrator"]]),
                            row["weapon"],
                            "0",
                            "floor",
                            row["incident_key"],
                            "",
                        ]
                    )
                    + "\n"
                )
            age = row["age_years"]
            group = "\\N" if not age else str(age_group_for(int(age)))
            victims.write(
                "\t".join(
                    [
                        "draft",
                        str(user_id),
                        now,
                        now,
                        "1",
                        str(current),
                        row["name"].replace("\t", " "),
                        row["name_ar"].replace("\t", " "),
                        {"m": "male", "f": "female"}.get(row["sex"], "unknown"),
                        age or "\\N",
                        group if group != "\\N" else "unknown",
                        row["civilian_status"],
                        "f",
                        "t" if row["roles"] else "f",
                        "f",
                        "f",
                        "f",
                        "f",
                        row["identity_number"],
                        "floor",
                        row["record_id"],
                        "",
                    ]
                )
                + "\n"
            )
    incident_columns = (
        "id, status, created_by_id, created_at, updated_at, version, title, description, occurred_on, date_precision, "
        "location_id, perpetrator_id, weapon, injured_count, origin_source, origin_key, origin_fingerprint"
    )
    victim_columns = (
        "status, created_by_id, created_at, updated_at, version, incident_id, name, name_ar, sex, age_years, "
        "age_group, civilian_status, role_civil_defense, role_medical, role_media, role_humanitarian, role_education, "
        "role_other, "
        "identity_number, origin_source, origin_record_id, origin_fingerprint"
    )
    with raw.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    cpu_before = cpu_seconds(backend)
    started = time.perf_counter()
    with raw.transaction(force_rollback=True), raw.cursor() as cursor:
        with cursor.copy(f"COPY incidents_incident ({incident_columns}) FROM STDIN") as copy:
            copy.write(incidents.getvalue())
        with cursor.copy(f"COPY incidents_victim ({victim_columns}) FROM STDIN") as copy:
            copy.write(victims.getvalue())
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys a commit would check, checked here
        elapsed = time.perf_counter() - started
        database_cpu = cpu_seconds(backend) - cpu_before
    return elapsed, rows, database_cpu


# --- The import, in a worker -------------------------------------------------------------------------------------


def _worker(queue: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queue]
    command += ["--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=WARNING"]
    worker = subprocess.Popen(
        command, cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    return worker


def timed_import(user: Any, path: Path, source: str, raw: Any) -> dict[str, Any]:
    """Run one import of `path` in a separate process; its time, peak memory, CPU (the process's and its
    database backends') and summary."""
    from intake import services
    from intake.models import Import

    database = DatabaseCpu(raw, dt.datetime.now(dt.UTC))
    stored = services.store_local_file(path)
    record = services.start_import(actor=user, stored=stored, source=source, enqueue=False)
    if os.environ.get("REDIS_URL"):
        from intake.tasks import run_import

        queue = f"bench-{uuid.uuid4().hex[:8]}"
        worker = _worker(queue)
        time.sleep(3)
        started = time.perf_counter()
        run_import.apply_async(args=[record.pk], queue=queue)
    else:
        started = time.perf_counter()
        code = f"from intake import services; services.run_import({record.pk})"
        worker = subprocess.Popen([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, env=os.environ.copy())
    peak, worker_cpu, cpu_at_start = 0.0, 0.0, cpu_seconds(worker.pid)
    try:
        while True:
            time.sleep(0.5)
            peak = max(peak, peak_rss_mb(worker.pid))
            worker_cpu = cpu_seconds(worker.pid) or worker_cpu
            database.poll()
            status = Import.objects.filter(pk=record.pk).values_list("status", flat=True).first()
            if status in (Import.State.DONE, Import.State.FAILED):
                break
            if worker.poll() is not None:
                raise RuntimeError("the import's process ended before the import did")
        elapsed = time.perf_counter() - started
        peak = max(peak, peak_rss_mb(worker.pid))
        worker_cpu = cpu_seconds(worker.pid) or worker_cpu
        database.poll()
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
    record.refresh_from_db()
    return {
        "seconds": elapsed,
        "peak_rss_mb": round(peak, 1),
        "status": record.status,
        "summary": record.summary,
        # The worker's CPU from the task's start (its start-up before is left out), and its database backends'.
        "worker_cpu_s": round(max(worker_cpu - cpu_at_start, 0.0), 1),
        "database_cpu_s": round(database.seconds, 1),
    }


def remove_imported(raw: Any, source: str) -> None:
    with raw.transaction(), raw.cursor() as cursor:
        cursor.execute(
            "DELETE FROM incidents_victim WHERE incident_id IN "
            "(SELECT id FROM incidents_incident WHERE origin_source = %s)",
            [source],
        )
        cursor.execute(
            "DELETE FROM evidence_source WHERE incident_id IN "
            "(SELECT id FROM incidents_incident WHERE origin_source = %s)",
            [source],
        )
        cursor.execute("DELETE FROM incidents_incident WHERE origin_source = %s", [source])


def import_figures(raw: Any, documenter: Any, rows: int) -> list[dict[str, Any]]:
    """Figure 6: the import of `rows` rows vs. COPY of the same rows; then the re-import of the same file."""
    path = DATA / f"import-{rows}.csv"
    if not path.exists():
        print(f"import: writing a list of {rows:,} rows to {path.relative_to(ROOT)}", flush=True)
        write_list(path, rows)
    raw.rollback()
    raw.autocommit = True
    floor_s, counted, floor_cpu = copy_floor(raw, path, documenter.pk)
    source = f"bench list {uuid.uuid4().hex[:8]}"
    load = [round(value, 2) for value in os.getloadavg()]
    try:
        first = timed_import(documenter, path, source, raw)
        second = timed_import(documenter, path, source, raw)
    finally:
        remove_imported(raw, source)
        raw.autocommit = False
    summary, again = first["summary"], second["summary"]
    rate = counted / first["seconds"] if first["seconds"] else 0
    figures = [
        {
            "name": f"import of a {counted:,}-row CSV list (worker)",
            "available": True,
            "goal": {"seconds_at_most": 600, "peak_rss_mb_at_most": 1024},
            "measured_s": round(first["seconds"], 2),
            "baseline_s": round(floor_s, 2),
            "ratio": round(first["seconds"] / floor_s, 2) if floor_s else None,
            "measured_peak_rss_mb": first["peak_rss_mb"],
            "rows_per_s": round(rate),
            "floor_rows_per_s": round(counted / floor_s) if floor_s else None,
            "summary": summary,
            "load_average_before": load,
            "load_average_after": [round(value, 2) for value in os.getloadavg()],
            "worker_cpu_s": first["worker_cpu_s"],
            "database_cpu_s": first["database_cpu_s"],
            "floor_database_cpu_s": round(floor_cpu, 1),
            "detail": (
                f"{round(rate):,} rows/s, peak RSS {first['peak_rss_mb']} MB; "
                f"COPY {round(counted / floor_s):,} rows/s; "
                f"CPU: worker {first['worker_cpu_s']:,} s, database {first['database_cpu_s']:,} s "
                f"(COPY: database {floor_cpu:,.1f} s); load {load[0]}→{round(os.getloadavg()[0], 2)}"
            ),
        },
        {
            "name": "re-import of the same list (every row unchanged)",
            "available": True,
            "goal": {"seconds_at_most": 180},
            "measured_s": round(second["seconds"], 2),
            "baseline_s": round(floor_s, 2),
            "ratio": round(second["seconds"] / floor_s, 2) if floor_s else None,
            "measured_peak_rss_mb": second["peak_rss_mb"],
            "summary": again,
            "unchanged_is_every_row": again.get("unchanged") == counted and again.get("victims_created") == 0,
            "worker_cpu_s": second["worker_cpu_s"],
            "database_cpu_s": second["database_cpu_s"],
            "detail": (
                f"{round(counted / second['seconds']):,} rows/s, {again.get('unchanged', 0):,} unchanged; "
                f"CPU: worker {second['worker_cpu_s']:,} s, database {second['database_cpu_s']:,} s"
            ),
        },
    ]
    if first["status"] != "done" or summary.get("victims_created") != counted:
        figures[0]["available"] = False
        figures[0]["reason"] = f"the import ended {first['status']} with {summary}"
    return figures
