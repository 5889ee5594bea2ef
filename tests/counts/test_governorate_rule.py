"""The governorate of a place, stated once (incidents.models GOVERNORATE_RULE): the Python walk, the ORM
expression, the SQL builder, the rollups' database function and the benchmark floor's hand-written CTE
give the same governorate for every place; and the counts, both counting engines, the window count and
the victims export file a death at the country level, or under no governorate, as a row of its own."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection

from bench import floor
from counts import counting, exports, rollup
from counts.counting import CountParameters
from incidents.models import Location, Status, Victim, governorate_of, place_governorate_sql
from tests.conftest import location, make_incident, make_victim

WINDOW = (dt.date(2021, 3, 1), dt.date(2021, 3, 31))


@pytest.fixture
def tree(db) -> dict[str, Location]:
    """The seeded country and a governorate, places one to three levels below it, and a district
    recorded directly under the country (under no governorate)."""
    syria, idlib = Location.objects.get(level="country"), location("Idlib")
    district = Location.objects.create(name="Ariha district", level="district", parent=idlib)
    subdistrict = Location.objects.create(name="Ariha subdistrict", level="subdistrict", parent=district)
    community = Location.objects.create(name="Ariha", level="community", parent=subdistrict)
    loose = Location.objects.create(name="Border district", level="district", parent=syria)
    return {
        "syria": syria,
        "idlib": idlib,
        "district": district,
        "subdistrict": subdistrict,
        "community": community,
        "loose": loose,
    }


# Written out by hand from the rule: the country and a place under no governorate are their own.
EXPECTED = {
    "syria": "syria",
    "idlib": "idlib",
    "district": "idlib",
    "subdistrict": "idlib",
    "community": "idlib",
    "loose": "loose",
}


def by_sql(sql: str) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(cursor.fetchall())


# The floor's CTE holds the places with a governorate at or above them; every other place is its own.
FLOOR_SQL = (
    "WITH RECURSIVE {cte} SELECT l.id, COALESCE(g.governorate_id, l.id) FROM incidents_location l "
    "LEFT JOIN governorate_of g ON g.id = l.id"
)


def every_form() -> dict[str, dict[int, int]]:
    forms = {
        "python": Location.objects.governorate_of_each(),
        "orm": dict(Location.objects.annotate(governorate=governorate_of()).values_list("pk", "governorate")),
        "sql": by_sql(place_governorate_sql()),
        "floor": by_sql(FLOOR_SQL.format(cte=floor.GOVERNORATE_CTE.format(columns="governorate_id", column="id"))),
    }
    if connection.vendor == "postgresql":  # the rollups' trigger function exists there only
        forms["function"] = by_sql("SELECT id, counts_place_governorate(id) FROM incidents_location")
    return forms


def test_every_form_gives_each_place_the_same_governorate(tree):
    expected = {tree[name].pk: tree[goal].pk for name, goal in EXPECTED.items()}
    forms = every_form()
    if connection.vendor == "postgresql":
        assert set(forms) == {"python", "orm", "sql", "floor", "function"}
    for name, found in forms.items():
        assert set(found) == set(Location.objects.values_list("pk", flat=True)), name
        assert {pk: found[pk] for pk in expected} == expected, name
        assert found == forms["python"], name


def test_the_forms_follow_a_place_moved_in_the_tree(tree, admin_user):
    from incidents import reference

    # The loose district moves under Idlib: it and nothing else changes governorate, in every form.
    reference.change(actor=admin_user, row=tree["loose"], parent=tree["idlib"])
    for name, found in every_form().items():
        assert found[tree["loose"].pk] == tree["idlib"].pk, name
        assert found[tree["community"].pk] == tree["idlib"].pk, name
        assert found[tree["syria"].pk] == tree["syria"].pk, name


@pytest.fixture
def deaths(tree, documenter) -> dict[str, Victim]:
    """One verified civilian killed at the country level, one in a community, one in the loose district."""
    found = {}
    for name, place in (("country", "syria"), ("community", "community"), ("loose", "loose")):
        incident = make_incident(documenter, Status.VERIFIED, occurred_on=dt.date(2021, 3, 10), location=tree[place])
        found[name] = make_victim(documenter, incident, Status.VERIFIED, name=f"Victim {name}")
    return found


def by_location(result: dict) -> dict[str, int]:
    return {row["location"]["name"]: row["total"] for row in result["by_location"]}


def test_a_country_level_death_is_a_row_of_its_own_in_every_count(deaths):
    parameters = CountParameters(*WINDOW)
    expected = {"Syria": 1, "Idlib": 1, "Border district": 1}
    portable = counting.compute_portable(parameters)
    assert by_location(portable.result) == expected
    assert sum(by_location(portable.result).values()) == portable.result["civilians"]["total"] == 3
    if connection.vendor == "postgresql":
        assert counting.compute_in_one_statement(parameters).result == portable.result
    assert rollup.window_count(parameters) == portable.result


def test_the_victims_export_names_the_same_governorate(deaths):
    # On PostgreSQL the file is PostgreSQL's COPY; the Python rows (SQLite's file) must match it.
    payload = b"".join(exports.counted_victims_csv(Victim.objects.filter(pk__in=[v.pk for v in deaths.values()])))
    rows = list(csv.reader(io.StringIO(payload.decode("utf-8")[1:])))[1:]
    governorate = {int(row[0]): (row[9], row[10]) for row in rows}
    assert governorate == {
        deaths["country"].pk: ("Syria", "Syria"),
        deaths["community"].pk: ("Ariha", "Idlib"),
        deaths["loose"].pk: ("Border district", "Border district"),
    }
    python_rows = {row[0]: (row[9], row[10]) for row in exports.victim_rows(Victim.objects.all())}
    assert python_rows == governorate
