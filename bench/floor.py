"""The floor: docs/api.md's count `result`, computed by hand-written SQL on a bare DB-API connection.

No Django, no ORM: plain SQL on a psycopg (PostgreSQL) or sqlite3 connection. The benchmark runs it
next to the application's count to measure the framework's overhead, and the small-N test compares
the two results figure by figure, so a faster application query can never be a wrong one.

The counting rule, restated independently of counts/counting.py (docs/design.md): a victim is counted
when the victim and its incident are verified, the victim is a civilian, not a duplicate, died
(default: on the incident's date) inside the window, was killed (default: at the incident's place) in
one of the chosen places' subtrees, by a perpetrator in one of the chosen parties' subtrees. A massacre
is a verified incident with at least `threshold` counted victims, counted for its incident's date,
perpetrator and governorate (a row of its own even where none of its victims died that day or there).
By governorate: the governorate containing the place of death; a place above governorate level (the
country), or under no governorate, is its own row. `injured` sums the counted incidents dated inside
the window. The fingerprint is the SHA-256 of `fingerprint_header` followed by one line
`victim id:version:incident id:version` per counted victim, by victim id (the header, rule version and
parameters, is the caller's).

Two shapes: on PostgreSQL one statement (GROUPING SETS, one pass over the counted rows); elsewhere
portable SQL (recursive CTEs, CASE pivots, a temporary table). The tests hold both to hand-worked figures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

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
    fingerprint_header: str = ""


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


# The governorate of a place: itself at governorate level or above, else its nearest ancestor at
# governorate level, at most three parents up (community, subdistrict, district), else itself. This CTE
# holds the places with a governorate at or above them (each with that governorate's `column`); a
# place it lacks (the country, a place under no governorate) is its own governorate, by COALESCE.
GOVERNORATE_CTE = """governorate_of(id, {columns}, depth) AS (
            SELECT id, {column}, 0 FROM incidents_location WHERE level = 'governorate'
            UNION ALL
            SELECT l.id, g.{columns}, g.depth + 1 FROM incidents_location l JOIN governorate_of g ON l.parent_id = g.id
            WHERE l.level NOT IN ('country', 'governorate') AND g.depth < 3
        )"""


def _subtree_filters(
    parameters: CountParameters, params: dict[str, Any], ctes: list[str], conditions: list[str]
) -> None:
    """Rules 5 and 6: the chosen places' and parties' subtrees (recursive CTEs), and the conditions on them."""
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


def counted_parts(parameters: CountParameters, params: dict[str, Any]) -> tuple[list[str], str]:
    """The CTEs (governorates, chosen subtrees) and the SELECT of one row per counted victim."""
    ctes = [
        # The governorate of the places under one (GOVERNORATE_CTE); any other place is its own.
        GOVERNORATE_CTE.format(columns="governorate_id", column="id")
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
    _subtree_filters(parameters, params, ctes, conditions)
    role_columns = ", ".join(f"v.role_{role}" for role in ROLES)
    common = " AND ".join(conditions)
    select = f"""SELECT v.id, v.version, v.category, {role_columns},
               COALESCE(v.date_of_death, i.occurred_on) AS died_on,
               COALESCE(died_at.governorate_id, v.place_of_death_id, i.location_id) AS governorate_id,
               i.id AS incident_id, i.version AS incident_version, i.occurred_on, i.perpetrator_id,
               i.injured_count, COALESCE(incident_place.governorate_id, i.location_id) AS incident_governorate_id
        FROM incidents_victim v
        JOIN incidents_incident i ON i.id = v.incident_id
        LEFT JOIN governorate_of died_at ON died_at.id = COALESCE(v.place_of_death_id, i.location_id)
        LEFT JOIN governorate_of incident_place ON incident_place.id = i.location_id"""
    counted = f"""
        {select}
        WHERE {common} AND v.date_of_death IS NULL AND i.occurred_on BETWEEN :date_from AND :date_to
        UNION ALL
        {select}
        WHERE {common} AND v.date_of_death BETWEEN :date_from AND :date_to"""
    return ctes, counted


def counted_table_sql(parameters: CountParameters, table: str, params: dict[str, Any]) -> str:
    """CREATE TEMP TABLE <table> holding one row per counted victim, with what every figure needs."""
    ctes, counted = counted_parts(parameters, params)
    return f"CREATE TEMPORARY TABLE {table} AS WITH RECURSIVE {', '.join(ctes)} {counted}"


def single_statement_sql(parameters: CountParameters, params: dict[str, Any]) -> str:
    """PostgreSQL: every figure in one statement, one pass over the counted rows (GROUPING SETS).

    Rows out: (kind, grouping, perpetrator_id, governorate_id, day, child, woman, man, unknown, roles...,
    fingerprint). kind 'victims' carries the category pivot per grouping set, 'massacres' the number
    of massacre incidents per grouping set (in `child`), 'incidents' the counted incidents and their
    injured (in `child`, `woman`), 'fingerprint' the SHA-256.
    """
    ctes, counted = counted_parts(parameters, params)
    params["threshold"] = parameters.threshold
    params["fingerprint_header"] = parameters.fingerprint_header
    roles = ", ".join(f"SUM(role_{role}::int)" for role in ROLES)
    no_roles = ", ".join("NULL::bigint" for _ in ROLES)
    sets = "GROUPING SETS ((), (perpetrator_id), (governorate_id), ({day}))"
    return f"""
        WITH RECURSIVE {", ".join(ctes)},
        counted AS MATERIALIZED ({counted}),
        per_incident AS MATERIALIZED (
            SELECT incident_id, COUNT(*) AS victims, MIN(incident_version) AS incident_version,
                   MIN(occurred_on) AS occurred_on, MIN(perpetrator_id) AS perpetrator_id,
                   MIN(incident_governorate_id) AS governorate_id, MIN(injured_count) AS injured_count
            FROM counted GROUP BY incident_id
        )
        SELECT 'victims', GROUPING(perpetrator_id, governorate_id, died_on), perpetrator_id, governorate_id,
               died_on, {PIVOT}, {roles}, NULL
        FROM counted GROUP BY {sets.format(day="died_on")}
        UNION ALL
        SELECT 'massacres', GROUPING(perpetrator_id, governorate_id, occurred_on), perpetrator_id,
               governorate_id, occurred_on, COUNT(*), NULL, NULL, NULL, {no_roles}, NULL
        FROM per_incident WHERE victims >= :threshold GROUP BY {sets.format(day="occurred_on")}
        UNION ALL
        SELECT 'incidents', 0, NULL, NULL, NULL, COUNT(*),
               COALESCE(SUM(CASE WHEN occurred_on BETWEEN :date_from AND :date_to THEN injured_count ELSE 0 END), 0),
               NULL, NULL,
               {no_roles}, NULL
        FROM per_incident
        UNION ALL
        SELECT 'fingerprint', 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, {no_roles},
               encode(sha256(convert_to(:fingerprint_header || COALESCE((
                   SELECT string_agg(id || ':' || version || ':' || incident_id || ':' || incident_version
                                     || E'\\n', '' ORDER BY id) FROM counted), ''),
               'UTF8')), 'hex')
    """


def compute_single_statement(raw_connection: Any, parameters: CountParameters) -> dict:
    """PostgreSQL's floor: `single_statement_sql`, shaped into docs/api.md's `result`."""
    params: dict[str, Any] = {}
    sql = single_statement_sql(parameters, params)
    cursor = raw_connection.cursor()
    try:
        cursor.execute(_placeholders(sql, "postgresql"), params)
        rows = cursor.fetchall()
        cursor.execute("SELECT id, name FROM incidents_perpetrator")
        party_names = dict(cursor.fetchall())
        cursor.execute("SELECT id, name FROM incidents_location")
        place_names = dict(cursor.fetchall())
    finally:
        cursor.close()
    # GROUPING(a, b, c) is a bit mask of the columns *not* grouped: 7 = (), 3 = party, 5 = place, 6 = day.
    victims: dict[int, dict[Any, tuple]] = {7: {}, 3: {}, 5: {}, 6: {}}
    massacres: dict[int, dict[Any, int]] = {7: {}, 3: {}, 5: {}, 6: {}}
    key_column = {7: None, 3: 2, 5: 3, 6: 4}
    incidents = injured = 0
    digest = ""
    roles_row: tuple = (0,) * len(ROLES)
    for row in rows:
        kind, grouping = row[0], row[1]
        if kind == "victims":
            key = None if key_column[grouping] is None else row[key_column[grouping]]
            victims[grouping][_iso(key) if grouping == 6 else key] = row[5:9]
            if grouping == 7:
                roles_row = row[9 : 9 + len(ROLES)]
        elif kind == "massacres":
            key = None if key_column[grouping] is None else row[key_column[grouping]]
            massacres[grouping][_iso(key) if grouping == 6 else key] = int(row[5])
        elif kind == "incidents":
            incidents, injured = int(row[5]), int(row[6])
        else:
            digest = row[-1]
    totals = victims[7].get(None, (0, 0, 0, 0))
    result = {
        "civilians": {key: value for key, value in _row(totals, 0).items() if key != "massacres"},
        "massacres": massacres[7].get(None, 0),
        "injured": injured,
        "incidents": incidents,
        "roles": {role: int(value or 0) for role, value in zip(ROLES, roles_row, strict=True)},
        "by_perpetrator": sorted(
            (
                {"perpetrator": {"id": key, "name": party_names[key]}, **_row(values, massacres[3].get(key, 0))}
                for key, values in _with_massacre_keys(victims[3], massacres[3])
            ),
            key=lambda row: (-row["total"], row["perpetrator"]["id"]),
        ),
        "by_location": sorted(
            (
                {"location": {"id": key, "name": place_names[key]}, **_row(values, massacres[5].get(key, 0))}
                for key, values in _with_massacre_keys(victims[5], massacres[5])
                if key is not None
            ),
            key=lambda row: (-row["total"], row["location"]["id"]),
        ),
        "by_date": sorted(
            (
                {"date": key, **_row(values, massacres[6].get(key, 0))}
                for key, values in _with_massacre_keys(victims[6], massacres[6])
            ),
            key=lambda row: row["date"],
        ),
    }
    result["fingerprint"] = digest
    return result


def _with_massacre_keys(victims: dict[Any, tuple], massacres: dict[Any, int]) -> list[tuple[Any, tuple]]:
    """Rows for every key with victims, plus keys holding only a massacre (its victims died elsewhen)."""
    return list(victims.items()) + [(key, (0, 0, 0, 0)) for key in massacres if key not in victims]


def fingerprint_rows(cursor: Any, table: str, header: str) -> str:
    """SHA-256 of the header and one line per counted victim: id:version:incident id:incident version."""
    digest = hashlib.sha256(header.encode())
    cursor.execute(f"SELECT id, version, incident_id, incident_version FROM {table} ORDER BY id")
    for victim_id, version, incident_id, incident_version in cursor.fetchall():
        digest.update(f"{victim_id}:{version}:{incident_id}:{incident_version}\n".encode())
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


def compute(raw_connection: Any, vendor: str, parameters: CountParameters) -> dict:
    """docs/api.md's `result` object (plus `fingerprint`), by plain SQL on `raw_connection`."""
    if vendor == "postgresql":
        return compute_single_statement(raw_connection, parameters)
    return compute_portable(raw_connection, vendor, parameters)


def compute_portable(raw_connection: Any, vendor: str, parameters: CountParameters) -> dict:
    """Any database: the counted rows in a temporary table, then one small query per figure."""
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
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN occurred_on BETWEEN :date_from AND :date_to "
            "THEN injured_count ELSE 0 END), 0) FROM "
            f"(SELECT DISTINCT incident_id, injured_count, occurred_on FROM {table}) AS counted_incidents",
            {"date_from": parameters.date_from, "date_to": parameters.date_to},
        )[0]
        massacre_rows = run(massacre_incidents, threshold)

        def massacres_by(column_index: int) -> dict[Any, int]:
            tally: dict[Any, int] = {}
            for row in massacre_rows:
                key = _iso(row[column_index]) if column_index == 1 else row[column_index]
                tally[key] = tally.get(key, 0) + 1
            return tally

        party_names = dict(run("SELECT id, name FROM incidents_perpetrator"))
        place_names = dict(run("SELECT id, name FROM incidents_location"))

        def grouped(column: str, massacre_column: int, label: str, names: dict) -> list[dict]:
            victims = {
                (_iso(key) if label == "date" else key): tuple(values)
                for key, *values in run(f"SELECT {column}, {PIVOT} FROM {table} GROUP BY {column}")
            }
            massacres = massacres_by(massacre_column)
            return [
                {
                    label: key if label == "date" else {"id": key, "name": names[key]},
                    **_row(values, massacres.get(key, 0)),
                }
                for key, values in _with_massacre_keys(victims, massacres)
                if key is not None
            ]

        by_perpetrator = grouped("perpetrator_id", 2, "perpetrator", party_names)
        by_location = grouped("governorate_id", 3, "location", place_names)
        by_date = grouped("died_on", 1, "date", {})
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
        result["fingerprint"] = fingerprint_rows(cursor, table, parameters.fingerprint_header)
        return result
    finally:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.close()


def _safe(column: str) -> str:
    return (
        f"NULLIF(CASE WHEN left({column}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') "
        f"THEN '''' || {column} ELSE {column} END, '')"
    )


def counted_victims_copy_sql(parameters: CountParameters) -> tuple[str, dict[str, Any]]:
    """PostgreSQL: `COPY ... TO STDOUT` of every counted victim, the columns of the application's export.

    The floor for the streaming export: the same rows and bytes, with no framework in between.
    """
    params: dict[str, Any] = {}
    conditions = [
        "v.status = 'verified'",
        "i.status = 'verified'",
        "v.civilian_status = 'civilian'",
        "v.duplicate_of_id IS NULL",
        "COALESCE(v.date_of_death, i.occurred_on) BETWEEN :date_from AND :date_to",
    ]
    params["date_from"], params["date_to"] = parameters.date_from, parameters.date_to
    ctes = [GOVERNORATE_CTE.format(columns="name", column="name")]
    _subtree_filters(parameters, params, ctes, conditions)
    roles = ", ".join(f"CASE WHEN v.role_{role} THEN '{role}' END" for role in ROLES)
    sql = f"""COPY (
        WITH RECURSIVE {", ".join(ctes)}
        SELECT v.id, v.incident_id, {_safe("v.name")}, {_safe("v.name_ar")}, v.sex, v.age_years, v.category,
               NULLIF(concat_ws(';', {roles}), ''), COALESCE(v.date_of_death, i.occurred_on),
               {_safe("place.name")}, {_safe("COALESCE(g.name, place.name)")}, i.occurred_on, {_safe("party.name")}
        FROM incidents_victim v
        JOIN incidents_incident i ON i.id = v.incident_id
        LEFT JOIN incidents_location place ON place.id = COALESCE(v.place_of_death_id, i.location_id)
        LEFT JOIN governorate_of g ON g.id = COALESCE(v.place_of_death_id, i.location_id)
        LEFT JOIN incidents_perpetrator party ON party.id = i.perpetrator_id
        WHERE {" AND ".join(conditions)}
        ORDER BY v.id
    ) TO STDOUT WITH (FORMAT csv)"""
    return _placeholders(sql, "postgresql"), params
