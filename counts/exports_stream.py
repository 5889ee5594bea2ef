"""Every counted victim of a count snapshot, as a streaming CSV: `GET /api/v1/counts/<id>/victims.csv`.

Admins only (the rows carry names). No row cap: rows come from a server-side cursor in chunks and
leave as CSV as they come, so memory stays flat whether a count holds a hundred victims or a million.
The rows are the victims counted under the snapshot's parameters *now*; the response header
carries the snapshot's fingerprint so a reader can tell whether the records changed since it ran.

Cells are neutralised against spreadsheet formula injection (SECURITY.md): a cell starting with
= + - @, a tab or a carriage return gets a leading apostrophe. UTF-8 with a BOM, so Excel opens Arabic.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.exceptions import EmptyResultSet, PermissionDenied
from django.db import connections
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.auth import require_second_factor
from incidents import roles
from incidents.models import Location, Perpetrator, Victim
from incidents.workflow import IllegalTransition

from . import counting, services
from .api import CanManageCounts, ExportNegotiation
from .models import CountSnapshot

BOM = "\ufeff"
CHUNK_CHARS = 256 * 1024
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ITERATOR_CHUNK = 5000

HEADER = [
    "victim_id",
    "incident_id",
    "name",
    "name_ar",
    "sex",
    "age_years",
    "category",
    "roles",
    "date_of_death",
    "place_of_death",
    "governorate",
    "incident_date",
    "perpetrator",
]
ROLE_NAMES = [role.value for role in Victim.ROLE_FIELDS]


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _governorates() -> tuple[dict[int, str], dict[int, str]]:
    """Every place's English name, and the name of the governorate it lies in (small tables, one query)."""
    places = {
        pk: (name, level, parent)
        for pk, name, level, parent in Location.objects.values_list("pk", "name", "level", "parent_id")
    }
    names = {pk: name for pk, (name, _, _) in places.items()}
    governorate: dict[int, str] = {}
    for pk in places:
        node: int | None = pk
        while node is not None and places[node][1] != Location.Level.GOVERNORATE:
            node = places[node][2]
        governorate[pk] = places[node][0] if node is not None else ""
    return names, governorate


def victim_rows(counted: QuerySet) -> Iterator[list]:
    """CSV rows (without the header) for a queryset of counted victims, read in server-side chunks."""
    place_names, governorate_of = _governorates()
    party_names = dict(Perpetrator.objects.values_list("pk", "name"))
    fields = [
        "id",
        "incident_id",
        "name",
        "name_ar",
        "sex",
        "age_years",
        "category",
        *Victim.ROLE_FIELDS.values(),
        "died_on",
        "died_at",
        "incident__occurred_on",
        "incident__perpetrator_id",
    ]
    rows = (
        counted.order_by("id")
        .annotate(
            died_on=Coalesce("date_of_death", "incident__occurred_on"),
            died_at=Coalesce("place_of_death_id", "incident__location_id"),
        )
        .values_list(*fields)
        .iterator(chunk_size=ITERATOR_CHUNK)
    )
    role_count = len(ROLE_NAMES)
    for row in rows:
        flags = row[7 : 7 + role_count]
        died_on, died_at, occurred_on, party = row[7 + role_count :]
        yield [
            row[0],
            row[1],
            neutralise(row[2]),
            neutralise(row[3]),
            row[4],
            "" if row[5] is None else row[5],
            row[6],
            ";".join(name for name, flag in zip(ROLE_NAMES, flags, strict=True) if flag),
            died_on.isoformat(),
            neutralise(place_names.get(died_at, "")),
            neutralise(governorate_of.get(died_at, "")),
            occurred_on.isoformat(),
            neutralise(party_names.get(party, "")),
        ]


def csv_chunks(rows: Iterable[list], header: list[str] = HEADER) -> Iterator[bytes]:
    """UTF-8 (with BOM) CSV in chunks of about CHUNK_CHARS characters."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    buffer.write(BOM)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= CHUNK_CHARS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _safe(column: str) -> str:
    """SQL for a text cell neutralised against formula injection (the same rule as `neutralise`)."""
    # NULLIF: PostgreSQL quotes an empty string ("") to tell it from NULL; the csv module leaves it bare.
    return (
        f"NULLIF(CASE WHEN left({column}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') "
        f"THEN '''' || {column} ELSE {column} END, '')"
    )


def copy_statement(counted: QuerySet) -> tuple[str, tuple]:
    """PostgreSQL: one `COPY (...) TO STDOUT` producing the same rows as `victim_rows`.

    The counted victims are the ORM's query (the counting rule's own queryset, compiled); PostgreSQL
    then writes the CSV itself, several times faster than building rows in Python at a million.
    """
    role_columns = {f"e_{name}": F(field) for name, field in zip(ROLE_NAMES, Victim.ROLE_FIELDS.values(), strict=True)}
    inner = counted.order_by().values(
        e_id=F("id"),
        e_incident=F("incident_id"),
        e_name=F("name"),
        e_name_ar=F("name_ar"),
        e_sex=F("sex"),
        e_age=F("age_years"),
        e_category=F("category"),
        **role_columns,
        e_died_on=Coalesce("date_of_death", "incident__occurred_on"),
        e_died_at=Coalesce("place_of_death_id", "incident__location_id"),
        e_occurred=F("incident__occurred_on"),
        e_party=F("incident__perpetrator_id"),
    )
    sql, params = inner.query.sql_with_params()
    roles = ", ".join(f"CASE WHEN c.e_{name} THEN '{name}' END" for name in ROLE_NAMES)
    statement = f"""COPY (
        WITH RECURSIVE governorate_of(id, name) AS (
            SELECT id, name FROM incidents_location WHERE level = 'governorate'
            UNION ALL
            SELECT l.id, g.name FROM incidents_location l JOIN governorate_of g ON l.parent_id = g.id
        )
        SELECT c.e_id, c.e_incident, {_safe("c.e_name")}, {_safe("c.e_name_ar")}, c.e_sex, c.e_age, c.e_category,
               NULLIF(concat_ws(';', {roles}), ''), c.e_died_on, {_safe("place.name")}, {_safe("g.name")}, c.e_occurred,
               {_safe("party.name")}
        FROM ({sql}) AS c
        LEFT JOIN incidents_location place ON place.id = c.e_died_at
        LEFT JOIN governorate_of g ON g.id = c.e_died_at
        LEFT JOIN incidents_perpetrator party ON party.id = c.e_party
        ORDER BY c.e_id
    ) TO STDOUT WITH (FORMAT csv)"""  # noqa: S608 (the inner query is the ORM's, with bound parameters)
    return statement, params


def csv_stream(counted: QuerySet) -> Iterator[bytes]:
    """The whole CSV, header first: COPY on PostgreSQL, Python's csv writer elsewhere."""
    connection = connections[counted.db]
    if connection.vendor != "postgresql":
        yield from csv_chunks(victim_rows(counted))
        return
    buffer = io.StringIO()
    buffer.write(BOM)
    csv.writer(buffer, lineterminator="\n").writerow(HEADER)
    yield buffer.getvalue().encode("utf-8")
    try:
        statement, params = copy_statement(counted)
    except EmptyResultSet:  # e.g. filtered by an empty list of ids: nothing to copy
        return
    pending: list[bytes] = []
    size = 0
    with connection.cursor() as cursor, cursor.cursor.copy(statement, params) as copy:
        for block in copy:
            pending.append(bytes(block))
            size += len(block)
            if size >= CHUNK_CHARS:
                yield b"".join(pending)
                pending, size = [], 0
    if pending:
        yield b"".join(pending)


# --- The endpoint --------------------------------------------------------------------------------


def counted_victims_csv(*, actor: Any, snapshot: CountSnapshot) -> tuple[Iterator[bytes], str]:
    """Admins, done snapshots: the counted victims as CSV chunks and a file name; writes an audit entry."""
    if not roles.can_manage_counts(actor):
        raise PermissionDenied(_("Only admins may compute, publish and export counts."))
    if snapshot.status != CountSnapshot.State.DONE:
        raise IllegalTransition(_("Only a finished count can be exported."))
    counted = counting.counted_victims(services.parameters_of(snapshot))
    services.record_event(
        actor=actor,
        action="count.victims_exported",
        target=snapshot,
        details={"format": "csv", "fingerprint": snapshot.fingerprint},
    )
    return csv_stream(counted), f"count-{snapshot.pk}-{snapshot.date_from}-{snapshot.date_to}-victims.csv"


class CountedVictimsCSVView(APIView):
    """`GET /api/v1/counts/<id>/victims.csv`: every counted victim of a done snapshot (admins), streamed."""

    permission_classes = [CanManageCounts]
    content_negotiation_class = ExportNegotiation

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk: int) -> StreamingHttpResponse:
        require_second_factor(request)
        snapshot = get_object_or_404(CountSnapshot, pk=pk)
        chunks, filename = counted_victims_csv(actor=request.user, snapshot=snapshot)
        response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        response["X-Count-Fingerprint"] = snapshot.fingerprint
        return response
