"""Synthetic casualty records for benchmarks and load tests (never for real documentation).

`generate(...)` writes incidents and victims in bulk: COPY on PostgreSQL, `bulk_create` in batches on
SQLite, bypassing the per-record services on purpose (a million victims through the workflow would take
hours and prove nothing about counting speed). The rows are shaped like a real archive so that the
query planner sees realistic selectivities:

- incidents spread over fifteen years (more in the war's worst years), on the seeded governorates and
  on districts/communities added under them, attributed to the seeded parties with their typical weapons;
- victims heavy-tailed per incident (most incidents kill one to three people, a few are massacres),
  names, ages and sexes sampled from the Gaza Ministry of Health list (data/, in this repository);
- a realistic mix of states: drafts, submitted, changes requested, rejected, verified; combatants and
  unknown civilian status; unknown ages and sexes; later deaths and deaths elsewhere (hospital);
  duplicates (the same person reported twice) marked `duplicate_of`.

On PostgreSQL the window-count rollups (counts/rollup.py) are not kept row by row while the generator
writes: its transaction switches the rollup triggers off, COPYs, recomputes every tier from the victims
(`rollup.rebuild_sql()`, the statements `rebuild_rollups` runs) and switches them on again before it
commits, so nobody ever sees the tables without their rollups and the tiers equal what the triggers
would have written (tests/bench/test_generator_rollups.py compares the two, tier by tier). Firing the
triggers on every COPY statement made ten million victims impractical (bench/README.md).
`through_triggers=True` writes through the triggers instead (that comparison). The search columns are
stored generated columns (incidents/0009), computed for every writer either way.

Everything is created by synthetic users (`synthetic-documenter-N`, `synthetic-reviewer-N`) with unusable
passwords, so `delete_synthetic()` can remove it again.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from bisect import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.color import no_style
from django.db import connection, transaction

from counts import rollup
from incidents.models import AgeGroup, Incident, Location, Perpetrator, Status, Victim, age_group_for

SYNTHETIC_PREFIX = "synthetic-"
DEFAULT_PEOPLE_FILE = Path(settings.BASE_DIR) / "data" / "gaza-moh-2024-04-13.csv"
FIRST_DAY = dt.date(2011, 3, 15)
LAST_DAY = dt.date(2026, 3, 14)  # fifteen years, fixed so that a seed always gives the same data

# (district, Arabic, [(community, Arabic), ...]) under each seeded governorate.
DISTRICTS: dict[str, list[tuple[str, str, list[tuple[str, str]]]]] = {
    "Damascus": [("Damascus city", "مدينة دمشق", [("Jobar", "جوبر"), ("Qaboun", "القابون"), ("Yarmouk", "اليرموك")])],
    "Rif Dimashq": [
        ("Douma", "دوما", [("Douma town", "مدينة دوما"), ("Harasta", "حرستا"), ("Zamalka", "زملكا")]),
        ("Darayya", "داريا", [("Darayya town", "مدينة داريا"), ("Muadamiyat al-Sham", "معضمية الشام")]),
        ("Az-Zabadani", "الزبداني", [("Madaya", "مضايا"), ("Zabadani town", "مدينة الزبداني")]),
    ],
    "Aleppo": [
        ("Mount Simeon", "جبل سمعان", [("Aleppo city", "مدينة حلب"), ("Anadan", "عندان"), ("Hreitan", "حريتان")]),
        ("Al-Bab", "الباب", [("Al-Bab town", "مدينة الباب"), ("Tadef", "تادف")]),
        ("Azaz", "أعزاز", [("Azaz town", "مدينة أعزاز"), ("Tell Rifaat", "تل رفعت")]),
        ("Manbij", "منبج", [("Manbij town", "مدينة منبج")]),
    ],
    "Homs": [
        ("Homs district", "منطقة حمص", [("Homs city", "مدينة حمص"), ("Al-Houla", "الحولة")]),
        ("Al-Rastan", "الرستن", [("Al-Rastan town", "مدينة الرستن"), ("Talbiseh", "تلبيسة")]),
        ("Tadmur", "تدمر", [("Palmyra", "تدمر المدينة")]),
    ],
    "Hama": [
        ("Hama district", "منطقة حماة", [("Hama city", "مدينة حماة"), ("Halfaya", "حلفايا")]),
        ("Mahardah", "محردة", [("Kafr Zita", "كفرزيتا"), ("Al-Latamna", "اللطامنة"), ("Morek", "مورك")]),
        ("As-Suqaylabiyah", "السقيلبية", [("Kafr Nabudah", "كفرنبودة")]),
    ],
    "Latakia": [
        ("Latakia district", "منطقة اللاذقية", [("Latakia city", "مدينة اللاذقية")]),
        ("Al-Haffah", "الحفة", [("Salma", "سلمى"), ("Kabani", "كبانة")]),
    ],
    "Tartus": [
        ("Baniyas", "بانياس", [("Al-Bayda", "البيضا"), ("Baniyas town", "مدينة بانياس")]),
        ("Tartus district", "منطقة طرطوس", [("Tartus city", "مدينة طرطوس")]),
    ],
    "Idlib": [
        ("Idlib district", "منطقة إدلب", [("Idlib city", "مدينة إدلب"), ("Saraqib", "سراقب"), ("Sarmin", "سرمين")]),
        (
            "Maarrat al-Numan",
            "معرة النعمان",
            [("Maarrat al-Numan town", "مدينة معرة النعمان"), ("Khan Shaykhun", "خان شيخون"), ("Kafr Nabl", "كفرنبل")],
        ),
        ("Harem", "حارم", [("Sarmada", "سرمدا"), ("Darkush", "دركوش")]),
        ("Jisr al-Shughur", "جسر الشغور", [("Jisr al-Shughur town", "مدينة جسر الشغور")]),
        ("Ariha", "أريحا", [("Ariha town", "مدينة أريحا")]),
    ],
    "Raqqa": [
        ("Raqqa district", "منطقة الرقة", [("Raqqa city", "مدينة الرقة")]),
        ("Al-Thawrah", "الثورة", [("Tabqa", "الطبقة"), ("Al-Mansoura", "المنصورة")]),
    ],
    "Deir ez-Zor": [
        ("Deir ez-Zor district", "منطقة دير الزور", [("Deir ez-Zor city", "مدينة دير الزور")]),
        ("Al-Mayadin", "الميادين", [("Al-Mayadin town", "مدينة الميادين"), ("Hajin", "هجين")]),
        ("Abu Kamal", "البوكمال", [("Al-Bukamal town", "مدينة البوكمال"), ("Al-Shaafa", "الشعفة")]),
    ],
    "Al-Hasakah": [
        ("Al-Hasakah district", "منطقة الحسكة", [("Al-Shaddadi", "الشدادي")]),
        ("Ras al-Ayn", "رأس العين", [("Ras al-Ayn town", "مدينة رأس العين")]),
        ("Qamishli", "القامشلي", [("Qamishli city", "مدينة القامشلي")]),
    ],
    "Daraa": [
        ("Daraa district", "منطقة درعا", [("Daraa al-Balad", "درعا البلد"), ("Tafas", "طفس")]),
        ("Izra", "إزرع", [("Nawa", "نوى"), ("Jasim", "جاسم")]),
    ],
    "As-Suwayda": [
        ("As-Suwayda district", "منطقة السويداء", [("Suwayda city", "مدينة السويداء")]),
        ("Salkhad", "صلخد", [("Salkhad town", "مدينة صلخد")]),
    ],
    "Quneitra": [("Fiq", "فيق", [("Khan Arnabah", "خان أرنبة"), ("Jubata al-Khashab", "جباتا الخشب")])],
}

# Relative intensity by governorate (most documented deaths were in these).
GOVERNORATE_WEIGHT = {
    "Aleppo": 22,
    "Rif Dimashq": 20,
    "Idlib": 16,
    "Homs": 9,
    "Hama": 8,
    "Daraa": 8,
    "Deir ez-Zor": 7,
    "Damascus": 5,
    "Raqqa": 4,
    "Al-Hasakah": 2,
    "Latakia": 2,
    "Quneitra": 1,
    "As-Suwayda": 1,
    "Tartus": 1,
}
# Share of incidents by year (the worst years of the war dominate).
YEAR_WEIGHT = {
    2011: 3,
    2012: 18,
    2013: 20,
    2014: 15,
    2015: 12,
    2016: 11,
    2017: 7,
    2018: 6,
    2019: 3,
    2020: 2,
    2021: 1,
    2022: 1,
    2023: 1,
    2024: 1,
    2025: 1,
    2026: 1,
}
# (party, weight, its typical weapons)
PERPETRATOR_WEIGHT: list[tuple[str, int, list[str]]] = [
    ("Syrian regime forces", 60, ["barrel_bomb", "artillery", "fixed_wing_aircraft", "helicopter", "ground_attack"]),
    ("Russian forces", 10, ["fixed_wing_aircraft", "missile", "cluster_munition"]),
    ("Syrian-Russian alliance", 2, ["fixed_wing_aircraft", "missile"]),
    ("ISIS", 7, ["ground_attack", "landmine", "other", "artillery"]),
    ("Hay'at Tahrir al-Sham", 3, ["ground_attack", "artillery"]),
    ("Armed opposition / Syrian National Army", 4, ["artillery", "ground_attack"]),
    ("Syrian Democratic Forces", 3, ["ground_attack", "artillery"]),
    ("International coalition", 6, ["fixed_wing_aircraft", "drone", "missile"]),
    ("Other parties", 5, ["landmine", "other", "drone"]),
]
ATTACKS = {
    "fixed_wing_aircraft": ("Airstrike on", "غارة جوية على"),
    "helicopter": ("Helicopter attack on", "هجوم بمروحية على"),
    "barrel_bomb": ("Barrel bombs on", "براميل متفجرة على"),
    "artillery": ("Shelling of", "قصف مدفعي على"),
    "missile": ("Missile strike on", "ضربة صاروخية على"),
    "cluster_munition": ("Cluster munitions on", "ذخائر عنقودية على"),
    "chemical": ("Chemical attack on", "هجوم كيميائي على"),
    "drone": ("Drone strike on", "ضربة بطائرة مسيّرة على"),
    "ground_attack": ("Ground attack on", "هجوم بري على"),
    "landmine": ("Landmine explosion near", "انفجار لغم قرب"),
    "other": ("Killings in", "عمليات قتل في"),
}
INCIDENT_STATUS = [
    (Status.VERIFIED, 78),
    (Status.SUBMITTED, 8),
    (Status.DRAFT, 6),
    (Status.CHANGES_REQUESTED, 2),
    (Status.REJECTED, 6),
]
VERIFIED_INCIDENT_VICTIM_STATUS = [(Status.VERIFIED, 92), (Status.SUBMITTED, 4), (Status.REJECTED, 4)]
# Combatants are overwhelmingly adult men; a few records of anyone lack a determined status.
ADULT_MALE_CIVILIAN_STATUS = [("civilian", 72), ("combatant", 22), ("unknown", 6)]
OTHER_CIVILIAN_STATUS = [("civilian", 96), ("combatant", 1), ("unknown", 3)]
ROLE_SHARE = [  # per-victim probability of each role
    ("role_civil_defense", 0.010),
    ("role_medical", 0.006),
    ("role_media", 0.003),
    ("role_humanitarian", 0.002),
    ("role_education", 0.003),
    ("role_other", 0.002),
]
DUPLICATE_SHARE = 0.015
UNKNOWN_AGE_SHARE = 0.04
UNKNOWN_SEX_SHARE = 0.02
LATER_DEATH_SHARE = 0.04
ELSEWHERE_DEATH_SHARE = 0.03

INCIDENT_COLUMNS = [
    "id",
    "title",
    "description",
    "occurred_on",
    "date_precision",
    "location_id",
    "latitude",
    "longitude",
    "perpetrator_id",
    "weapon",
    "injured_count",
    "status",
    "created_by_id",
    "created_at",
    "updated_at",
    "version",
]
VICTIM_COLUMNS = [
    "id",
    "incident_id",
    "name",
    "name_ar",
    "sex",
    "age_years",
    "age_group",
    "civilian_status",
    "role_civil_defense",
    "role_medical",
    "role_media",
    "role_humanitarian",
    "role_education",
    "role_other",
    "date_of_death",
    "place_of_death_id",
    "duplicate_of_id",
    "status",
    "created_by_id",
    "created_at",
    "updated_at",
    "version",
    # NOT NULL without a database default (incidents/0006): COPY must name them.
    "identity_number",
    "origin_source",
    "origin_record_id",
]


class SyntheticDataError(Exception):
    """The generator cannot run here (missing input file, real records present, bad sizes)."""


@dataclass
class Person:
    name: str
    name_ar: str
    age: int
    sex: str


@dataclass
class GenerationReport:
    incidents: int = 0
    victims: int = 0
    locations_added: int = 0
    users: list[str] = field(default_factory=list)
    backend: str = ""


class Weighted:
    """Fast repeated weighted choice (cumulative weights + bisect)."""

    def __init__(self, pairs: Sequence[tuple[object, float]], rng: random.Random) -> None:
        self.values = [value for value, _ in pairs]
        self.cumulative = list(accumulate(weight for _, weight in pairs))
        self.total = self.cumulative[-1]
        self.rng = rng

    def __call__(self):
        return self.values[bisect(self.cumulative, self.rng.random() * self.total)]


def load_people(path: Path) -> list[Person]:
    if not path.is_file():
        raise SyntheticDataError(f"The names file {path} does not exist (set --people-file).")
    people = []
    with path.open(newline="", encoding="utf-8") as source:
        for row in csv.DictReader(source):
            try:
                age = int(row["age"])
            except (TypeError, ValueError):
                continue
            sex = {"m": "male", "f": "female"}.get(row.get("sex", "").strip().lower())
            if sex is None or not 0 <= age <= 130:
                continue
            people.append(Person(row["en_name"].strip(), row["name"].strip(), age, sex))
    if not people:
        raise SyntheticDataError(f"The names file {path} holds no usable rows (id,name,en_name,age,sex).")
    return people


def ensure_places() -> tuple[dict[str, list[int]], int]:
    """Districts and communities under the seeded governorates; returns {governorate: [place ids]}."""
    added = 0
    places: dict[str, list[int]] = {}
    for governorate in Location.objects.filter(level=Location.Level.GOVERNORATE):
        ids = [governorate.pk]
        for district_name, district_ar, communities in DISTRICTS.get(governorate.name, []):
            district, created = Location.objects.get_or_create(
                parent=governorate,
                name=district_name,
                defaults={"name_ar": district_ar, "level": Location.Level.DISTRICT},
            )
            added += created
            ids.append(district.pk)
            for community_name, community_ar in communities:
                community, created = Location.objects.get_or_create(
                    parent=district,
                    name=community_name,
                    defaults={"name_ar": community_ar, "level": Location.Level.COMMUNITY},
                )
                added += created
                # Most incidents are recorded at community level.
                ids.extend([community.pk] * 4)
        places[governorate.name] = ids
    if not places:
        raise SyntheticDataError("No governorates: run `manage.py migrate` first (it seeds the places).")
    return places, added


def ensure_users(documenters: int = 5, reviewers: int = 2) -> tuple[list[int], list[str]]:
    User = get_user_model()
    ids, names = [], []
    for group_name, how_many in (("documenter", documenters), ("reviewer", reviewers)):
        group = Group.objects.get(name=group_name)
        for number in range(1, how_many + 1):
            username = f"{SYNTHETIC_PREFIX}{group_name}-{number}"
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
                user.groups.add(group)
            names.append(username)
            if group_name == "documenter":
                ids.append(user.pk)
    return ids, names


def synthetic_user_ids() -> list[int]:
    return list(get_user_model().objects.filter(username__startswith=SYNTHETIC_PREFIX).values_list("pk", flat=True))


def real_records_present() -> bool:
    return Incident.objects.exclude(created_by_id__in=synthetic_user_ids()).exists()


def delete_synthetic() -> int:
    """Remove every incident and victim created by a synthetic user; returns the number of victims removed."""
    user_ids = synthetic_user_ids()
    if not user_ids:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        incident_ids = "SELECT id FROM incidents_incident WHERE created_by_id = ANY(%s)"
        if connection.vendor == "postgresql":
            cursor.execute(f"DELETE FROM incidents_victim WHERE incident_id IN ({incident_ids})", [user_ids])
            removed = cursor.rowcount
            cursor.execute("DELETE FROM incidents_incident WHERE created_by_id = ANY(%s)", [user_ids])
        else:
            removed, _ = Victim.objects.filter(incident__created_by_id__in=user_ids).delete()
            Incident.objects.filter(created_by_id__in=user_ids).delete()
    return removed


def _next_id(model) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {model._meta.db_table}")
        return cursor.fetchone()[0]


def _stamp(day: dt.date, rng: random.Random, later_days: int = 0) -> dt.datetime:
    moment = dt.datetime.combine(day, dt.time(rng.randrange(6, 22), rng.randrange(60)), tzinfo=dt.UTC)
    return moment + dt.timedelta(days=later_days)


def incident_rows(
    how_many: int, first_id: int, rng: random.Random, places: dict[str, list[int]], author_ids: list[int]
) -> list[tuple]:
    perpetrators = {p.name: p.pk for p in Perpetrator.objects.all()}
    missing = [name for name, _, _ in PERPETRATOR_WEIGHT if name not in perpetrators]
    if missing:
        raise SyntheticDataError(f"Seeded parties are missing: {', '.join(missing)}.")
    party = Weighted([((perpetrators[n], weapons), w) for n, w, weapons in PERPETRATOR_WEIGHT], rng)
    governorate = Weighted([(name, GOVERNORATE_WEIGHT.get(name, 1)) for name in places], rng)
    year = Weighted(list(YEAR_WEIGHT.items()), rng)
    status = Weighted(INCIDENT_STATUS, rng)
    precision = Weighted([("day", 90), ("month", 8), ("year", 2)], rng)
    names = dict(Location.objects.values_list("pk", "name"))
    rows = []
    for offset in range(how_many):
        chosen_year = year()
        start = max(FIRST_DAY, dt.date(chosen_year, 1, 1))
        end = min(LAST_DAY, dt.date(chosen_year, 12, 31))
        occurred_on = start + dt.timedelta(days=rng.randrange((end - start).days + 1))
        perpetrator_id, weapons = party()
        weapon = rng.choice(weapons)
        place_id = rng.choice(places[governorate()])
        title_en, _ = ATTACKS[weapon]
        record_status = status()
        created = _stamp(occurred_on, rng, later_days=rng.randrange(0, 30))
        updated = created + dt.timedelta(days=rng.randrange(0, 60)) if record_status != Status.DRAFT else created
        injured = int(rng.paretovariate(1.3)) - 1 if rng.random() < 0.7 else 0
        rows.append(
            (
                first_id + offset,
                f"{title_en} {names[place_id]}",
                "Synthetic record for benchmarks.",
                occurred_on,
                precision(),
                place_id,
                None,
                None,
                perpetrator_id,
                weapon,
                min(injured, 5000),
                record_status,
                rng.choice(author_ids),
                created,
                min(updated, dt.datetime.combine(LAST_DAY, dt.time(23, 0), tzinfo=dt.UTC)),
                1 if record_status == Status.DRAFT else rng.choice((1, 2, 2, 3)),
            )
        )
    return rows


def victim_rows(
    how_many: int,
    first_id: int,
    incidents: list[tuple],
    rng: random.Random,
    people: list[Person],
    places: dict[str, list[int]],
) -> Iterator[tuple]:
    """Victims, ordered by incident: every incident gets one, the rest fall heavy-tailed."""
    per_incident = [1] * len(incidents) if how_many >= len(incidents) else [0] * len(incidents)
    remaining = how_many - sum(per_incident)
    if remaining:
        weights = list(accumulate(min(rng.paretovariate(1.2), 400.0) for _ in incidents))
        total = weights[-1]
        for _ in range(remaining):
            per_incident[bisect(weights, rng.random() * total)] += 1
    verified_status = Weighted(VERIFIED_INCIDENT_VICTIM_STATUS, rng)
    adult_male_status = Weighted(ADULT_MALE_CIVILIAN_STATUS, rng)
    other_status = Weighted(OTHER_CIVILIAN_STATUS, rng)
    all_places = [pk for ids in places.values() for pk in ids]
    next_id = first_id
    for incident, count in zip(incidents, per_incident, strict=True):
        incident_id, occurred_on, incident_status, author_id = incident[0], incident[3], incident[11], incident[12]
        created_at = incident[13]
        first_of_incident = next_id
        for _ in range(count):
            if incident_status == Status.VERIFIED:
                record_status = verified_status()
            elif incident_status == Status.CHANGES_REQUESTED:
                record_status = rng.choice((Status.CHANGES_REQUESTED, Status.DRAFT))
            else:
                record_status = incident_status
            duplicate_of = None
            person = rng.choice(people)
            if next_id > first_of_incident and rng.random() < DUPLICATE_SHARE:
                duplicate_of = rng.randrange(first_of_incident, next_id)
            sex, age = person.sex, person.age
            age_group = age_group_for(age)
            if rng.random() < UNKNOWN_AGE_SHARE:
                age = None
                age_group = rng.choice((AgeGroup.UNKNOWN, AgeGroup.UNKNOWN, AgeGroup.CHILD, AgeGroup.ADULT))
            if rng.random() < UNKNOWN_SEX_SHARE:
                sex = "unknown"
            date_of_death = None
            if rng.random() < LATER_DEATH_SHARE:
                date_of_death = min(occurred_on + dt.timedelta(days=rng.randrange(1, 8)), LAST_DAY)
            place_of_death = rng.choice(all_places) if rng.random() < ELSEWHERE_DEATH_SHARE else None
            roles = [rng.random() < share for _, share in ROLE_SHARE]
            yield (
                next_id,
                incident_id,
                person.name if rng.random() > 0.03 else "",
                person.name_ar,
                sex,
                age,
                age_group,
                adult_male_status() if sex == "male" and age_group == AgeGroup.ADULT else other_status(),
                *roles,
                date_of_death,
                place_of_death,
                duplicate_of,
                record_status,
                author_id,
                created_at,
                created_at,
                1 if record_status == Status.DRAFT else rng.choice((1, 1, 2)),
                "",
                "",
                "",
            )
            next_id += 1


def _copy_rows(table: str, columns: list[str], rows) -> int:
    written = 0
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


def _bulk_create(model, columns: list[str], rows, batch_size: int) -> int:
    written, batch = 0, []
    for row in rows:
        batch.append(model(**dict(zip(columns, row, strict=True))))
        if len(batch) >= batch_size:
            model.objects.bulk_create(batch, batch_size=batch_size)
            written += len(batch)
            batch = []
    if batch:
        model.objects.bulk_create(batch, batch_size=batch_size)
        written += len(batch)
    return written


def generate(
    *,
    victims: int,
    incidents: int,
    seed: int,
    people_file: Path = DEFAULT_PEOPLE_FILE,
    batch_size: int = 5000,
    allow_real_records: bool = False,
    progress: Callable[[str], None] | None = None,
    through_triggers: bool = False,
) -> GenerationReport:
    """Write `incidents` incidents and `victims` victims, reproducibly for a given seed."""
    if incidents < 1 or victims < 0:
        raise SyntheticDataError("Need at least one incident and a non-negative number of victims.")
    if not allow_real_records and real_records_present():
        raise SyntheticDataError(
            "This database holds records by real users; synthetic data would mix with them. "
            "Use a separate database (or --allow-real-records if you really mean it)."
        )
    say = progress or (lambda message: None)
    rng = random.Random(seed)
    people = load_people(Path(people_file))
    report = GenerationReport(backend=connection.vendor)
    with transaction.atomic():
        places, report.locations_added = ensure_places()
        author_ids, report.users = ensure_users()
        first_incident = _next_id(Incident)
        first_victim = _next_id(Victim)
        rows = incident_rows(incidents, first_incident, rng, places, author_ids)
        say(f"writing {incidents} incidents")
        victims_iter = victim_rows(victims, first_victim, rows, rng, people, places)
        if connection.vendor == "postgresql":
            if not through_triggers:
                _switch_rollup_triggers(on=False)  # for this transaction only: rolled back with it
            report.incidents = _copy_rows(Incident._meta.db_table, INCIDENT_COLUMNS, rows)
            say(f"writing {victims} victims")
            report.victims = _copy_rows(Victim._meta.db_table, VICTIM_COLUMNS, victims_iter)
            if not through_triggers:
                say("recomputing the rollups from the victims")
                _rebuild_rollups()
                if not _switch_rollup_triggers(on=True):
                    raise SyntheticDataError("The rollup triggers could not be switched on again.")
        else:
            report.incidents = _bulk_create(Incident, INCIDENT_COLUMNS, rows, batch_size)
            say(f"writing {victims} victims")
            report.victims = _bulk_create(Victim, VICTIM_COLUMNS, victims_iter, batch_size)
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), [Incident, Victim]):
                cursor.execute(statement)
    if connection.vendor == "postgresql":
        say("analyzing")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE incidents_incident")
            cursor.execute("ANALYZE incidents_victim")
            for table, _, _ in rollup.TIERS:
                cursor.execute(f"ANALYZE {table}")
    return report


def _switch_rollup_triggers(*, on: bool) -> bool:
    """ALTER TABLE refuses a table with pending trigger events: the foreign keys' checks, deferred to
    the commit by Django, are run now (and at the end of each statement for the rest of this
    transaction; the same checks, earlier)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return rollup.triggers_installed(enabled=on)


def _rebuild_rollups() -> None:
    """Every rollup tier recomputed from the victims, inside the generator's transaction (the tables
    it wrote are locked by it already; the planner needs their statistics for the joins)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE incidents_incident")
        cursor.execute("ANALYZE incidents_victim")
        cursor.execute("SELECT set_config('work_mem', '256MB', true), set_config('jit', 'off', true)")
        for statement in rollup.rebuild_sql():
            cursor.execute(statement)
