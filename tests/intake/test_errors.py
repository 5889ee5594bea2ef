"""Bad input: a file with every kind of row error (each reported with its row, column, value and message in
English and Arabic, in the CSV and the XLSX report, none left out; rows with errors write nothing), header
errors (row 1), and files refused whole: not CSV/XLSX (415), empty (400), too large (413)."""

from __future__ import annotations

import io
import zipfile

import pytest

from audit.models import AuditEntry
from evidence.models import Source
from incidents.models import Incident, Location, Victim
from intake.models import Import, RowError
from tests.conftest import client_for
from tests.intake.conftest import csv_bytes, imported, report, upload, xlsx_bytes

HEADER = [
    "record_id",
    "incident_key",
    "occurred_on",
    "location",
    "perpetrator",
    "weapon",
    "name",
    "name_ar",
    "sex",
    "age_years",
    "age_group",
    "date_of_birth",
    "identity_number",
    "date_of_death",
    "roles",
    "injured_count",
]


def row(record_id, key="", occurred="2020-01-15", location="Idlib", party="ISIS", **cells):
    values = dict.fromkeys(HEADER, "")
    values.update(record_id=record_id, incident_key=key, occurred_on=occurred, location=location, perpetrator=party)
    values.update(cells)
    return [values[name] for name in HEADER]


def every_error_rows() -> list[list[str]]:
    return [
        HEADER,
        row("1", "k1", name="Valid one", sex="m", age_years="30"),  # row 2: fine
        row("2", age_years="200"),  # 3
        row("3", occurred="2099-01-01"),  # 4
        row("4", date_of_death="31/02/2020"),  # 5
        row("5", location="Atlantis"),  # 6
        row("6", location="Ariha"),  # 7: two places of that name
        row("7", name="Ahmad\u202eevil"),  # 8: a bidi override in a name
        row("8", name_ar="أحمد\x00"),  # 9: NUL in a name
        row("9", sex="x"),  # 10
        row("10", roles="medical;medic"),  # 11
        row("1"),  # 12: the record id of row 2 again
        row("", name="No id"),  # 13
        row("13", "k1", location="Aleppo"),  # 14: differs from row 2's incident
        row("14", "k9", location=""),  # 15: a new incident without a place
        row("15", age_years="10", age_group="adult"),  # 16
        row("16", injured_count="-3"),  # 17
        row("17", sex="=1+1"),  # 18: formula-like, and wrong
        row("18", weapon="nuke"),  # 19
        row("19", party="99999"),  # 20
        row("20", date_of_birth="1850-01-01"),  # 21
        row("21", identity_number="9" * 65),  # 22
        row("22", key="k" * 201),  # 23
        row("23", name='=HYPERLINK("http://x")', sex="f"),  # 24: formula-like text is fine, stored as text
    ]


EXPECTED = [
    (
        3,
        "age_years",
        "200",
        "Ensure this value is less than or equal to 130.",
        "تحقق من أن تكون هذه القيمة أقل من 130 أو مساوية لها.",
    ),
    (4, "occurred_on", "2099-01-01", "This date is in the future.", None),
    (
        5,
        "date_of_death",
        "31/02/2020",
        "Not a date: 31/02/2020. Write YYYY-MM-DD or DD/MM/YYYY.",
        "ليس تاريخًا: 31/02/2020. اكتبه بالصيغة YYYY-MM-DD أو DD/MM/YYYY.",
    ),
    (6, "location", "Atlantis", "No place is named Atlantis.", "لا يوجد مكان باسم Atlantis."),
    (
        7,
        "location",
        "Ariha",
        "Ariha names more than one place: Syria > Hama > Ariha; Syria > Idlib > Ariha. Write its id or its path, "
        "e.g. Syria > Hama > Ariha.",
        "الاسم Ariha يطابق أكثر من مكان: سوريا > حماة > أريحا؛ سوريا > إدلب > أريحا. "
        "اكتب معرّفه أو مساره، مثل سوريا > حماة > أريحا.",
    ),
    (8, "name", "Ahmad\u202eevil", "Control characters and bidirectional override characters are not allowed.", None),
    (9, "name_ar", "أحمد\\x00", "Control characters and bidirectional override characters are not allowed.", None),
    (
        10,
        "sex",
        "x",
        "Not an accepted value: x. Use one of: male, female, unknown.",
        "قيمة غير مقبولة: x. استخدم إحدى القيم: male, female, unknown.",
    ),
    (
        11,
        "roles",
        "medical;medic",
        "Not an accepted value: medic. Use one of: civil_defense, medical, media, humanitarian, education, other.",
        "قيمة غير مقبولة: medic. استخدم إحدى القيم: civil_defense, medical, media, humanitarian, education, other.",
    ),
    (
        12,
        "record_id",
        "1",
        "The record_id 1 appears again: it was first in row 2.",
        "يتكرر المعرّف record_id ‏1: ورد أول مرة في الصف 2.",
    ),
    (13, "record_id", "", "Every row needs a record_id.", "يحتاج كل صف إلى معرّف record_id."),
    (
        14,
        "location",
        "Aleppo",
        "This differs from the incident's location in row 2: rows with the same incident_key are one incident "
        "(leave the cell empty or repeat the value).",
        "تختلف هذه القيمة عن قيمة location للحادثة في الصف 2: الصفوف ذات المفتاح incident_key نفسه حادثة واحدة "
        "(اترك الخلية فارغة أو كرّر القيمة نفسها).",
    ),
    (
        15,
        "location",
        "",
        "The incident's place is missing: fill in the column location (in this row, or in an earlier valid row "
        "with the same incident_key).",
        "مكان الحادثة مفقود: املأ العمود location (في هذا الصف، أو في صف سابق صالح له المفتاح incident_key نفسه).",
    ),
    (
        16,
        "age_group",
        "adult",
        "The age group contradicts the age in years (10).",
        "الفئة العمرية تناقض العمر بالسنوات (10).",
    ),
    (
        17,
        "injured_count",
        "-3",
        "Ensure this value is greater than or equal to 0.",
        "تحقق من أن تكون هذه القيمة أكثر من 0 أو مساوية لها.",
    ),
    (
        18,
        "sex",
        "=1+1",
        "Not an accepted value: =1+1. Use one of: male, female, unknown.",
        "قيمة غير مقبولة: =1+1. استخدم إحدى القيم: male, female, unknown.",
    ),
    (
        19,
        "weapon",
        "nuke",
        "Not an accepted value: nuke. Use one of: fixed_wing_aircraft, helicopter, barrel_bomb, artillery, missile, "
        "cluster_munition, chemical, drone, ground_attack, landmine, other.",
        "قيمة غير مقبولة: nuke. استخدم إحدى القيم: fixed_wing_aircraft, helicopter, barrel_bomb, artillery, missile, "
        "cluster_munition, chemical, drone, ground_attack, landmine, other.",
    ),
    (20, "perpetrator", "99999", "No perpetrator has the id 99999.", "لا توجد جهة مرتكبة معرّفها 99999."),
    (21, "date_of_birth", "1850-01-01", "This date is implausibly early.", None),
    (
        22,
        "identity_number",
        "9" * 65,
        "Ensure this value has at most 64 characters (it has 65).",
        "تأكد أن هذه القيمة تحتوي على 64 حرف أو رمز على الأكثر (هي تحتوي حالياً على 65).",
    ),
    (23, "incident_key", "k" * 201, "At most 200 characters.", "الحد الأقصى 200 حرفًا."),
]


@pytest.fixture
def two_arihas(db):
    for governorate in ("Idlib", "Hama"):
        Location.objects.create(
            name="Ariha", name_ar="أريحا", level="district", parent=Location.objects.get(name=governorate)
        )


def arabic_of(english: str) -> str:
    from django.utils import translation

    with translation.override("ar"):
        return translation.gettext(english)


def expected_rows() -> list[list[str]]:
    rows = []
    for number, column, value, english, arabic in EXPECTED:
        rows.append([str(number), column, value, english, arabic if arabic is not None else arabic_of(english)])
    return rows


def neutralised(rows: list[list[str]]) -> list[list[str]]:
    return [
        [("'" + cell) if cell.startswith(("=", "+", "-", "@", "\t", "\r")) else cell for cell in row] for row in rows
    ]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_every_kind_of_row_error_is_reported_with_row_column_value_and_both_messages(
    documenter, two_arihas, file_format
):
    rows = every_error_rows()
    expected = expected_rows()
    if file_format == "xlsx":
        rows[8][HEADER.index("name_ar")] = "أحمد\u2066"  # a cell of a workbook cannot hold NUL: a bidi isolate
        expected[6][2] = "أحمد\u2066"
    content = csv_bytes(rows) if file_format == "csv" else xlsx_bytes(rows)
    record = imported(documenter, content, name=f"errors.{file_format}")
    assert record.status == "done"
    stored = list(
        RowError.objects.filter(source_import=record)
        .order_by("row", "id")
        .values_list("row", "column", "value", "message_en", "message_ar")
    )
    assert [list(map(str, error)) for error in stored] == expected
    for english_and_arabic in stored:
        assert english_and_arabic[3] != english_and_arabic[4], "every message has its Arabic translation"
    assert record.summary == {
        **record.summary,
        "rows": 23,
        "victims_created": 2,
        "incidents_created": 2,
        "errors": len(EXPECTED),
        "rows_with_errors": 21,
        "updated": 0,
        "unchanged": 0,
    }
    for report_format in ("csv", "xlsx"):
        assert report(documenter, record, report_format) == [
            ["row", "column", "value", "message_en", "message_ar"],
            *neutralised(expected),
        ]


def test_rows_with_errors_write_nothing_and_formula_like_text_is_stored_as_text(documenter, two_arihas):
    record = imported(documenter, csv_bytes(every_error_rows()))
    assert sorted(Victim.objects.values_list("origin_record_id", "name")) == [
        ("1", "Valid one"),
        ("23", '=HYPERLINK("http://x")'),
    ]
    assert sorted(Incident.objects.values_list("origin_key", flat=True)) == ["key:k1", "record:23"]
    assert Source.objects.count() == 2
    batches = AuditEntry.objects.filter(action="import.batch", target_id=record.pk)
    created = [span for entry in batches for span in entry.details["victims_created"]]
    assert sorted(pk for first, last in created for pk in range(first, last + 1)) == sorted(
        Victim.objects.values_list("pk", flat=True)
    )


def test_a_wrong_number_of_cells_is_an_error_of_that_row_only(documenter):
    content = (
        b"record_id,occurred_on,location,perpetrator\r\n1,2020-01-15,Idlib,ISIS\r\n2,2020-01-15,Idlib\r\n"
        b"3,2020-01-15,Idlib,ISIS,extra\r\n4,2020-01-15,Idlib,ISIS,\r\n"
    )
    record = imported(documenter, content)
    errors = list(record.errors.values_list("row", "code", "message_en"))
    assert errors == [
        (3, "cell_count", "This row has 3 cells; the header has 4."),
        (4, "cell_count", "This row has 5 cells; the header has 4."),
    ]
    assert sorted(Victim.objects.values_list("origin_record_id", flat=True)) == [
        "1",
        "4",
    ]  # a trailing empty cell is fine


def test_a_line_the_csv_module_cannot_read_is_an_error_and_the_rest_is_read(documenter):
    huge = "x" * 140_000  # beyond the csv module's field limit
    lines = ["record_id,name,occurred_on,location,perpetrator", "1,A,2020-01-15,Idlib,ISIS"]
    lines += [f"2,{huge},2020-01-15,Idlib,ISIS", "3,C,2020-01-15,Idlib,ISIS", ""]
    content = "\r\n".join(lines).encode()
    record = imported(documenter, content)
    assert list(record.errors.values_list("row", "code")) == [(3, "malformed_row")]
    assert sorted(Victim.objects.values_list("origin_record_id", flat=True)) == ["1", "3"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            ["record_id", "location", "perpetrator", "occurred_on", "nickname"],
            [("1", "nickname", "unknown_column")],
        ),
        (
            ["record_id", "occurred_on", "name"],
            [("1", "location", "missing_column"), ("1", "perpetrator", "missing_column")],
        ),
        (["record_id", "location", "perpetrator"], [("1", "occurred_on", "missing_column")]),
        (
            ["record_id", "location", "perpetrator", "occurred_on", "Location"],
            [("1", "location", "repeated_column")],
        ),
        (["12345", "Idlib", "ISIS", "2020-01-15"], None),  # data without a header: every cell is an unknown column
    ],
)
def test_header_problems_are_errors_of_row_1_and_the_import_fails_writing_nothing(documenter, header, expected):
    record = imported(documenter, csv_bytes([header, ["1", "Idlib", "ISIS", "2020-01-15", ""]]))
    assert record.status == "failed"
    assert record.failure_reason == "The header row has errors: see the error report (row 1)."
    assert record.failure_reason_ar == "في صف العناوين أخطاء: راجع تقرير الأخطاء (الصف 1)."
    errors = [(str(row), column, code) for row, column, code in record.errors.values_list("row", "column", "code")]
    if expected is None:
        assert {code for _r, _c, code in errors} >= {"unknown_column", "missing_column"} and {
            r for r, _c, _k in errors
        } == {"1"}
    else:
        assert errors == expected
    assert not Victim.objects.exists() and not Incident.objects.exists()
    assert record.summary["errors"] == len(errors)
    assert report(documenter, record, "csv")[1][0] == "1"


def test_a_file_with_only_a_blank_first_row_has_no_header(documenter):
    record = imported(documenter, b"\r\n1,Idlib,ISIS\r\n")
    assert record.status == "failed"
    assert list(record.errors.values_list("row", "code", "message_en")) == [
        (1, "no_header", "The file has no header row: its first row must name the columns.")
    ]


def png() -> bytes:
    from PIL import Image

    output = io.BytesIO()
    Image.new("RGB", (4, 4)).save(output, "PNG")
    return output.getvalue()


def docx_like() -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return output.getvalue()


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (png(), "photo.csv"),  # named as a list, an image by content
        (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "list.csv"),
        (docx_like(), "list.xlsx"),
        (b"PK\x03\x04 not really a zip", "list.xlsx"),
        (b"<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table></body></html>", "list.csv"),
        ("record_id,name\n1,x\n".encode("utf-16"), "list.csv"),
    ],
)
def test_a_file_that_is_not_csv_or_xlsx_is_refused_415_and_nothing_is_kept(documenter, import_storage, content, name):
    response = upload(documenter, content, name=name)
    assert response.status_code == 415, response.content
    assert "not a CSV or XLSX" in response.json()["detail"] or "not an XLSX workbook" in response.json()["detail"]
    assert not Import.objects.exists()
    assert not any(import_storage.glob("*")) if import_storage.exists() else True


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf", b"  \r\n\r\n"])
def test_an_empty_file_is_refused_400(documenter, content):
    response = upload(documenter, content)
    assert response.status_code == 400
    assert response.json() == {"file": ["The file is empty."]}
    assert not Import.objects.exists()


def test_a_file_over_the_size_limit_is_refused_413_while_it_streams_in(documenter, settings, import_storage):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    content = csv_bytes([["record_id", "name"], *[[str(n), "x" * 50] for n in range(100)]])
    response = upload(documenter, content)
    assert response.status_code == 413
    assert "1,000 bytes" in response.json()["detail"]
    assert not Import.objects.exists()
    incoming = settings.MEDIA_ROOT / "evidence" / "incoming"
    assert not any(incoming.glob("*")) if incoming.exists() else True


def test_a_missing_source_name_or_file_is_a_400_with_a_reason(documenter):
    client = client_for(documenter)
    response = client.post("/api/v1/imports/", {"source": "x"}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/api/v1/imports/", {"file": SimpleUploadedFile("a.csv", b"record_id\n1\n")}, format="multipart"
    )
    assert response.status_code == 400 and "source" in response.json()
    response = upload(documenter, b"record_id\n1\n", source="bad\u202ename")
    assert response.status_code == 400 and "source" in response.json()
    assert not Import.objects.exists()


def test_the_error_report_refuses_an_unknown_format(documenter):
    record = imported(
        documenter,
        csv_bytes([["record_id", "date_of_death", "location", "perpetrator"], ["1", "2020-01-01", "Idlib", "ISIS"]]),
    )
    response = client_for(documenter).get(f"/api/v1/imports/{record.pk}/errors/", {"format": "pdf"})
    assert response.status_code == 400
    assert response.json() == {"format": ["Choose csv or xlsx."]}
