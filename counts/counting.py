"""The counting rule: how many verified civilian deaths, by whom, where, when.

A victim is **counted** when all hold:

1. the victim record is verified, and its incident is verified;
2. the victim's civilian status is *civilian*;
3. the victim is not marked as a duplicate of another record;
4. the date of death (default: the incident's date) is inside the window;
5. the place of death (default: the incident's location) is inside one of the chosen locations'
   subtrees, if any were chosen;
6. the incident's perpetrator is inside one of the chosen perpetrators' subtrees, if any were chosen.

Figures are minimums: "at least". Unverified, rejected, combatant and duplicate records never
change a published figure. A massacre is counted once, for its incident's date and perpetrator.

How the figures follow from the rule (RULE_VERSION names this reading; change it when the reading changes):

- `civilians`: the counted victims, by category (child, woman, man, unknown: the stored generated
  column, so a girl of 17 is a child and a woman of 18 a woman). In every row
  `total = children + women + men + unknown`.
- A **massacre** is a verified incident with at least `MASSACRE_THRESHOLD` (a setting, default 5)
  counted civilian victims, counted under the same parameters; it is counted once, in the row of its
  incident's perpetrator, its incident's date, and the governorate of its incident's place.
- `by_perpetrator`: a row per perpetrator that the counted incidents name directly.
- `by_location`: a row per governorate, the one containing the place of death (incidents.models
  GOVERNORATE_RULE, walked in the database); a place recorded above governorate level (the country),
  or under no governorate, is a row of its own, so the rows still add up to the total. Rows name
  their party or place as the tables did when the count ran (and carry the place's coordinates), so a
  later rename changes no snapshot.
- `by_date`: a row per date of death (massacres on their incident's date).
- `incidents`: incidents with at least one counted victim. `injured`: the sum of `injured_count` over
  those of them dated inside the window.
- `roles`: counted victims holding each role (a victim may hold several).
- `excluded_duplicates`: victims every rule but 3 would count, left out because a reviewer confirmed them
  as duplicates of another record (docs/duplicates.md); beside the figures, never part of them.
- Filters: each location and perpetrator includes its subtree; the victims are filtered with one
  `IN` over the union of the subtrees, so overlapping filters ("Syrian-Russian alliance" and "Russian
  forces") count each victim once.
- The **fingerprint** is the SHA-256 of the rule version, the parameters, and the sorted ids and
  versions of the counted victims and their incidents: the same data gives the same fingerprint, and any
  change to a counted record (which bumps its version), or to which records are counted, a different one.

Everything is computed by the database with aggregates and GROUP BY, inside one transaction that sees
one consistent state (REPEATABLE READ on PostgreSQL), never by looping over victims in Python.

On PostgreSQL the rule is applied by one statement (`compute_in_one_statement`): the counted victims
are read once (rule 4 as two index-friendly branches: victims with their own date of death in the
window, and victims without one whose incident is dated in the window), and every figure is one
GROUPING SETS pass over them. Elsewhere the same rule is applied through the ORM (`compute_portable`,
`counted_victims`). Both read their tallies into one shaper (`shape`), which names, orders and lays
out the `result`. The tests hold both paths, and the benchmark's hand-written floor, to the same
figures and fingerprint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, Count, Expression, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Cast, Coalesce, Concat

from incidents.models import (
    Category,
    CivilianStatus,
    Incident,
    Location,
    Perpetrator,
    Role,
    Status,
    Victim,
    governorate_of,
    place_governorate_sql,
)

RULE_VERSION = "2026.1"

CATEGORY_FIGURES = ("children", "women", "men", "unknown")
CIVILIAN_FIGURES = ("total", *CATEGORY_FIGURES)


@dataclass(frozen=True)
class CountParameters:
    """What a count is asked: a window, and optional location and perpetrator filters (ids)."""

    date_from: dt.date
    date_to: dt.date
    locations: tuple[int, ...] = ()
    perpetrators: tuple[int, ...] = ()
    massacre_threshold: int = field(default_factory=lambda: settings.MASSACRE_THRESHOLD)

    def __post_init__(self) -> None:
        object.__setattr__(self, "locations", tuple(sorted(set(self.locations))))
        object.__setattr__(self, "perpetrators", tuple(sorted(set(self.perpetrators))))

    def canonical(self) -> str:
        """The parameters as one stable text (part of the fingerprint)."""
        return json.dumps(
            {
                "date_from": self.date_from.isoformat(),
                "date_to": self.date_to.isoformat(),
                "locations": list(self.locations),
                "perpetrators": list(self.perpetrators),
                "massacre_threshold": self.massacre_threshold,
            },
            sort_keys=True,
            separators=(",", ":"),
        )


@dataclass(frozen=True)
class Named:
    id: int
    name: str
    name_ar: str


@dataclass(frozen=True)
class CountFigures:
    """A computed count: docs/api.md's `result` object, its fingerprint, and the filters' names."""

    result: dict[str, Any]
    fingerprint: str
    locations: list[Named]
    perpetrators: list[Named]


Row = dict[str, int]


@dataclass(frozen=True)
class Tallies:
    """What an engine reads from the database, before `shape` turns it into docs/api.md's `result`.

    Each `by_*` maps a key (a perpetrator id, a governorate id, a date) to its `total`, the four
    categories and `massacres`.
    """

    civilians: Row
    roles: Row
    massacres: int
    injured: int
    incidents: int
    by_perpetrator: dict[Any, Row]
    by_location: dict[Any, Row]
    by_date: dict[Any, Row]
    # Victims counted but for rule 3 (marked as a duplicate of another record).
    excluded_duplicates: int = 0


# --- The rule, as querysets ----------------------------------------------------------------------


def counted_victims(parameters: CountParameters) -> QuerySet[Victim]:
    """Rules 1-6: the counted victims (see `Victim.objects.counted`)."""
    return Victim.objects.counted(
        parameters.date_from, parameters.date_to, parameters.locations, parameters.perpetrators
    ).order_by()


def excluded_as_duplicates(parameters: CountParameters) -> int:
    """How many victims rules 1, 2 and 4-6 would count but rule 3 excludes: records confirmed as
    duplicates of another (matching, docs/duplicates.md). Reported beside the figures, never in them."""
    queryset = (
        Victim.objects.filter(
            status=Status.VERIFIED,
            incident__status=Status.VERIFIED,
            civilian_status=CivilianStatus.CIVILIAN,
            duplicate_of__isnull=False,
        )
        .annotate(
            death_date=Coalesce(F("date_of_death"), F("incident__occurred_on")),
            death_place_id=Coalesce(F("place_of_death_id"), F("incident__location_id")),
        )
        .filter(death_date__gte=parameters.date_from, death_date__lte=parameters.date_to)
    )
    if parameters.locations:
        queryset = queryset.filter(death_place_id__in=sorted(Location.objects.subtree_ids(parameters.locations)))
    if parameters.perpetrators:
        queryset = queryset.filter(
            incident__perpetrator_id__in=sorted(Perpetrator.objects.subtree_ids(parameters.perpetrators))
        )
    return queryset.order_by().count()


def massacre_incident_ids(victims: QuerySet[Victim], threshold: int) -> QuerySet:
    """Incidents with at least `threshold` counted victims, as a subquery (counted victims are verified
    civilians of verified incidents, so nothing else can make a massacre)."""
    return (
        victims.order_by()
        .values("incident_id")
        .annotate(counted=Count("pk"))
        .filter(counted__gte=threshold)
        .values("incident_id")
    )


def victim_governorate() -> Expression:
    """The governorate of a victim's place of death (the victim's own place, else the incident's)."""
    return Case(
        When(place_of_death__isnull=False, then=governorate_of("place_of_death__")),
        default=governorate_of("incident__location__"),
    )


def category_aggregates() -> dict[str, Any]:
    return {
        "total": Count("pk"),
        "children": Count("pk", filter=Q(category=Category.CHILD)),
        "women": Count("pk", filter=Q(category=Category.WOMAN)),
        "men": Count("pk", filter=Q(category=Category.MAN)),
        "unknown": Count("pk", filter=Q(category=Category.UNKNOWN)),
    }


def role_aggregates() -> dict[str, Any]:
    return {role.value: Count("pk", filter=Q(**{column: True})) for role, column in Victim.ROLE_FIELDS.items()}


# --- Computing ----------------------------------------------------------------------------------


@contextmanager
def consistent_read() -> Iterator[None]:
    """One transaction that sees one state of the database for every query of a count.

    On PostgreSQL it is REPEATABLE READ (a snapshot taken at the first query). Inside an enclosing
    transaction (a test, or a caller's own), that transaction already gives one consistent view.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def compute(parameters: CountParameters) -> CountFigures:
    """Apply the rule: the figures, by perpetrator, governorate and date, and the fingerprint."""
    if connection.vendor == "postgresql":
        return compute_in_one_statement(parameters)
    return compute_portable(parameters)


def compute_portable(parameters: CountParameters) -> CountFigures:
    """Any database: the rule through the ORM, one aggregate query per figure."""
    with consistent_read():
        victims = counted_victims(parameters)
        massacres = Incident.objects.filter(pk__in=massacre_incident_ids(victims, parameters.massacre_threshold))
        totals = victims.aggregate(
            **category_aggregates(), **role_aggregates(), incidents=Count("incident", distinct=True)
        )
        injured = Incident.objects.filter(
            pk__in=victims.values("incident_id"),
            occurred_on__gte=parameters.date_from,
            occurred_on__lte=parameters.date_to,
        ).aggregate(injured=Sum("injured_count"))["injured"]
        tallies = Tallies(
            civilians={name: totals[name] for name in CIVILIAN_FIGURES},
            roles={role.value: totals[role.value] for role in Role},
            massacres=massacres.count(),
            injured=injured or 0,
            incidents=totals["incidents"],
            by_perpetrator=_rows(
                victims.values(key=F("incident__perpetrator_id")), massacres.values(key=F("perpetrator_id"))
            ),
            by_location=_rows(
                victims.values(key=victim_governorate()), massacres.values(key=governorate_of("location__"))
            ),
            by_date=_rows(victims.values(key=F("death_date")), massacres.values(key=F("occurred_on"))),
            excluded_duplicates=excluded_as_duplicates(parameters),
        )
        return shape(parameters, tallies, fingerprint(parameters, victims))


# --- PostgreSQL: every figure in one statement -----------------------------------------------------

ROLE_COLUMNS = tuple(Victim.ROLE_FIELDS.items())
# GROUPING(perpetrator, governorate, date) is a bit mask of the columns *not* grouped by.
TOTAL, BY_PERPETRATOR, BY_LOCATION, BY_DATE = 7, 3, 5, 6


def _single_statement_sql(parameters: CountParameters) -> tuple[str, dict[str, Any]]:
    """Rules 1-6 and every figure as one SQL statement (values bound, never interpolated)."""
    params: dict[str, Any] = {
        "verified": Status.VERIFIED,
        "civilian": CivilianStatus.CIVILIAN,
        "date_from": parameters.date_from,
        "date_to": parameters.date_to,
        "threshold": parameters.massacre_threshold,
        "header": _fingerprint_header(parameters),
    }
    # Rules 1-3, 5 and 6 (5 and 6 over the subtrees, expanded once).
    conditions = [
        "v.status = %(verified)s",
        "i.status = %(verified)s",
        "v.civilian_status = %(civilian)s",
        "v.duplicate_of_id IS NULL",
    ]
    if parameters.locations:
        params["places"] = sorted(Location.objects.subtree_ids(parameters.locations))
        conditions.append("COALESCE(v.place_of_death_id, i.location_id) = ANY(%(places)s)")
    if parameters.perpetrators:
        params["parties"] = sorted(Perpetrator.objects.subtree_ids(parameters.perpetrators))
        conditions.append("i.perpetrator_id = ANY(%(parties)s)")
    common = " AND ".join(conditions)
    roles = ", ".join(f"v.{column}" for _, column in ROLE_COLUMNS)
    select = f"""SELECT v.id, v.version, v.category, {roles},
            COALESCE(v.date_of_death, i.occurred_on) AS death_date,
            COALESCE(v.place_of_death_id, i.location_id) AS death_place_id,
            v.incident_id, i.version AS incident_version, i.occurred_on, i.perpetrator_id,
            i.location_id AS incident_location_id, i.injured_count
        FROM incidents_victim v JOIN incidents_incident i ON i.id = v.incident_id"""  # noqa: S608 (constants; values bound)
    # The governorate of each place: incidents.models GOVERNORATE_RULE, as SQL.
    pivot = ", ".join(
        f"COUNT(*) FILTER (WHERE category = '{category}')"
        for category in (Category.CHILD, Category.WOMAN, Category.MAN, Category.UNKNOWN)
    )
    role_counts = ", ".join(f"COUNT(*) FILTER (WHERE {column})" for _, column in ROLE_COLUMNS)
    no_roles = ", ".join("NULL::bigint" for _ in ROLE_COLUMNS)
    sets = "GROUPING SETS ((), (perpetrator_id), (g.governorate_id), ({day}))"
    sql = f"""
        WITH place_governorate AS MATERIALIZED ({place_governorate_sql()}),
        counted AS MATERIALIZED (
            {select}
            WHERE {common} AND v.date_of_death BETWEEN %(date_from)s AND %(date_to)s
            UNION ALL
            {select}
            WHERE {common} AND v.date_of_death IS NULL AND i.occurred_on BETWEEN %(date_from)s AND %(date_to)s
        ),
        per_incident AS MATERIALIZED (
            SELECT incident_id, COUNT(*) AS victims, MIN(occurred_on) AS occurred_on,
                   MIN(perpetrator_id) AS perpetrator_id, MIN(incident_location_id) AS location_id,
                   MIN(injured_count) AS injured_count
            FROM counted GROUP BY incident_id
        )
        SELECT 'victims', GROUPING(perpetrator_id, g.governorate_id, death_date), perpetrator_id,
               g.governorate_id, death_date, {pivot}, {role_counts}, NULL
        FROM counted LEFT JOIN place_governorate g ON g.id = counted.death_place_id
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
        UNION ALL
        SELECT 'fingerprint', 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, {no_roles},
               encode(sha256(convert_to(%(header)s || COALESCE((
                   SELECT string_agg(id || ':' || version || ':' || incident_id || ':' || incident_version
                                     || E'\\n', '' ORDER BY id) FROM counted), ''), 'UTF8')), 'hex')
    """  # noqa: S608 (column names and constants only; every value is a bound parameter)
    return sql, params


# For the count's one statement only (EXPLAIN ANALYZE at 1M victims, bench/README.md): JIT compiling
# its ~180 expressions cost ~0.45 s for a statement that runs in ~2 s; and the counted victims, the
# per-incident tally and the fingerprint's sort spill to disk at the default 4 MB of work_mem.
STATEMENT_SETTINGS = {"jit": "off", "work_mem": "64MB"}


@contextmanager
def _statement_settings(cursor: Any) -> Iterator[None]:
    """Apply STATEMENT_SETTINGS inside the current transaction, then put back what was there (on an
    error the enclosing atomic block's rollback, to its savepoint or in full, undoes them)."""
    names = list(STATEMENT_SETTINGS)
    cursor.execute("SELECT " + ", ".join("current_setting(%s)" for _ in names), names)
    previous = dict(zip(names, cursor.fetchone(), strict=True))
    for name, value in STATEMENT_SETTINGS.items():
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
    yield
    for name, value in previous.items():
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


def compute_in_one_statement(parameters: CountParameters) -> CountFigures:
    """PostgreSQL: `_single_statement_sql`, read into tallies and shaped as `compute_portable`'s are."""
    sql, params = _single_statement_sql(parameters)
    with consistent_read():
        with connection.cursor() as cursor, _statement_settings(cursor):
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        tallies, digest = tallies_from_rows(rows)
        tallies = replace(tallies, excluded_duplicates=excluded_as_duplicates(parameters))  # same consistent read
        return shape(parameters, tallies, digest)


def tallies_from_rows(rows: list[tuple]) -> tuple[Tallies, str]:
    """The rows of `_single_statement_sql` (or of the rollup's statement, counts/rollup.py, which
    answers in the same layout) as tallies, and the fingerprint's digest ("" when none was asked)."""
    groups: dict[int, dict[Any, Row]] = {mask: {} for mask in (TOTAL, BY_PERPETRATOR, BY_LOCATION, BY_DATE)}
    key_column = {TOTAL: None, BY_PERPETRATOR: 2, BY_LOCATION: 3, BY_DATE: 4}
    roles_row: tuple = (0,) * len(ROLE_COLUMNS)
    massacre_rows: list[tuple] = []
    incidents = injured = 0
    digest = ""
    for row in rows:
        kind, mask = row[0], row[1]
        if kind == "victims":
            key = None if key_column[mask] is None else row[key_column[mask]]
            figures = dict(zip(CATEGORY_FIGURES, (int(value) for value in row[5:9]), strict=True))
            groups[mask][key] = {"total": sum(figures.values()), **figures, "massacres": 0}
            if mask == TOTAL:
                roles_row = row[9 : 9 + len(ROLE_COLUMNS)]
        elif kind == "massacres":
            massacre_rows.append(row)
        elif kind == "incidents":
            incidents, injured = int(row[5]), int(row[6])
        else:
            digest = row[-1]
    massacres = 0
    for row in massacre_rows:  # after the victims' rows, so each lands in its key's row
        mask = row[1]
        if mask == TOTAL:
            massacres = int(row[5])
            continue
        entry = groups[mask].setdefault(row[key_column[mask]], dict.fromkeys((*CIVILIAN_FIGURES, "massacres"), 0))
        entry["massacres"] = int(row[5])
    totals = groups[TOTAL].get(None, dict.fromkeys(CIVILIAN_FIGURES, 0))
    tallies = Tallies(
        civilians={name: totals[name] for name in CIVILIAN_FIGURES},
        roles={role.value: int(value or 0) for (role, _), value in zip(ROLE_COLUMNS, roles_row, strict=True)},
        massacres=massacres,
        injured=injured,
        incidents=incidents,
        by_perpetrator=groups[BY_PERPETRATOR],
        by_location=groups[BY_LOCATION],
        by_date=groups[BY_DATE],
    )
    return tallies, digest


# --- Shaping: the one place a count's `result` is put together -----------------------------------


def shape(parameters: CountParameters, tallies: Tallies, digest: str) -> CountFigures:
    """docs/api.md's `result` from either engine's tallies: rows named, sorted the same way, dates in ISO form."""
    perpetrator_names = _names(Perpetrator, tallies.by_perpetrator)
    location_names = _names(Location, tallies.by_location)
    result = {
        "civilians": tallies.civilians,
        "massacres": tallies.massacres,
        "injured": tallies.injured,
        "incidents": tallies.incidents,
        "roles": tallies.roles,
        "by_perpetrator": _sorted_by_total(
            [{"perpetrator": perpetrator_names[key], **row} for key, row in tallies.by_perpetrator.items()]
        ),
        "by_location": _sorted_by_total(
            [{"location": location_names[key], **row} for key, row in tallies.by_location.items()], key="location"
        ),
        "by_date": [
            {"date": _iso(key), **row} for key, row in sorted(tallies.by_date.items(), key=lambda kv: _iso(kv[0]))
        ],
        "excluded_duplicates": tallies.excluded_duplicates,
    }
    return CountFigures(
        result=result,
        fingerprint=digest,
        locations=_named(Location, parameters.locations),
        perpetrators=_named(Perpetrator, parameters.perpetrators),
    )


def _rows(victim_groups: QuerySet, massacre_groups: QuerySet) -> dict[Any, Row]:
    """Category figures per key (GROUP BY in the database), with massacres per key merged in."""
    rows: dict[Any, Row] = {}
    for group in victim_groups.order_by().annotate(**category_aggregates()):
        rows[group["key"]] = {name: group[name] for name in CIVILIAN_FIGURES} | {"massacres": 0}
    for group in massacre_groups.order_by().annotate(massacres=Count("pk")):
        row = rows.setdefault(group["key"], dict.fromkeys(CIVILIAN_FIGURES, 0))
        row["massacres"] = group["massacres"]
    return rows


def _names(model: type[Location] | type[Perpetrator], rows: dict[Any, Any]) -> dict[int, dict[str, Any]]:
    """Each row's party or place by name (English, Arabic) and, for places, coordinates: stored in the
    result, so what a snapshot shows never changes when the tables do."""
    fields = ["id", "name", "name_ar", *(["latitude", "longitude"] if model is Location else [])]
    items = model.objects.filter(pk__in=[key for key in rows if key is not None]).values(*fields)
    return {item["id"]: {**item, **coordinates(item)} for item in items} | {None: None}


def coordinates(item: dict[str, Any]) -> dict[str, str | None]:
    """Decimal degrees as the locations API writes them (text with six decimals), or null."""
    return {
        axis: None if item[axis] is None else f"{item[axis]:.6f}" for axis in ("latitude", "longitude") if axis in item
    }


def _named(model: type[Location] | type[Perpetrator], ids: tuple[int, ...]) -> list[Named]:
    """The chosen nodes by name, leaving out any that lies inside another chosen node's subtree
    (the summary says "by Syrian-Russian alliance", not "... and Russian forces" as well)."""
    inside_another = set()
    for node in ids:
        inside_another |= model.objects.subtree_ids([node]) - {node}
    kept = [pk for pk in ids if pk not in inside_another]
    return [Named(**item) for item in model.objects.filter(pk__in=kept).order_by("id").values("id", "name", "name_ar")]


def _sorted_by_total(rows: list[dict[str, Any]], key: str = "perpetrator") -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: (-row["total"], -row["massacres"], (row[key] or {}).get("name", "")))


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)[:10]


# --- The fingerprint ----------------------------------------------------------------------------


def _fingerprint_header(parameters: CountParameters) -> str:
    return f"rule={RULE_VERSION}\nparameters={parameters.canonical()}\n"


def _record_line() -> Expression:
    """One counted victim as `victim id:version:incident id:version` (a line of the fingerprint)."""
    text = CharField()
    return Concat(
        Cast("pk", text),
        Value(":"),
        Cast("version", text),
        Value(":"),
        Cast("incident_id", text),
        Value(":"),
        Cast("incident__version", text),
        Value("\n"),
        output_field=text,
    )


def fingerprint(parameters: CountParameters, victims: QuerySet[Victim] | None = None) -> str:
    """SHA-256 of the rule version, the parameters and the counted records' ids and versions."""
    victims = counted_victims(parameters) if victims is None else victims
    if connection.vendor == "postgresql":
        return _fingerprint_in_database(parameters, victims)
    return fingerprint_streamed(parameters, victims)


def _fingerprint_in_database(parameters: CountParameters, victims: QuerySet[Victim]) -> str:
    """PostgreSQL hashes the sorted lines itself: no row leaves the database."""
    lines = victims.order_by().values(victim_key=F("pk"), record_line=_record_line())
    inner_sql, inner_params = lines.query.sql_with_params()
    # Django's own SQL for the counted victims, wrapped; every value is a bound parameter.
    prefix = "SELECT encode(sha256(convert_to(%s || COALESCE(string_agg(t.record_line, '' ORDER BY t.victim_key), ''), "
    sql = prefix + "'UTF8')), 'hex') FROM (" + inner_sql + ") AS t"
    with connection.cursor() as cursor:
        cursor.execute(sql, [_fingerprint_header(parameters), *inner_params])
        return cursor.fetchone()[0]


def fingerprint_streamed(parameters: CountParameters, victims: QuerySet[Victim]) -> str:
    """The same hash, fed from a server-side stream of (id, version) pairs (other databases)."""
    digest = hashlib.sha256(_fingerprint_header(parameters).encode())
    rows = victims.order_by("pk").values_list("pk", "version", "incident_id", "incident__version")
    for victim_id, version, incident_id, incident_version in rows.iterator(chunk_size=10_000):
        digest.update(f"{victim_id}:{version}:{incident_id}:{incident_version}\n".encode())
    return digest.hexdigest()
