"""The counting rule, applied to a hand-built scenario whose figures are written out by hand."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from counts import counting
from counts.counting import CountParameters
from incidents.models import Incident, Status, Victim
from tests.conftest import make_victim, skip_or_fail
from tests.counts import scenario as sc
from tests.counts.scenario import WINDOW, named, place, row


@pytest.fixture
def world(documenter):
    return sc.build(documenter)


def count(**filters) -> dict:
    parameters = CountParameters(*filters.pop("window", WINDOW), **filters)
    return counting.compute(parameters).result


def test_whole_window_gives_the_hand_worked_figures(world):
    assert count() == sc.expected_result(world)


def test_categories_add_up_in_every_row(world):
    result = count()
    rows = [result["civilians"], *result["by_perpetrator"], *result["by_location"], *result["by_date"]]
    for item in rows:
        assert item["total"] == item["children"] + item["women"] + item["men"] + item["unknown"], item
    for table in ("by_perpetrator", "by_location", "by_date"):
        assert sum(item["total"] for item in result[table]) == result["civilians"]["total"]
        assert sum(item["massacres"] for item in result[table]) == result["massacres"]


def test_first_and_last_day_are_in_and_the_day_after_is_out(world):
    assert count(window=(dt.date(2020, 1, 12), dt.date(2020, 1, 12)))["civilians"]["total"] == 5  # I1 only
    assert count(window=(dt.date(2020, 1, 27), dt.date(2020, 1, 27)))["civilians"]["total"] == 4  # I2 only
    day_after = count(window=(dt.date(2020, 1, 28), dt.date(2020, 1, 28)))
    # I3's man and I7's man who died that day; nothing else.
    assert day_after["civilians"] == {"total": 2, "children": 0, "women": 0, "men": 2, "unknown": 0}
    inner = count(window=(dt.date(2020, 1, 13), dt.date(2020, 1, 26)))
    assert inner["civilians"] == {"total": 2, "children": 0, "women": 1, "men": 1, "unknown": 0}
    assert inner["massacres"] == 0


def test_a_date_of_death_overrides_the_incident_date(world):
    result = count(window=(dt.date(2020, 1, 13), dt.date(2020, 1, 13)))
    assert result["civilians"]["total"] == 1  # I8's man, whose incident was on the 10th
    assert result["incidents"] == 1
    assert result["injured"] == 0  # I8 itself lies outside the window


def test_a_governorate_filter_includes_its_whole_subtree_and_places_of_death(world):
    result = count(locations=(world.places["idlib"].pk,))
    assert result["civilians"] == {"total": 6, "children": 1, "women": 2, "men": 1, "unknown": 2}
    assert result["massacres"] == 1
    assert result["injured"] == 12  # I1 10 + I7 2
    assert result["incidents"] == 2
    assert result["by_perpetrator"] == [
        {"perpetrator": named(world.parties["regime"]), **row(5, 1, 1, 1, 2, 1)},
        {"perpetrator": named(world.parties["isis"]), **row(1, 0, 1, 0, 0, 0)},
    ]
    assert result["by_location"] == [{"location": place(world.places["idlib"]), **row(6, 1, 2, 1, 2, 1)}]


def test_a_district_filter_counts_only_its_subtree(world):
    result = count(locations=(world.places["district"].pk,))
    assert result["civilians"]["total"] == 5
    assert result["massacres"] == 1
    # Rows stay at governorate level whatever the filter.
    assert result["by_location"] == [{"location": place(world.places["idlib"]), **row(5, 1, 1, 1, 2, 1)}]


def test_hama_counts_nobody_because_the_victim_died_in_idlib(world):
    result = count(locations=(world.places["hama"].pk,))
    assert result["civilians"]["total"] == 0
    assert result["by_location"] == []
    assert result["injured"] == 0


def test_the_country_counts_everyone(world):
    assert count(locations=(world.places["syria"].pk,)) == sc.expected_result(world)


def test_the_alliance_filter_counts_each_victim_once(world):
    alliance, russia = world.parties["alliance"].pk, world.parties["russia"].pk
    result = count(perpetrators=(alliance,))
    assert result["civilians"] == {"total": 10, "children": 3, "women": 2, "men": 3, "unknown": 2}
    assert result["massacres"] == 1
    assert [item["perpetrator"]["name"] for item in result["by_perpetrator"]] == [
        "Syrian regime forces",
        "Russian forces",
    ]
    # Naming a party together with its parent changes nothing.
    assert count(perpetrators=(alliance, russia)) == result


def test_a_single_party_filter(world):
    result = count(perpetrators=(world.parties["russia"].pk,))
    assert result["civilians"] == {"total": 4, "children": 2, "women": 1, "men": 1, "unknown": 0}
    assert result["massacres"] == 0
    assert result["injured"] == 4


def test_four_counted_victims_plus_unverified_ones_are_not_a_massacre(world):
    i2 = world.incidents["i2"]
    assert Victim.objects.filter(incident=i2).count() == 7
    result = count(perpetrators=(world.parties["russia"].pk,))
    assert result["massacres"] == 0


def test_exactly_five_counted_victims_make_a_massacre_and_four_do_not(world):
    assert count(locations=(world.places["district"].pk,))["massacres"] == 1
    Victim.objects.filter(pk=world.victims["unknown_age"].pk).update(status=Status.SUBMITTED)
    result = count(locations=(world.places["district"].pk,))
    assert result["civilians"]["total"] == 4
    assert result["massacres"] == 0


def test_combatants_duplicates_and_rejected_records_never_count(world):
    baseline = count()
    Victim.objects.filter(pk=world.victims["combatant"].pk).update(age_years=5, age_group="child")
    Victim.objects.filter(pk=world.victims["duplicate"].pk).update(sex="female")
    Victim.objects.filter(pk=world.victims["rejected"].pk).update(age_years=3, age_group="child")
    assert count() == baseline


def test_an_unverified_incident_does_not_count_its_verified_victims(world):
    baseline = count()
    Incident.objects.filter(pk=world.incidents["i5"].pk).update(status=Status.VERIFIED)
    changed = count()
    assert changed["civilians"]["total"] == baseline["civilians"]["total"] + 6
    assert changed["massacres"] == baseline["massacres"] + 1


def test_the_girl_of_17_is_a_child_and_the_woman_of_18_a_woman(world):
    girl, woman = world.victims["girl17"], world.victims["woman18"]
    assert (girl.category, woman.category) == ("child", "woman")
    Victim.objects.exclude(pk__in=[girl.pk, woman.pk]).update(status=Status.DRAFT)
    assert count()["civilians"] == {"total": 2, "children": 1, "women": 1, "men": 0, "unknown": 0}


def test_a_governorate_above_a_deep_place_is_found_by_walking_the_tree(world):
    i1 = world.incidents["i1"]
    assert i1.location.level == "community"
    by_location = count(perpetrators=(world.parties["regime"].pk,), locations=(world.places["idlib"].pk,))[
        "by_location"
    ]
    assert by_location == [{"location": place(world.places["idlib"]), **row(5, 1, 1, 1, 2, 1)}]


def test_a_place_above_governorate_level_is_its_own_row(world, documenter):
    incident = sc.make_incident(documenter, status=Status.VERIFIED, location=world.places["syria"])
    make_victim(documenter, incident, status=Status.VERIFIED, sex="male", age_years=20)
    result = count(window=(dt.date(2020, 1, 15), dt.date(2020, 1, 15)))
    assert result["by_location"] == [{"location": place(world.places["syria"]), **row(1, 0, 0, 1, 0, 0)}]


def test_counting_does_not_load_victims_into_python(world, documenter):
    incident = world.incidents["i2"]
    for number in range(40):
        make_victim(documenter, incident, status=Status.VERIFIED, sex="male", age_years=20 + number)
    with CaptureQueriesContext(connection) as few:
        counting.compute(CountParameters(*WINDOW))
    # The number of queries does not grow with the number of victims.
    Victim.objects.filter(incident=incident).update(status=Status.VERIFIED)
    with CaptureQueriesContext(connection) as more:
        counting.compute(CountParameters(*WINDOW))
    assert len(few.captured_queries) == len(more.captured_queries) <= 20


# --- The fingerprint -----------------------------------------------------------------------------


COUNTED = [  # the scenario's counted victims, read off its docstring
    *("girl17", "woman18", "man30", "unknown_sex", "unknown_age"),
    *("boy5", "girl_group", "man40", "woman_group"),
    *("woman50", "man33"),
]


def test_the_same_data_gives_the_same_fingerprint(world):
    first = counting.compute(CountParameters(*WINDOW)).fingerprint
    second = counting.compute(CountParameters(*WINDOW)).fingerprint
    assert first == second


def test_the_fingerprint_is_the_sha256_of_the_rule_the_parameters_and_the_counted_records(world):
    parameters = CountParameters(*WINDOW)
    lines = [f"rule={counting.RULE_VERSION}\n", f"parameters={parameters.canonical()}\n"]
    for victim in sorted((world.victims[key] for key in COUNTED), key=lambda victim: victim.pk):
        victim.refresh_from_db()
        lines.append(f"{victim.pk}:{victim.version}:{victim.incident_id}:{victim.incident.version}\n")

    expected = hashlib.sha256("".join(lines).encode()).hexdigest()

    assert counting.compute(parameters).fingerprint == expected


def test_a_change_to_a_counted_victim_changes_the_fingerprint(world):
    before = counting.compute(CountParameters(*WINDOW)).fingerprint
    Victim.objects.filter(pk=world.victims["man30"].pk).update(version=F("version") + 1)
    assert counting.compute(CountParameters(*WINDOW)).fingerprint != before


def test_a_change_to_a_counted_incident_changes_the_fingerprint(world):
    before = counting.compute(CountParameters(*WINDOW)).fingerprint
    Incident.objects.filter(pk=world.incidents["i2"].pk).update(version=F("version") + 1)
    assert counting.compute(CountParameters(*WINDOW)).fingerprint != before


def test_a_change_to_an_uncounted_record_keeps_the_fingerprint(world):
    before = counting.compute(CountParameters(*WINDOW))
    Victim.objects.filter(pk__in=[world.victims["combatant"].pk, world.victims["draft"].pk]).update(
        version=F("version") + 5
    )
    Incident.objects.filter(pk=world.incidents["i3"].pk).update(version=F("version") + 1)
    after = counting.compute(CountParameters(*WINDOW))
    assert after.fingerprint == before.fingerprint
    assert after.result == before.result


def test_other_parameters_give_another_fingerprint_even_for_the_same_victims(world):
    plain = counting.compute(CountParameters(*WINDOW))
    country = counting.compute(CountParameters(*WINDOW, locations=(world.places["syria"].pk,)))
    assert plain.result == country.result
    assert plain.fingerprint != country.fingerprint
    assert counting.compute(CountParameters(*WINDOW, massacre_threshold=4)).fingerprint != plain.fingerprint


def test_the_massacre_threshold_is_a_setting(world, settings):
    settings.MASSACRE_THRESHOLD = 4
    assert counting.compute(CountParameters(*WINDOW)).result["massacres"] == 2  # I1 and I2


def test_the_database_and_the_streamed_fingerprint_agree(world):
    if connection.vendor != "postgresql":
        skip_or_fail("the in-database hash is PostgreSQL's; SQLite always streams")
    parameters = CountParameters(*WINDOW)
    victims = counting.counted_victims(parameters)
    assert counting.fingerprint(parameters) == counting.fingerprint_streamed(parameters, victims)


# --- Through the review workflow ------------------------------------------------------------------


def test_records_count_once_reviewed_and_leave_the_count_when_reopened(documenter, reviewer, settings):
    from incidents import workflow
    from tests.conftest import make_incident

    settings.REVIEW_MIN_EVIDENCE = 0
    incident = make_incident(documenter, occurred_on=dt.date(2020, 1, 15))
    victims = [make_victim(documenter, incident, sex="female", age_years=age) for age in (8, 30, 31)]
    parameters = CountParameters(*WINDOW)
    assert counting.compute(parameters).result["civilians"]["total"] == 0  # drafts
    workflow.submit(documenter, incident)
    assert counting.compute(parameters).result["civilians"]["total"] == 0  # submitted
    workflow.review(reviewer, incident, "approve")
    verified = counting.compute(parameters)
    assert verified.result["civilians"] == {"total": 3, "children": 1, "women": 2, "men": 0, "unknown": 0}
    victim = Victim.objects.get(pk=victims[1].pk)
    workflow.reopen(reviewer, victim, reason="The age is disputed by a second source.")
    reopened = counting.compute(parameters)
    assert reopened.result["civilians"] == {"total": 2, "children": 1, "women": 1, "men": 0, "unknown": 0}
    assert reopened.fingerprint != verified.fingerprint
    workflow.review(reviewer, Victim.objects.get(pk=victim.pk), "approve")
    approved_again = counting.compute(parameters)
    assert approved_again.result == verified.result
    # Same figures, but the record changed (its version moved on): the fingerprint says so.
    assert approved_again.fingerprint != verified.fingerprint
