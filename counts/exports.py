"""A count snapshot as files: its figures (CSV, XLSX, JSON, a printable PDF) and every counted victim
(a streamed CSV for admins).

The figures come from the snapshot's stored `result` (never recomputed), so an export always
matches the published figures and fingerprint. The counted victims are the records counted under the
snapshot's parameters *now*; their file carries the snapshot's fingerprint in a response header so a
reader can tell whether the records changed since the count ran.

Spreadsheet cells are values, never formulas (docs/security.md): `neutralise` puts an apostrophe before
text that a spreadsheet would run — starting with = + - @, a tab or a carriage return — in every
CSV and XLSX cell; PostgreSQL's COPY applies the same rule (`_neutralised_sql`, built from the same
FORMULA_TRIGGERS; a test holds the two paths to the same bytes). XLSX text cells are typed as
strings. CSV is UTF-8 with a byte-order mark so Excel reads Arabic correctly.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils.html import escape

from incidents.models import Location, Perpetrator, Role, Victim, place_governorate_sql

from .models import CountSnapshot

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would evaluate becomes inert text; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


# --- The figures of a snapshot ----------------------------------------------------------------------

FIGURES = ("total", "children", "women", "men", "unknown", "massacres")
ROLE_NAMES = {
    "civil_defense": ("Civil defense", "الدفاع المدني"),
    "medical": ("Medical", "الكوادر الطبية"),
    "media": ("Media", "الكوادر الإعلامية"),
    "humanitarian": ("Humanitarian", "العاملون في المجال الإنساني"),
    "education": ("Education", "الكوادر التعليمية"),
    "other": ("Other", "أخرى"),
}
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
CHART_COLOURS = {"children": "#c0392b", "women": "#8e44ad", "men": "#2c3e50", "unknown": "#95a5a6"}


def render(snapshot: CountSnapshot, export_format: str) -> tuple[bytes, str]:
    renderer = {"csv": to_csv, "json": to_json, "xlsx": to_xlsx, "pdf": to_pdf}[export_format]
    return renderer(snapshot), CONTENT_TYPES[export_format]


# --- The tables ---------------------------------------------------------------------------------

# Victims left out of the figures because a reviewer confirmed them as duplicates (counting rule 3).
DUPLICATES_LABEL = ("Excluded as duplicates", "استُبعدوا لأنهم مكرَّرون")

TABLE_HEADER = ["table", "id", "name", "name_ar", "date", *FIGURES]


def table_rows(snapshot: CountSnapshot) -> Iterator[list[Any]]:
    """Every figure of the snapshot as rows of one table (the CSV; the XLSX splits it into sheets)."""
    result = snapshot.result or {}
    civilians = result.get("civilians", {})
    yield ["all", "", "All civilians", "جميع المدنيين", "", *[civilians.get(f, result.get(f, 0)) for f in FIGURES]]
    for row in result.get("by_perpetrator", []):
        party = row["perpetrator"] or {}
        yield ["perpetrator", party.get("id", ""), party.get("name", ""), party.get("name_ar", ""), "", *_figures(row)]
    for row in result.get("by_location", []):
        place = row["location"] or {}
        yield ["location", place.get("id", ""), place.get("name", ""), place.get("name_ar", ""), "", *_figures(row)]
    for row in result.get("by_date", []):
        yield ["date", "", "", "", row["date"], *_figures(row)]
    for role in Role:
        english, arabic = ROLE_NAMES[role.value]
        yield ["role", role.value, english, arabic, "", result.get("roles", {}).get(role.value, 0), "", "", "", "", ""]
    yield ["injured", "", "Injured", "الجرحى", "", result.get("injured", 0), "", "", "", "", ""]
    yield ["incidents", "", "Incidents", "الحوادث", "", result.get("incidents", 0), "", "", "", "", ""]
    if "excluded_duplicates" in result:  # snapshots computed since the duplicates review (docs/duplicates.md)
        yield [
            "excluded_duplicates",
            "",
            DUPLICATES_LABEL[0],
            DUPLICATES_LABEL[1],
            "",
            result["excluded_duplicates"],
            "",
            "",
            "",
            "",
            "",
        ]


def _figures(row: dict[str, Any]) -> list[int]:
    return [row.get(name, 0) for name in FIGURES]


# --- CSV, JSON ----------------------------------------------------------------------------------


def to_csv(snapshot: CountSnapshot) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(TABLE_HEADER)
    for row in table_rows(snapshot):
        writer.writerow([neutralise(cell) for cell in row])
    return (BOM + buffer.getvalue()).encode("utf-8")


def snapshot_document(snapshot: CountSnapshot) -> dict[str, Any]:
    """The snapshot as the API shows it to admins, without who asked for it."""
    return {
        "id": snapshot.pk,
        "status": snapshot.status,
        "date_from": snapshot.date_from,
        "date_to": snapshot.date_to,
        "period": snapshot.period_id,
        "locations": snapshot.locations,
        "perpetrators": snapshot.perpetrators,
        "massacre_threshold": snapshot.massacre_threshold,
        "rule_version": snapshot.rule_version,
        "fingerprint": snapshot.fingerprint,
        "computed_at": snapshot.computed_at,
        "published_at": snapshot.published_at,
        "supersedes": snapshot.supersedes_id,
        "summary_en": snapshot.summary_en,
        "summary_ar": snapshot.summary_ar,
        "result": snapshot.result,
    }


def to_json(snapshot: CountSnapshot) -> bytes:
    return json.dumps(snapshot_document(snapshot), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2).encode()


# --- XLSX ---------------------------------------------------------------------------------------


def to_xlsx(snapshot: CountSnapshot) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    about = workbook.active
    about.title = "Summary"
    result = snapshot.result or {}
    civilians = result.get("civilians", {})
    facts = [
        ("Snapshot", snapshot.pk),
        ("From", snapshot.date_from.isoformat()),
        ("To", snapshot.date_to.isoformat()),
        ("Computed at (UTC)", snapshot.computed_at.isoformat() if snapshot.computed_at else ""),
        ("Published at (UTC)", snapshot.published_at.isoformat() if snapshot.published_at else ""),
        ("Fingerprint (SHA-256)", snapshot.fingerprint),
        ("Rule version", snapshot.rule_version),
        ("Massacre threshold", snapshot.massacre_threshold),
        ("Summary", snapshot.summary_en),
        ("الملخص", snapshot.summary_ar),
        ("Civilians", civilians.get("total", 0)),
        ("Children", civilians.get("children", 0)),
        ("Women", civilians.get("women", 0)),
        ("Men", civilians.get("men", 0)),
        ("Unknown", civilians.get("unknown", 0)),
        ("Massacres", result.get("massacres", 0)),
        ("Injured", result.get("injured", 0)),
        ("Incidents", result.get("incidents", 0)),
    ]
    if "excluded_duplicates" in result:
        facts.append((DUPLICATES_LABEL[0], result["excluded_duplicates"]))
    for label, value in facts:
        _append(about, [label, value])
    about.column_dimensions["A"].width = 24
    about.column_dimensions["B"].width = 100
    for row in about.iter_rows(min_row=9, max_row=10, min_col=2, max_col=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    sheets = {"perpetrator": "By perpetrator", "location": "By governorate", "date": "By date", "role": "Roles"}
    tables = {kind: workbook.create_sheet(title) for kind, title in sheets.items()}
    headers = {
        "perpetrator": ["id", "name", "name_ar", *FIGURES],
        "location": ["id", "name", "name_ar", *FIGURES],
        "date": ["date", *FIGURES],
        "role": ["role", "name", "name_ar", "total"],
    }
    for kind, sheet in tables.items():
        _append(sheet, headers[kind])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    for row in table_rows(snapshot):
        kind = row[0]
        if kind in ("perpetrator", "location"):
            _append(tables[kind], [row[1], row[2], row[3], *row[5:]])
        elif kind == "date":
            _append(tables[kind], [row[4], *row[5:]])
        elif kind == "role":
            _append(tables[kind], [row[1], row[2], row[3], row[5]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _append(sheet: Any, values: list[Any]) -> None:
    """Append a row of values; text is always a string cell (openpyxl would read "=..." as a formula)."""
    sheet.append([neutralise(value) for value in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


# --- PDF ----------------------------------------------------------------------------------------


def chart_svg(rows: list[dict[str, Any]], label_key: str, width: int = 640, bar_height: int = 18) -> str:
    """A horizontal stacked bar per row (children, women, men, unknown), as inline SVG for the PDF."""
    rows = [row for row in rows if row.get("total")][:15]
    if not rows:
        return ""
    label_width, gap, right = 220, 6, 60
    scale = (width - label_width - right) / max(row["total"] for row in rows)
    height = len(rows) * (bar_height + gap) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img" font-size="11">'
    ]
    for index, row in enumerate(rows):
        y = index * (bar_height + gap)
        label = (row.get(label_key) or {}).get("name", "") if isinstance(row.get(label_key), dict) else row[label_key]
        parts.append(f'<text x="0" y="{y + bar_height - 5}">{escape(label)}</text>')
        x = float(label_width)
        for category, colour in CHART_COLOURS.items():
            size = row.get(category, 0) * scale
            if size:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{size:.1f}" height="{bar_height}" fill="{colour}">'
                    f"<title>{category}: {row[category]}</title></rect>"
                )
                x += size
        parts.append(f'<text x="{x + 4:.1f}" y="{y + bar_height - 5}">{row["total"]}</text>')
    legend_y = len(rows) * (bar_height + gap) + 15
    x = float(label_width)
    for category, colour in CHART_COLOURS.items():
        parts.append(f'<rect x="{x:.0f}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14:.0f}" y="{legend_y}">{category}</text>')
        x += 90
    parts.append("</svg>")
    return "".join(parts)


def to_pdf(snapshot: CountSnapshot) -> bytes:
    """A printable report: both summaries (the Arabic shaped, right to left), the tables and a chart.

    Fonts come from the system (Debian's fonts-hosny-amiri and fonts-dejavu-core, installed by
    `make system-deps`); nothing is fetched at run time.
    """
    from django.utils.safestring import mark_safe
    from weasyprint import HTML

    result = snapshot.result or {}
    html = render_to_string(
        "counts/report.html",
        {
            "snapshot": snapshot,
            "result": result,
            "civilians": result.get("civilians", {}),
            "roles": [
                (ROLE_NAMES[role][0], ROLE_NAMES[role][1], count) for role, count in result.get("roles", {}).items()
            ],
            "chart": mark_safe(chart_svg(result.get("by_perpetrator", []), "perpetrator")),  # noqa: S308 (escaped above)
            "location_chart": mark_safe(chart_svg(result.get("by_location", []), "location")),  # noqa: S308
        },
    )
    return HTML(string=html, base_url=None).write_pdf()


# --- Every counted victim, streamed -----------------------------------------------------------------

CHUNK_CHARS = 256 * 1024
ITERATOR_CHUNK = 5000

VICTIMS_HEADER = [
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
VICTIM_ROLES = [role.value for role in Victim.ROLE_FIELDS]


def _governorates() -> tuple[dict[int, str], dict[int, str]]:
    """Every place's English name, and the name of its governorate (incidents.models GOVERNORATE_RULE)."""
    names = dict(Location.objects.values_list("pk", "name"))
    governorate = {pk: names[gov] for pk, gov in Location.objects.governorate_of_each().items()}
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
    role_count = len(VICTIM_ROLES)
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
            ";".join(name for name, flag in zip(VICTIM_ROLES, flags, strict=True) if flag),
            died_on.isoformat(),
            neutralise(place_names.get(died_at, "")),
            neutralise(governorate_of.get(died_at, "")),
            occurred_on.isoformat(),
            neutralise(party_names.get(party, "")),
        ]


def csv_chunks(rows: Iterable[list], header: list[str] = VICTIMS_HEADER) -> Iterator[bytes]:
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


def _sql_character(character: str) -> str:
    return {"\t": "E'\\t'", "\r": "E'\\r'"}.get(character, f"'{character}'")


def _neutralised_sql(column: str) -> str:
    """`neutralise` in SQL, for PostgreSQL's COPY: the same FORMULA_TRIGGERS, the same apostrophe."""
    triggers = ", ".join(_sql_character(character) for character in FORMULA_TRIGGERS)
    # NULLIF: PostgreSQL quotes an empty string ("") to tell it from NULL; the csv module leaves it bare.
    return f"NULLIF(CASE WHEN left({column}, 1) IN ({triggers}) THEN '''' || {column} ELSE {column} END, '')"


def copy_statement(counted: QuerySet) -> tuple[str, tuple]:
    """PostgreSQL: one `COPY (...) TO STDOUT` producing the same rows as `victim_rows`.

    The counted victims are the ORM's query (the counting rule's own queryset, compiled); PostgreSQL
    then writes the CSV itself, several times faster than building rows in Python at a million.
    """
    role_columns = {
        f"e_{name}": F(field) for name, field in zip(VICTIM_ROLES, Victim.ROLE_FIELDS.values(), strict=True)
    }
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
    roles = ", ".join(f"CASE WHEN c.e_{name} THEN '{name}' END" for name in VICTIM_ROLES)
    text = {
        column: _neutralised_sql(column) for column in ("c.e_name", "c.e_name_ar", "place.name", "g.name", "party.name")
    }
    statement = f"""COPY (
        WITH governorate_of(id, name) AS (
            SELECT p.id, g.name FROM ({place_governorate_sql()}) p JOIN incidents_location g ON g.id = p.governorate_id
        )
        SELECT c.e_id, c.e_incident, {text["c.e_name"]}, {text["c.e_name_ar"]}, c.e_sex, c.e_age, c.e_category,
               NULLIF(concat_ws(';', {roles}), ''), c.e_died_on, {text["place.name"]}, {text["g.name"]}, c.e_occurred,
               {text["party.name"]}
        FROM ({sql}) AS c
        LEFT JOIN incidents_location place ON place.id = c.e_died_at
        LEFT JOIN governorate_of g ON g.id = c.e_died_at
        LEFT JOIN incidents_perpetrator party ON party.id = c.e_party
        ORDER BY c.e_id
    ) TO STDOUT WITH (FORMAT csv)"""  # noqa: S608 (the inner query is the ORM's, with bound parameters)
    return statement, params


def counted_victims_csv(counted: QuerySet) -> Iterator[bytes]:
    """The whole CSV, header first: COPY on PostgreSQL, Python's csv writer elsewhere."""
    connection = connections[counted.db]
    if connection.vendor != "postgresql":
        yield from csv_chunks(victim_rows(counted))
        return
    buffer = io.StringIO()
    buffer.write(BOM)
    csv.writer(buffer, lineterminator="\n").writerow(VICTIMS_HEADER)
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
