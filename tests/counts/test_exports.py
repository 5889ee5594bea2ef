"""Exports of a count snapshot, opened back the way their readers open them."""

from __future__ import annotations

import csv
import io
import json

import pytest

from counts import services as count_services
from incidents.models import Perpetrator, Status
from tests.conftest import client_for, make_incident, make_victim
from tests.counts import scenario as sc

FORMULA = '=HYPERLINK("http://evil.example","x")'


@pytest.fixture
def world(documenter):
    world = sc.build(documenter)
    # A party whose name a spreadsheet would run as a formula (admins type names; names are data).
    hostile = Perpetrator.objects.create(name=FORMULA, name_ar="@SUM(1+1)")
    incident = make_incident(documenter, status=Status.VERIFIED, perpetrator=hostile, occurred_on=sc.WINDOW[0])
    make_victim(documenter, incident, status=Status.VERIFIED, sex="male", age_years=70)
    world.parties["hostile"] = hostile
    return world


@pytest.fixture
def snapshot(world, admin_user):
    pending = count_services.request_count(
        actor=admin_user, date_from=sc.WINDOW[0], date_to=sc.WINDOW[1], enqueue=False
    )
    return count_services.run_count(pending.pk)


def export(user, snapshot, export_format: str):
    return client_for(user).get(f"/api/v1/counts/{snapshot.pk}/export/?format={export_format}")


def test_csv_is_utf8_with_a_bom_and_opens_back_with_the_figures(snapshot, admin_user, world):
    response = export(admin_user, snapshot, "csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="count-{snapshot.pk}-2020-01-12-2020-01-27.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    everything = rows[0]
    assert (everything["table"], everything["total"], everything["children"], everything["massacres"]) == (
        "all",
        "12",
        "3",
        "1",
    )
    regime = next(row for row in rows if row["table"] == "perpetrator" and row["name"] == "Syrian regime forces")
    assert regime["name_ar"] == "قوات النظام السوري"
    assert [regime[f] for f in ("total", "children", "women", "men", "unknown", "massacres")] == list("611221")
    idlib = next(row for row in rows if row["table"] == "location" and row["name"] == "Idlib")
    assert (idlib["name_ar"], idlib["total"]) == ("إدلب", "7")  # I1, I7's woman, and the hostile party's man
    assert [row["date"] for row in rows if row["table"] == "date"] == [
        "2020-01-12",
        "2020-01-13",
        "2020-01-21",
        "2020-01-27",
    ]
    assert next(row for row in rows if row["table"] == "injured")["total"] == "19"  # 16 + the new incident's 3


def test_csv_neutralises_formula_like_text(snapshot, admin_user):
    text = export(admin_user, snapshot, "csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    hostile = next(row for row in rows if row["table"] == "perpetrator" and "HYPERLINK" in row["name"])
    assert hostile["name"] == "'" + FORMULA
    assert hostile["name_ar"] == "'@SUM(1+1)"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@", "\t", "\r")), row


def test_xlsx_opens_back_with_values_and_no_formulas(snapshot, admin_user):
    from openpyxl import load_workbook

    response = export(admin_user, snapshot, "xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Summary", "By perpetrator", "By governorate", "By date", "Roles"]
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@")), (sheet.title, cell.value)
    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(values_only=True)}
    assert summary["Civilians"] == 12 and summary["Massacres"] == 1 and summary["Injured"] == 19
    assert summary["Fingerprint (SHA-256)"] == snapshot.fingerprint
    assert summary["الملخص"] == snapshot.summary_ar
    parties = list(workbook["By perpetrator"].iter_rows(values_only=True))
    assert parties[0] == ("id", "name", "name_ar", "total", "children", "women", "men", "unknown", "massacres")
    assert parties[1][1:] == ("Syrian regime forces", "قوات النظام السوري", 6, 1, 1, 2, 2, 1)
    assert any(row[1] == "'" + FORMULA for row in parties)


def test_json_export_matches_the_snapshot(snapshot, admin_user):
    response = export(admin_user, snapshot, "json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    document = json.loads(response.content)
    detail = client_for(admin_user).get(f"/api/v1/counts/{snapshot.pk}/").json()
    assert document["result"] == detail["result"]
    assert document["fingerprint"] == detail["fingerprint"] == snapshot.fingerprint
    assert document["summary_ar"] == snapshot.summary_ar
    assert "created_by" not in document


def test_pdf_report_has_both_summaries_the_tables_a_chart_and_an_arabic_font(snapshot, admin_user):
    from pypdf import PdfReader

    response = export(admin_user, snapshot, "pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    assert "At least 12 civilians" in flat
    assert "قوات النظام السوري" in flat  # extracted in logical order: shaped glyphs mapped back to text
    assert "By governorate" in flat and "Syrian regime forces" in flat
    assert snapshot.fingerprint in flat.replace(" ", "")
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"].get("/Font", {}).values()
    }
    assert any("Amiri" in font for font in fonts), fonts
    # The chart: vector rectangles drawn for the bars.
    assert any(b" re" in page.get_contents().get_data() for page in reader.pages)


def test_every_export_writes_an_audit_entry(snapshot, admin_user):
    from audit.models import AuditEntry
    from audit.services import verify_chain

    for export_format in ("csv", "json", "xlsx", "pdf"):
        assert export(admin_user, snapshot, export_format).status_code == 200
    exported = AuditEntry.objects.for_target(snapshot).filter(action="count.exported").order_by("sequence")
    assert [entry.details["format"] for entry in exported] == ["csv", "json", "xlsx", "pdf"]
    assert {(entry.actor, entry.details["fingerprint"]) for entry in exported} == {(admin_user, snapshot.fingerprint)}
    assert list(AuditEntry.objects.for_target(snapshot).values_list("action", flat=True)) == [
        "count.requested",
        "count.computed",
        "count.exported",
        "count.exported",
        "count.exported",
        "count.exported",
    ]
    assert verify_chain().ok


@pytest.mark.parametrize("export_format", ["", "xls", "html", "../../etc/passwd"])
def test_an_unknown_format_is_a_400(snapshot, admin_user, audit_events, export_format):
    response = export(admin_user, snapshot, export_format)
    assert response.status_code == 400
    assert "format" in response.json()
    assert not [event for event in audit_events if event["action"] == "count.exported"]


def test_an_unfinished_snapshot_cannot_be_exported(world, admin_user):
    pending = count_services.request_count(
        actor=admin_user, date_from=sc.WINDOW[0], date_to=sc.WINDOW[1], enqueue=False
    )
    assert export(admin_user, pending, "csv").status_code == 409


def test_only_admins_export(snapshot, documenter, reviewer, anonymous_client, audit_events):
    assert export(documenter, snapshot, "csv").status_code == 403
    assert export(reviewer, snapshot, "xlsx").status_code == 403
    assert anonymous_client.get(f"/api/v1/counts/{snapshot.pk}/export/?format=csv").status_code == 401
    assert not [event for event in audit_events if event["action"] == "count.exported"]


def test_anyone_exports_a_published_snapshot_and_it_is_audited(snapshot, admin_user, anonymous_client):
    from audit.models import AuditEntry

    unpublished = anonymous_client.get(f"/api/v1/public/counts/{snapshot.pk}/export/?format=csv")
    assert unpublished.status_code == 404
    count_services.publish(actor=admin_user, snapshot=snapshot)
    response = anonymous_client.get(f"/api/v1/public/counts/{snapshot.pk}/export/?format=csv")
    assert response.status_code == 200
    assert response.content == export(admin_user, snapshot, "csv").content
    entry = AuditEntry.objects.for_target(snapshot).filter(action="count.exported").first()
    assert (entry.actor, entry.details["format"]) == (None, "csv")
    pdf = anonymous_client.get(f"/api/v1/public/counts/{snapshot.pk}/export/?format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert anonymous_client.get(f"/api/v1/public/counts/{snapshot.pk}/export/?format=exe").status_code == 400


def test_a_long_pdf_report_repeats_the_table_header_on_every_page_and_keeps_rows_whole(documenter, admin_user):
    """120 days with deaths: the by-date table runs over several pages; each page it runs onto starts with
    its header again (thead as a table-header-group), and no row is split between two pages."""
    import datetime as dt

    from pypdf import PdfReader

    first = dt.date(2020, 1, 1)
    for n in range(120):
        incident = make_incident(documenter, status=Status.VERIFIED, occurred_on=first + dt.timedelta(days=n))
        make_victim(documenter, incident, status=Status.VERIFIED, sex="female", age_years=30)
    pending = count_services.request_count(
        actor=admin_user, date_from=first, date_to=first + dt.timedelta(days=119), enqueue=False
    )
    snapshot = count_services.run_count(pending.pk)
    response = export(admin_user, snapshot, "pdf")
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(response.content)).pages]
    header = "Date Total Children Women Men Unknown Massacres"
    continued = [text for text in pages[1:] if "2020-" in text]
    assert len(pages) >= 3 and continued, "the by-date table should run over more than one page"
    assert header in pages[1]
    assert all(header in text for text in continued)
    for day in range(120):  # every row whole: the date and its figures on the same page
        iso = (first + dt.timedelta(days=day)).isoformat()
        assert sum(f"{iso} 1 0 1 0 0 0" in text for text in pages) == 1, iso
