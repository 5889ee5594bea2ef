"""The streaming CSV of counted victims: same bytes on every database, formula cells neutralised."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from incidents import exports_stream
from incidents.models import Status, Victim
from tests.conftest import location, make_incident, make_victim


@pytest.fixture
def victims(documenter):
    incident = make_incident(documenter, Status.VERIFIED, occurred_on=dt.date(2020, 1, 15), location=location("Idlib"))
    first = make_victim(documenter, incident, Status.VERIFIED, name="Ahmad", name_ar="أحمد", roles=["medical", "media"])
    second = make_victim(
        documenter,
        incident,
        Status.VERIFIED,
        name="",
        name_ar="سعاد",
        sex="female",
        age_years=None,
        age_group="unknown",
        date_of_death=dt.date(2020, 1, 17),
        place_of_death=location("Aleppo"),
    )
    # A legacy import could hold a formula-looking name; the export must never hand it to a spreadsheet.
    Victim.objects.filter(pk=second.pk).update(name='=HYPERLINK("http://x")')
    return [first, second]


def parse(payload: bytes) -> list[list[str]]:
    text = payload.decode("utf-8")
    assert text.startswith(exports_stream.BOM)
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.mark.django_db
def test_export_lists_every_victim_of_the_queryset_with_header_and_bom(victims):
    rows = parse(b"".join(exports_stream.csv_stream(Victim.objects.all())))

    assert rows[0] == exports_stream.HEADER
    assert [int(row[0]) for row in rows[1:]] == [v.pk for v in victims]
    first, second = rows[1], rows[2]
    assert first[2:8] == ["Ahmad", "أحمد", "male", "30", "man", "medical;media"]
    assert first[8:] == ["2020-01-15", "Idlib", "Idlib", "2020-01-15", "Syrian regime forces"]
    # Died two days later elsewhere: the date and place of death, with the place's governorate.
    assert second[3:9] == ["سعاد", "female", "", "unknown", "", "2020-01-17"]
    assert second[9:11] == ["Aleppo", "Aleppo"]


@pytest.mark.django_db
def test_formula_looking_cells_are_neutralised(victims):
    rows = parse(b"".join(exports_stream.csv_stream(Victim.objects.all())))
    assert rows[2][2] == '\'=HYPERLINK("http://x")'
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows[1:] for cell in row[2:])


@pytest.mark.django_db
def test_database_path_and_python_path_write_the_same_bytes(victims):
    queryset = Victim.objects.filter(status=Status.VERIFIED)
    python_path = b"".join(exports_stream.csv_chunks(exports_stream.victim_rows(queryset)))
    assert b"".join(exports_stream.csv_stream(queryset)) == python_path


@pytest.mark.django_db
def test_an_empty_queryset_gives_the_header_only(victims):
    rows = parse(b"".join(exports_stream.csv_stream(Victim.objects.none())))
    assert rows == [exports_stream.HEADER]
