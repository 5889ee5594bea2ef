"""Figure 10's bench code (bench/matching_db.py) at a small size, so that it cannot rot: the data it writes,
the scans through the command a reviewer runs, what it measures, and that it removes what it wrote."""

from __future__ import annotations

import pytest

from bench import matching_db
from incidents.models import Incident, Victim
from matching.models import CandidatePair, DuplicateScan, VictimFeatures
from tests.conftest import make_incident, make_victim

pytestmark = pytest.mark.django_db


def test_the_figure_scans_the_generated_victims_finds_the_planted_pairs_and_removes_its_data():
    full, incremental = matching_db.figures(2_000, 200, in_process=True)

    assert full["victims"] == 2_000 and incremental["victims"] == 2_200
    assert full["planted"] == 40 and incremental["planted"] == 100  # 2% planted; half the new are copies
    # The planted copies are found (the matcher's own figures are measured at a million, not here).
    assert full["planted_candidate_recall"] >= 0.9 and full["planted_recall"] >= 0.75
    assert incremental["planted_candidate_recall"] >= 0.9 and incremental["planted_recall"] >= 0.75
    assert full["candidates"] >= full["likely"] >= 30 and full["pairs_compared"] >= full["candidates"]
    assert 0 < incremental["pairs_compared"] < full["pairs_compared"]  # only pairs with a new victim
    assert full["peak_rss_mb"] > 0 and full["seconds"] > 0
    assert full["goal"] == {"seconds_at_most": 1800, "peak_rss_mb_at_most": 4096}
    assert incremental["goal"] == {"seconds_at_most": 120}
    assert "planted recall" in full["detail"] and "load" in full["detail"]
    # Nothing left behind: victims, their incidents, features, pairs, scans.
    assert not Victim.objects.exists() and not Incident.objects.exists()
    assert not VictimFeatures.objects.exists() and not CandidatePair.objects.exists()
    assert not DuplicateScan.objects.exists()


def test_the_figure_refuses_a_database_holding_other_victims(documenter):
    kept = make_victim(documenter, make_incident(documenter), name="Khalil Tamous", name_ar="خليل طموس")
    with pytest.raises(matching_db.RefusedDatabase):
        matching_db.figures(100, 10, in_process=True)
    assert list(Victim.objects.values_list("pk", flat=True)) == [kept.pk]
