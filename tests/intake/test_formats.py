"""The Gaza MoH list, read from every accepted format: UTF-8, UTF-8 with BOM and Windows-1256 CSV (detected from
the bytes, any common delimiter) and XLSX (first sheet, written here with openpyxl); and the ways lists write
dates, numbers, places, parties and choices."""

from __future__ import annotations

import datetime as dt

import pytest

from evidence.models import Source
from incidents.models import Incident, Location, Perpetrator, Status, Victim
from tests.conftest import make_user
from tests.intake.conftest import HEADER, csv_bytes, imported, moh_people, moh_rows, upload, xlsx_bytes

SAMPLE = 300


def expected_victims(people: list[dict[str, str]]) -> list[tuple]:
    result = []
    for index, person in enumerate(people):
        age = None if person["age"] in ("", "-1") else int(person["age"])
        sex = {"m": "male", "f": "female"}[person["sex"]]
        identity = "" if person["id"].startswith("missing") else person["id"]
        result.append((f"moh-{index + 1}", person["en_name"].strip(), person["name"].strip(), sex, age, identity))
    return result


def stored_victims(source: str = "MoH 2024-04-13") -> list[tuple]:
    victims = Victim.objects.filter(origin_source=source).order_by("id")
    return list(victims.values_list("origin_record_id", "name", "name_ar", "sex", "age_years", "identity_number"))


def assert_imported(record, people, documenter) -> None:
    assert record.status == "done", record.failure_reason
    assert record.summary["rows"] == len(people)
    assert record.summary["victims_created"] == len(people)
    assert record.summary["errors"] == 0
    assert stored_victims() == expected_victims(people)
    incidents = Incident.objects.filter(origin_source="MoH 2024-04-13")
    assert incidents.count() == (len(people) + 2) // 3 == record.summary["incidents_created"]
    assert set(incidents.values_list("location__name", "perpetrator__name", "occurred_on", "status")) == {
        ("Idlib", "Russian forces", dt.date(2020, 1, 15), Status.DRAFT)
    }
    assert set(Victim.objects.values_list("created_by", "status")) == {(documenter.pk, Status.DRAFT)}


@pytest.mark.parametrize(("encoding", "reported"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig")])
def test_the_moh_list_as_utf8_csv_is_imported_whole(documenter, encoding, reported):
    people = moh_people(SAMPLE)
    record = imported(documenter, csv_bytes(moh_rows(people), encoding=encoding))
    assert (record.file_format, record.encoding, record.delimiter) == ("csv", reported, ",")
    assert_imported(record, people, documenter)


def test_the_moh_list_as_windows_1256_csv_is_detected_and_imported(documenter):
    people = []
    for person in moh_people(SAMPLE * 2):
        try:
            (person["name"] + person["en_name"]).encode("cp1256")
        except UnicodeEncodeError:
            continue  # a letter Windows-1256 cannot write: not in a list saved in it either
        people.append(person)
    people = people[:SAMPLE]
    content = csv_bytes(moh_rows(people), encoding="cp1256", delimiter=";")
    record = imported(documenter, content)
    assert (record.encoding, record.delimiter) == ("cp1256", ";")
    assert_imported(record, people, documenter)


def test_the_moh_list_as_xlsx_is_read_from_its_first_sheet(documenter):
    people = moh_people(SAMPLE)
    rows = moh_rows(people)
    for row in rows[1:]:
        row[2] = dt.datetime(2020, 1, 15)  # a date cell
        row[9] = int(row[9]) if row[9] else None  # a number cell
        row[10] = int(row[10]) if row[10] else None  # an identity number typed as a number
    record = imported(documenter, xlsx_bytes(rows), name="moh.xlsx")
    assert (record.file_format, record.encoding, record.delimiter) == ("xlsx", "", "")
    assert_imported(record, people, documenter)


def test_every_row_of_the_whole_moh_list_reads_without_an_error(documenter):
    """The whole file (14,140 people), as a dry run: quick, and every row is checked as an import checks it."""
    people = moh_people()
    record = imported(documenter, csv_bytes(moh_rows(people, per_incident=10)), dry_run=True)
    assert record.status == "done"
    assert record.summary["rows"] == record.summary["victims_created"] == len(people) == 14_140
    assert record.summary["incidents_created"] == (len(people) + 9) // 10
    assert record.summary["errors"] == 0
    assert (record.rows_done, record.rows_total) == (len(people), len(people))
    assert not Victim.objects.exists() and not Incident.objects.exists() and not Source.objects.exists()


@pytest.mark.parametrize("delimiter", ["\t", "|", ";", ","])
def test_the_delimiter_is_detected_and_reported(documenter, delimiter):
    record = imported(documenter, csv_bytes(moh_rows(moh_people(20)), delimiter=delimiter))
    assert record.delimiter == delimiter
    assert record.summary["victims_created"] == 20
    body = upload(documenter, csv_bytes(moh_rows(moh_people(1)), delimiter=delimiter), source="other").json()
    assert (body["encoding"], body["delimiter"]) == ("utf-8", delimiter)


def test_columns_are_matched_by_name_in_any_order_and_case(documenter):
    rows = [
        ["Name_AR", "Record ID", "location", "perpetrator", "date_of_death"],
        ["سعاد", "1", "Idlib", "ISIS", "2020-02-01"],
    ]
    record = imported(documenter, csv_bytes(rows))
    assert record.summary["victims_created"] == 1
    victim = Victim.objects.get()
    assert (victim.name_ar, victim.origin_record_id, victim.date_of_death) == ("سعاد", "1", dt.date(2020, 2, 1))
    # Without occurred_on, the incident takes the date of death.
    assert (victim.incident.occurred_on, victim.incident.date_precision) == (dt.date(2020, 2, 1), "day")


def test_dates_in_every_written_form_and_arabic_indic_digits_are_understood(documenter):
    rows = [
        [
            "record_id",
            "occurred_on",
            "date_of_death",
            "date_of_birth",
            "age_years",
            "injured_count",
            "location",
            "perpetrator",
        ]
    ]
    rows += [
        ["1", "2020-01-15", "15/01/2020", "1/2/1990", "30", "٣", "Idlib", "ISIS"],
        ["2", "2020-01", "15-01-2020", "٠١/٠٢/١٩٩٠", "٤٢", "۱۲", "Idlib", "ISIS"],
        ["3", "2020", "15.01.2020", "1990/02/01", "۷", "0", "Idlib", "ISIS"],
        ["4", "٢٠٢٠-٠١-١٥", "43845", "1990-02-01 00:00:00", "", "", "Idlib", "ISIS"],
    ]
    record = imported(documenter, csv_bytes(rows))
    assert record.summary["errors"] == 0, list(record.errors.values_list("message_en", flat=True))
    victims = {v.origin_record_id: v for v in Victim.objects.select_related("incident")}
    assert {key: (v.incident.occurred_on, v.incident.date_precision) for key, v in victims.items()} == {
        "1": (dt.date(2020, 1, 15), "day"),
        "2": (dt.date(2020, 1, 1), "month"),
        "3": (dt.date(2020, 1, 1), "year"),
        "4": (dt.date(2020, 1, 15), "day"),
    }
    assert {v.date_of_death for v in victims.values()} == {dt.date(2020, 1, 15)}  # 43845 is Excel's 15 Jan 2020
    assert {v.date_of_birth for v in victims.values()} == {dt.date(1990, 2, 1)}
    assert {key: v.age_years for key, v in victims.items()} == {"1": 30, "2": 42, "3": 7, "4": None}
    assert {key: v.incident.injured_count for key, v in victims.items()} == {"1": 3, "2": 12, "3": 0, "4": 0}


def test_places_and_parties_by_id_name_arabic_name_or_path(documenter):
    idlib = Location.objects.get(name="Idlib")
    ariha = Location.objects.create(name="Ariha", name_ar="أريحا", level="district", parent=idlib)
    russia = Perpetrator.objects.get(name="Russian forces")
    rows = [["record_id", "occurred_on", "location", "perpetrator", "place_of_death"]]
    rows += [
        ["1", "2020-01-15", str(ariha.pk), str(russia.pk), "Ariha"],
        ["2", "2020-01-15", "Syria > Idlib > Ariha", "القوات الروسية", "اريحا"],  # hamza folded away
        ["3", "2020-01-15", "سوريا / إدلب / أريحا", "russian forces", "Idlib > Ariha"],
        ["4", "2020-01-15", "إدلب", "Syrian regime forces", ""],
    ]
    record = imported(documenter, csv_bytes(rows))
    assert record.summary["errors"] == 0, list(record.errors.values_list("message_en", flat=True))
    victims = {v.origin_record_id: v for v in Victim.objects.select_related("incident")}
    assert {k: (v.incident.location_id, v.incident.perpetrator.name) for k, v in victims.items()} == {
        "1": (ariha.pk, "Russian forces"),
        "2": (ariha.pk, "Russian forces"),
        "3": (ariha.pk, "Russian forces"),
        "4": (idlib.pk, "Syrian regime forces"),
    }
    assert {k: v.place_of_death_id for k, v in victims.items()} == {
        "1": ariha.pk,
        "2": ariha.pk,
        "3": ariha.pk,
        "4": None,
    }


def test_sexes_roles_and_choices_in_english_arabic_and_short_forms(documenter):
    rows = [
        [
            "record_id",
            "date_of_death",
            "location",
            "perpetrator",
            "sex",
            "roles",
            "civilian_status",
            "weapon",
            "age_group",
        ]
    ]
    rows += [
        ["1", "2020-01-15", "Idlib", "ISIS", "m", "medical; civil_defense", "civilian", "barrel_bomb", ""],
        ["2", "2020-01-15", "Idlib", "ISIS", "ذكر", "Media", "Combatant", "Barrel bomb", "adult"],
        ["3", "2020-01-15", "Idlib", "ISIS", "أنثى", "", "", "", "طفل"],
        ["4", "2020-01-15", "Idlib", "ISIS", "F", "education؛humanitarian", "unknown", "drone", ""],
    ]
    record = imported(documenter, csv_bytes(rows))
    assert record.summary["errors"] == 0, list(record.errors.values_list("message_en", flat=True))
    victims = {v.origin_record_id: v for v in Victim.objects.select_related("incident")}
    assert {k: (v.sex, v.roles, v.civilian_status, v.age_group) for k, v in victims.items()} == {
        "1": ("male", ["civil_defense", "medical"], "civilian", "unknown"),
        "2": ("male", ["media"], "combatant", "adult"),
        "3": ("female", [], "civilian", "child"),
        "4": ("female", ["humanitarian", "education"], "unknown", "unknown"),
    }
    assert {k: v.incident.weapon for k, v in victims.items()} == {
        "1": "barrel_bomb",
        "2": "barrel_bomb",
        "3": "other",
        "4": "drone",
    }
    assert {k: v.category for k, v in victims.items()} == {"1": "unknown", "2": "man", "3": "child", "4": "unknown"}


def test_rows_with_the_same_incident_key_are_one_incident_with_one_documented_source(documenter):
    rows = [HEADER]
    rows += [
        ["1", "market", "2020-01-15", "Idlib", "Russian forces", "missile", "A", "", "m", "30", ""],
        ["2", "market", "", "", "", "", "B", "", "f", "31", ""],
        ["3", "", "2020-01-16", "Aleppo", "ISIS", "", "C", "", "m", "32", ""],
        ["4", "market", "2020-01-15", "Idlib", "", "", "D", "", "m", "33", ""],
    ]
    record = imported(documenter, csv_bytes(rows), source="VDC export 2024-03")
    assert record.summary == {**record.summary, "incidents_created": 2, "victims_created": 4, "errors": 0}
    market = Incident.objects.get(origin_key="key:market")
    assert sorted(market.victims.values_list("name", flat=True)) == ["A", "B", "D"]
    assert Incident.objects.get(origin_key="record:3").victims.get().name == "C"
    source = Source.objects.get(incident=market)
    assert (source.kind, source.title, source.status, source.created_by) == (
        "other",
        "VDC export 2024-03",
        "draft",
        documenter,
    )
    assert f"#{record.pk}" in source.note and record.sha256 in source.note
    assert Source.objects.count() == 2


def test_a_documenter_imports_into_places_of_their_choice_and_another_one_sees_none_of_it(
    documenter, second_documenter
):
    record = imported(documenter, csv_bytes(moh_rows(moh_people(9))))
    assert record.summary["victims_created"] == 9
    other = make_user("documenter3", "documenter")
    from tests.conftest import client_for

    for user in (second_documenter, other):
        assert client_for(user).get("/api/v1/victims/").json()["count"] == 0
        assert client_for(user).get("/api/v1/incidents/").json()["count"] == 0
        assert client_for(user).get(f"/api/v1/imports/{record.pk}/").status_code == 404
        victim = Victim.objects.first()
        assert client_for(user).get(f"/api/v1/victims/{victim.pk}/").status_code == 404
    body = client_for(documenter).get(f"/api/v1/victims/{Victim.objects.first().pk}/").json()
    assert body["origin"]["source"] == "MoH 2024-04-13" and body["origin"]["record_id"].startswith("moh-")
