"""Window counts from the maintained rollups (counts/rollup.py): the rollups equal a full recompute,
figure by figure, after every kind of writer; a window count equals the exact count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from counts import counting, rollup
from counts.counting import CountParameters
from incidents import reference, services, workflow
from incidents.models import Incident, Location, Perpetrator, Status, Victim, age_group_for
from tests.conftest import location, make_incident, make_victim, perpetrator, skip_or_fail
from tests.counts import scenario as sc
from tests.counts.scenario import WINDOW

ALL_TIME = (dt.date(1900, 1, 1), dt.date(2100, 1, 1))


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        skip_or_fail("the rollups are kept by PostgreSQL triggers")


def assert_rollups_right() -> None:
    """The stored rollups equal a full recompute from the victims, row by row and figure by figure."""
    stored, recomputed = rollup.stored_rows(), rollup.recomputed_rows()
    for table in recomputed:
        assert stored[table] == recomputed[table], table


def assert_window_equals_exact(*windows: tuple[dt.date, dt.date], **filters) -> None:
    for window in windows or (WINDOW, ALL_TIME):
        parameters = CountParameters(*window, **filters)
        assert rollup.window_count(parameters) == counting.compute(parameters).result, window


# --- The same public function on every database -----------------------------------------------------


def test_a_window_count_gives_the_hand_worked_figures(documenter):
    world = sc.build(documenter)
    assert rollup.window_count(CountParameters(*WINDOW)) == sc.expected_result(world)


def test_a_window_count_with_place_and_party_filters_equals_the_exact_count(documenter):
    world = sc.build(documenter)
    for filters in (
        {"locations": (world.places["idlib"].pk,)},
        {"locations": (world.places["district"].pk, world.places["aleppo"].pk)},
        {"perpetrators": (world.parties["alliance"].pk,)},
        {"perpetrators": (world.parties["isis"].pk,), "locations": (world.places["idlib"].pk,)},
    ):
        assert_window_equals_exact(WINDOW, ALL_TIME, (dt.date(2020, 1, 13), dt.date(2020, 1, 21)), **filters)


def test_an_empty_window_counts_nothing(documenter):
    sc.build(documenter)
    result = rollup.window_count(CountParameters(dt.date(1990, 1, 1), dt.date(1990, 12, 31)))
    assert result["civilians"] == {"total": 0, "children": 0, "women": 0, "men": 0, "unknown": 0}
    assert (result["massacres"], result["incidents"], result["injured"]) == (0, 0, 0)
    assert result["by_date"] == result["by_perpetrator"] == result["by_location"] == []


# --- Every writer keeps the rollups right (PostgreSQL) -----------------------------------------------


def test_the_migration_fills_the_rollups_from_the_victims_already_there(postgresql, documenter):
    sc.build(documenter)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM counts_victim_rollup")
        cursor.execute("DELETE FROM counts_incident_rollup")
    rollup.rebuild()
    assert rollup.stored_rows()["counts_victim_rollup"]
    assert_rollups_right()
    assert_window_equals_exact()


@override_settings(REVIEW_MIN_EVIDENCE=0)
def test_a_reviewers_approval_of_an_incident_adds_its_victims(postgresql, documenter, reviewer):
    incident = make_incident(documenter, Status.SUBMITTED)
    make_victim(documenter, incident, Status.SUBMITTED)
    make_victim(documenter, incident, Status.SUBMITTED, sex="female", age_years=8)
    before = rollup.window_count(CountParameters(*ALL_TIME))["civilians"]["total"]
    Incident.objects.filter(pk=incident.pk).update(status=Status.SUBMITTED)
    workflow.review(reviewer, Incident.objects.get(pk=incident.pk), "approve")
    after = rollup.window_count(CountParameters(*ALL_TIME))
    assert (before, after["civilians"]["total"], after["civilians"]["children"]) == (0, 2, 1)
    assert_rollups_right()


def test_rejecting_a_verified_victim_takes_it_out(postgresql, documenter):
    incident = make_incident(documenter, Status.VERIFIED)
    victim = make_victim(documenter, incident, Status.VERIFIED)
    make_victim(documenter, incident, Status.VERIFIED)
    Victim.objects.filter(pk=victim.pk).update(status=Status.REJECTED)
    assert rollup.window_count(CountParameters(*ALL_TIME))["civilians"]["total"] == 1
    assert_rollups_right()


def test_an_edit_through_the_service_moves_the_victim_to_its_new_category_date_and_place(postgresql, documenter):
    incident = make_incident(documenter)
    victim = make_victim(documenter, incident)
    Incident.objects.filter(pk=incident.pk).update(status=Status.VERIFIED)
    services.update_victim(
        actor=documenter,
        victim=victim,
        age_years=9,
        date_of_death=dt.date(2020, 2, 1),
        place_of_death=location("Aleppo"),
        roles=["medical"],
    )
    Victim.objects.filter(pk=victim.pk).update(status=Status.VERIFIED)
    result = rollup.window_count(CountParameters(*ALL_TIME))
    assert result["civilians"]["children"] == 1
    assert result["roles"]["medical"] == 1
    assert [row["date"] for row in result["by_date"]] == ["2020-02-01"]
    assert [row["location"]["name"] for row in result["by_location"]] == ["Aleppo"]
    assert_rollups_right()


def test_an_edit_that_changes_nothing_counted_writes_no_rollup_row(postgresql, documenter):
    incident = make_incident(documenter, Status.VERIFIED)
    victim = make_victim(documenter, incident, Status.VERIFIED)
    before = rollup.stored_rows()
    Victim.objects.filter(pk=victim.pk).update(name="Ahmad Ali", version=victim.version + 1)
    assert rollup.stored_rows() == before


def test_marking_a_duplicate_and_clearing_the_mark_move_the_count(postgresql, documenter):
    incident = make_incident(documenter, Status.VERIFIED)
    kept, duplicate = (make_victim(documenter, incident, Status.VERIFIED) for _ in range(2))
    Victim.objects.filter(pk=duplicate.pk).update(duplicate_of=kept)  # what a merge writes
    assert rollup.window_count(CountParameters(*ALL_TIME))["civilians"]["total"] == 1
    assert_rollups_right()
    Victim.objects.filter(pk=duplicate.pk).update(duplicate_of=None)  # a merge undone
    assert rollup.window_count(CountParameters(*ALL_TIME))["civilians"]["total"] == 2
    assert_rollups_right()


def test_deleting_a_victim_that_others_duplicate_counts_them_again(postgresql, documenter):
    incident = make_incident(documenter, Status.VERIFIED)
    kept, duplicate = (make_victim(documenter, incident, Status.VERIFIED) for _ in range(2))
    Victim.objects.filter(pk=duplicate.pk).update(duplicate_of=kept)
    kept.delete()  # Django clears duplicate_of (SET_NULL) before the delete
    assert rollup.window_count(CountParameters(*ALL_TIME))["civilians"]["total"] == 1
    assert_rollups_right()


def test_deleting_an_incident_through_the_service_removes_its_victims_from_the_rollups(postgresql, documenter):
    incident = make_incident(documenter)
    make_victim(documenter, incident)
    Victim.objects.filter(incident=incident).update(status=Status.VERIFIED)
    Incident.objects.filter(pk=incident.pk).update(status=Status.VERIFIED)
    assert rollup.window_count(CountParameters(*ALL_TIME))["civilians"]["total"] == 1
    Incident.objects.filter(pk=incident.pk).update(status=Status.DRAFT)
    Victim.objects.filter(incident=incident).update(status=Status.DRAFT)
    services.delete_incident(actor=documenter, incident=Incident.objects.get(pk=incident.pk))
    assert rollup.stored_rows() == {table: {} for table, _, _ in rollup.TIERS}


def test_changing_an_incidents_date_place_and_party_re_attributes_its_victims(postgresql, documenter):
    incident = make_incident(documenter, Status.VERIFIED, location=location("Idlib"))
    for _ in range(5):
        make_victim(documenter, incident, Status.VERIFIED)
    make_victim(documenter, incident, Status.VERIFIED, date_of_death=dt.date(2020, 1, 20))
    Incident.objects.filter(pk=incident.pk).update(
        occurred_on=dt.date(2019, 6, 1), location=location("Hama"), perpetrator=perpetrator("ISIS"), injured_count=11
    )
    result = rollup.window_count(CountParameters(dt.date(2019, 1, 1), dt.date(2019, 12, 31)))
    assert (result["civilians"]["total"], result["massacres"], result["injured"]) == (5, 1, 11)
    assert [row["perpetrator"]["name"] for row in result["by_perpetrator"]] == ["ISIS"]
    assert [row["location"]["name"] for row in result["by_location"]] == ["Hama"]
    assert_rollups_right()
    assert_window_equals_exact((dt.date(2019, 1, 1), dt.date(2019, 12, 31)), ALL_TIME)


def test_moving_a_place_to_another_governorate_moves_its_victims_in_the_window_count(
    postgresql, documenter, admin_user
):
    governorates = list(Location.objects.filter(level="governorate").order_by("id")[:2])
    district = Location.objects.create(name="District", name_ar="منطقة", level="district", parent=governorates[0])
    incident = make_incident(documenter, Status.VERIFIED, location=district)
    for _ in range(5):
        make_victim(documenter, incident, Status.VERIFIED)
    window = CountParameters(*ALL_TIME)
    assert [row["location"]["id"] for row in rollup.window_count(window)["by_location"]] == [governorates[0].pk]
    reference.change(actor=admin_user, row=Location.objects.get(pk=district.pk), parent=governorates[1])
    result = rollup.window_count(window)
    assert [row["location"]["id"] for row in result["by_location"]] == [governorates[1].pk]
    assert (result["by_location"][0]["total"], result["by_location"][0]["massacres"]) == (5, 1)
    assert_rollups_right()
    assert_window_equals_exact()


def test_confirmed_duplicates_are_read_from_the_rollup_beside_the_figures(postgresql, documenter):
    incident = make_incident(documenter, Status.VERIFIED)
    kept, duplicate, other = (make_victim(documenter, incident, Status.VERIFIED) for _ in range(3))
    Victim.objects.filter(pk__in=[duplicate.pk, other.pk]).update(duplicate_of=kept)
    result = rollup.window_count(CountParameters(*ALL_TIME))
    assert (result["civilians"]["total"], result["excluded_duplicates"], result["incidents"]) == (1, 2, 1)
    assert [row["total"] for row in result["by_date"]] == [1]
    assert_rollups_right()
    assert_window_equals_exact()


def test_a_party_and_a_governorate_whose_victims_are_all_duplicates_are_not_listed(postgresql, documenter):
    # ISIS's victim in Hama, in February, is a confirmed duplicate of the regime's in Idlib, in January.
    regime = make_incident(documenter, Status.VERIFIED, occurred_on=dt.date(2020, 1, 10), location=location("Idlib"))
    isis = make_incident(
        documenter,
        Status.VERIFIED,
        occurred_on=dt.date(2020, 2, 10),
        location=location("Hama"),
        perpetrator=perpetrator("ISIS"),
    )
    kept = make_victim(documenter, regime, Status.VERIFIED)
    Victim.objects.filter(pk=make_victim(documenter, isis, Status.VERIFIED).pk).update(duplicate_of=kept)
    for window in (ALL_TIME, (dt.date(2020, 1, 1), dt.date(2020, 2, 29)), (dt.date(2020, 1, 5), dt.date(2020, 2, 20))):
        result = rollup.window_count(CountParameters(*window))
        assert [row["perpetrator"]["name"] for row in result["by_perpetrator"]] == ["Syrian regime forces"]
        assert [row["location"]["name"] for row in result["by_location"]] == ["Idlib"]
        assert (result["civilians"]["total"], result["excluded_duplicates"]) == (1, 1)
    assert_rollups_right()
    assert_window_equals_exact(ALL_TIME, (dt.date(2020, 1, 5), dt.date(2020, 2, 20)))


def test_a_window_splits_into_whole_months_and_its_edge_days():
    assert rollup.month_split(dt.date(2020, 1, 15), dt.date(2020, 3, 10)) == (
        (dt.date(2020, 2, 1), dt.date(2020, 2, 1)),
        [(dt.date(2020, 1, 15), dt.date(2020, 1, 31)), (dt.date(2020, 3, 1), dt.date(2020, 3, 10))],
    )
    assert rollup.month_split(dt.date(2015, 1, 1), dt.date(2015, 12, 31)) == (
        (dt.date(2015, 1, 1), dt.date(2015, 12, 1)),
        [],
    )
    assert rollup.month_split(dt.date(2020, 1, 3), dt.date(2020, 1, 20)) == (
        None,
        [(dt.date(2020, 1, 3), dt.date(2020, 1, 20))],
    )
    assert rollup.month_split(dt.date.min, dt.date.max) == (None, [(dt.date.min, dt.date.max)])


def test_massacres_whose_deaths_cross_a_month_edge_are_counted_once_in_every_window(postgresql, documenter):
    # A documenter's massacre in Idlib: three killed on 30 January, three more died on 2 February.
    idlib = location("Idlib")
    incident = make_incident(documenter, Status.VERIFIED, occurred_on=dt.date(2020, 1, 30), location=idlib)
    for day in (None, None, None, dt.date(2020, 2, 2), dt.date(2020, 2, 2), dt.date(2020, 2, 2)):
        make_victim(documenter, incident, Status.VERIFIED, date_of_death=day)
    # ... and one wholly inside February elsewhere (five on one day).
    other = make_incident(documenter, Status.VERIFIED, occurred_on=dt.date(2020, 2, 14))
    for _ in range(5):
        make_victim(documenter, other, Status.VERIFIED)
    assert_rollups_right()
    windows = [
        (dt.date(2020, 1, 1), dt.date(2020, 2, 29)),  # whole months: both massacres
        (dt.date(2020, 1, 15), dt.date(2020, 2, 29)),  # a partial month first
        (dt.date(2020, 1, 1), dt.date(2020, 2, 20)),  # a partial month last
        (dt.date(2020, 1, 30), dt.date(2020, 2, 1)),  # no whole month; the first straddles the end
        (dt.date(2020, 2, 1), dt.date(2020, 3, 31)),  # the first straddles the start (3 inside)
        (dt.date(2019, 12, 20), dt.date(2020, 3, 10)),
        ALL_TIME,
    ]
    for threshold in (rollup.MASSACRE_FLOOR, 3, 6):
        assert_window_equals_exact(*windows, massacre_threshold=threshold)
    whole = rollup.window_count(CountParameters(*windows[0]))
    assert whole["massacres"] == 2
    assert sum(row["massacres"] for row in whole["by_location"]) == 2
    straddled = rollup.window_count(CountParameters(*windows[4]))
    assert straddled["massacres"] == 1  # the February one; the first has 3 of its 6 deaths inside


def test_a_windows_partial_months_are_counted_by_day_and_its_whole_months_by_month(postgresql, documenter):
    # A documenter's incidents around the window 15 January - 10 March 2020 (February whole, the
    # edges partial): (date, days of death, injured); the first and the last fall outside it.
    story = [
        (dt.date(2020, 1, 10), [None], 7),  # before the window, in its first (partial) month
        (dt.date(2020, 1, 20), [None] * 5, 3),  # a massacre inside the first partial month
        (dt.date(2020, 1, 31), [None, dt.date(2020, 2, 2)], 2),  # from the partial month into February
        (dt.date(2020, 2, 10), [None, None], 4),  # wholly in the whole month
        (dt.date(2020, 2, 28), [None, dt.date(2020, 3, 12)], 6),  # straddles the window's end
        (dt.date(2020, 3, 5), [None] * 5, 1),  # a massacre inside the last partial month
        (dt.date(2020, 3, 20), [None], 8),  # after the window, in its last (partial) month
    ]
    for occurred_on, deaths, injured in story:
        incident = make_incident(documenter, Status.VERIFIED, occurred_on=occurred_on, injured_count=injured)
        for day in deaths:
            make_victim(documenter, incident, Status.VERIFIED, date_of_death=day)
    assert_rollups_right()
    result = rollup.window_count(CountParameters(dt.date(2020, 1, 15), dt.date(2020, 3, 10)))
    assert (result["incidents"], result["injured"], result["massacres"]) == (5, 16, 2)
    assert [(row["date"], row["massacres"]) for row in result["by_date"] if row["massacres"]] == [
        ("2020-01-20", 1),
        ("2020-03-05", 1),
    ]
    windows = [
        (dt.date(2020, 1, 15), dt.date(2020, 3, 10)),
        (dt.date(2020, 1, 1), dt.date(2020, 3, 10)),
        (dt.date(2020, 1, 15), dt.date(2020, 3, 31)),
        (dt.date(2020, 1, 11), dt.date(2020, 3, 19)),
        (dt.date(2020, 2, 1), dt.date(2020, 2, 29)),
        ALL_TIME,
    ]
    for threshold in (rollup.MASSACRE_FLOOR, 2):
        assert_window_equals_exact(*windows, massacre_threshold=threshold)


def test_bulk_create_counts_every_row(postgresql, documenter):
    incident = make_incident(documenter, Status.VERIFIED)
    Victim.objects.bulk_create(
        [
            Victim(
                incident=incident,
                name=f"v{n}",
                sex="female",
                age_years=n,
                age_group=age_group_for(n, "unknown"),
                status=Status.VERIFIED,
                created_by=documenter,
            )
            for n in range(1, 40)
        ]
    )
    result = rollup.window_count(CountParameters(*ALL_TIME))
    assert (result["civilians"]["children"], result["civilians"]["women"], result["massacres"]) == (17, 22, 1)
    assert_rollups_right()


def test_copy_into_the_victims_table_counts_every_row(postgresql, documenter):
    incident = make_incident(documenter, Status.VERIFIED)
    row = {
        "incident_id": incident.pk,
        "name_ar": "",
        "sex": "male",
        "age_years": 30,
        "age_group": "adult",
        "civilian_status": "civilian",
        **dict.fromkeys(Victim.ROLE_FIELDS.values(), False),
        "status": Status.VERIFIED,
        "created_by_id": documenter.pk,
        "version": 1,
        "created_at": "now",
        "updated_at": "now",
    }
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY incidents_victim ({', '.join(row)}, name) FROM STDIN") as copy,
    ):
        for n in range(3):
            copy.write_row((*row.values(), f"c{n}"))
    assert rollup.window_count(CountParameters(*ALL_TIME))["civilians"]["men"] == 3
    assert_rollups_right()


def test_a_rolled_back_write_leaves_the_rollups_as_they_were(postgresql, documenter):
    incident = make_incident(documenter, Status.VERIFIED)
    make_victim(documenter, incident, Status.VERIFIED)
    before = rollup.stored_rows()
    with pytest.raises(RuntimeError), transaction.atomic():
        Victim.objects.filter(incident=incident).update(status=Status.REJECTED)
        raise RuntimeError
    assert rollup.stored_rows() == before


# --- Random sequences of writes (hypothesis) -----------------------------------------------------------

DAYS = st.dates(dt.date(2020, 1, 1), dt.date(2020, 3, 31))
STATUSES = st.sampled_from([Status.VERIFIED, Status.VERIFIED, Status.SUBMITTED, Status.REJECTED, Status.DRAFT])
VICTIM = st.fixed_dictionaries(
    {
        "status": STATUSES,
        "civilian_status": st.sampled_from(["civilian", "civilian", "civilian", "combatant", "unknown"]),
        "sex": st.sampled_from(["male", "female", "unknown"]),
        "age_years": st.one_of(st.none(), st.integers(0, 90)),
        "date_of_death": st.one_of(st.none(), st.none(), DAYS),
        "place": st.one_of(st.none(), st.none(), st.integers(0, 9)),
        "role_medical": st.booleans(),
        "role_media": st.booleans(),
    }
)
# Half the victims and incidents drawn as counted ones (verified, civilian), so that most sequences
# leave victims counted, in incidents at a window's edges and in its whole months.
COUNTED_VICTIM = VICTIM.map(lambda fields: {**fields, "status": Status.VERIFIED, "civilian_status": "civilian"})
INCIDENT = st.fixed_dictionaries(
    {
        "status": st.one_of(st.just(Status.VERIFIED), STATUSES),
        "occurred_on": DAYS,
        "place": st.integers(0, 9),
        "party": st.integers(0, 9),
        "injured": st.integers(0, 9),
    }
)
ACTIONS = st.one_of(
    st.tuples(st.just("transition_victim"), st.integers(0, 999), STATUSES),
    st.tuples(st.just("transition_incident"), st.integers(0, 999), STATUSES),
    st.tuples(st.just("transition_all_victims"), st.integers(0, 999), STATUSES),
    st.tuples(st.just("edit_victim"), st.integers(0, 999), VICTIM),
    st.tuples(st.just("edit_incident"), st.integers(0, 999), INCIDENT),
    st.tuples(st.just("delete_victim"), st.integers(0, 999), st.none()),
    st.tuples(st.just("mark_duplicate"), st.integers(0, 999), st.integers(0, 999)),
    st.tuples(st.just("unmark_duplicate"), st.integers(0, 999), st.none()),
    st.tuples(st.just("move_victim"), st.integers(0, 999), st.integers(0, 999)),
    st.tuples(st.just("bulk_insert"), st.integers(0, 999), st.lists(VICTIM, min_size=1, max_size=8)),
    st.tuples(st.just("move_place"), st.integers(0, 999), st.integers(0, 5)),
)
# Windows with random edges, and windows whose edges are month edges (whole months read from the month tier).
WINDOWS = st.one_of(
    st.tuples(DAYS, DAYS).map(sorted),
    st.tuples(
        st.sampled_from([dt.date(2020, 1, 1), dt.date(2020, 1, 15), dt.date(2020, 2, 1), dt.date(2020, 3, 1)]),
        st.sampled_from([dt.date(2020, 1, 31), dt.date(2020, 2, 29), dt.date(2020, 3, 15), dt.date(2020, 3, 31)]),
    ).map(sorted),
)


# Checked after every sequence besides the drawn window: partial months at one edge, at both, none.
EDGE_WINDOWS = (
    (dt.date(2020, 1, 2), dt.date(2020, 3, 31)),
    (dt.date(2020, 1, 1), dt.date(2020, 3, 30)),
    (dt.date(2020, 1, 15), dt.date(2020, 3, 10)),
)


class World:
    """Places (a governorate, a district and a community under it, more governorates) and parties."""

    def __init__(self, author) -> None:
        self.author = author
        governorates = list(Location.objects.filter(level="governorate").order_by("id")[:6])
        district = Location.objects.create(name="District", name_ar="منطقة", level="district", parent=governorates[0])
        community = Location.objects.create(name="Village", name_ar="قرية", level="community", parent=district)
        self.places = [*governorates, district, community, location("Syria")]
        self.places += [self.places[0]] * (10 - len(self.places))
        parties = list(Perpetrator.objects.order_by("id")[:10])
        self.parties = (parties * 10)[:10]

    def victim(self, incident_id: int, fields: dict) -> Victim:
        place = None if fields["place"] is None else self.places[fields["place"]]
        return Victim(
            incident_id=incident_id,
            name="x",
            status=fields["status"],
            civilian_status=fields["civilian_status"],
            sex=fields["sex"],
            age_years=fields["age_years"],
            age_group=age_group_for(fields["age_years"], "unknown"),
            date_of_death=fields["date_of_death"],
            place_of_death=place,
            role_medical=fields["role_medical"],
            role_media=fields["role_media"],
            created_by=self.author,
        )

    def incident_fields(self, fields: dict) -> dict:
        return {
            "status": fields["status"],
            "occurred_on": fields["occurred_on"],
            "location": self.places[fields["place"]],
            "perpetrator": self.parties[fields["party"]],
            "injured_count": fields["injured"],
        }


def apply(world: World, action: tuple) -> None:
    name, pick, value = action
    victims = list(Victim.objects.order_by("id").values_list("id", flat=True))
    incidents = list(Incident.objects.order_by("id").values_list("id", flat=True))
    victim_id = victims[pick % len(victims)] if victims else None
    incident_id = incidents[pick % len(incidents)]
    one = Victim.objects.filter(pk=victim_id)
    if name == "transition_victim":
        one.update(status=value)
    elif name == "transition_incident":
        Incident.objects.filter(pk=incident_id).update(status=value)
    elif name == "transition_all_victims":
        Victim.objects.filter(incident_id=incident_id).update(status=value)
    elif name == "edit_victim" and victim_id:
        row = world.victim(0, value)
        fields = ("status", "civilian_status", "sex", "age_years", "age_group", "date_of_death", "place_of_death")
        one.update(**{field: getattr(row, field) for field in fields}, role_medical=row.role_medical)
    elif name == "edit_incident":
        Incident.objects.filter(pk=incident_id).update(**world.incident_fields(value))
    elif name == "delete_victim":
        one.delete()
    elif name == "mark_duplicate" and victims and victims[value % len(victims)] != victim_id:
        one.update(duplicate_of_id=victims[value % len(victims)])
    elif name == "unmark_duplicate":
        one.update(duplicate_of=None)
    elif name == "move_victim":
        one.update(incident_id=incidents[value % len(incidents)])
    elif name == "bulk_insert":
        Victim.objects.bulk_create([world.victim(incident_id, fields) for fields in value])
    elif name == "move_place":
        # The district (with its village) moves under another governorate: their victims change governorate.
        Location.objects.filter(pk=world.places[6].pk).update(parent=world.places[value])


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    incidents=st.lists(INCIDENT, min_size=1, max_size=4),
    victims=st.lists(st.tuples(st.integers(0, 3), st.one_of(COUNTED_VICTIM, VICTIM)), min_size=3, max_size=20),
    actions=st.lists(ACTIONS, max_size=12),
    window=WINDOWS,
    place_filter=st.one_of(st.none(), st.integers(0, 9)),
    party_filter=st.one_of(st.none(), st.integers(0, 9)),
    # MASSACRE_FLOOR reads the kept massacre figures; another threshold the per-incident totals.
    threshold=st.sampled_from([rollup.MASSACRE_FLOOR, rollup.MASSACRE_FLOOR, 2, 7]),
)
def test_after_any_sequence_of_writes_the_rollups_equal_a_full_recompute(
    postgresql, documenter, incidents, victims, actions, window, place_filter, party_filter, threshold
):
    with transaction.atomic():
        world = World(documenter)
        created = Incident.objects.bulk_create(
            [
                Incident(
                    title="t", description="d", weapon="other", created_by=documenter, **world.incident_fields(fields)
                )
                for fields in incidents
            ]
        )
        Victim.objects.bulk_create([world.victim(created[n % len(created)].pk, fields) for n, fields in victims])
        for action in actions:
            apply(world, action)
        assert_rollups_right()
        filters = {"massacre_threshold": threshold}
        if place_filter is not None:
            filters["locations"] = (world.places[place_filter].pk,)
        if party_filter is not None:
            filters["perpetrators"] = (world.parties[party_filter].pk,)
        assert_window_equals_exact(tuple(window), ALL_TIME, *EDGE_WINDOWS, **filters)
        transaction.set_rollback(True)


# --- The commands --------------------------------------------------------------------------------------


def test_compute_count_window_prints_the_window_count(documenter):
    import json
    from io import StringIO

    from django.core.management import call_command

    world = sc.build(documenter)
    out = StringIO()
    call_command("compute_count", "--from", "2020-01-12", "--to", "2020-01-27", "--window", stdout=out)
    assert json.loads(out.getvalue()) == {"result": json.loads(json.dumps(sc.expected_result(world)))}


def test_rebuild_rollups_finds_a_drifted_rollup_and_puts_it_right(postgresql, documenter):
    from django.core.management import CommandError, call_command

    sc.build(documenter)
    call_command("rebuild_rollups", "--check")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE counts_victim_rollup SET total = total + 1, men = men + 1 "
            "WHERE id = (SELECT MIN(id) FROM counts_victim_rollup)"
        )
    with pytest.raises(CommandError):
        call_command("rebuild_rollups", "--check")
    call_command("rebuild_rollups")
    assert_rollups_right()
