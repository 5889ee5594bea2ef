"""The duplicate matcher's figures: quality on the Ministry of Health's two releases, and speed on synthetic data.

    python -m bench.matching quality          # both lists into the database, matched, measured, removed again
    python -m bench.matching speed            # a full and an incremental scan of the database's victims
    python -m bench.matching million          # the matcher alone on 1,000,000 recombined people
    python -m bench.matching train            # estimate matching/model.json again (the half file only)

`make bench` runs them as figures 8 (quality) and 9 (speed) (bench/run.py).

**Quality.** Both lists (data/gaza-moh-2024-04-13.csv, data/gaza-moh-2024-08-08-half.csv) become victims
of two source lists ("MoH 2024-04", "MoH 2024-08"), one incident each, with the ministry's id kept only as
`origin_record_id` (the matcher never reads it) and no identity number. The victims are matched exactly as a
scan matches (scans.compute_pairs) and the pairs compared with the truth: the same id in both lists is the
same person. Only pairs across the two lists are judged (within one list every id differs by construction,
so the ids say nothing about duplicates inside a list), and pairs with a `missing-` id (no identity number,
so no truth) are left out. Reported: precision and recall of the "likely" pairs, the best F1 over thresholds,
and the recall of the candidates (what blocking and the candidate floor keep).

**Speed.** A full scan of every victim in the database (synthetic data: `manage.py generate_synthetic`), then
an incremental one after `--new` victims are added (copies of existing ones, so they find pairs), each in a
child process (`manage.py find_duplicates`): wall time, peak memory (the child's maximum RSS), pairs compared.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import os
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
APRIL = DATA / "gaza-moh-2024-04-13.csv"
AUGUST = DATA / "gaza-moh-2024-08-08-half.csv"
SOURCES = {"MoH 2024-04": APRIL, "MoH 2024-08": AUGUST}
THRESHOLDS = (0.2, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999)
SEXES = {"m": "male", "f": "female"}


def moh_rows(path: Path, limit_ids: set[str] | None = None) -> list[dict[str, Any]]:
    """One list's rows as victim fields (the id kept apart as `truth`)."""
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if limit_ids is not None and row["id"] not in limit_ids:
                continue
            age = row.get("age", "")
            rows.append(
                {
                    "truth": row["id"],
                    "name": (row.get("en_name") or "").strip()[:300],
                    "name_ar": (row.get("name") or "").strip()[:300],
                    "sex": SEXES.get(row.get("sex", ""), "unknown"),
                    "age_years": int(age) if age.lstrip("-").isdigit() and 0 <= int(age) <= 120 else None,
                    "date_of_birth": _date(row.get("dob", "")),
                }
            )
    return rows


def _date(value: str) -> dt.date | None:
    from incidents.models import EARLIEST_DATE

    try:
        parsed = dt.date.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed >= EARLIEST_DATE else None


def create_list(source: str, rows: list[dict[str, Any]], author: Any) -> list[int]:
    """The list's people as victims of one incident, built directly (bulk, not through the workflow)."""
    from incidents.models import Incident, Location, Perpetrator, Victim, age_group_for

    location = Location.objects.order_by("id").first()
    perpetrator = Perpetrator.objects.order_by("id").first()
    incident = Incident.objects.create(
        title=f"List {source}",
        description="People named in a ministry list (benchmark data).",
        occurred_on=dt.date(2024, 1, 1),
        location=location,
        perpetrator=perpetrator,
        created_by=author,
        origin_source=source,
        origin_key="list",
    )
    victims = [
        Victim(
            incident=incident,
            name=row["name"],
            name_ar=row["name_ar"],
            sex=row["sex"],
            age_years=row["age_years"],
            age_group=age_group_for(row["age_years"]),
            date_of_birth=row["date_of_birth"],
            created_by=author,
            origin_source=source,
            origin_record_id=f"{number}:{row['truth']}",
        )
        for number, row in enumerate(rows)
    ]
    Victim.objects.bulk_create(victims, batch_size=2000)
    return [victim.pk for victim in victims]


def remove_lists(sources: list[str]) -> None:
    from incidents.models import Incident, Victim
    from matching.models import CandidatePair

    CandidatePair.objects.filter(victim_a__origin_source__in=sources).delete()
    CandidatePair.objects.filter(victim_b__origin_source__in=sources).delete()
    Victim.objects.filter(origin_source__in=sources).delete()
    Incident.objects.filter(origin_source__in=sources).delete()


def truth_of(victims) -> dict[int, tuple[str, str]]:
    """victim id → (source, ministry id) for judging pairs (never shown to the matcher)."""
    return {
        pk: (source, record.partition(":")[2])
        for pk, source, record in victims.values_list("id", "origin_source", "origin_record_id")
    }


def judge(pairs: list[tuple[int, int, float, bool]], truth: dict[int, tuple[str, str]]) -> dict[str, Any]:
    """Pairwise precision/recall of the likely pairs, F1 over thresholds, candidate recall (see the docstring)."""
    by_id: dict[str, list[int]] = defaultdict(list)
    for pk, (_, ministry_id) in truth.items():
        if not ministry_id.startswith("missing"):
            by_id[ministry_id].append(pk)
    true_pairs = {
        (min(a, b), max(a, b))
        for ids in by_id.values()
        for a, b in itertools.combinations(ids, 2)
        if truth[a][0] != truth[b][0]
    }

    def judged(a: int, b: int) -> bool:
        return (
            truth[a][0] != truth[b][0]
            and not truth[a][1].startswith("missing")
            and not truth[b][1].startswith("missing")
        )

    scored = {(a, b): score for a, b, score, _ in pairs if judged(a, b)}
    likely = {(a, b) for a, b, _, is_likely in pairs if is_likely and judged(a, b)}

    def pr(predicted: set) -> tuple[float, float, float]:
        hits = len(predicted & true_pairs)
        precision = hits / len(predicted) if predicted else 0.0
        recall = hits / len(true_pairs) if true_pairs else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return round(precision, 4), round(recall, 4), round(f1, 4)

    sweep = {}
    for threshold in THRESHOLDS:
        sweep[str(threshold)] = pr({key for key, score in scored.items() if score >= threshold})
    best = max(sweep.items(), key=lambda item: item[1][2])
    precision, recall, f1 = pr(likely)
    within = sum(1 for a, b, _, is_likely in pairs if is_likely and truth[a][0] == truth[b][0])
    return {
        "true_pairs": len(true_pairs),
        "likely_pairs_judged": len(likely),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "best_f1": best[1][2],
        "best_threshold": float(best[0]),
        "candidate_recall": round(len(set(scored) & true_pairs) / len(true_pairs), 4) if true_pairs else 0.0,
        "likely_within_one_list": within,
        "sweep": sweep,
    }


def quality(limit_ids: set[str] | None = None) -> dict[str, Any]:
    """Figure 8: both lists in, matched as a scan matches, judged, removed again."""
    from incidents.models import Victim
    from matching import engine, scans

    author = bench_author()
    sources = list(SOURCES)
    remove_lists(sources)
    try:
        for source, path in SOURCES.items():
            create_list(source, moh_rows(path, limit_ids), author)
        victims = scans.considered_victims().filter(origin_source__in=sources)
        started = time.perf_counter()
        pairs, read, compared = scans.compute_pairs(victims)
        elapsed = time.perf_counter() - started
        result = judge([(p.a, p.b, p.score, p.likely) for p in pairs], truth_of(Victim.objects.filter(pk__in=victims)))
    finally:
        remove_lists(sources)
    return {
        "name": "duplicate matching quality (MoH 2024-04 × 2024-08 half, no ids)",
        "goal": {"precision_at_least": 0.99, "recall_at_least": 0.95, "candidate_recall_at_least": 0.995},
        "measured_s": round(elapsed, 2),
        "baseline_s": 0.0,
        "victims": read,
        "pairs_compared": compared,
        "candidates": len(pairs),
        "threshold": engine.THRESHOLD,
        **result,
        "detail": (
            f"likely pairs: precision {result['precision']}, recall {result['recall']}, F1 {result['f1']} at "
            f"{engine.THRESHOLD}; best F1 {result['best_f1']} at {result['best_threshold']}; candidate recall "
            f"{result['candidate_recall']}; {read:,} victims, {compared:,} pairs compared"
        ),
    }


def bench_author() -> Any:
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench-matching")
    return user


def _child_scan(incremental: bool) -> dict[str, Any]:
    from matching.models import DuplicateScan

    reviewer = bench_reviewer()
    command = [sys.executable, str(ROOT / "manage.py"), "find_duplicates", "--user", reviewer.username]
    if incremental:
        command.append("--incremental")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, env=os.environ.copy(), stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    scan = DuplicateScan.objects.order_by("-id").first()
    return {
        "seconds": round(elapsed, 1),
        "peak_rss_mb": round(max(peak_kb, before) / 1024, 1),
        "victims": scan.victims,
        "pairs_compared": scan.pairs_compared,
        "candidates": scan.candidates,
    }


def bench_reviewer() -> Any:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user, created = get_user_model().objects.get_or_create(username="bench-matching-reviewer")
    if created:
        user.set_unusable_password()
        user.save()
        user.groups.add(Group.objects.get(name="reviewer"))
    return user


def add_copies(count: int) -> int:
    """`count` new victims copied from existing ones (a re-imported list): the incremental scan's input."""
    from incidents.models import Victim

    fields = ["incident_id", "name", "name_ar", "sex", "age_years", "age_group", "created_by_id"]
    rows = list(Victim.objects.filter(duplicate_of__isnull=True).order_by("?").values(*fields)[:count])
    Victim.objects.bulk_create(
        [Victim(**row, origin_source="bench-copies", origin_record_id=str(n)) for n, row in enumerate(rows)],
        batch_size=5000,
    )
    return len(rows)


def speed(new: int = 10_000) -> list[dict[str, Any]]:
    """Figure 9: a full scan of the database's victims, then an incremental one after `new` new victims."""
    from incidents.models import Victim
    from matching.models import CandidatePair

    Victim.objects.filter(origin_source="bench-copies").delete()
    CandidatePair.objects.all().delete()
    full = _child_scan(False)
    added = add_copies(new)
    incremental = _child_scan(True)
    Victim.objects.filter(origin_source="bench-copies").delete()
    return [
        {
            "name": f"duplicate scan, full ({full['victims']:,} victims)",
            "goal": {"seconds_at_most": 1800, "peak_rss_mb_at_most": 4096},
            "measured_s": full["seconds"],
            "baseline_s": 0.0,
            "measured_peak_rss_mb": full["peak_rss_mb"],
            **full,
            "detail": f"peak RSS {full['peak_rss_mb']} MB, {full['pairs_compared']:,} pairs compared, "
            f"{full['candidates']:,} candidates",
        },
        {
            "name": f"duplicate scan, incremental after {added:,} new victims",
            "goal": {"seconds_at_most": 120},
            "measured_s": incremental["seconds"],
            "baseline_s": 0.0,
            "measured_peak_rss_mb": incremental["peak_rss_mb"],
            **incremental,
            "detail": f"peak RSS {incremental['peak_rss_mb']} MB, {incremental['pairs_compared']:,} pairs compared",
        },
    ]


def million_people(size: int = 1_000_000, duplicates: int = 20_000, seed: int = 1):
    """`size` matcher records of realistic people who do not repeat, `duplicates` of them planted twice.

    Names are recombined from the real lists' parts (data/): a given name (by sex), a father's, a
    grandfather's and a family name, each drawn from the parts seen in that position, so the names are as
    common or as rare as real ones; ages and sexes as in the lists. The planted copies differ the way the
    two releases differ (data/README.md): ى/ي, a dropped hamza, ة/ه, a compound split or joined, the
    grandfather's name missing, the age a year apart, a letter lost. Returns (records, truth pairs)."""
    import random

    rng = random.Random(seed)
    given: dict[str, list[str]] = {"male": [], "female": []}
    father, grandfather, family, ages = [], [], [], []
    for path in SOURCES.values():
        for row in moh_rows(path):
            words = row["name_ar"].split()
            if len(words) < 4 or row["sex"] not in given:
                continue
            given[row["sex"]].append(words[0])
            father.append(words[1])
            grandfather.append(" ".join(words[2:-1]))
            family.append(words[-1])
            ages.append(row["age_years"])
    records = []
    for pk in range(1, size - duplicates + 1):
        sex = "male" if rng.random() < 0.6 else "female"
        name = f"{rng.choice(given[sex])} {rng.choice(father)} {rng.choice(grandfather)} {rng.choice(family)}"
        records.append({"id": pk, "name": "", "name_ar": name, "sex": sex, "age": rng.choice(ages),
                        "source": "list A"})  # fmt: skip
    truth = set()
    originals = rng.sample(range(len(records)), duplicates)
    for number, index in enumerate(originals):
        original = records[index]
        copy = dict(original, id=size - duplicates + 1 + number, source="list B")
        copy["name_ar"] = _perturb(original["name_ar"], rng)
        if original["age"] is not None and rng.random() < 0.4:
            copy["age"] = max(0, original["age"] + rng.choice((-1, 1)))
        records.append(copy)
        truth.add((original["id"], copy["id"]))
    return records, truth


def _perturb(name: str, rng) -> str:
    """One or two of the differences between two extractions of a list (data/README.md)."""
    changes = [
        lambda n: n.replace("ي ", "ى ", 1) if "ي " in n else n.replace("ى", "ي"),
        lambda n: n.replace("أ", "ا").replace("إ", "ا"),
        lambda n: n.replace("ة", "ه") if "ة" in n else n.replace("ه ", "ة ", 1),
        lambda n: n.replace("عبد", "عبد ", 1).replace("ابو", "ابو ", 1),
        lambda n: " ".join(w for i, w in enumerate(n.split()) if i not in (2,)) if len(n.split()) > 3 else n,
        lambda n: n.replace("ر", "", 1),
        lambda n: n.replace("الله", "هللا"),
    ]
    for change in rng.sample(changes, rng.choice((1, 2))):
        name = change(name)
    return name


def million(size: int = 1_000_000, duplicates: int = 20_000) -> dict[str, Any]:
    """The matcher on `size` recombined people (million_people), in this process: features, blocking, scoring.

    Not through the database (reading a million victims from PostgreSQL and storing the pairs come on top;
    figure 9 measures them at the database's size). Wall time, peak RSS, pairs compared, and the precision
    and recall of the likely pairs against the planted duplicates."""
    from matching import engine

    records, truth = million_people(size, duplicates)
    started = time.perf_counter()
    matcher = engine.Matcher()
    try:
        for start in range(0, len(records), 5000):
            matcher.add(records[start : start + 5000])
        featured = time.perf_counter() - started
        likely, candidates = set(), set()
        for pair in matcher.pairs():
            candidates.add((pair.a, pair.b))
            if pair.likely:
                likely.add((pair.a, pair.b))
        compared = matcher.pairs_compared
    finally:
        matcher.close()
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    hits = len(likely & truth)
    return {
        "name": f"duplicate matcher, {size:,} recombined people ({duplicates:,} planted duplicates), in process",
        "goal": {"seconds_at_most": 1800, "peak_rss_mb_at_most": 4096},
        "measured_s": round(elapsed, 1),
        "features_s": round(featured, 1),
        "baseline_s": 0.0,
        "measured_peak_rss_mb": round(peak_mb, 1),
        "pairs_compared": compared,
        "candidates": len(candidates),
        "likely": len(likely),
        "planted_precision": round(hits / len(likely), 4) if likely else 0.0,
        "planted_recall": round(hits / len(truth), 4),
        "planted_candidate_recall": round(len(candidates & truth) / len(truth), 4),
        "detail": f"peak RSS {round(peak_mb)} MB, {compared:,} pairs compared, {len(candidates):,} candidates",
    }


def train() -> dict[str, Any]:
    """Estimate the model from the two lists' files (no database): u by random sampling, m from the ids."""
    from matching import engine

    records, labels = [], {}
    for offset, (source, path) in enumerate(SOURCES.items()):
        for number, row in enumerate(moh_rows(path)):
            pk = (offset + 1) * 1_000_000 + number
            records.append(
                {
                    "id": pk,
                    "name": row["name"],
                    "name_ar": row["name_ar"],
                    "sex": row["sex"],
                    "age": row["age_years"],
                    "dob": row["date_of_birth"],
                    "source": source,
                }
            )
            if not row["truth"].startswith("missing"):
                labels[pk] = row["truth"]
    matcher = engine.Matcher()
    try:
        matcher.add(records)
        model = engine.train(matcher, labels)
    finally:
        matcher.close()
    engine.MODEL_PATH.write_text(json.dumps(model, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return model


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    what = argv[0] if argv else "quality"
    if what == "train":
        train()
        print(f"wrote {Path('matching/model.json')}")
        return 0
    if what == "quality":
        figure = quality()
        print(json.dumps(figure, indent=1))
        return 0
    if what == "million":
        print(json.dumps(million(int(argv[1]) if len(argv) > 1 else 1_000_000), indent=1))
        return 0
    if what == "speed":
        for figure in speed(int(argv[1]) if len(argv) > 1 else 10_000):
            print(json.dumps(figure, indent=1))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
