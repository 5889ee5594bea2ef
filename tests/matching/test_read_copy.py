"""What a scan reads of each victim (scans.read_victims): by COPY on PostgreSQL, by the ORM elsewhere, the
same rows either way, in chunks by id, with the cached name features only where they are current."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from incidents import services as incident_services
from incidents.models import Location, Status, Victim
from matching import engine, scans
from matching.models import VictimFeatures
from tests.conftest import make_incident, make_victim

pytestmark = pytest.mark.django_db

SAMIRA = {"name": 'Samira "Um Ali", Alnajjar', "name_ar": "سميره حسين محمود النجار", "sex": "female", "age_years": 20}


def transports() -> list[bool]:
    """The ORM always; COPY where the database is PostgreSQL (the scan's own choice there)."""
    return [False, True] if connection.vendor == "postgresql" else [False]


def rows(since=None) -> dict[bool, list[dict]]:
    victims = scans.considered_victims()
    return {
        copy: [r for t in scans.read_victims(victims, since, copy=copy) for r in t.to_pylist()] for copy in transports()
    }


@pytest.fixture
def archive(documenter):
    place = Location.objects.get(name="Idlib")
    Location.objects.filter(pk=place.pk).update(latitude=Decimal("35.930000"), longitude=Decimal("36.630000"))
    incident = make_incident(documenter)
    samira = make_victim(
        documenter,
        incident,
        date_of_birth=dt.date(2004, 5, 1),
        identity_number=" ab123 ",
        date_of_death=dt.date(2020, 1, 16),
        place_of_death=place,
        **SAMIRA,
    )
    nameless = make_victim(documenter, incident, name="", name_ar="", sex="unknown", age_years=None)
    rejected = make_victim(documenter, incident, name="Khalil", name_ar="خليل", status=Status.REJECTED)
    return {"samira": samira, "nameless": nameless, "rejected": rejected, "incident": incident, "place": place}


def test_both_read_paths_give_the_same_rows_with_every_field_the_scan_compares(archive):
    samira, nameless = archive["samira"], archive["nameless"]
    read = rows()
    orm = read[False]
    assert all(found == orm for found in read.values())  # COPY (PostgreSQL) reads exactly what the ORM reads
    assert [row["id"] for row in orm] == [samira.pk, nameless.pk]  # the rejected record is not compared
    first = orm[0]
    assert (first["name"], first["name_ar"], first["sex"], first["age"]) == (
        'Samira "Um Ali", Alnajjar',
        "سميره حسين محمود النجار",
        "female",
        20,
    )
    assert (first["dob"], first["idn"], first["dod"]) == (dt.date(2004, 5, 1), " ab123 ", dt.date(2020, 1, 16))
    assert (first["place"], first["lat"], first["lon"]) == (archive["place"].pk, 35.93, 36.63)
    assert (first["incident"], first["src"], first["is_new"]) == (archive["incident"].pk, "", True)
    assert (orm[1]["name"], orm[1]["name_ar"], orm[1]["age"], orm[1]["place"], orm[1]["lat"]) == (
        "",
        "",
        None,
        None,
        None,
    )
    # Nothing cached yet: the matcher folds the names itself.
    assert [row["cached"] for row in orm] == [False, False] and orm[0]["g"] is None


def test_cached_features_are_read_when_current_and_both_paths_agree(archive):
    scans.refresh_features(scans.considered_victims())
    read = rows()
    assert all(found == read[False] for found in read.values())
    first = read[False][0]
    assert first["cached"] and (first["g"], first["fam"], first["sk_fam"]) == ("سميره", "النجار", "njr")
    assert read[False][1]["cached"] and read[False][1]["ar"] is None  # a nameless record has no features


def test_an_incremental_read_marks_only_the_victims_changed_since_as_new(archive, documenter):
    since = Victim.objects.get(pk=archive["nameless"].pk).updated_at + dt.timedelta(seconds=1)
    later = make_victim(documenter, archive["incident"], name="Khalil Tamous", name_ar="خليل طموس")
    Victim.objects.filter(pk=later.pk).update(updated_at=since + dt.timedelta(seconds=5))
    read = rows(since)
    assert all(found == read[False] for found in read.values())
    assert [(row["id"], row["is_new"]) for row in read[False]] == [
        (archive["samira"].pk, False),
        (archive["nameless"].pk, False),
        (later.pk, True),
    ]


def test_the_victims_are_read_in_chunks_by_id_without_losing_or_repeating_one(archive, documenter, monkeypatch):
    for number in range(5):
        make_victim(documenter, archive["incident"], name=f"Person {number}", name_ar="")
    expected = list(scans.considered_victims().order_by("id").values_list("id", flat=True))
    monkeypatch.setattr(scans, "READ_CHUNK", 2)
    for copy in transports():
        tables = list(scans.read_victims(scans.considered_victims(), None, copy=copy))
        assert [table.num_rows for table in tables] == [2, 2, 2, 1]
        assert [row["id"] for table in tables for row in table.to_pylist()] == expected
    monkeypatch.setattr(scans, "READ_CHUNK", 7)  # the last chunk full: the next read finds none
    for copy in transports():
        tables = list(scans.read_victims(scans.considered_victims(), None, copy=copy))
        assert [row["id"] for table in tables for row in table.to_pylist()] == expected


def test_the_matcher_gives_the_same_features_from_a_read_table_as_from_a_record(archive):
    scans.refresh_features(scans.considered_victims())
    samira = archive["samira"]
    for copy in transports():
        matcher = engine.Matcher()
        try:
            for table in scans.read_victims(scans.considered_victims(), None, copy=copy):
                matcher.add_table(table)
            got = matcher.con.execute("SELECT * FROM f WHERE id = ?", [samira.pk]).fetchone()
        finally:
            matcher.close()
        record = {
            "id": samira.pk,
            "name": samira.name,
            "name_ar": samira.name_ar,
            "sex": "female",
            "age": 20,
            "dob": dt.date(2004, 5, 1),
            "identity_number": " ab123 ",
            "date_of_death": dt.date(2020, 1, 16),
            "place_id": archive["place"].pk,
            "latitude": 35.93,
            "longitude": 36.63,
            "incident_id": archive["incident"].pk,
            "source": "",
        }
        assert got == tuple(engine.features(record).values())
        assert got[engine.SCHEMA.names.index("idn")] == "AB123"


def test_a_victim_changed_after_its_features_were_cached_is_read_with_its_names_folded_again(archive, documenter):
    scans.refresh_features(scans.considered_victims())
    samira = incident_services.update_victim(
        actor=documenter, victim=archive["samira"], name_ar="سميرة حسين محمود الشوا"
    )
    for copy in transports():
        first = next(iter(scans.read_victims(scans.considered_victims(), None, copy=copy))).to_pylist()[0]
        assert first["id"] == samira.pk and not first["cached"]  # the cache is of the old name: not used
    matcher = engine.Matcher()
    try:
        for table in scans.read_victims(scans.considered_victims(), None):
            matcher.add_table(table)
        assert matcher.con.execute("SELECT fam FROM f WHERE id = ?", [samira.pk]).fetchone() == ("الشوا",)
    finally:
        matcher.close()
    assert VictimFeatures.objects.get(victim=samira).fam == "النجار"  # until the next scan refreshes it
