"""A done count snapshot's stored figures as CSV, XLSX, JSON and a printable PDF report.

Exports read the snapshot's stored `result` (never recompute), so an export always matches the
published figures and fingerprint. Spreadsheet cells are values, never formulas: text that a
spreadsheet would run (starting with = + - @, a tab or a carriage return) is prefixed with an
apostrophe, and XLSX text cells are typed as strings. CSV is UTF-8 with a byte-order mark so Excel
reads Arabic correctly.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string
from django.utils.html import escape

from incidents.models import Role

from .models import CountSnapshot

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
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


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would evaluate becomes inert text; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def render(snapshot: CountSnapshot, export_format: str) -> tuple[bytes, str]:
    renderer = {"csv": to_csv, "json": to_json, "xlsx": to_xlsx, "pdf": to_pdf}[export_format]
    return renderer(snapshot), CONTENT_TYPES[export_format]


# --- The tables ---------------------------------------------------------------------------------

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


def _figures(row: dict[str, Any]) -> list[int]:
    return [row.get(name, 0) for name in FIGURES]


# --- CSV, JSON ----------------------------------------------------------------------------------


def to_csv(snapshot: CountSnapshot) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(TABLE_HEADER)
    for row in table_rows(snapshot):
        writer.writerow([neutralise(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


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
