"""Quality on real data at small size: the first 1,500 people of the April list and their August rows,
two source lists, ids hidden from the matcher (kept only as the rows' record ids) and no identity numbers.

The floors are the goals (bench/README.md has the full lists' figures); the same id in both lists is the same
person, pairs inside one list are not judged."""

from __future__ import annotations

import csv

import pytest

from bench import matching as bench
from incidents.models import Victim
from matching import scans
from matching.models import CandidatePair, DuplicateScan

pytestmark = pytest.mark.django_db

SAMPLE = 1500
FLOORS = {"precision": 0.99, "recall": 0.95, "candidate_recall": 0.995}  # the goals (full lists: bench/README.md)


@pytest.fixture
def two_lists(documenter):
    with bench.APRIL.open(encoding="utf-8", newline="") as handle:
        ids = {row["id"] for _, row in zip(range(SAMPLE), csv.DictReader(handle), strict=False)}
    for source, path in bench.SOURCES.items():
        bench.create_list(source, bench.moh_rows(path, ids), documenter)
    return ids


def test_a_scan_of_two_releases_finds_the_same_people_above_the_measured_floors(two_lists, reviewer):
    scan = scans.start_scan(reviewer, enqueue=False)
    assert scans.run_scan(scan.pk) == DuplicateScan.State.DONE
    pairs = [
        (a, b, score, likely)
        for a, b, score, likely in CandidatePair.objects.values_list("victim_a", "victim_b", "score", "likely")
    ]
    result = bench.judge(pairs, bench.truth_of(Victim.objects.all()))
    assert result["true_pairs"] > 500
    measured = {key: result[key] for key in FLOORS}
    assert all(measured[key] >= floor for key, floor in FLOORS.items()), measured
