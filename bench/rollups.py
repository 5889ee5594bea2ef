"""Figure 7: window counts from the maintained rollups (counts/rollup.py), and what the rollups cost writes.

- *One-year window* and *all time* from the rollup tiers (`rollup.window_count`, what dashboards read),
  against the hand-written floor over the victims (bench/floor.py) in the same run; the figures must
  equal the floor's figure by figure (the floor also hashes a fingerprint; a window count has none).
- *Import*: COPY of `--rollup-rows` verified civilian victims into existing verified incidents, with
  the rollup triggers on and then off (`ALTER TABLE ... DISABLE TRIGGER` inside the transaction), each
  rolled back: rows per second both ways.
- *Transition*: one victim's `UPDATE ... SET status` (verified → rejected), the statement's latency with
  the triggers on and off, the median over 200 victims, rolled back.
"""

from __future__ import annotations

import datetime as dt
import io
import statistics
import time
from typing import Any

TRANSITIONS = 200


def _params(window: tuple[dt.date, dt.date]):
    from counts.counting import CountParameters

    return CountParameters(*window)


def window_figure(raw: Any, name: str, window: tuple[dt.date, dt.date], runs: int, goal: dict) -> dict:
    """The rollup's window count, `runs` times, against the floor (once: it takes seconds to a minute)."""
    from bench.run import comparable, floor_count
    from counts import rollup

    started = time.perf_counter()
    floor_result = floor_count(raw, *window)
    floor_s = time.perf_counter() - started
    raw.rollback()
    samples, result = [], None
    for _ in range(max(runs, 5)):
        started = time.perf_counter()
        result = rollup.window_count(_params(window))
        samples.append(time.perf_counter() - started)
    measured = statistics.median(samples)
    same = comparable({**result, "fingerprint": None}) == comparable({**floor_result, "fingerprint": None})
    return {
        "name": name,
        "window": [window[0].isoformat(), window[1].isoformat()],
        "measured_s": round(measured, 4),
        "baseline_s": round(floor_s, 4),
        "ratio": round(measured / floor_s, 3),
        "runs_s": [round(s, 4) for s in samples],
        "counted_victims": floor_result["civilians"]["total"],
        "figures_match_floor": same,
        "show_ms": True,
        "goal": goal,
    }


def _victim_rows(raw: Any, count: int) -> tuple[bytes, int]:
    incidents = [
        row[0]
        for row in raw.execute(
            "SELECT id FROM incidents_incident WHERE status = 'verified' ORDER BY id LIMIT %s", [max(count // 5, 1)]
        ).fetchall()
    ]
    author = raw.execute("SELECT created_by_id FROM incidents_incident WHERE id = %s", [incidents[0]]).fetchone()[0]
    out = io.StringIO()
    for n in range(count):
        out.write(f"{incidents[n % len(incidents)]}\tbench rollup {n}\t\tfemale\t{n % 80}\t")
        out.write(("child" if n % 80 < 18 else "adult") + "\tcivilian\tf\tf\tf\tf\tf\tf\tverified\t")
        out.write(f"{author}\t1\tnow\tnow\n")
    return out.getvalue().encode(), count


COPY_COLUMNS = (
    "incident_id, name, name_ar, sex, age_years, age_group, civilian_status, role_civil_defense, role_medical, "
    "role_media, role_humanitarian, role_education, role_other, status, created_by_id, version, created_at, updated_at"
)
TRIGGERS = ("counts_rollup_victims_insert", "counts_rollup_victims_update", "counts_rollup_victims_delete")


def _set_triggers(raw: Any, enabled: bool) -> None:
    for name in TRIGGERS:
        raw.execute(f"ALTER TABLE incidents_victim {'ENABLE' if enabled else 'DISABLE'} TRIGGER {name}")


def _copy(raw: Any, data: bytes, triggers: bool) -> float:
    try:
        if not triggers:
            _set_triggers(raw, enabled=False)
        started = time.perf_counter()
        with raw.cursor().copy(f"COPY incidents_victim ({COPY_COLUMNS}) FROM STDIN") as copy:
            for offset in range(0, len(data), 1 << 20):
                copy.write(data[offset : offset + (1 << 20)])
        return time.perf_counter() - started
    finally:
        raw.rollback()


def _transitions(raw: Any, triggers: bool) -> list[float]:
    ids = [
        row[0]
        for row in raw.execute(
            "SELECT v.id FROM incidents_victim v JOIN incidents_incident i ON i.id = v.incident_id "
            "WHERE v.status = 'verified' AND v.civilian_status = 'civilian' AND v.duplicate_of_id IS NULL "
            "AND i.status = 'verified' ORDER BY v.id LIMIT %s",
            [TRANSITIONS],
        ).fetchall()
    ]
    samples = []
    try:
        if not triggers:
            _set_triggers(raw, enabled=False)
        for victim_id in ids:
            started = time.perf_counter()
            raw.execute(
                "UPDATE incidents_victim SET status = 'rejected', version = version + 1 WHERE id = %s", [victim_id]
            )
            samples.append(time.perf_counter() - started)
    finally:
        raw.rollback()
    return samples


def write_figures(raw: Any, rows: int, runs: int) -> list[dict]:
    data, count = _victim_rows(raw, rows)
    raw.rollback()
    with_triggers, without = [], []
    for _ in range(max(1, min(runs, 3))):  # interleaved
        without.append(_copy(raw, data, triggers=False))
        with_triggers.append(_copy(raw, data, triggers=True))
    on, off = statistics.median(with_triggers), statistics.median(without)
    transition_on = statistics.median(_transitions(raw, triggers=True))
    transition_off = statistics.median(_transitions(raw, triggers=False))
    return [
        {
            "name": f"import (COPY) of {count:,} verified civilian victims, rollup triggers on (baseline: off)",
            "measured_s": round(on, 3),
            "baseline_s": round(off, 3),
            "ratio": round(on / off, 2),
            "runs_s": [round(s, 3) for s in with_triggers],
            "baseline_runs_s": [round(s, 3) for s in without],
            "detail": f"{count / on:,.0f} rows/s with the triggers, {count / off:,.0f} rows/s without",
            "goal": {"reported": "the cost the rollup adds"},
        },
        {
            "name": "a victim's transition (one UPDATE of its status), rollup triggers on (baseline: off)",
            "measured_s": round(transition_on, 5),
            "baseline_s": round(transition_off, 5),
            "ratio": round(transition_on / transition_off, 2),
            "show_ms": True,
            "detail": (
                f"median of {TRANSITIONS}: {transition_on * 1000:.2f} ms with the triggers, "
                f"{transition_off * 1000:.2f} ms without"
            ),
            "goal": {"reported": "the cost the rollup adds"},
        },
    ]


def rollup_figures(raw: Any, runs: int, rows: int, all_time: tuple, one_year: tuple) -> list[dict]:
    from django.db import connection

    from counts.rollup import TIERS

    counts, size = [], 0
    with connection.cursor() as cursor:
        for table, _, _ in TIERS:
            cursor.execute(f"VACUUM ANALYZE {table}")
            cursor.execute(f"SELECT COUNT(*), pg_total_relation_size('{table}') FROM {table}")
            rows_in_table, bytes_in_table = cursor.fetchone()
            counts.append(f"{rows_in_table:,}")
            size += bytes_in_table
    names = ", ".join(table.removeprefix("counts_") for table, _, _ in TIERS)
    sizes = f"rollup tiers ({names}): {' + '.join(counts)} rows, {size / 1024**2:,.0f} MB"
    figures = [
        window_figure(raw, "one-year window count from the rollup", one_year, runs, {"seconds_at_most": 0.1}),
        window_figure(raw, "all-time window count from the rollup", all_time, runs, {"seconds_at_most": 0.3}),
    ]
    for figure in figures:
        figure["detail"] = f"{sizes}; baseline: the floor over the victims, one run"
    return figures + write_figures(raw, rows, runs)
