"""Figure 10: duplicate scans through PostgreSQL at a million victims, as a reviewer runs them.

    python -m bench.matching_db                       # 1,000,000 victims, then 10,000 new (an empty database)
    python -m bench.matching_db --victims 100000      # smaller
    python -m bench.run --only 10                     # the same in a database of its own, into results.json

What runs, in a database holding no other victims (`bench.run --only 10` creates one next to the bench
database and drops it afterwards; run directly, it refuses a database with victims and removes what it wrote):

1. **Data.** `--victims` victims of recombined people (bench/matching.py `million_people`: given, father's,
   grandfather's and family names drawn from the ministry lists' parts, ages and sexes as there), 2% of them
   planted twice as the two releases differ, in incidents of bench/synthetic.py (places, parties, authors),
   written by COPY. The planted copies sit in another incident than their original.
2. **Full scan**: `manage.py find_duplicates --user ...` in a child process, the command a reviewer runs (the
   same service as the API's Celery task): read the victims from PostgreSQL, fold the names into the feature
   cache, block, score, store the candidate pairs. Wall time; peak RSS of that process (its VmHWM, from
   wait4's rusage); pairs compared; candidates stored; likely pairs; recall of the planted pairs (likely and
   among all candidates).
3. **Incremental scan** after `--new` new victims (written by COPY like an import's rows: half copies of
   existing victims changed the same way, half new people): `find_duplicates --incremental`, same measures,
   the planted recall over the new copies.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "bench-db"  # origin_source prefix of every victim written here
PLANTED_SHARE = 0.02
OLD = dt.datetime(2025, 1, 1, 12, 0, tzinfo=dt.UTC)
STAGES = ("reading", "scoring", "storing")


class RefusedDatabase(Exception):
    """The database holds victims this bench did not write: a scan there would compare them too."""


def foreign_victims() -> int:
    from incidents.models import Victim

    return Victim.objects.exclude(origin_source__startswith=SOURCE).count()


def reviewer() -> Any:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user, created = get_user_model().objects.get_or_create(username="bench-matching-db-reviewer")
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name="reviewer"))
    return user


def _victim_row(pk: int, incident: tuple, record: dict[str, Any], source: str, stamp: dt.datetime) -> tuple:
    """One victim in bench/synthetic.py's VICTIM_COLUMNS order."""
    from incidents.models import AgeGroup, Status

    age = record["age"]
    group = AgeGroup.UNKNOWN if age is None else (AgeGroup.CHILD if age < 18 else AgeGroup.ADULT)
    roles = (False,) * 6
    return (pk, incident[0], record.get("name") or "", record["name_ar"], record["sex"], age, group, "civilian",
            *roles, None, None, None, Status.VERIFIED, incident[12], stamp, stamp, 1, "", source, str(pk))  # fmt: skip


def _write(rows: list[tuple]) -> int:
    from bench import synthetic
    from incidents.models import Victim

    if not rows:
        return 0
    from django.db import connection

    if connection.vendor == "postgresql":
        return synthetic._copy_rows(Victim._meta.db_table, synthetic.VICTIM_COLUMNS, rows)
    return synthetic._bulk_create(Victim, synthetic.VICTIM_COLUMNS, rows, 2000)


def generate(victims: int, seed: int = 1) -> dict[str, Any]:
    """Write the victims (step 1); returns the planted pairs as victim ids and what was written."""
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from bench import synthetic
    from bench.matching import million_people
    from incidents.models import Incident, Status, Victim

    planted = max(1, int(victims * PLANTED_SHARE)) if victims >= 10 else 0
    records, truth = million_people(victims, planted, seed)
    rng = random.Random(seed)
    with transaction.atomic():
        places, _ = synthetic.ensure_places()
        authors, _ = synthetic.ensure_users()
        first_incident, first_victim = synthetic._next_id(Incident), synthetic._next_id(Victim)
        incidents = [
            (*row[:11], Status.VERIFIED, *row[12:])
            for row in synthetic.incident_rows(max(1, victims // 5), first_incident, rng, places, authors)
        ]
        if connection.vendor == "postgresql":
            synthetic._copy_rows(Incident._meta.db_table, synthetic.INCIDENT_COLUMNS, incidents)
        else:
            synthetic._bulk_create(Incident, synthetic.INCIDENT_COLUMNS, incidents, 2000)
        offset = first_victim - 1
        rows = [
            _victim_row(record["id"] + offset, rng.choice(incidents), record, f"{SOURCE} {record['source']}", OLD)
            for record in records
        ]
        _write(rows)
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), [Incident, Victim]):
                cursor.execute(statement)
    _analyze()
    return {
        "victims": len(rows),
        "incidents": len(incidents),
        "truth": {(a + offset, b + offset) for a, b in truth},
        "first_victim": first_victim,
    }


def add_new(count: int, seed: int = 2) -> dict[str, Any]:
    """`count` new victims (step 3): half perturbed copies of existing victims, half new people."""
    from django.db import transaction
    from django.utils import timezone

    from bench import synthetic
    from bench.matching import _perturb, million_people
    from incidents.models import Incident, Victim

    rng = random.Random(seed)
    copies = count // 2
    people, _ = million_people(count - copies, 0, seed)
    originals = list(
        Victim.objects.filter(origin_source__startswith=SOURCE)
        .order_by("?")
        .values("id", "name", "name_ar", "sex", "age_years")[:copies]
    )
    incidents = list(
        Incident.objects.filter(created_by_id__in=synthetic.synthetic_user_ids()).values_list("id", "created_by_id")
    )
    now = timezone.now()
    with transaction.atomic():
        pk = synthetic._next_id(Victim)
        rows, truth = [], set()
        for original in originals:
            age = original["age_years"]
            if age is not None and rng.random() < 0.4:
                age = max(0, age + rng.choice((-1, 1)))
            incident = rng.choice(incidents)
            record = {"id": original["id"], "name_ar": _perturb(original["name_ar"], rng), "sex": original["sex"],
                      "age": age}  # fmt: skip
            rows.append(_victim_row(pk, (incident[0], *[None] * 11, incident[1]), record, f"{SOURCE} new", now))
            truth.add((original["id"], pk))
            pk += 1
        for person in people:
            incident = rng.choice(incidents)
            rows.append(_victim_row(pk, (incident[0], *[None] * 11, incident[1]), person, f"{SOURCE} new", now))
            pk += 1
        _write(rows)
        from django.core.management.color import no_style
        from django.db import connection

        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), [Victim]):
                cursor.execute(statement)
    _analyze()
    return {"new": len(rows), "truth": truth}


def _analyze() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE incidents_victim")
            cursor.execute("ANALYZE incidents_incident")


def scan(incremental: bool, in_process: bool = False) -> dict[str, Any]:
    """One scan by `find_duplicates` (step 2 or 3): in a child process (its own peak RSS), or here (tests)."""
    from matching.models import DuplicateScan

    user = reviewer()
    started = time.perf_counter()
    load_before = os.getloadavg()
    stages: dict[str, float] = {}
    if in_process:
        from django.core.management import call_command

        with open(os.devnull, "w") as quiet:
            call_command("find_duplicates", user=user.username, incremental=incremental, stdout=quiet)
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    else:
        command = [sys.executable, str(ROOT / "manage.py"), "find_duplicates", "--user", user.username]
        if incremental:
            command.append("--incremental")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # its stage lines as they come
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for line in child.stdout:  # "stage: done/total" at each stage's start and end: when each began
            stage = line.partition(":")[0].strip().rstrip("…")
            if stage in STAGES and stage not in stages:
                stages[stage] = time.perf_counter() - started
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            raise RuntimeError(f"find_duplicates exited with {child.returncode}")
        peak_kb = usage.ru_maxrss  # this child's VmHWM (Linux: kilobytes)
    elapsed = time.perf_counter() - started
    marks = [*stages.values(), elapsed]
    stage_s = {stage: round(marks[i + 1] - marks[i], 1) for i, stage in enumerate(stages)}
    done = DuplicateScan.objects.order_by("-id").first()
    if done is None or done.status != DuplicateScan.State.DONE:
        raise RuntimeError("the scan did not finish")
    return {
        "seconds": round(elapsed, 1),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "victims": done.victims,
        "pairs_compared": done.pairs_compared,
        "candidates": done.candidates,
        "scan": done.pk,
        "stages_s": stage_s,  # reading (with folding the stale names), scoring, storing (child process only)
        "load_average_start": [round(v, 2) for v in load_before],
        "load_average_end": [round(v, 2) for v in os.getloadavg()],
    }


def judge(truth: set[tuple[int, int]], found_by: int | None = None) -> dict[str, Any]:
    """Likely pairs (of one scan, when given) and the recall of the planted pairs among them and all candidates."""
    from matching.models import CandidatePair

    pairs = CandidatePair.objects.all()
    if found_by is not None:
        pairs = pairs.filter(found_by_id=found_by)
    candidates, likely = set(), set()
    for a, b, is_likely in pairs.values_list("victim_a_id", "victim_b_id", "likely").iterator(chunk_size=20_000):
        candidates.add((a, b))
        if is_likely:
            likely.add((a, b))
    truth = {(min(a, b), max(a, b)) for a, b in truth}
    return {
        "likely": len(likely),
        "planted": len(truth),
        "planted_recall": round(len(likely & truth) / len(truth), 4) if truth else 0.0,
        "planted_candidate_recall": round(len(candidates & truth) / len(truth), 4) if truth else 0.0,
    }


def remove() -> None:
    """Delete what this bench wrote (pairs, cached features, victims, its incidents, its scans)."""
    from django.db import connection, transaction

    from bench import synthetic
    from incidents.models import Incident, Victim
    from matching.models import CandidatePair, DuplicateScan, VictimFeatures

    ours = Victim.objects.filter(origin_source__startswith=SOURCE)
    with transaction.atomic():
        CandidatePair.objects.filter(victim_a__in=ours).delete()
        CandidatePair.objects.filter(victim_b__in=ours).delete()
        VictimFeatures.objects.filter(victim__in=ours).delete()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM incidents_victim WHERE origin_source LIKE %s", [f"{SOURCE}%"])
        else:
            ours.delete()
        authors = synthetic.synthetic_user_ids()
        empty = Incident.objects.filter(created_by_id__in=authors, victims__isnull=True)
        if not authors:
            pass
        elif connection.vendor == "postgresql":
            sql, params = empty.values("id").query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM incidents_incident WHERE id IN ({sql})", params)
        else:
            empty.delete()
        DuplicateScan.objects.filter(requested_by=reviewer()).delete()


def figures(victims: int, new: int, in_process: bool = False, keep: bool = False) -> list[dict[str, Any]]:
    """Steps 1–3; returns the full and the incremental scan's figures."""
    if foreign_victims():
        raise RefusedDatabase("This database holds victims the bench did not write; use an empty one.")
    remove()
    try:
        started = time.perf_counter()
        data = generate(victims)
        generated = round(time.perf_counter() - started, 1)
        full = scan(False, in_process)
        full.update(judge(data["truth"]))
        added = add_new(new)
        incremental = scan(True, in_process)
        incremental.update(judge(added["truth"], incremental["scan"]))
    finally:
        if not keep:
            remove()
    measured_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    goal_full = {"seconds_at_most": 1800, "peak_rss_mb_at_most": 4096}
    return [
        _figure(
            f"duplicate scan through PostgreSQL, full ({full['victims']:,} recombined victims)",
            goal_full,
            full,
            measured_at,
            generated_s=generated,
        ),
        _figure(
            f"duplicate scan through PostgreSQL, incremental after {added['new']:,} new victims "
            f"({incremental['victims']:,})",
            {"seconds_at_most": 120},
            incremental,
            measured_at,
        ),
    ]


def _figure(name: str, goal: dict, measured: dict, measured_at: str, **extra: Any) -> dict[str, Any]:
    load = f"load {measured['load_average_start'][0]}→{measured['load_average_end'][0]}"
    return {
        "name": name,
        "goal": goal,
        "measured_s": measured["seconds"],
        "baseline_s": 0.0,
        "measured_peak_rss_mb": measured["peak_rss_mb"],
        **measured,
        **extra,
        "measured_at": measured_at,
        "detail": (
            f"peak RSS {measured['peak_rss_mb']:,} MB, {measured['pairs_compared']:,} pairs compared, "
            f"{measured['candidates']:,} candidates ({measured['likely']:,} likely), planted recall "
            f"{measured['planted_recall']} (candidates {measured['planted_candidate_recall']}); {load}; {measured_at}"
        ),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--victims", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="leave the data and pairs in the database")
    parser.add_argument("--output", type=Path, help="also write the figures (JSON) to this file")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    try:
        results = figures(args.victims, args.new, keep=args.keep)
    except RefusedDatabase as exc:
        print(exc, file=sys.stderr)
        return 2
    text = json.dumps(results, indent=1, default=str)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
