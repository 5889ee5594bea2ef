"""The benchmark's pieces at a small N: the generator, the hand-written SQL floor, the list endpoints.

The floor (bench/floor.py) is checked against a hand-built scenario whose figures are written out
here by hand, and the application's count is checked against the floor on generated data, so a
faster query can never be a wrong one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken
from rest_framework.test import APIClient

from bench import floor, synthetic
from incidents.models import Incident, Location, Perpetrator, Status, Victim
from tests.conftest import client_for, location, make_incident, make_victim, perpetrator

YEAR_2020 = (dt.date(2020, 1, 1), dt.date(2020, 12, 31))


def raw_connection():
    """The bare DB-API connection under Django's (the floor uses no framework)."""
    connection.ensure_connection()
    return connection.connection


def floor_result(date_from: dt.date, date_to: dt.date, **filters) -> dict:
    return floor.compute(
        raw_connection(), connection.vendor, floor.CountParameters(date_from, date_to, threshold=5, **filters)
    )


def generate(victims: int = 600, incidents: int = 120, seed: int = 7) -> None:
    call_command("generate_synthetic", victims=victims, incidents=incidents, seed=seed, verbosity=0)


# --- the generator -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_generator_writes_the_requested_numbers_with_a_realistic_mix():
    generate(victims=1500, incidents=300)

    assert Incident.objects.count() == 300
    assert Victim.objects.count() == 1500
    incident_states = set(Incident.objects.values_list("status", flat=True))
    assert incident_states == {s.value for s in Status}
    victims = Victim.objects.all()
    verified_share = victims.filter(status=Status.VERIFIED).count() / 1500
    assert 0.5 < verified_share < 0.9
    assert victims.filter(status=Status.REJECTED).exists()
    assert victims.filter(status=Status.DRAFT).exists()
    assert victims.filter(civilian_status="combatant").exists()
    assert victims.filter(civilian_status="unknown").exists()
    assert victims.filter(duplicate_of__isnull=False).exists()
    assert victims.filter(age_years__isnull=True).exists()
    assert set(victims.values_list("category", flat=True)) == {"child", "woman", "man", "unknown"}
    # Duplicates point at another victim of the same incident.
    for duplicate in victims.filter(duplicate_of__isnull=False).select_related("duplicate_of")[:20]:
        assert duplicate.duplicate_of.incident_id == duplicate.incident_id
    # Names come from the Ministry of Health list: Arabic script in name_ar.
    assert all(any("\u0600" <= ch <= "\u06ff" for ch in name) for name in victims.values_list("name_ar", flat=True))
    # Fifteen years of incidents, never in the future, on governorates, districts and communities.
    dates = Incident.objects.values_list("occurred_on", flat=True)
    assert min(dates) >= synthetic.FIRST_DAY and max(dates) <= synthetic.LAST_DAY
    assert (max(dates) - min(dates)).days > 10 * 365
    levels = set(Incident.objects.values_list("location__level", flat=True))
    assert {"governorate", "district", "community"} <= levels
    assert Location.objects.filter(level="community", parent__level="district").count() >= 40
    # A party chosen with its subtree, as counts filter it: the alliance's two members appear.
    assert Incident.objects.filter(perpetrator__parent__name="Syrian-Russian alliance").exists()
    authors = set(Incident.objects.values_list("created_by__username", flat=True))
    assert authors and all(name.startswith("synthetic-documenter-") for name in authors)


def _fingerprint_of_data() -> str:
    digest = hashlib.sha256()
    for row in Incident.objects.order_by("occurred_on", "title", "injured_count").values_list(
        "title", "occurred_on", "status", "weapon", "injured_count", "perpetrator__name", "location__name"
    ):
        digest.update(repr(row).encode())
    for row in Victim.objects.order_by("incident__occurred_on", "name_ar", "age_years", "status").values_list(
        "name_ar", "age_years", "sex", "status", "civilian_status", "date_of_death"
    ):
        digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.mark.django_db
def test_same_seed_gives_the_same_data_and_another_seed_different_data():
    generate(seed=11)
    first = _fingerprint_of_data()
    call_command("generate_synthetic", victims=600, incidents=120, seed=11, replace=True, verbosity=0)
    assert Victim.objects.count() == 600
    assert _fingerprint_of_data() == first
    call_command("generate_synthetic", victims=600, incidents=120, seed=12, replace=True, verbosity=0)
    assert Victim.objects.count() == 600
    assert _fingerprint_of_data() != first


@pytest.mark.django_db
def test_generator_refuses_a_database_holding_real_records(documenter):
    make_incident(documenter)
    with pytest.raises(CommandError, match="real users"):
        generate()
    assert Incident.objects.count() == 1
    assert Victim.objects.count() == 0


@pytest.mark.django_db
def test_generator_names_the_missing_names_file(tmp_path: Path):
    missing = tmp_path / "nowhere.csv"
    with pytest.raises(CommandError, match=r"nowhere\.csv"):
        call_command("generate_synthetic", victims=10, incidents=2, people_file=missing, verbosity=0)
    assert Incident.objects.count() == 0


@pytest.mark.django_db
def test_generator_rejects_nonsense_sizes():
    with pytest.raises(CommandError):
        call_command("generate_synthetic", victims=-1, incidents=2, verbosity=0)
    with pytest.raises(CommandError):
        call_command("generate_synthetic", victims=10, incidents=0, verbosity=0)
    assert Incident.objects.count() == 0


def test_default_names_file_is_inside_the_repository():
    from django.conf import settings

    assert synthetic.DEFAULT_PEOPLE_FILE.is_file()
    assert synthetic.DEFAULT_PEOPLE_FILE.is_relative_to(settings.BASE_DIR)


# --- the floor, against figures worked out by hand -----------------------------------------------


@pytest.fixture
def hand_built(documenter):
    """Two counted incidents in 2020 (one an exact-5 massacre), plus records that must not count."""
    idlib, aleppo = location("Idlib"), location("Aleppo")
    regime, russia = perpetrator("Syrian regime forces"), perpetrator("Russian forces")
    massacre = make_incident(
        documenter,
        Status.VERIFIED,
        occurred_on=dt.date(2020, 1, 15),
        location=idlib,
        perpetrator=regime,
        injured_count=3,
    )
    v = Status.VERIFIED
    make_victim(documenter, massacre, v, sex="male", age_years=30, roles=["civil_defense"])
    make_victim(documenter, massacre, v, sex="female", age_years=18)  # a woman
    make_victim(documenter, massacre, v, sex="female", age_years=17)  # a girl: child
    make_victim(documenter, massacre, v, sex="unknown", age_years=None, age_group="child")
    kept = make_victim(documenter, massacre, v, sex="unknown", age_years=40)  # unknown
    make_victim(documenter, massacre, v, civilian_status="combatant")
    make_victim(documenter, massacre, Status.REJECTED)
    twice = make_victim(documenter, massacre, v)
    Victim.objects.filter(pk=twice.pk).update(duplicate_of=kept)

    strike = make_incident(
        documenter,
        Status.VERIFIED,
        occurred_on=dt.date(2020, 2, 1),
        location=aleppo,
        perpetrator=russia,
        injured_count=10,
    )
    make_victim(documenter, strike, v, sex="male", age_years=50)
    # Died two days later in an Idlib hospital: counted on that day, in Idlib.
    make_victim(
        documenter, strike, v, sex="male", age_years=22, date_of_death=dt.date(2020, 2, 3), place_of_death=idlib
    )

    pending = make_incident(documenter, Status.SUBMITTED, occurred_on=dt.date(2020, 1, 20), location=idlib)
    make_victim(documenter, pending, v)
    earlier = make_incident(documenter, Status.VERIFIED, occurred_on=dt.date(2019, 12, 31), location=idlib)
    make_victim(documenter, earlier, v)
    return {"idlib": idlib, "aleppo": aleppo, "regime": regime, "russia": russia}


def _rows(result: dict, key: str, label: str) -> dict:
    return {
        (row[label]["name"] if isinstance(row[label], dict) else row[label]): {
            k: row[k] for k in ("total", "children", "women", "men", "unknown", "massacres")
        }
        for row in result[key]
    }


@pytest.mark.django_db
def test_floor_gives_the_hand_worked_figures(hand_built):
    result = floor_result(*YEAR_2020)

    assert result["civilians"] == {"total": 7, "children": 2, "women": 1, "men": 3, "unknown": 1}
    assert result["massacres"] == 1
    assert result["injured"] == 13
    assert result["incidents"] == 2
    assert result["roles"] == {
        "civil_defense": 1,
        "medical": 0,
        "media": 0,
        "humanitarian": 0,
        "education": 0,
        "other": 0,
    }
    assert _rows(result, "by_perpetrator", "perpetrator") == {
        "Syrian regime forces": {"total": 5, "children": 2, "women": 1, "men": 1, "unknown": 1, "massacres": 1},
        "Russian forces": {"total": 2, "children": 0, "women": 0, "men": 2, "unknown": 0, "massacres": 0},
    }
    assert _rows(result, "by_location", "location") == {
        "Idlib": {"total": 6, "children": 2, "women": 1, "men": 2, "unknown": 1, "massacres": 1},
        "Aleppo": {"total": 1, "children": 0, "women": 0, "men": 1, "unknown": 0, "massacres": 0},
    }
    assert _rows(result, "by_date", "date") == {
        "2020-01-15": {"total": 5, "children": 2, "women": 1, "men": 1, "unknown": 1, "massacres": 1},
        "2020-02-01": {"total": 1, "children": 0, "women": 0, "men": 1, "unknown": 0, "massacres": 0},
        "2020-02-03": {"total": 1, "children": 0, "women": 0, "men": 1, "unknown": 0, "massacres": 0},
    }
    assert len(result["fingerprint"]) == 64


@pytest.mark.django_db
def test_floor_filters_by_place_and_party_subtrees(hand_built):
    alliance = Perpetrator.objects.get(name="Syrian-Russian alliance")
    assert floor_result(*YEAR_2020, perpetrators=[alliance.pk])["civilians"]["total"] == 7
    in_aleppo = floor_result(*YEAR_2020, locations=[hand_built["aleppo"].pk])
    assert in_aleppo["civilians"] == {"total": 1, "children": 0, "women": 0, "men": 1, "unknown": 0}
    assert (in_aleppo["massacres"], in_aleppo["injured"], in_aleppo["incidents"]) == (0, 10, 1)
    syria = Location.objects.get(level="country")
    assert floor_result(*YEAR_2020, locations=[syria.pk])["civilians"]["total"] == 7
    # Window edges: the last day of 2019 holds one victim; 2020-01-16 onwards misses the massacre.
    assert floor_result(dt.date(2019, 12, 31), dt.date(2019, 12, 31))["civilians"]["total"] == 1
    assert floor_result(dt.date(2020, 1, 16), dt.date(2020, 2, 2))["civilians"]["total"] == 1


@pytest.mark.django_db
def test_floor_fingerprint_changes_with_a_counted_record_only(hand_built, documenter):
    before = floor_result(*YEAR_2020)["fingerprint"]
    assert floor_result(*YEAR_2020)["fingerprint"] == before
    rejected = Victim.objects.filter(status=Status.REJECTED).get()
    Victim.objects.filter(pk=rejected.pk).update(version=5)
    assert floor_result(*YEAR_2020)["fingerprint"] == before
    counted = Victim.objects.filter(age_years=50).get()
    Victim.objects.filter(pk=counted.pk).update(version=counted.version + 1)
    assert floor_result(*YEAR_2020)["fingerprint"] != before


# --- list endpoints ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["incidents", "victims"])
def test_list_queries_do_not_grow_with_the_page_size(kind, reviewer):
    generate(victims=400, incidents=100)
    # Signed in by token, as API clients are: every request authenticates afresh. A reviewer's token
    # is one obtained with a second factor (accounts.auth).
    from accounts.models import SecondFactorToken

    instance, token = AuthToken.objects.create(reviewer)
    SecondFactorToken.objects.create(token=instance, device_id="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    client.get(f"/api/v1/{kind}/")  # the token's look-up kept (API_TOKEN_CACHE_SECONDS), if it is
    counts = {}
    for size in (5, 50, 200):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/api/v1/{kind}/", {"page_size": size, "status": "verified"})
        assert response.status_code == 200
        assert len(response.json()["results"]) == min(size, response.json()["count"])
        counts[size] = len(captured.captured_queries)
    assert len(set(counts.values())) == 1, counts


@pytest.mark.django_db
def test_small_lists_are_counted_exactly(reviewer, settings):
    settings.API_EXACT_COUNT_LIMIT = 1000
    generate(victims=400, incidents=100)
    response = client_for(reviewer).get("/api/v1/victims/", {"status": "verified"})
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == Victim.objects.filter(status=Status.VERIFIED).count()
    assert response["X-Count-Is-Estimate"] == "false"


@pytest.mark.django_db
def test_large_lists_report_an_estimate_on_postgresql_only(reviewer, settings):
    settings.API_EXACT_COUNT_LIMIT = 50
    generate(victims=400, incidents=100)
    call_command("generate_synthetic", victims=0, incidents=1, seed=3, verbosity=0)  # exercises sequences
    response = client_for(reviewer).get("/api/v1/victims/")
    body = response.json()
    visible = Victim.objects.visible_to(reviewer).count()
    assert set(body) == {"count", "next", "previous", "results"}
    if connection.vendor == "postgresql":
        assert response["X-Count-Is-Estimate"] == "true"
        assert body["count"] >= 50
    else:
        assert response["X-Count-Is-Estimate"] == "false"
        assert body["count"] == visible
    assert len(body["results"]) == 50


# --- the application's count against the floor, on generated data --------------------------------


def app_and_floor(date_from: dt.date, date_to: dt.date, locations=(), perpetrators=()) -> tuple[dict, dict]:
    from bench.run import comparable
    from counts import counting

    parameters = counting.CountParameters(
        date_from=date_from, date_to=date_to, locations=tuple(locations), perpetrators=tuple(perpetrators)
    )
    figures = counting.compute(parameters)
    app = {**figures.result, "fingerprint": figures.fingerprint}
    header = f"rule={counting.RULE_VERSION}\nparameters={parameters.canonical()}\n"
    by_hand = floor_result(
        date_from,
        date_to,
        locations=list(locations),
        perpetrators=list(perpetrators),
        fingerprint_header=header,
    )
    return comparable(app), comparable(by_hand)


@pytest.mark.django_db
def test_application_count_matches_the_floor_on_generated_data():
    generate(victims=3000, incidents=500, seed=5)
    alliance = Perpetrator.objects.get(name="Syrian-Russian alliance").pk
    regime = Perpetrator.objects.get(name="Syrian regime forces").pk
    aleppo = Location.objects.get(name="Aleppo", level="governorate").pk
    idlib_district = Location.objects.get(name="Idlib district").pk
    cases = [
        (dt.date(1900, 1, 1), dt.date(2100, 12, 31), (), ()),
        (dt.date(2015, 1, 1), dt.date(2015, 12, 31), (), ()),
        (dt.date(2012, 3, 1), dt.date(2014, 2, 28), (aleppo, idlib_district), ()),
        (dt.date(2011, 1, 1), dt.date(2020, 12, 31), (), (alliance, regime)),
        (dt.date(2013, 6, 1), dt.date(2013, 6, 30), (aleppo,), (alliance,)),
    ]
    for date_from, date_to, locations, perpetrators in cases:
        app, by_hand = app_and_floor(date_from, date_to, locations, perpetrators)
        assert app == by_hand, (date_from, date_to, locations, perpetrators)
    # The data set is rich enough for the comparison to mean something.
    full, _ = app_and_floor(dt.date(1900, 1, 1), dt.date(2100, 12, 31))
    assert full["civilians"]["total"] > 1000
    assert full["massacres"] > 10
    assert len(full["by_location"]) >= 10 and len(full["by_perpetrator"]) >= 8
    assert full["roles"]["civil_defense"] > 0


@pytest.mark.django_db
def test_one_statement_count_equals_the_orm_count_figure_by_figure(settings):
    """PostgreSQL computes a count in one statement; the ORM path (every other database) must agree
    with it exactly: figures, row order, names, fingerprint. On SQLite both calls take the ORM path."""
    from counts import counting

    generate(victims=3000, incidents=500, seed=11)
    alliance = Perpetrator.objects.get(name="Syrian-Russian alliance").pk
    russian = Perpetrator.objects.get(name="Russian forces").pk
    aleppo = Location.objects.get(name="Aleppo", level="governorate").pk
    syria = Location.objects.get(level="country").pk
    cases = [
        (dt.date(1900, 1, 1), dt.date(2100, 12, 31), (), ()),
        (dt.date(2016, 1, 1), dt.date(2016, 12, 31), (), ()),
        (dt.date(2012, 1, 1), dt.date(2019, 12, 31), (aleppo, syria), (alliance, russian)),
        (dt.date(1990, 1, 1), dt.date(1990, 12, 31), (), ()),  # nothing counted
    ]
    one_statement = counting.compute_in_one_statement if connection.vendor == "postgresql" else counting.compute
    for threshold in (1, 5):
        settings.MASSACRE_THRESHOLD = threshold
        for date_from, date_to, locations, perpetrators in cases:
            parameters = counting.CountParameters(date_from, date_to, locations, perpetrators)
            fast, orm = one_statement(parameters), counting.compute_portable(parameters)
            assert fast == orm, (threshold, date_from, date_to, locations, perpetrators)
    settings.MASSACRE_THRESHOLD = 5
    full = counting.compute(counting.CountParameters(dt.date(1900, 1, 1), dt.date(2100, 12, 31)))
    assert full.result["civilians"]["total"] > 1000 and full.result["massacres"] > 10


@pytest.mark.django_db
def test_application_count_matches_the_floor_on_the_hand_built_scenario(hand_built):
    app, by_hand = app_and_floor(*YEAR_2020)
    assert app == by_hand
    assert app["civilians"]["total"] == 7


def test_bench_refuses_to_run_without_postgresql():
    import os
    import subprocess
    import sys

    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    environment["DATABASE_URL"] = "sqlite:///tmp/nothing.sqlite3"
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--no-write"],
        cwd=Path(__file__).resolve().parents[2],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "PostgreSQL" in done.stderr
