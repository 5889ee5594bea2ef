"""The feature cache: name features computed once per victim version, read by later scans (scans.py rule 7)."""

from __future__ import annotations

import datetime as dt

import pytest

from incidents import services as incident_services
from incidents.models import Victim
from matching import scans
from matching import services as matching_services
from matching.models import CandidatePair, DuplicateScan, VictimFeatures
from tests.conftest import make_incident, make_victim
from tests.matching.review_helpers import verified_victim

pytestmark = pytest.mark.django_db

PERSON = {"name": "Samira Hussein Mahmoud Alnajjar", "name_ar": "سميره حسين محمود النجار", "sex": "female"}
OTHER = {"name": "Khalil Ibrahim Tamous", "name_ar": "خليل ابراهيم طموس", "sex": "male", "age_years": 70}


def scan_now(user, **options) -> DuplicateScan:
    scan = scans.start_scan(user, enqueue=False, **options)
    assert scans.run_scan(scan.pk) == DuplicateScan.State.DONE
    return DuplicateScan.objects.get(pk=scan.pk)


def test_a_scan_stores_every_compared_victims_name_features_with_its_version(documenter, reviewer):
    incident = make_incident(documenter)
    samira = make_victim(documenter, incident, age_years=20, **PERSON)
    make_victim(documenter, incident, **OTHER)
    scan_now(reviewer)
    cached = VictimFeatures.objects.get(victim=samira)
    assert (cached.victim_version, cached.g, cached.fam) == (samira.version, "سميره", "النجار")
    assert cached.sk_fam == "njr"  # the Arabic family name's consonant key, shared with "Alnajjar"
    assert VictimFeatures.objects.count() == 2


def test_a_changed_victim_has_its_features_computed_again_and_the_others_are_left_as_stored(documenter, reviewer):
    incident = make_incident(documenter)
    samira = make_victim(documenter, incident, age_years=20, **PERSON)
    khalil = make_victim(documenter, incident, **OTHER)
    scan_now(reviewer)
    before = VictimFeatures.objects.get(victim=khalil).computed_at
    incident_services.update_victim(actor=documenter, victim=samira, name_ar="سميرة حسين محمود الشوا")
    scan_now(reviewer, incremental=True)
    changed = VictimFeatures.objects.get(victim=samira)
    assert changed.fam == "الشوا" and changed.victim_version == samira.version + 1
    assert VictimFeatures.objects.get(victim=khalil).computed_at == before


def test_an_incremental_scan_finds_a_new_duplicate_of_an_old_record_read_from_the_cache(documenter, reviewer):
    incident = make_incident(documenter)
    old = make_victim(documenter, incident, age_years=20, **PERSON)
    make_victim(documenter, incident, **OTHER)
    scan_now(reviewer)
    cached_at = VictimFeatures.objects.get(victim=old).computed_at
    new = make_victim(documenter, make_incident(documenter), age_years=21, **PERSON)
    scan = scan_now(reviewer, incremental=True)
    pair = CandidatePair.objects.get()
    assert (pair.victim_a_id, pair.victim_b_id) == (old.pk, new.pk) and pair.likely
    assert scan.summary == {"victims": 3, "pairs_compared": 1, "candidates": 1}
    assert VictimFeatures.objects.get(victim=old).computed_at == cached_at


def test_decisions_are_kept_when_an_incremental_scan_adds_a_new_record_of_the_same_person(
    documenter, second_documenter, reviewer
):
    first = verified_victim(documenter, age_years=20, **PERSON)
    second = verified_victim(second_documenter, age_years=20, **PERSON)
    scan_now(reviewer)
    pair = CandidatePair.objects.get()
    matching_services.decide(pair, reviewer, "dismiss", comment="two sisters of one name", version=pair.version)
    third = verified_victim(documenter, age_years=20, **PERSON)
    scan = scan_now(reviewer, incremental=True)
    pair.refresh_from_db()
    assert (pair.status, pair.comment) == (CandidatePair.State.DISMISSED, "two sisters of one name")
    found = set(CandidatePair.objects.filter(found_by=scan).values_list("victim_a", "victim_b"))
    assert found == {(first.pk, third.pk), (second.pk, third.pk)} and scan.candidates == 2


def test_a_cached_row_whose_names_differ_from_the_victims_is_folded_again_even_at_the_same_version(
    documenter, reviewer
):
    incident = make_incident(documenter)
    samira = make_victim(documenter, incident, age_years=20, **PERSON)
    khalil = make_victim(documenter, incident, **OTHER)
    scan_now(reviewer)
    # A write that changes the names but not the version (a bulk update, a data fix in SQL): the cache
    # must not keep the old names' features.
    Victim.objects.filter(pk=samira.pk).update(name_ar=OTHER["name_ar"], name=OTHER["name"], sex="male", age_years=70)
    scan = scan_now(reviewer, incremental=True)
    cached = VictimFeatures.objects.get(victim=samira)
    assert (cached.victim_version, cached.g, cached.fam) == (samira.version, "خليل", "طموس")
    assert scan.candidates == 1  # now the same name as the other record
    assert set(CandidatePair.objects.values_list("victim_a", "victim_b")) == {(samira.pk, khalil.pk)}


def test_features_folded_by_an_older_normaliser_are_computed_again(documenter, reviewer, monkeypatch):
    incident = make_incident(documenter)
    samira = make_victim(documenter, incident, age_years=20, **PERSON)
    khalil = make_victim(documenter, incident, **OTHER)
    scan_now(reviewer)
    VictimFeatures.objects.filter(victim=samira).update(g="stale", sk_g="stale")
    monkeypatch.setattr(scans, "NAMES_VERSION", scans.NAMES_VERSION + 1)
    assert scans.refresh_features(scans.considered_victims()) == 2
    cached = VictimFeatures.objects.get(victim=samira)
    assert (cached.names_version, cached.g, cached.sk_g) == (scans.NAMES_VERSION, "سميره", "smr")
    assert VictimFeatures.objects.get(victim=khalil).names_version == scans.NAMES_VERSION
    assert scans.refresh_features(scans.considered_victims()) == 0  # current now: nothing to fold


def test_what_is_not_cached_is_read_as_it_is_now_the_death_and_the_place(documenter, reviewer):
    incident = make_incident(documenter)
    first = make_victim(documenter, incident, age_years=20, date_of_death=dt.date(2020, 1, 15), **PERSON)
    second = make_victim(documenter, make_incident(documenter), age_years=20, **PERSON)
    scan_now(reviewer)
    pair = CandidatePair.objects.get()
    assert {"code": "death_date_same"} not in pair.reasons
    incident_services.update_victim(actor=documenter, victim=second, date_of_death=dt.date(2020, 1, 15))
    scan_now(reviewer, incremental=True)
    pair.refresh_from_db()
    assert (pair.victim_a_id, pair.victim_b_id) == (first.pk, second.pk)
    assert {"code": "death_date_same"} in pair.reasons  # the changed date, not one remembered with the cache
