"""The floor: API.md's count `result`, computed by hand-written SQL on a bare DB-API connection.

No Django, no ORM: plain SQL on a psycopg (PostgreSQL) or sqlite3 connection. The benchmark runs it
next to the application's count to measure the framework's overhead, and the small-N test compares
the two results figure by figure, so a faster application query can never be a wrong one.

The counting rule, restated independently of incidents/counting.py (DESIGN.md): a victim is counted
when the victim and its incident are verified, the victim is a civilian, not a duplicate, died
(default: on the incident's date) inside the window, was killed (default: at the incident's place) in
one of the chosen places' subtrees, by a perpetrator in one of the chosen parties' subtrees. A massacre
is a verified incident with at least `threshold` counted victims, counted for its incident's date,
perpetrator and governorate.

The SQL is portable (recursive CTEs, CASE pivots, a temporary table) so the same text runs on both
databases; only the placeholder style differs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

CATEGORIES = ("child", "woman", "man", "unknown")
CATEGORY_KEYS = {"child": "children", "woman": "women", "man": "men", "unknown": "unknown"}
ROLES = ("civil_defense", "medical", "media", "humanitarian", "education", "other")

PIVOT = ", ".join(
    f"SUM(CASE WHEN category = '{category}' THEN 1 ELSE 0 END) AS {key}" for category, key in CATEGORY_KEYS.items()
)


@dataclass
class CountParameters:
    date_from: dt.date
    date_to: dt.date
    locations: list[int] = field(default_factory=list)
    perpetrators: list[int] = field(default_factory=list)
    threshold: int = 5


def _placeholders(sql: str, vendor: str) -> str:
    """Write SQL with `:name`; psycopg wants `%(name)s`."""
    return re.sub(r"(?<!:):([a-z_0-9]+)", r"%(\1)s", sql) if vendor == "postgresql" else sql


def _in_list(prefix: str, ids: list[int], params: dict[str, Any]) -> str:
    names = []
    for index, value in enumerate(ids):
        params[f"{prefix}{index}"] = int(value)
        names.append(f":{prefix}{index}")
    return ", ".join(names)


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def counted_table_sql(parameters: CountParameters, table: str, params: dict[str, Any]) -> str:
    """CREATE TEMP TABLE <table> holding one row per counted victim, with what every figure needs."""
    ctes = [
        # Governorate of every place: the governorate itself and everything below it.
        """governorate_of(id, governorate_id) AS (
            SELECT id, id FROM incidents_location WHERE level = 'governorate'
            UNION ALL
            SELECT l.id, g.governorate_id FROM incidents_location l JOIN governorate_of g ON l.parent_id = g.id
        )"""
    ]
    # Each victim dies on its own date of death, else on its incident's date. Two branches, so each can
    # use an index: victims without their own date, found through incidents in the window
    # (incident_status_date), and victims with a date of death in the window (victim_death_date).
    conditions = [
        "v.status = 'verified'",
        "i.status = 'verified'",
        "v.civilian_status = 'civilian'",
        "v.duplicate_of_id IS NULL",
    ]
    params["date_from"] = parameters.date_from
    params["date_to"] = parameters.date_to
    if parameters.locations:
        ctes.append(
            f"""chosen_places(id) AS (
                SELECT id FROM incidents_location WHERE id IN ({_in_list("loc", parameters.locations, params)})
                UNION SELECT l.id FROM incidents_location l JOIN chosen_places c ON l.parent_id = c.id
            )"""
        )
        conditions.append("COALESCE(v.place_of_death_id, i.location_id) IN (SELECT id FROM chosen_places)")
    if parameters.perpetrators:
        ctes.append(
            f"""chosen_parties(id) AS (
                SELECT id FROM incidents_perpetrator WHERE id IN ({_in_list("perp", parameters.perpetrators, params)})
                UNION SELECT p.id FROM incidents_perpetrator p JOIN chosen_parties c ON p.parent_id = c.id
            )"""
        )
        conditions.append("i.perpetrator_id IN (SELECT id FROM chosen_parties)")
    role_columns = ", ".join(f"v.role_{role}" for role in ROLES)
    common = " AND ".join(conditions)
    select = f"""SELECT v.id, v.version, v.category, {role_columns},
               COALESCE(v.date_of_death, i.occurred_on) AS died_on,
               died_at.governorate_id AS governorate_id,
               i.id AS incident_id, i.version AS incident_version, i.occurred_on, i.perpetrator_id,
               i.injured_count, incident_place.governorate_id AS incident_governorate_id
        FROM incidents_victim v
        JOIN incidents_incident i ON i.id = v.incident_id
        LEFT JOIN governorate_of died_at ON died_at.id = COALESCE(v.place_of_death_id, i.location_id)
        LEFT JOIN governorate_of incident_place ON incident_place.id = i.location_id"""
    return f"""
        CREATE TEMPORARY TABLE {table} AS
        WITH RECURSIVE {", ".join(ctes)}
        {select}
        WHERE {common} AND v.date_of_death IS NULL AND i.occurred_on BETWEEN :date_from AND :date_to
        UNION ALL
        {select}
        WHERE {common} AND v.date_of_death BETWEEN :date_from AND :date_to
    """


def fingerprint_rows(cursor: Any, table: str) -> str:
    """SHA-256 of the counted victims' and incidents' sorted ids and versions."""
    digest = hashlib.sha256()
    cursor.execute(f"SELECT id, version FROM {table} ORDER BY id")
    for victim_id, version in cursor.fetchall():
        digest.update(f"v{victim_id}:{version}\n".encode())
    cursor.execute(f"SELECT DISTINCT incident_id, incident_version FROM {table} ORDER BY incident_id")
    for incident_id, version in cursor.fetchall():
        digest.update(f"i{incident_id}:{version}\n".encode())
    return digest.hexdigest()


def _row(values: tuple, massacres: int) -> dict[str, int]:
    children, women, men, unknown = (int(value or 0) for value in values)
    return {
        "total": children + women + men + unknown,
        "children": children,
        "women": women,
        "men": men,
        "unknown": unknown,
        "massacres": massacres,
    }


def compute(raw_connection: Any, vendor: str, parameters: CountParameters, fingerprint: bool = True) -> dict:
    """API.md's `result` object (plus `fingerprint`), by plain SQL on `raw_connection`."""
    table = f"floor_counted_{uuid.uuid4().hex[:12]}"
    params: dict[str, Any] = {}
    cursor = raw_connection.cursor()

    def run(sql: str, bound: dict[str, Any] | None = None) -> list[tuple]:
        cursor.execute(_placeholders(sql, vendor), bound or {})
        return cursor.fetchall() if cursor.description else []

    run(counted_table_sql(parameters, table, params), params)
    try:
        threshold = {"threshold": parameters.threshold}
        massacre_incidents = (
            f"SELECT incident_id, MIN(occurred_on) AS occurred_on, MIN(perpetrator_id) AS perpetrator_id, "
            f"MIN(incident_governorate_id) AS governorate_id FROM {table} "
            f"GROUP BY incident_id HAVING COUNT(*) >= :threshold"
        )
        totals = run(f"SELECT {PIVOT} FROM {table}")[0]
        civilians = {key: value for key, value in _row(totals, 0).items() if key != "massacres"}
        roles_row = run(
            "SELECT " + ", ".join(f"SUM(CASE WHEN role_{role} THEN 1 ELSE 0 END)" for role in ROLES) + f" FROM {table}"
        )[0]
        incidents, injured = run(
            f"SELECT COUNT(*), COALESCE(SUM(injured_count), 0) FROM "
            f"(SELECT DISTINCT incident_id, injured_count FROM {table}) AS counted_incidents"
        )[0]
        massacre_rows = run(massacre_incidents, threshold)

        def massacres_by(column_index: int) -> dict[Any, int]:
            tally: dict[Any, int] = {}
            for row in massacre_rows:
                key = _iso(row[column_index]) if column_index == 1 else row[column_index]
                tally[key] = tally.get(key, 0) + 1
            return tally

        by_party_massacres = massacres_by(2)
        by_perpetrator = [
            {"perpetrator": {"id": party_id, "name": name}, **_row(values, by_party_massacres.get(party_id, 0))}
            for party_id, name, *values in run(
                f"SELECT c.perpetrator_id, p.name, {PIVOT} FROM {table} c "
                f"JOIN incidents_perpetrator p ON p.id = c.perpetrator_id GROUP BY c.perpetrator_id, p.name"
            )
        ]
        by_place_massacres = massacres_by(3)
        by_location = [
            {"location": {"id": place_id, "name": name}, **_row(values, by_place_massacres.get(place_id, 0))}
            for place_id, name, *values in run(
                f"SELECT c.governorate_id, l.name, {PIVOT} FROM {table} c "
                f"JOIN incidents_location l ON l.id = c.governorate_id GROUP BY c.governorate_id, l.name"
            )
        ]
        by_day_massacres = massacres_by(1)
        by_date = [
            {"date": _iso(day), **_row(values, by_day_massacres.get(_iso(day), 0))}
            for day, *values in run(f"SELECT died_on, {PIVOT} FROM {table} GROUP BY died_on")
        ]
        result = {
            "civilians": civilians,
            "massacres": len(massacre_rows),
            "injured": int(injured),
            "incidents": int(incidents),
            "roles": {role: int(value or 0) for role, value in zip(ROLES, roles_row, strict=True)},
            "by_perpetrator": sorted(by_perpetrator, key=lambda row: (-row["total"], row["perpetrator"]["id"])),
            "by_location": sorted(by_location, key=lambda row: (-row["total"], row["location"]["id"])),
            "by_date": sorted(by_date, key=lambda row: row["date"]),
        }
        if fingerprint:
            result["fingerprint"] = fingerprint_rows(cursor, table)
        return result
    finally:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.close()
