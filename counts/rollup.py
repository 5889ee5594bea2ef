# ruff: noqa: S608 -- every statement here is built from this module's identifiers and constants; values are bound.
"""Window counts from maintained rollups of the counted victims (PostgreSQL).

What is kept (counts/models.py; the same rule as counting.py, rules 1-3 applied when writing, rules
4-6 when reading):

- `counts_victim_rollup`: per (date of death, place of death, the incident's perpetrator), the counted
  victims by category and by role. Date of death and place of death are the victim's own, else the
  incident's (rules 4 and 5 read them).
- `counts_incident_rollup`: per incident and (date of death, place of death), its counted victims, with
  the incident's date, place, perpetrator and injured in the key: what massacres (counted under the
  same window and filters), `incidents` and `injured` need.

How they stay right: statement-level AFTER triggers with transition tables (migration counts/0003) on
`incidents_victim` (INSERT, UPDATE, DELETE) and `incidents_incident` (UPDATE). They fire for every
writer — services, `QuerySet.update`, `bulk_create`, COPY, raw SQL, the duplicates feature setting or
clearing `duplicate_of` — inside the writer's transaction, so a rolled-back write leaves no trace.
Each trigger takes the rows a statement changed, subtracts the old rows' counted contribution and adds
the new rows', grouped by key, and applies the sum with one `INSERT ... ON CONFLICT DO UPDATE` per
rollup (keys in order, so two writers never take rollup rows in opposite orders); a row that falls to
zero is deleted. No write skew between the two triggers: an incident's trigger locks its victims
(FOR SHARE) before reading them, so a victim changed at the same time is read once that change
commits; a victim inserted into (or moved to) an incident first takes FOR SHARE on the incident, so
an incident changed at the same time is either seen committed or waits for the victim's
transaction. A victim's own update or delete takes no further lock. An UPDATE that changes
nothing the rule reads (a name, the version) adds nothing. An incident changed in what the rule
reads (status, date, place, perpetrator, injured) re-attributes its victims. Deleting an incident
deletes its victims first (the foreign key has no cascade in the database), which the victim trigger
sees. TRUNCATE is not
followed: `rebuild()` recomputes both rollups from the victims.

Cost: the rows of a key are locked until the writer commits, so writers touching the same (day, place,
party) wait for each other; a transition touches one or two rows of each rollup.

Reading: `window_count` answers docs/api.md's `result` for a window and filters from the rollups in one
statement (laid out as counting's, read by the same `tallies_from_rows` and `shape`), without a
fingerprint: an exact snapshot (counts/services.py) still computes from the victims, whose ids and
versions its fingerprint covers. On other databases (SQLite, `make test`) the same function counts
the victims (`counting.compute_portable`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.db import connection, transaction

from incidents.models import CivilianStatus, Location, Perpetrator, Status, Victim

from . import counting

ROLE_COLUMNS = tuple(Victim.ROLE_FIELDS.values())
CATEGORIES = (("children", "child"), ("women", "woman"), ("men", "man"), ("unknown", "unknown"))
VICTIM_KEY = ("death_date", "place_id", "perpetrator_id")
VICTIM_FIGURES = ("total", *(name for name, _ in CATEGORIES), *ROLE_COLUMNS)
INCIDENT_KEY = (
    "death_date",
    "incident_id",
    "place_id",
    "occurred_on",
    "perpetrator_id",
    "location_id",
    "injured_count",
)
INCIDENT_FIGURES = ("victims",)

# What the rule reads of a victim and of an incident: a change to anything else never moves a count.
VICTIM_READS = (
    "incident_id",
    "status",
    "civilian_status",
    "duplicate_of_id",
    "date_of_death",
    "place_of_death_id",
    "category",
    *ROLE_COLUMNS,
)
INCIDENT_READS = ("status", "occurred_on", "location_id", "perpetrator_id", "injured_count")

VERIFIED = Status.VERIFIED.value
CIVILIAN = CivilianStatus.CIVILIAN.value


def _counted_columns(victim: str, incident: str) -> str:
    """A counted victim's contribution: its keys and figures (victim `victim`, incident `incident`)."""
    roles = ", ".join(f"{victim}.{column}" for column in ROLE_COLUMNS)
    return (
        f"COALESCE({victim}.date_of_death, {incident}.occurred_on) AS death_date, "
        f"COALESCE({victim}.place_of_death_id, {incident}.location_id) AS place_id, "
        f"{incident}.perpetrator_id, {victim}.category, {roles}, {incident}.id AS incident_id, "
        f"{incident}.occurred_on, {incident}.location_id, {incident}.injured_count"
    )


def _counted_condition(victim: str, incident: str) -> str:
    """Rules 1-3 (constants of this module, never user input)."""
    return (
        f"{victim}.status = '{VERIFIED}' AND {incident}.status = '{VERIFIED}' "
        f"AND {victim}.civilian_status = '{CIVILIAN}' AND {victim}.duplicate_of_id IS NULL"
    )


def _apply_sql(counted: str) -> list[str]:
    """PL/pgSQL statements adding `counted` (a query of signed contributions: `sign` and the columns of
    `_counted_columns`) to both rollups; zeroed rows are deleted."""
    victim_sums = ["SUM(sign) AS total"]
    victim_sums += [
        f"COALESCE(SUM(sign) FILTER (WHERE category = '{value}'), 0) AS {name}" for name, value in CATEGORIES
    ]
    victim_sums += [f"COALESCE(SUM(sign) FILTER (WHERE {column}), 0) AS {column}" for column in ROLE_COLUMNS]
    statements = []
    for table, key, sums, figures, emptied in (
        ("counts_victim_rollup", VICTIM_KEY, victim_sums, VICTIM_FIGURES, "emptied_victims"),
        ("counts_incident_rollup", INCIDENT_KEY, ["SUM(sign) AS victims"], INCIDENT_FIGURES, "emptied_incidents"),
    ):
        keys, names = ", ".join(key), ", ".join(figures)
        nonzero = " OR ".join(f"{name} <> 0" for name in figures)
        updates = ", ".join(f"{name} = r.{name} + EXCLUDED.{name}" for name in figures)
        statements.append(f"""
    WITH counted AS ({counted}),
    delta AS (SELECT {keys}, {", ".join(sums)} FROM counted GROUP BY {keys}),
    written AS (
        INSERT INTO {table} AS r ({keys}, {names})
        SELECT {keys}, {names} FROM delta WHERE {nonzero} ORDER BY {keys}
        ON CONFLICT ({keys}) DO UPDATE SET {updates}
        RETURNING r.id, r.{figures[0]} AS first
    )
    SELECT array_agg(id) INTO {emptied} FROM written WHERE first = 0;
    IF {emptied} IS NOT NULL THEN
        DELETE FROM {table} WHERE id = ANY({emptied}) AND {figures[0]} = 0;
    END IF;""")
    return statements


def _function(name: str, lock: str, counted: str) -> str:
    body = "\n".join(_apply_sql(counted))
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    emptied_victims bigint[];
    emptied_incidents bigint[];
BEGIN
    {lock}
    {body}
    RETURN NULL;
END;
$fn$;"""


def _share_incidents(incident_ids: str) -> str:
    """A victim added to an incident (inserted, or moved to it) first takes FOR SHARE on the incident:
    an incident changed at the same time by another transaction is then either seen committed, or
    waits for this one and sees the victim (the incident trigger reads the victims after locking them)."""
    return f"PERFORM 1 FROM incidents_incident WHERE id IN ({incident_ids}) ORDER BY id FOR SHARE;"


def _victim_function(operation: str) -> str:
    columns_new, columns_old = _counted_columns("n", "i"), _counted_columns("o", "i")
    added = f"SELECT 1 AS sign, {columns_new} FROM {{new}} n JOIN incidents_incident i ON i.id = n.incident_id WHERE {_counted_condition('n', 'i')}"  # noqa: E501
    removed = f"SELECT -1 AS sign, {columns_old} FROM {{old}} o JOIN incidents_incident i ON i.id = o.incident_id WHERE {_counted_condition('o', 'i')}"  # noqa: E501
    if operation == "insert":
        counted = added.format(new="new_rows")
        # Only rows that the victim's own fields let count: the incident's state cannot matter to others.
        lock = _share_incidents(
            f"SELECT incident_id FROM new_rows WHERE status = '{VERIFIED}' AND civilian_status = '{CIVILIAN}' "
            "AND duplicate_of_id IS NULL"
        )
    elif operation == "delete":
        counted = removed.format(old="old_rows")
        lock = ""
    else:
        # Only the rows whose change the rule reads (a name edit or a version bump moves nothing).
        old, new = ", ".join("o." + c for c in VICTIM_READS), ", ".join("n." + c for c in VICTIM_READS)
        differs = f"({old}) IS DISTINCT FROM ({new})"
        changed = f"(SELECT n.* FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE {differs})"
        changed_old = f"(SELECT o.* FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE {differs})"
        counted = added.format(new=changed) + " UNION ALL " + removed.format(old=changed_old)
        lock = _share_incidents(
            "SELECT n.incident_id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.incident_id <> o.incident_id"
        )
    return _function(f"counts_rollup_victims_{operation}", lock, counted)


def _incident_function() -> str:
    changed = (
        "SELECT o.id FROM old_rows o JOIN new_rows n ON n.id = o.id "
        f"WHERE ({', '.join('o.' + c for c in INCIDENT_READS)}) IS DISTINCT FROM ({', '.join('n.' + c for c in INCIDENT_READS)})"  # noqa: E501
    )
    condition_old, condition_new = _counted_condition("v", "o"), _counted_condition("v", "n")
    counted = (
        f"SELECT -1 AS sign, {_counted_columns('v', 'o')} FROM incidents_victim v "
        f"JOIN old_rows o ON o.id = v.incident_id WHERE o.id IN ({changed}) AND {condition_old} "
        f"UNION ALL SELECT 1 AS sign, {_counted_columns('v', 'n')} FROM incidents_victim v "
        f"JOIN new_rows n ON n.id = v.incident_id WHERE n.id IN ({changed}) AND {condition_new}"
    )
    # The victims are locked before they are read: a victim changed at the same time by another
    # transaction is then read as it is once that one commits (its own trigger saw this incident as
    # it was before; together the two add up).
    lock = f"PERFORM 1 FROM incidents_victim WHERE incident_id IN ({changed}) ORDER BY id FOR SHARE;"
    return _function("counts_rollup_incidents_update", lock, counted)


def rebuild_sql() -> list[str]:
    """Both rollups recomputed from the victims (the migration's backfill; `rebuild`)."""
    counted = (
        f"SELECT 1 AS sign, {_counted_columns('v', 'i')} FROM incidents_victim v "
        f"JOIN incidents_incident i ON i.id = v.incident_id WHERE {_counted_condition('v', 'i')}"
    )
    victim_sums = ["COUNT(*) AS total"]
    victim_sums += [f"COUNT(*) FILTER (WHERE category = '{value}') AS {name}" for name, value in CATEGORIES]
    victim_sums += [f"COUNT(*) FILTER (WHERE {column}) AS {column}" for column in ROLE_COLUMNS]
    victim_keys, incident_keys = ", ".join(VICTIM_KEY), ", ".join(INCIDENT_KEY)
    return [
        "DELETE FROM counts_victim_rollup",
        "DELETE FROM counts_incident_rollup",
        f"INSERT INTO counts_victim_rollup ({victim_keys}, {', '.join(VICTIM_FIGURES)}) "
        f"SELECT {victim_keys}, {', '.join(victim_sums)} FROM ({counted}) c "
        f"GROUP BY {victim_keys} ORDER BY {victim_keys}",
        f"INSERT INTO counts_incident_rollup ({incident_keys}, victims) "
        f"SELECT {incident_keys}, COUNT(*) FROM ({counted}) c GROUP BY {incident_keys} ORDER BY {incident_keys}",
    ]


TRIGGERS = (
    ("counts_rollup_victims_insert", "incidents_victim", "INSERT", "REFERENCING NEW TABLE AS new_rows"),
    (
        "counts_rollup_victims_update",
        "incidents_victim",
        "UPDATE",
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    ),
    ("counts_rollup_victims_delete", "incidents_victim", "DELETE", "REFERENCING OLD TABLE AS old_rows"),
    (
        "counts_rollup_incidents_update",
        "incidents_incident",
        "UPDATE",
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    ),
)


def install_sql() -> list[str]:
    """The trigger functions and triggers (PostgreSQL), then the backfill."""
    statements = [_victim_function(operation) for operation in ("insert", "update", "delete")]
    statements.append(_incident_function())
    for name, table, event, referencing in TRIGGERS:
        statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        statements.append(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    return statements + rebuild_sql()


def uninstall_sql() -> list[str]:
    statements = [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table, _, _ in TRIGGERS]
    return statements + [f"DROP FUNCTION IF EXISTS {name}()" for name, _, _, _ in TRIGGERS]


def triggers_installed(enabled: bool | None = None) -> bool:
    """Whether the rollup triggers are on (PostgreSQL); with `enabled`, switch them (the benchmark's
    'without triggers' import only; production never does)."""
    with connection.cursor() as cursor:
        if enabled is not None:
            for name, table, _, _ in TRIGGERS:
                cursor.execute(f"ALTER TABLE {table} {'ENABLE' if enabled else 'DISABLE'} TRIGGER {name}")
        cursor.execute(
            "SELECT COUNT(*) FROM pg_trigger WHERE tgname = ANY(%s) AND tgenabled <> 'D'", [[t[0] for t in TRIGGERS]]
        )
        return cursor.fetchone()[0] == len(TRIGGERS)


def rebuild() -> None:
    """Recompute both rollups from the victims (after a TRUNCATE or a restore of some tables)."""
    with counting.consistent_read(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE incidents_victim, incidents_incident IN SHARE MODE")
        for statement in rebuild_sql():
            cursor.execute(statement)


# --- Proof: the stored rollups against a full recompute ---------------------------------------------


def stored_rows() -> dict[str, dict[tuple, tuple]]:
    """Both rollups as stored, key → figures."""
    return _rows("SELECT {keys}, {figures} FROM {table}")


def recomputed_rows() -> dict[str, dict[tuple, tuple]]:
    """Both rollups as a full recompute from the victims gives them, key → figures."""
    counted = (
        f"SELECT {_counted_columns('v', 'i')} FROM incidents_victim v "
        f"JOIN incidents_incident i ON i.id = v.incident_id WHERE {_counted_condition('v', 'i')}"
    )
    sums = {
        "counts_victim_rollup": ", ".join(
            [
                "COUNT(*)",
                *(f"COUNT(*) FILTER (WHERE category = '{value}')" for _, value in CATEGORIES),
                *(f"COUNT(*) FILTER (WHERE {column})" for column in ROLE_COLUMNS),
            ]
        ),
        "counts_incident_rollup": "COUNT(*)",
    }
    return _rows("SELECT {keys}, {sums} FROM (" + counted + ") c GROUP BY {keys}", sums)


def _rows(template: str, sums: dict[str, str] | None = None) -> dict[str, dict[tuple, tuple]]:
    out: dict[str, dict[tuple, tuple]] = {}
    with connection.cursor() as cursor:
        for table, key, figures in (
            ("counts_victim_rollup", VICTIM_KEY, VICTIM_FIGURES),
            ("counts_incident_rollup", INCIDENT_KEY, INCIDENT_FIGURES),
        ):
            sql = template.format(
                keys=", ".join(key), figures=", ".join(figures), table=table, sums=(sums or {}).get(table, "")
            )
            cursor.execute(sql)
            out[table] = {row[: len(key)]: tuple(int(value) for value in row[len(key) :]) for row in cursor.fetchall()}
    return out


# --- Reading a window ---------------------------------------------------------------------------------


def _window_sql(parameters: counting.CountParameters) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {
        "date_from": parameters.date_from,
        "date_to": parameters.date_to,
        "threshold": parameters.massacre_threshold,
        **counting.governorate_parameters(),
    }
    conditions = ["death_date BETWEEN %(date_from)s AND %(date_to)s"]
    if parameters.locations:
        params["places"] = sorted(Location.objects.subtree_ids(parameters.locations))
        conditions.append("place_id = ANY(%(places)s)")
    if parameters.perpetrators:
        params["parties"] = sorted(Perpetrator.objects.subtree_ids(parameters.perpetrators))
        conditions.append("perpetrator_id = ANY(%(parties)s)")
    where = " AND ".join(conditions)
    pivot = ", ".join(f"COALESCE(SUM({name}), 0)" for name, _ in CATEGORIES)
    roles = ", ".join(f"COALESCE(SUM({column}), 0)" for column in ROLE_COLUMNS)
    no_roles = ", ".join("NULL::bigint" for _ in ROLE_COLUMNS)
    sets = "GROUPING SETS ((), (perpetrator_id), (g.governorate_id), ({day}))"
    sql = f"""
        WITH place_governorate AS MATERIALIZED ({counting.place_governorate_sql()}),
        per_incident AS MATERIALIZED (
            SELECT incident_id, SUM(victims) AS victims, MIN(occurred_on) AS occurred_on,
                   MIN(perpetrator_id) AS perpetrator_id, MIN(location_id) AS location_id,
                   MIN(injured_count) AS injured_count
            FROM counts_incident_rollup WHERE {where} GROUP BY incident_id
        )
        SELECT 'victims', GROUPING(perpetrator_id, g.governorate_id, death_date), perpetrator_id,
               g.governorate_id, death_date, {pivot}, {roles}, NULL
        FROM counts_victim_rollup v LEFT JOIN place_governorate g ON g.id = v.place_id
        WHERE {where}
        GROUP BY {sets.format(day="death_date")}
        UNION ALL
        SELECT 'massacres', GROUPING(perpetrator_id, g.governorate_id, occurred_on), perpetrator_id,
               g.governorate_id, occurred_on, COUNT(*), NULL, NULL, NULL, {no_roles}, NULL
        FROM per_incident LEFT JOIN place_governorate g ON g.id = per_incident.location_id
        WHERE victims >= %(threshold)s
        GROUP BY {sets.format(day="occurred_on")}
        UNION ALL
        SELECT 'incidents', 0, NULL, NULL, NULL, COUNT(*),
               COALESCE(SUM(injured_count) FILTER (WHERE occurred_on BETWEEN %(date_from)s AND %(date_to)s), 0),
               NULL, NULL, {no_roles}, NULL
        FROM per_incident
    """
    return sql, params


def window_count(parameters: counting.CountParameters) -> dict[str, Any]:
    """docs/api.md's `result` for a window and filters: from the rollups on PostgreSQL, from the victims
    elsewhere. The figures equal `counting.compute(parameters).result` (tests/counts/test_rollup.py)."""
    if connection.vendor != "postgresql":
        return counting.compute_portable(parameters).result
    sql, params = _window_sql(parameters)
    # One statement sees one state of the rollups (no REPEATABLE READ needed); JIT compiling its
    # expressions would cost more than running it. SET LOCAL ends with this transaction (or, inside a
    # caller's, with the caller's).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)")
        cursor.execute(sql, params)
        tallies, _ = counting.tallies_from_rows(cursor.fetchall())
        # Records confirmed as duplicates are few and reached by the duplicate_of index, not the rollup.
        tallies = replace(tallies, excluded_duplicates=counting.excluded_as_duplicates(parameters))
    return counting.shape(parameters, tallies, "").result
