"""A hand-built scenario for counting tests. Its expected figures are written out by hand below,
from the records, not computed by the code under test.

Window: 2020-01-12 .. 2020-01-27. Places: Idlib > Saraqib district > Saraqib subdistrict > Saraqib
(a community three levels below the governorate), Aleppo, Hama.

I1  verified, 2020-01-12 (first day), Saraqib (community), Syrian regime forces, 10 injured — a massacre:
    exactly five counted: girl of 17 (child, education), woman of 18 (woman, medical), man of 30
    (man, civil defense), adult of unknown sex (unknown), woman of unknown age (unknown);
    not counted: a combatant, a duplicate of the man of 30, a rejected victim.
I2  verified, 2020-01-27 (last day), Aleppo, Russian forces, 4 injured — four counted (not a massacre):
    boy of 5, girl with age group child, man of 40, woman with age group adult;
    not counted: two submitted victims and a draft victim.
I3  verified, 2020-01-28 (the day after), Idlib, regime, 7 injured: a man — not counted.
I4  verified, 2020-01-11 (the day before), Idlib, regime, 3 injured: a man — not counted.
I5  submitted incident, 2020-01-15, Idlib, regime: six verified victims — not counted, no massacre.
I6  rejected incident, 2020-01-16, Idlib, regime: a verified victim — not counted.
I7  verified, 2020-01-20, Hama, ISIS, 2 injured: a woman of 50 who died 2020-01-21 in Idlib
    (counted: Idlib, 2020-01-21); a man who died 2020-01-28 — not counted.
I8  verified, 2020-01-10 (before the window), Aleppo, regime, 9 injured: a man of 33 who died
    2020-01-13 — counted (date of death), its incident counted, its injured not (incident outside).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from incidents.models import Location, Perpetrator, Status, Victim
from tests.conftest import location, make_incident, make_victim, perpetrator

WINDOW = (dt.date(2020, 1, 12), dt.date(2020, 1, 27))
V, S, R = Status.VERIFIED, Status.SUBMITTED, Status.REJECTED


def row(total: int, children: int, women: int, men: int, unknown: int, massacres: int) -> dict[str, int]:
    return {
        "total": total,
        "children": children,
        "women": women,
        "men": men,
        "unknown": unknown,
        "massacres": massacres,
    }


@dataclass
class Scenario:
    places: dict[str, Location] = field(default_factory=dict)
    parties: dict[str, Perpetrator] = field(default_factory=dict)
    incidents: dict[str, object] = field(default_factory=dict)
    victims: dict[str, Victim] = field(default_factory=dict)


def build(author) -> Scenario:
    scenario = Scenario()
    idlib, aleppo, hama = location("Idlib"), location("Aleppo"), location("Hama")
    district = Location.objects.create(name="Saraqib district", name_ar="منطقة سراقب", level="district", parent=idlib)
    subdistrict = Location.objects.create(
        name="Saraqib subdistrict", name_ar="ناحية سراقب", level="subdistrict", parent=district
    )
    saraqib = Location.objects.create(name="Saraqib", name_ar="سراقب", level="community", parent=subdistrict)
    scenario.places = {
        "idlib": idlib,
        "aleppo": aleppo,
        "hama": hama,
        "district": district,
        "saraqib": saraqib,
        "syria": location("Syria"),
    }
    regime, russia = perpetrator("Syrian regime forces"), perpetrator("Russian forces")
    alliance, isis = perpetrator("Syrian-Russian alliance"), perpetrator("ISIS")
    scenario.parties = {"regime": regime, "russia": russia, "alliance": alliance, "isis": isis}

    def incident(key: str, status: str, day: dt.date, place: Location, party: Perpetrator, injured: int):
        scenario.incidents[key] = make_incident(
            author, status=status, occurred_on=day, location=place, perpetrator=party, injured_count=injured
        )
        return scenario.incidents[key]

    def victim(key: str, of, status: str = V, **fields) -> Victim:
        scenario.victims[key] = make_victim(author, of, status=status, **fields)
        return scenario.victims[key]

    i1 = incident("i1", V, dt.date(2020, 1, 12), saraqib, regime, 10)
    victim("girl17", i1, sex="female", age_years=17, roles=["education"])
    victim("woman18", i1, sex="female", age_years=18, roles=["medical"])
    victim("man30", i1, sex="male", age_years=30, roles=["civil_defense"])
    victim("unknown_sex", i1, sex="unknown", age_years=40)
    victim("unknown_age", i1, sex="female", age_years=None, age_group="unknown")
    victim("combatant", i1, sex="male", age_years=25, civilian_status="combatant")
    duplicate = victim("duplicate", i1, sex="male", age_years=30)
    Victim.objects.filter(pk=duplicate.pk).update(duplicate_of=scenario.victims["man30"])
    victim("rejected", i1, status=R, sex="male", age_years=50)

    i2 = incident("i2", V, dt.date(2020, 1, 27), aleppo, russia, 4)
    victim("boy5", i2, sex="male", age_years=5)
    victim("girl_group", i2, sex="female", age_years=None, age_group="child")
    victim("man40", i2, sex="male", age_years=40)
    victim("woman_group", i2, sex="female", age_years=None, age_group="adult")
    victim("submitted1", i2, status=S, sex="male", age_years=20)
    victim("submitted2", i2, status=S, sex="female", age_years=22)
    victim("draft", i2, status=Status.DRAFT, sex="male", age_years=60)

    victim("day_after", incident("i3", V, dt.date(2020, 1, 28), idlib, regime, 7), sex="male", age_years=45)
    victim("day_before", incident("i4", V, dt.date(2020, 1, 11), idlib, regime, 3), sex="male", age_years=46)

    i5 = incident("i5", S, dt.date(2020, 1, 15), idlib, regime, 20)
    for number in range(6):
        victim(f"unverified_incident_{number}", i5, sex="male", age_years=20 + number)
    victim("rejected_incident", incident("i6", R, dt.date(2020, 1, 16), idlib, regime, 1), sex="male", age_years=33)

    i7 = incident("i7", V, dt.date(2020, 1, 20), hama, isis, 2)
    victim("woman50", i7, sex="female", age_years=50, date_of_death=dt.date(2020, 1, 21), place_of_death=idlib)
    victim("died_later", i7, sex="male", age_years=51, date_of_death=dt.date(2020, 1, 28))

    i8 = incident("i8", V, dt.date(2020, 1, 10), aleppo, regime, 9)
    victim("man33", i8, sex="male", age_years=33, date_of_death=dt.date(2020, 1, 13))
    return scenario


def named(item) -> dict:
    return {"id": item.pk, "name": item.name, "name_ar": item.name_ar}


def place(item: Location) -> dict:
    """A place as a count's rows carry it: named, with its coordinates as the locations API writes them."""
    return {
        **named(item),
        "latitude": None if item.latitude is None else f"{item.latitude:.6f}",
        "longitude": None if item.longitude is None else f"{item.longitude:.6f}",
    }


def expected_result(scenario: Scenario) -> dict:
    """The whole window, no filters: worked out by hand from the docstring above."""
    p, places = scenario.parties, scenario.places
    return {
        "civilians": {"total": 11, "children": 3, "women": 3, "men": 3, "unknown": 2},
        "massacres": 1,
        "injured": 16,  # I1 10 + I2 4 + I7 2 (I8's incident lies before the window)
        "incidents": 4,  # I1, I2, I7, I8
        "roles": {"civil_defense": 1, "medical": 1, "media": 0, "humanitarian": 0, "education": 1, "other": 0},
        "excluded_duplicates": 1,  # the duplicate of the man of 30 (I1)
        "by_perpetrator": [
            {"perpetrator": named(p["regime"]), **row(6, 1, 1, 2, 2, 1)},
            {"perpetrator": named(p["russia"]), **row(4, 2, 1, 1, 0, 0)},
            {"perpetrator": named(p["isis"]), **row(1, 0, 1, 0, 0, 0)},
        ],
        "by_location": [
            {"location": place(places["idlib"]), **row(6, 1, 2, 1, 2, 1)},
            {"location": place(places["aleppo"]), **row(5, 2, 1, 2, 0, 0)},
        ],
        "by_date": [
            {"date": "2020-01-12", **row(5, 1, 1, 1, 2, 1)},
            {"date": "2020-01-13", **row(1, 0, 0, 1, 0, 0)},
            {"date": "2020-01-21", **row(1, 0, 1, 0, 0, 0)},
            {"date": "2020-01-27", **row(4, 2, 1, 1, 0, 0)},
        ],
    }
