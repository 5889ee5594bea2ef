# ruff: noqa: S608 -- every statement here is built from this module's identifiers and constants; values are bound.
"""Window counts from maintained rollups of the counted victims (PostgreSQL).

What is kept (counts/models.py; the same rule as counting.py, rules 1-2 applied when writing, rules
3-6 when reading: every victim tier holds the counted victims and, in `duplicates`, those rule 3
leaves out, so `excluded_duplicates` is read from the rollup too). docs/design.md "Window counts from
rollups" says why these tiers and what each read costs.

Victim tiers (figures: total, the four categories, the roles, duplicates):

- `counts_victim_rollup`: per (date of death, place of death, the incident's perpetrator). Date of
  death and place of death are the victim's own, else the incident's (rules 4 and 5 read them). The
  finest tier: what a window with a place filter reads, and the source the coarser tiers are
  rebuilt from.
- `counts_day_rollup`: per (date of death, perpetrator): `by_date` of a window without a place filter.
- `counts_month_rollup`: per (month of death, governorate of the place of death, perpetrator):
  totals, roles, `by_perpetrator`, `by_location` and duplicates of a window without a place filter,
  for the whole months inside it, in one pass (the days of the partial months at its edges are
  read from `counts_victim_rollup`). The governorate is
  computed when writing (`counts_place_governorate`); a place moved in the tree (its parent or
  level changed) re-files this tier and `counts_incident_total` from the finer rows, in the same
  transaction, by a trigger on `incidents_location`.

Incident tiers (counted victims only, never duplicates):

- `counts_incident_rollup`: per incident and (date of death, place of death), with the incident's
  date, place, perpetrator and injured in the key: what massacres, `incidents` and `injured` need
  under a place filter, and for the incidents that straddle a window's edges.
- `counts_incident_total`: per incident, its counted victims, first and last date of death, date,
  perpetrator, place, governorate and injured: massacres of incidents wholly inside a window
  (partial index on `victims >= MASSACRE_FLOOR`), and which incidents straddle an edge (a GiST
  index over the span of the incidents whose victims died on more than one day).
- `counts_incident_span`: per (first date of death, last date of death, incident date, perpetrator),
  how many incidents, their injured, and how many of them are massacres at MASSACRE_FLOOR:
  `incidents`, `injured` and the massacres (total, by perpetrator, by date) of the incidents wholly
  inside a window without a place filter, without reading one row per incident: those whose first
  or last death falls in a partial month at the window's edge (by the key's index, or by
  `incident_span_last` on the last death).
- `counts_incident_month`: the same per (month of the first and of the last date of death, incident
  date, perpetrator): those figures for the incidents whose deaths all fall in a window's whole
  months (bounded by days x parties x a few month pairs, where the span tier grows with the spans).
- `counts_massacre_month`: per (month of the first and of the last date of death, governorate,
  perpetrator), the massacres at MASSACRE_FLOOR: massacres by governorate of the incidents whose
  deaths all fall in a window's whole months (those of its partial edge months are read from
  `counts_incident_total`). A count asking another threshold reads `counts_incident_total` instead.

How they stay right: statement-level AFTER triggers with transition tables (migration counts/0007) on
`incidents_victim` (INSERT, UPDATE, DELETE), `incidents_incident` (UPDATE) and `incidents_location`
(UPDATE). They fire for every writer — services, `QuerySet.update`, `bulk_create`, COPY, raw SQL,
the duplicates feature setting or clearing `duplicate_of` — inside the writer's transaction, so a
rolled-back write leaves no trace. Each trigger takes the rows a statement changed, subtracts the old
rows' contribution and adds the new rows', grouped by key, and applies the sums to the four
additive tiers in one statement (`INSERT ... ON CONFLICT DO UPDATE`, keys in order, so two writers
never take rollup rows in opposite orders); a row that falls to zero is deleted. The incidents it
touched then have their `counts_incident_total` row recomputed from `counts_incident_rollup` (a
handful of rows each), and `counts_incident_span`, `counts_incident_month` and `counts_massacre_month`
moved from the old row to the new one. No write
skew between the triggers: an incident's trigger locks its victims (FOR SHARE) before reading them;
a victim inserted into (or moved to) an incident first takes FOR SHARE on the incident. An UPDATE
that changes nothing the rule reads (a name, the version) adds nothing. Deleting an incident deletes
its victims first (the foreign key has no cascade in the database), which the victim trigger sees.
TRUNCATE is not followed: `rebuild()` recomputes every tier from the victims.

Cost: the rows of a key are locked until the writer commits, so writers touching the same (day, place,
party) wait for each other; a transition touches one or two rows of each tier.

Reading: `window_count` answers docs/api.md's `result` for a window and filters from the rollups in one
statement (laid out as counting's, read by the same `tallies_from_rows` and `shape`), without a
fingerprint: an exact snapshot (counts/services.py) still computes from the victims, whose ids and
versions its fingerprint covers. On other databases (SQLite, `make test`) the same function counts
the victims (`counting.compute_portable`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from incidents.models import CivilianStatus, Location, Perpetrator, Status, Victim, place_governorate_sql

from . import counting

ROLE_COLUMNS = tuple(Victim.ROLE_FIELDS.values())
CATEGORIES = (("children", "child"), ("women", "woman"), ("men", "man"), ("unknown", "unknown"))
VICTIM_FIGURES = ("total", *(name for name, _ in CATEGORIES), *ROLE_COLUMNS, "duplicates")
PLACE_KEY = ("death_date", "place_id", "perpetrator_id")
DAY_KEY = ("death_date", "perpetrator_id")
MONTH_KEY = ("month", "governorate_id", "perpetrator_id")
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
TOTAL_KEY = ("incident_id",)
TOTAL_FIGURES = (
    "victims",
    "first_death",
    "last_death",
    "occurred_on",
    "perpetrator_id",
    "location_id",
    "governorate_id",
    "injured_count",
)
SPAN_KEY = ("first_death", "last_death", "occurred_on", "perpetrator_id")
SPAN_FIGURES = ("incidents", "injured", "massacres")
INCIDENT_MONTH_KEY = ("first_month", "last_month", "occurred_on", "perpetrator_id")
MASSACRE_MONTH_KEY = ("first_month", "last_month", "governorate_id", "perpetrator_id")
MASSACRE_MONTH_FIGURES = ("massacres",)

# (table, key, figures) of every tier, finest first: what `stored_rows` and `recomputed_rows` compare.
TIERS = (
    ("counts_victim_rollup", PLACE_KEY, VICTIM_FIGURES),
    ("counts_day_rollup", DAY_KEY, VICTIM_FIGURES),
    ("counts_month_rollup", MONTH_KEY, VICTIM_FIGURES),
    ("counts_incident_rollup", INCIDENT_KEY, INCIDENT_FIGURES),
    ("counts_incident_total", TOTAL_KEY, TOTAL_FIGURES),
    ("counts_incident_span", SPAN_KEY, SPAN_FIGURES),
    ("counts_incident_month", INCIDENT_MONTH_KEY, SPAN_FIGURES),
    ("counts_massacre_month", MASSACRE_MONTH_KEY, MASSACRE_MONTH_FIGURES),
)
# The smallest massacre threshold `counts_incident_total`'s partial, covering indexes serve (the
# default MASSACRE_THRESHOLD); a lower threshold reads the whole table: still exact, slower. Their
# predicates (counts/models.py, migrations 0004 and 0006) must say the same number. It is also the
# threshold the `massacres` figures of `counts_incident_span` and `counts_massacre_month` are kept
# at: a count asking another threshold reads the per-incident totals instead.
MASSACRE_FLOOR = 5

# What the rule reads of a victim, an incident and a place: a change to anything else never moves a count.
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
PLACE_READS = ("parent_id", "level")

VERIFIED = Status.VERIFIED.value
CIVILIAN = CivilianStatus.CIVILIAN.value


GOVERNORATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION counts_place_governorate(place bigint) RETURNS bigint LANGUAGE sql STABLE AS $fn$
    SELECT governorate_id FROM ({place_governorate_sql()}) g WHERE g.id = place
$fn$;"""


def _counted_columns(victim: str, incident: str) -> str:
    """A victim's contribution: its keys and figures (victim `victim`, incident `incident`); `dup` when
    rule 3 leaves it out."""
    roles = ", ".join(f"{victim}.{column}" for column in ROLE_COLUMNS)
    return (
        f"COALESCE({victim}.date_of_death, {incident}.occurred_on) AS death_date, "
        f"COALESCE({victim}.place_of_death_id, {incident}.location_id) AS place_id, "
        f"{incident}.perpetrator_id, {victim}.category, {roles}, {incident}.id AS incident_id, "
        f"{incident}.occurred_on, {incident}.location_id, {incident}.injured_count, "
        f"{victim}.duplicate_of_id IS NOT NULL AS dup"
    )


def _counted_condition(victim: str, incident: str) -> str:
    """Rules 1-2 (constants of this module, never user input); rule 3 is the `dup` column."""
    return (
        f"{victim}.status = '{VERIFIED}' AND {incident}.status = '{VERIFIED}' "
        f"AND {victim}.civilian_status = '{CIVILIAN}'"
    )


def _victim_sums(sign: str) -> list[str]:
    """The victim tiers' figures over contributions weighted by `sign` ("sign" or "1")."""
    sums = [f"COALESCE(SUM({sign}) FILTER (WHERE NOT dup), 0) AS total"]
    sums += [
        f"COALESCE(SUM({sign}) FILTER (WHERE NOT dup AND category = '{value}'), 0) AS {name}"
        for name, value in CATEGORIES
    ]
    sums += [f"COALESCE(SUM({sign}) FILTER (WHERE NOT dup AND {column}), 0) AS {column}" for column in ROLE_COLUMNS]
    sums.append(f"COALESCE(SUM({sign}) FILTER (WHERE dup), 0) AS duplicates")
    return sums


def _resummed(figures: tuple[str, ...]) -> str:
    return ", ".join(f"SUM({name}) AS {name}" for name in figures)


def _upsert(name: str, table: str, key: tuple[str, ...], figures: tuple[str, ...], source: str, empty: str) -> str:
    """A data-modifying CTE adding `source`'s rows (key and figures) to `table`; returns the ids of
    the rows it left at zero (`empty`, over the stored row `r`)."""
    keys, names = ", ".join(key), ", ".join(figures)
    nonzero = " OR ".join(f"{figure} <> 0" for figure in figures)
    updates = ", ".join(f"{figure} = r.{figure} + EXCLUDED.{figure}" for figure in figures)
    return f"""{name} AS (
        INSERT INTO {table} AS r ({keys}, {names})
        SELECT {keys}, {names} FROM {source} WHERE {nonzero} ORDER BY {keys}
        ON CONFLICT ({keys}) DO UPDATE SET {updates}
        RETURNING r.id, {empty} AS empty
    )"""


VICTIM_EMPTY = "(r.total = 0 AND r.duplicates = 0)"


def _apply_sql(counted: str) -> list[str]:
    """PL/pgSQL statements adding `counted` (a query of signed contributions: `sign` and the columns of
    `_counted_columns`) to every tier; zeroed rows are deleted."""
    place_keys, day_keys = ", ".join(PLACE_KEY), ", ".join(DAY_KEY)
    incident_keys = ", ".join(INCIDENT_KEY)
    apply_additive = f"""
    WITH counted AS MATERIALIZED ({counted}),
    place_delta AS MATERIALIZED (
        SELECT {place_keys}, {", ".join(_victim_sums("sign"))} FROM counted GROUP BY {place_keys}
    ),
    day_delta AS (SELECT {day_keys}, {_resummed(VICTIM_FIGURES)} FROM place_delta GROUP BY {day_keys}),
    month_delta AS (
        SELECT date_trunc('month', death_date)::date AS month, governorate_id, perpetrator_id,
               {_resummed(VICTIM_FIGURES)}
        FROM (SELECT p.*, g.governorate_id FROM place_delta p JOIN ({place_governorate_sql()}) g ON g.id = p.place_id) p
        GROUP BY 1, 2, 3
    ),
    incident_delta AS MATERIALIZED (
        SELECT {incident_keys}, COALESCE(SUM(sign) FILTER (WHERE NOT dup), 0) AS victims
        FROM counted GROUP BY {incident_keys}
    ),
    {_upsert("place_written", "counts_victim_rollup", PLACE_KEY, VICTIM_FIGURES, "place_delta", VICTIM_EMPTY)},
    {_upsert("day_written", "counts_day_rollup", DAY_KEY, VICTIM_FIGURES, "day_delta", VICTIM_EMPTY)},
    {_upsert("month_written", "counts_month_rollup", MONTH_KEY, VICTIM_FIGURES, "month_delta", VICTIM_EMPTY)},
    {_upsert("incident_written", "counts_incident_rollup", INCIDENT_KEY, INCIDENT_FIGURES, "incident_delta", "r.victims = 0")}
    SELECT (SELECT array_agg(id) FROM place_written WHERE empty),
           (SELECT array_agg(id) FROM day_written WHERE empty),
           (SELECT array_agg(id) FROM month_written WHERE empty),
           (SELECT array_agg(id) FROM incident_written WHERE empty),
           (SELECT array_agg(DISTINCT incident_id ORDER BY incident_id) FROM incident_delta WHERE victims <> 0)
    INTO emptied_place, emptied_day, emptied_month, emptied_incident, touched;"""  # noqa: E501
    statements = [apply_additive]
    for table, variable, empty in (
        ("counts_victim_rollup", "emptied_place", "total = 0 AND duplicates = 0"),
        ("counts_day_rollup", "emptied_day", "total = 0 AND duplicates = 0"),
        ("counts_month_rollup", "emptied_month", "total = 0 AND duplicates = 0"),
        ("counts_incident_rollup", "emptied_incident", "victims = 0"),
    ):
        statements.append(f"""
    IF {variable} IS NOT NULL THEN
        DELETE FROM {table} WHERE id = ANY({variable}) AND {empty};
    END IF;""")
    statements.append(_totals_sql("ANY(touched)"))
    return statements


def _incident_totals_select(incidents: str) -> str:
    """`counts_incident_total`'s rows of the incidents `incidents` (an SQL condition on incident_id),
    from `counts_incident_rollup`."""
    return f"""SELECT t.incident_id, t.victims, t.first_death, t.last_death, t.occurred_on, t.perpetrator_id,
               t.location_id, g.governorate_id, t.injured_count
        FROM (SELECT incident_id, SUM(victims) AS victims, MIN(death_date) AS first_death,
                     MAX(death_date) AS last_death, MIN(occurred_on) AS occurred_on,
                     MIN(perpetrator_id) AS perpetrator_id, MIN(location_id) AS location_id,
                     MIN(injured_count) AS injured_count
              FROM counts_incident_rollup WHERE incident_id {incidents} GROUP BY incident_id) t
        JOIN ({place_governorate_sql()}) g ON g.id = t.location_id"""


# A massacre's months (of its first and last counted death), governorate and party: the key of
# `counts_massacre_month`, over a row of `counts_incident_total`.
_MASSACRE_MONTH_COLUMNS = (
    "date_trunc('month', first_death)::date AS first_month, date_trunc('month', last_death)::date AS last_month, "
    "governorate_id, perpetrator_id"
)


# An incident's months (of its first and last counted death), date and party: the key of
# `counts_incident_month`, over a row of `counts_incident_span` (or of `counts_incident_total`).
_INCIDENT_MONTH_COLUMNS = (
    "date_trunc('month', first_death)::date AS first_month, date_trunc('month', last_death)::date AS last_month, "
    "occurred_on, perpetrator_id"
)


def _massacre_month_sql() -> list[str]:
    """`counts_massacre_month` re-filed from `counts_incident_total` (after the place tree changed, and
    in `rebuild`)."""
    return [
        "DELETE FROM counts_massacre_month",
        f"INSERT INTO counts_massacre_month ({', '.join(MASSACRE_MONTH_KEY)}, massacres) "
        f"SELECT {_MASSACRE_MONTH_COLUMNS}, COUNT(*) FROM counts_incident_total "
        f"WHERE victims >= {MASSACRE_FLOOR} GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
    ]


def _totals_sql(incidents: str) -> str:
    """The touched incidents' totals recomputed, and the span, incident-month and massacre-month tiers
    moved from the old totals to the new."""
    span_keys = ", ".join(SPAN_KEY)
    total_columns = ", ".join((*TOTAL_KEY, *TOTAL_FIGURES))
    massacre_upsert = _upsert(
        "massacre_written",
        "counts_massacre_month",
        MASSACRE_MONTH_KEY,
        MASSACRE_MONTH_FIGURES,
        "massacre_delta",
        "r.massacres = 0",
    )
    incident_month_upsert = _upsert(
        "incident_month_written",
        "counts_incident_month",
        INCIDENT_MONTH_KEY,
        SPAN_FIGURES,
        "incident_month_delta",
        "r.incidents = 0",
    )
    return f"""
    IF touched IS NOT NULL THEN
        WITH fresh AS MATERIALIZED ({_incident_totals_select("= " + incidents)}),
        signed AS MATERIALIZED (
            SELECT {span_keys}, governorate_id, -1 AS sign, injured_count, victims >= {MASSACRE_FLOOR} AS massacre
            FROM counts_incident_total WHERE incident_id = {incidents}
            UNION ALL
            SELECT {span_keys}, governorate_id, 1, injured_count, victims >= {MASSACRE_FLOOR} FROM fresh
        ),
        span_delta AS (
            SELECT {span_keys}, SUM(sign) AS incidents, SUM(sign * injured_count) AS injured,
                   COALESCE(SUM(sign) FILTER (WHERE massacre), 0) AS massacres
            FROM signed GROUP BY {span_keys}
        ),
        incident_month_delta AS (
            SELECT {_INCIDENT_MONTH_COLUMNS}, {_resummed(SPAN_FIGURES)} FROM span_delta GROUP BY 1, 2, 3, 4
        ),
        massacre_delta AS (
            SELECT {_MASSACRE_MONTH_COLUMNS}, SUM(sign) AS massacres FROM signed WHERE massacre GROUP BY 1, 2, 3, 4
        ),
        {_upsert("span_written", "counts_incident_span", SPAN_KEY, SPAN_FIGURES, "span_delta", "r.incidents = 0")},
        {incident_month_upsert},
        {massacre_upsert}
        SELECT (SELECT array_agg(id) FROM span_written WHERE empty),
               (SELECT array_agg(id) FROM incident_month_written WHERE empty),
               (SELECT array_agg(id) FROM massacre_written WHERE empty)
        INTO emptied_span, emptied_incident_month, emptied_massacre;
        IF emptied_span IS NOT NULL THEN
            DELETE FROM counts_incident_span WHERE id = ANY(emptied_span) AND incidents = 0;
        END IF;
        IF emptied_incident_month IS NOT NULL THEN
            DELETE FROM counts_incident_month WHERE id = ANY(emptied_incident_month) AND incidents = 0;
        END IF;
        IF emptied_massacre IS NOT NULL THEN
            DELETE FROM counts_massacre_month WHERE id = ANY(emptied_massacre) AND massacres = 0;
        END IF;
        DELETE FROM counts_incident_total WHERE incident_id = {incidents};
        INSERT INTO counts_incident_total ({total_columns})
        SELECT {total_columns} FROM ({_incident_totals_select("= " + incidents)}) t ORDER BY incident_id;
    END IF;"""


def _function(name: str, lock: str, statements: list[str]) -> str:
    body = "\n".join(statements)
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    emptied_place bigint[];
    emptied_day bigint[];
    emptied_month bigint[];
    emptied_incident bigint[];
    emptied_span bigint[];
    emptied_incident_month bigint[];
    emptied_massacre bigint[];
    touched bigint[];
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
            f"SELECT incident_id FROM new_rows WHERE status = '{VERIFIED}' AND civilian_status = '{CIVILIAN}'"
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
    return _function(f"counts_rollup_victims_{operation}", lock, _apply_sql(counted))


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
    return _function("counts_rollup_incidents_update", lock, _apply_sql(counted))


def _governorate_tiers_sql() -> list[str]:
    """The tiers that store a governorate, re-filed from the finer rows (after the place tree changed,
    and in `rebuild`)."""
    month_keys = ", ".join(MONTH_KEY)
    return [
        "DELETE FROM counts_month_rollup",
        f"INSERT INTO counts_month_rollup ({month_keys}, {', '.join(VICTIM_FIGURES)}) "
        "SELECT date_trunc('month', v.death_date)::date AS month, g.governorate_id, v.perpetrator_id, "
        f"{_resummed(VICTIM_FIGURES)} FROM counts_victim_rollup v "
        f"JOIN ({place_governorate_sql()}) g ON g.id = v.place_id GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        f"UPDATE counts_incident_total t SET governorate_id = g.governorate_id FROM ({place_governorate_sql()}) g "
        "WHERE g.id = t.location_id AND t.governorate_id IS DISTINCT FROM g.governorate_id",
    ]


def _place_function() -> str:
    old, new = ", ".join("o." + c for c in PLACE_READS), ", ".join("n." + c for c in PLACE_READS)
    body = "\n    ".join(statement + ";" for statement in (*_governorate_tiers_sql(), *_massacre_month_sql()))
    return f"""
CREATE OR REPLACE FUNCTION counts_rollup_places_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE ({old}) IS DISTINCT FROM ({new})) THEN
    -- Writers of victims wait until this commits (a place moved in the tree is rare).
    LOCK TABLE counts_victim_rollup, counts_month_rollup, counts_incident_total, counts_massacre_month
        IN EXCLUSIVE MODE;
    {body}
    END IF;
    RETURN NULL;
END;
$fn$;"""


def rebuild_sql() -> list[str]:
    """Every tier recomputed from the victims (the migration's backfill; `rebuild`)."""
    counted = (
        f"SELECT {_counted_columns('v', 'i')} FROM incidents_victim v "
        f"JOIN incidents_incident i ON i.id = v.incident_id WHERE {_counted_condition('v', 'i')}"
    )
    place_keys, day_keys, incident_keys = ", ".join(PLACE_KEY), ", ".join(DAY_KEY), ", ".join(INCIDENT_KEY)
    figures = ", ".join(VICTIM_FIGURES)
    total_columns = ", ".join((*TOTAL_KEY, *TOTAL_FIGURES))
    span_keys = ", ".join(SPAN_KEY)
    return [
        *(f"DELETE FROM {table}" for table, _, _ in TIERS),
        f"INSERT INTO counts_victim_rollup ({place_keys}, {figures}) "
        f"SELECT {place_keys}, {', '.join(_victim_sums('1'))} FROM ({counted}) c "
        f"GROUP BY {place_keys} ORDER BY {place_keys}",
        f"INSERT INTO counts_day_rollup ({day_keys}, {figures}) "
        f"SELECT {day_keys}, {_resummed(VICTIM_FIGURES)} FROM counts_victim_rollup "
        f"GROUP BY {day_keys} ORDER BY {day_keys}",
        *_governorate_tiers_sql(),
        f"INSERT INTO counts_incident_rollup ({incident_keys}, victims) "
        f"SELECT {incident_keys}, COUNT(*) FROM ({counted}) c WHERE NOT dup "
        f"GROUP BY {incident_keys} ORDER BY {incident_keys}",
        f"INSERT INTO counts_incident_total ({total_columns}) "
        f"SELECT {total_columns} FROM ({_incident_totals_select('IS NOT NULL')}) t ORDER BY incident_id",
        f"INSERT INTO counts_incident_span ({span_keys}, incidents, injured, massacres) "
        f"SELECT {span_keys}, COUNT(*), SUM(injured_count), COUNT(*) FILTER (WHERE victims >= {MASSACRE_FLOOR}) "
        f"FROM counts_incident_total GROUP BY {span_keys} ORDER BY {span_keys}",
        f"INSERT INTO counts_incident_month ({', '.join(INCIDENT_MONTH_KEY)}, {', '.join(SPAN_FIGURES)}) "
        f"SELECT {_INCIDENT_MONTH_COLUMNS}, {_resummed(SPAN_FIGURES)} FROM counts_incident_span "
        "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
        *_massacre_month_sql(),
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
    (
        "counts_rollup_places_update",
        "incidents_location",
        "UPDATE",
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    ),
)


def functions_sql() -> list[str]:
    """The functions the triggers run (CREATE OR REPLACE), without the triggers or the backfill."""
    statements = [GOVERNORATE_FUNCTION]
    statements += [_victim_function(operation) for operation in ("insert", "update", "delete")]
    return [*statements, _incident_function(), _place_function()]


def install_sql() -> list[str]:
    """The functions and triggers (PostgreSQL), then the backfill."""
    statements = functions_sql()
    for name, table, event, referencing in TRIGGERS:
        statements.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        statements.append(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )
    return statements + rebuild_sql()


def uninstall_sql() -> list[str]:
    statements = [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table, _, _ in TRIGGERS]
    statements += [f"DROP FUNCTION IF EXISTS {name}()" for name, _, _, _ in TRIGGERS]
    return [*statements, "DROP FUNCTION IF EXISTS counts_place_governorate(bigint)"]


def install_in_migration(schema_editor) -> None:
    """What the migration that installs the rollups runs (the latest one, counts/0007): on PostgreSQL, with
    writers waiting (victims, incidents and places locked), the functions and triggers as this code writes
    them and every tier recomputed from the victims. Nothing on other databases (the tables stay empty and
    `window_count` counts the victims)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("LOCK TABLE incidents_victim, incidents_incident, incidents_location IN SHARE MODE")
    for statement in install_sql():
        schema_editor.execute(statement)


def uninstall_in_migration(schema_editor) -> None:
    """What every rollup migration runs going back: the triggers and functions dropped (PostgreSQL)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in uninstall_sql():
        schema_editor.execute(statement)


def triggers_installed(enabled: bool | None = None) -> bool:
    """Whether the rollup triggers are on (PostgreSQL); with `enabled`, switch them, for the caller's
    transaction (the benchmark's 'without triggers' import and the synthetic generator, which recomputes
    every tier before it commits; production never does)."""
    with connection.cursor() as cursor:
        if enabled is not None:
            for name, table, _, _ in TRIGGERS:
                cursor.execute(f"ALTER TABLE {table} {'ENABLE' if enabled else 'DISABLE'} TRIGGER {name}")
        cursor.execute(
            "SELECT COUNT(*) FROM pg_trigger WHERE tgname = ANY(%s) AND tgenabled <> 'D'", [[t[0] for t in TRIGGERS]]
        )
        return cursor.fetchone()[0] == len(TRIGGERS)


def rebuild() -> None:
    """Recompute every tier from the victims (after a TRUNCATE or a restore of some tables)."""
    with counting.consistent_read(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE incidents_victim, incidents_incident, incidents_location IN SHARE MODE")
        for statement in rebuild_sql():
            cursor.execute(statement)


# --- Proof: the stored rollups against a full recompute ---------------------------------------------


def stored_rows() -> dict[str, dict[tuple, tuple]]:
    """Every tier as stored, key → figures."""
    return {
        table: _rows(f"SELECT {', '.join(key)}, {', '.join(figures)} FROM {table}", len(key))
        for table, key, figures in TIERS
    }


def recomputed_rows() -> dict[str, dict[tuple, tuple]]:
    """Every tier as a full recompute from the victims gives it (each straight from the victims, not
    from another tier), key → figures."""
    counted = (
        f"SELECT {_counted_columns('v', 'i')}, date_trunc('month', COALESCE(v.date_of_death, i.occurred_on))::date "
        "AS month, counts_place_governorate(COALESCE(v.place_of_death_id, i.location_id)) AS governorate_id "
        "FROM incidents_victim v JOIN incidents_incident i ON i.id = v.incident_id "
        f"WHERE {_counted_condition('v', 'i')}"
    )
    victim_sums = ", ".join(_victim_sums("1"))
    nonzero = "HAVING COUNT(*) > 0"
    totals = (
        "SELECT incident_id, COUNT(*) AS victims, MIN(death_date) AS first_death, MAX(death_date) AS last_death, "
        "MIN(occurred_on) AS occurred_on, MIN(perpetrator_id) AS perpetrator_id, MIN(location_id) AS location_id, "
        "counts_place_governorate(MIN(location_id)) AS governorate_id, MIN(injured_count) AS injured_count "
        f"FROM ({counted}) c WHERE NOT dup GROUP BY incident_id"
    )
    out = {}
    for table, key, figures in TIERS:
        keys = ", ".join(key)
        if figures == VICTIM_FIGURES:
            sql = f"SELECT {keys}, {victim_sums} FROM ({counted}) c GROUP BY {keys} {nonzero}"
        elif table == "counts_incident_rollup":
            sql = f"SELECT {keys}, COUNT(*) FROM ({counted}) c WHERE NOT dup GROUP BY {keys}"
        elif table == "counts_incident_total":
            sql = f"SELECT {keys}, {', '.join(figures)} FROM ({totals}) t"
        elif table == "counts_incident_span":
            sql = (
                f"SELECT {keys}, COUNT(*), SUM(injured_count), COUNT(*) FILTER (WHERE victims >= {MASSACRE_FLOOR}) "
                f"FROM ({totals}) t GROUP BY {keys}"
            )
        elif table == "counts_incident_month":
            sql = (
                f"SELECT {_INCIDENT_MONTH_COLUMNS}, COUNT(*), SUM(injured_count), "
                f"COUNT(*) FILTER (WHERE victims >= {MASSACRE_FLOOR}) FROM ({totals}) t GROUP BY 1, 2, 3, 4"
            )
        else:
            sql = (
                f"SELECT {_MASSACRE_MONTH_COLUMNS}, COUNT(*) FROM ({totals}) t "
                f"WHERE victims >= {MASSACRE_FLOOR} GROUP BY 1, 2, 3, 4"
            )
        out[table] = _rows(sql, len(key))
    return out


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, Decimal | int) else value


def _rows(sql: str, key_length: int) -> dict[tuple, tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return {
            tuple(row[:key_length]): tuple(_plain(value) for value in row[key_length:]) for row in cursor.fetchall()
        }


# --- Reading a window ---------------------------------------------------------------------------------


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + 1, 1, 1) if day.month == 12 else dt.date(day.year, day.month + 1, 1)


def month_split(date_from: dt.date, date_to: dt.date) -> tuple[tuple[dt.date, dt.date] | None, list]:
    """A window as its whole months (first day of the first and of the last, or None) and the day
    ranges of the partial months at its edges (0 to 2 ranges)."""
    try:
        first = date_from if date_from.day == 1 else _next_month(date_from)
        after = _next_month(date_to)
        last = date_to if after - dt.timedelta(days=1) == date_to else _month_start(date_to) - dt.timedelta(days=1)
    except (OverflowError, ValueError):  # windows at the calendar's ends: read them day by day
        return None, [(date_from, date_to)]
    if first > last:
        return None, [(date_from, date_to)]
    edges = []
    if date_from < first:
        edges.append((date_from, first - dt.timedelta(days=1)))
    if last < date_to:
        edges.append((last + dt.timedelta(days=1), date_to))
    return (first, _month_start(last)), edges


def _pivot(prefix: str = "") -> str:
    return ", ".join(f"COALESCE(SUM({prefix}{name}), 0)" for name, _ in CATEGORIES)


def _roles() -> str:
    return ", ".join(f"COALESCE(SUM({column}), 0)" for column in ROLE_COLUMNS)


NO_ROLES = ", ".join("NULL::bigint" for _ in ROLE_COLUMNS)
NO_FIGURES = "NULL::bigint, NULL::bigint, NULL::bigint"  # a massacre row's unused category columns
SETS = "GROUPING SETS ((), (perpetrator_id), (governorate_id), ({day}))"


def _base_params(parameters: counting.CountParameters) -> dict[str, Any]:
    return {
        "date_from": parameters.date_from,
        "date_to": parameters.date_to,
        "threshold": parameters.massacre_threshold,
    }


def _place_filtered_sql(parameters: counting.CountParameters, params: dict[str, Any]) -> str:
    """A window with a place filter: the finest tiers, restricted to the places' subtrees."""
    params["places"] = sorted(Location.objects.subtree_ids(parameters.locations))
    conditions = ["death_date BETWEEN %(date_from)s AND %(date_to)s", "place_id = ANY(%(places)s)"]
    if parameters.perpetrators:
        params["parties"] = sorted(Perpetrator.objects.subtree_ids(parameters.perpetrators))
        conditions.append("perpetrator_id = ANY(%(parties)s)")
    where = " AND ".join(conditions)
    return f"""
        WITH place_governorate AS MATERIALIZED ({place_governorate_sql()}),
        per_incident AS MATERIALIZED (
            SELECT incident_id, SUM(victims) AS victims, MIN(occurred_on) AS occurred_on,
                   MIN(perpetrator_id) AS perpetrator_id, MIN(location_id) AS location_id,
                   MIN(injured_count) AS injured_count
            FROM counts_incident_rollup WHERE {where} GROUP BY incident_id
        ),
        fine AS MATERIALIZED (SELECT * FROM counts_victim_rollup WHERE {where}),
        massacre AS (
            SELECT p.perpetrator_id, g.governorate_id, p.occurred_on
            FROM per_incident p LEFT JOIN place_governorate g ON g.id = p.location_id
            WHERE victims >= %(threshold)s
        )
        SELECT 'victims', GROUPING(perpetrator_id, governorate_id, death_date), perpetrator_id,
               governorate_id, death_date, {_pivot()}, {_roles()}, NULL
        FROM (SELECT v.*, g.governorate_id FROM fine v LEFT JOIN place_governorate g ON g.id = v.place_id
              WHERE v.total > 0) v
        GROUP BY {SETS.format(day="death_date")}
        UNION ALL
        SELECT 'massacres', GROUPING(perpetrator_id, governorate_id, occurred_on), perpetrator_id,
               governorate_id, occurred_on, COUNT(*), NULL, NULL, NULL, {NO_ROLES}, NULL
        FROM massacre GROUP BY {SETS.format(day="occurred_on")}
        UNION ALL
        SELECT 'incidents', 0, NULL, NULL, NULL, COUNT(*),
               COALESCE(SUM(injured_count) FILTER (WHERE occurred_on BETWEEN %(date_from)s AND %(date_to)s), 0),
               NULL, NULL, {NO_ROLES}, NULL
        FROM per_incident
        UNION ALL
        SELECT 'duplicates', 0, NULL, NULL, NULL, COALESCE(SUM(duplicates), 0), NULL, NULL, NULL, {NO_ROLES}, NULL
        FROM fine
    """


def _unfiltered_sql(parameters: counting.CountParameters, params: dict[str, Any]) -> str:
    """A window without a place filter (a party filter is a condition on every tier): the coarse tiers,
    and the fine ones only at the window's edges."""
    party = ""
    if parameters.perpetrators:
        params["parties"] = sorted(Perpetrator.objects.subtree_ids(parameters.perpetrators))
        party = " AND perpetrator_id = ANY(%(parties)s)"
    months, edges = month_split(parameters.date_from, parameters.date_to)
    # The victims of the window by (governorate, party): the month tier for its whole months, the place
    # tier for the days of its partial months (rows whose figures are all duplicates included: they
    # carry `duplicates`; a key whose total is 0 is left out by `victim_sets`).
    figures = ", ".join(VICTIM_FIGURES)
    month_rows = f"SELECT NULL::bigint AS governorate_id, NULL::bigint AS perpetrator_id, {figures} FROM counts_month_rollup WHERE false"  # noqa: E501
    if months:
        params["month_from"], params["month_to"] = months
        month_rows = (
            f"SELECT governorate_id, perpetrator_id, {figures} FROM counts_month_rollup "
            f"WHERE month BETWEEN %(month_from)s AND %(month_to)s{party}"
        )
    edge_conditions = []
    for n, (first, last) in enumerate(edges):
        params[f"edge_from_{n}"], params[f"edge_to_{n}"] = first, last
        edge_conditions.append(f"v.death_date BETWEEN %(edge_from_{n})s AND %(edge_to_{n})s")
    edge_party = party.replace("perpetrator_id", "v.perpetrator_id")
    edge_rows = (
        f"SELECT g.governorate_id, v.perpetrator_id, {', '.join('v.' + name for name in VICTIM_FIGURES)} "
        "FROM counts_victim_rollup v LEFT JOIN place_governorate g ON g.id = v.place_id "
        f"WHERE ({' OR '.join(edge_conditions) or 'false'}){edge_party}"
    )
    floor = f" AND victims >= {MASSACRE_FLOOR}" if parameters.massacre_threshold >= MASSACRE_FLOOR else ""
    inside = "first_death >= %(date_from)s AND last_death <= %(date_to)s"
    span = "daterange(first_death, last_death, '[]')"
    if parameters.massacre_threshold == MASSACRE_FLOOR:
        massacres = _kept_massacres_sql(months, party, inside, params)
    else:
        massacres = f"""
        massacre AS (
            SELECT perpetrator_id, governorate_id, occurred_on FROM counts_incident_total
            WHERE victims >= %(threshold)s{floor} AND {inside}{party}
            UNION ALL
            SELECT perpetrator_id, governorate_id, occurred_on FROM straddling WHERE victims >= %(threshold)s
        ),
        incidents AS (
            SELECT incidents, injured, occurred_on FROM ({_span_rows_sql(months, party, inside, params)}) s
            UNION ALL
            SELECT 1, injured_count, occurred_on FROM straddling WHERE victims > 0
        ),
        massacre_rows AS (
            SELECT 'massacres', GROUPING(perpetrator_id, governorate_id, occurred_on), perpetrator_id,
                   governorate_id, occurred_on, COUNT(*), {NO_FIGURES}, {NO_ROLES}, NULL
            FROM massacre GROUP BY {SETS.format(day="occurred_on")}
        ),
        incident_row AS (
            SELECT 'incidents', 0, NULL::bigint, NULL::bigint, NULL::date, COALESCE(SUM(incidents), 0),
                   COALESCE(SUM(injured) FILTER (WHERE occurred_on BETWEEN %(date_from)s AND %(date_to)s), 0),
                   NULL::bigint, NULL::bigint, {NO_ROLES}, NULL
            FROM incidents
        )"""
    sums = ", ".join(f"COALESCE(SUM({name}), 0) AS {name}" for name in VICTIM_FIGURES[1:])
    return f"""
        WITH place_governorate AS MATERIALIZED ({place_governorate_sql()}),
        victim_sets AS MATERIALIZED (
            SELECT GROUPING(perpetrator_id, governorate_id) AS sets, perpetrator_id, governorate_id, {sums}
            FROM ({month_rows} UNION ALL {edge_rows}) by_place
            GROUP BY GROUPING SETS ((), (perpetrator_id), (governorate_id))
            HAVING GROUPING(perpetrator_id, governorate_id) = 3 OR SUM(total) > 0
        ),
        straddling AS MATERIALIZED (
            SELECT t.perpetrator_id, t.governorate_id, t.occurred_on, t.injured_count,
                   (SELECT COALESCE(SUM(i.victims), 0) FROM counts_incident_rollup i
                    WHERE i.incident_id = t.incident_id
                      AND i.death_date BETWEEN %(date_from)s AND %(date_to)s) AS victims
            FROM counts_incident_total t
            WHERE first_death < last_death{party}
              AND (({span} @> %(date_from)s::date AND first_death < %(date_from)s)
                   OR ({span} @> %(date_to)s::date AND last_death > %(date_to)s))
        ),{massacres}
        SELECT 'victims', CASE sets WHEN 3 THEN 7 WHEN 1 THEN 3 ELSE 5 END, perpetrator_id, governorate_id,
               NULL::date, children, women, men, unknown, {", ".join(ROLE_COLUMNS)}, NULL
        FROM victim_sets
        UNION ALL
        SELECT 'victims', 6, NULL, NULL, death_date, {_pivot()}, {NO_ROLES}, NULL
        FROM counts_day_rollup WHERE death_date BETWEEN %(date_from)s AND %(date_to)s{party} AND total > 0
        GROUP BY death_date
        UNION ALL
        SELECT * FROM massacre_rows
        UNION ALL
        SELECT * FROM incident_row
        UNION ALL
        SELECT 'duplicates', 0, NULL, NULL, NULL, duplicates, NULL, NULL, NULL, {NO_ROLES}, NULL
        FROM victim_sets WHERE sets = 3
    """


def _span_rows_sql(months: tuple[dt.date, dt.date] | None, party: str, inside: str, params: dict) -> str:
    """`incidents, injured, occurred_on, perpetrator_id, massacres` of the incidents wholly inside the
    window (`inside`): by month (`counts_incident_month`) for those whose first and last death fall in
    its whole months, by day (`counts_incident_span`) for those whose first or last death falls in a
    partial month at an edge (two disjoint ranges, each on an index); all by day without whole months."""
    columns = "incidents, injured, occurred_on, perpetrator_id, massacres"
    if not months:
        return f"SELECT {columns} FROM counts_incident_span WHERE {inside}{party}"
    params["after_months"] = _next_month(months[1])
    return (
        f"SELECT {columns} FROM counts_incident_month "
        f"WHERE first_month >= %(month_from)s AND last_month <= %(month_to)s{party} "
        f"UNION ALL SELECT {columns} FROM counts_incident_span "
        f"WHERE first_death >= %(date_from)s AND first_death < %(month_from)s AND last_death <= %(date_to)s{party} "
        f"UNION ALL SELECT {columns} FROM counts_incident_span "
        f"WHERE first_death >= %(month_from)s AND last_death >= %(after_months)s AND last_death <= %(date_to)s{party}"
    )


def _kept_massacres_sql(months: tuple[dt.date, dt.date] | None, party: str, inside: str, params: dict) -> str:
    """The massacres of a window without a place filter at MASSACRE_FLOOR, from the kept figures (CTEs
    `massacre_rows` and `incident_row` after `straddling`): total, by party and by date from the span
    tier (the incidents wholly inside, day by day), by governorate from `counts_massacre_month` for
    the incidents whose first and last death fall in the window's whole months and from the
    per-incident totals for those whose first or last death falls in a partial month at an edge;
    the incidents straddling an edge are `straddling`'s, as for every threshold."""
    if months:
        by_month = (
            "SELECT governorate_id, massacres FROM counts_massacre_month "
            f"WHERE first_month >= %(month_from)s AND last_month <= %(month_to)s{party}"
        )
        edge = " AND (first_death < %(month_from)s OR last_death >= %(after_months)s)"
    else:
        by_month = "SELECT NULL::bigint AS governorate_id, 0 AS massacres WHERE false"
        edge = ""
    # One pass over the span rows gives `incidents`, `injured` (the () set) and the massacres by
    # party and by date; a party or a date without massacres is left out, as the exact count does.
    return f"""
        span_sets AS MATERIALIZED (
            SELECT GROUPING(perpetrator_id, occurred_on) AS sets, perpetrator_id, occurred_on,
                   COALESCE(SUM(massacres), 0) AS massacres, COALESCE(SUM(incidents), 0) AS incidents,
                   COALESCE(SUM(injured) FILTER (WHERE occurred_on BETWEEN %(date_from)s AND %(date_to)s), 0)
                       AS injured
            FROM (
                {_span_rows_sql(months, party, inside, params)}
                UNION ALL
                SELECT 1, injured_count, occurred_on, perpetrator_id, (victims >= %(threshold)s)::int
                FROM straddling WHERE victims > 0
            ) s
            GROUP BY GROUPING SETS ((), (perpetrator_id), (occurred_on))
            HAVING GROUPING(perpetrator_id, occurred_on) = 3 OR SUM(massacres) > 0
        ),
        massacre_places AS (
            {by_month}
            UNION ALL
            SELECT governorate_id, 1 FROM counts_incident_total
            WHERE victims >= {MASSACRE_FLOOR} AND {inside}{edge}{party}
            UNION ALL
            SELECT governorate_id, 1 FROM straddling WHERE victims >= %(threshold)s
        ),
        massacre_rows AS (
            SELECT 'massacres', CASE sets WHEN 3 THEN 7 WHEN 1 THEN 3 ELSE 6 END, perpetrator_id, NULL::bigint,
                   occurred_on, massacres, {NO_FIGURES}, {NO_ROLES}, NULL
            FROM span_sets
            UNION ALL
            SELECT 'massacres', 5, NULL, governorate_id, NULL, SUM(massacres), {NO_FIGURES}, {NO_ROLES}, NULL
            FROM massacre_places GROUP BY governorate_id
        ),
        incident_row AS (
            SELECT 'incidents', 0, NULL::bigint, NULL::bigint, NULL::date, incidents, injured, NULL::bigint,
                   NULL::bigint, {NO_ROLES}, NULL
            FROM span_sets WHERE sets = 3
        )"""


def _window_sql(parameters: counting.CountParameters) -> tuple[str, dict[str, Any]]:
    params = _base_params(parameters)
    if parameters.locations:
        return _place_filtered_sql(parameters, params), params
    return _unfiltered_sql(parameters, params), params


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
        rows = cursor.fetchall()
    duplicates = sum(int(row[5]) for row in rows if row[0] == "duplicates")
    tallies, _ = counting.tallies_from_rows([row for row in rows if row[0] != "duplicates"])
    return counting.shape(parameters, replace(tallies, excluded_duplicates=duplicates), "").result
