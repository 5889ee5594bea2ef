"""The generator writes with the rollup triggers off and recomputes the rollups before it commits
(bench/synthetic.py): the tiers it leaves must be the ones the triggers would have written, row by row
and figure by figure, and the triggers must be on again afterwards (PostgreSQL; the rollups are kept
there only)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from bench import synthetic
from counts import counting, rollup
from counts.counting import CountParameters
from incidents.models import Status, Victim
from tests.conftest import make_incident, make_victim, skip_or_fail

ALL_TIME = (dt.date(1900, 1, 1), dt.date(2100, 1, 1))


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        skip_or_fail("the rollups are kept by PostgreSQL triggers")


def generated_tiers(*, through_triggers: bool) -> dict[str, dict[tuple, tuple]]:
    """Every tier after generating the same data (same seed, same ids), then rolled back."""
    with transaction.atomic():
        synthetic.generate(
            victims=2500, incidents=400, seed=11, allow_real_records=True, through_triggers=through_triggers
        )
        tiers = rollup.stored_rows()
        transaction.set_rollback(True)
    return tiers


@pytest.mark.django_db
def test_the_rollups_the_generator_recomputes_equal_those_the_triggers_write(postgresql, documenter):
    # Records already there (a documenter's verified victim) must be counted in both ways too.
    make_victim(documenter, make_incident(documenter, Status.VERIFIED), Status.VERIFIED)
    # Places and users first, so both runs use the same ids (a rolled-back sequence is not given back).
    synthetic.ensure_places()
    synthetic.ensure_users()

    through_triggers = generated_tiers(through_triggers=True)
    recomputed = generated_tiers(through_triggers=False)

    assert set(recomputed) == {table for table, _, _ in rollup.TIERS}
    for table in through_triggers:
        assert through_triggers[table], f"{table} is empty: the comparison would prove nothing"
        assert recomputed[table] == through_triggers[table], table


@pytest.mark.django_db
def test_after_the_generator_the_triggers_follow_writes_again_and_the_check_passes(postgresql, documenter, capsys):
    synthetic.generate(victims=1200, incidents=200, seed=5, allow_real_records=True)
    assert rollup.triggers_installed()
    call_command("rebuild_rollups", "--check")
    assert "differing from a full recompute" in capsys.readouterr().out

    # A documenter's new verified victim, written through the services, is counted from the rollups.
    before = rollup.window_count(CountParameters(*ALL_TIME))
    incident = make_incident(documenter, Status.VERIFIED)
    make_victim(documenter, incident, Status.VERIFIED)
    after = rollup.window_count(CountParameters(*ALL_TIME))
    assert after["civilians"]["total"] == before["civilians"]["total"] + 1
    assert after == counting.compute(CountParameters(*ALL_TIME)).result
    call_command("rebuild_rollups", "--check")


@pytest.mark.django_db
def test_a_generation_that_fails_half_way_leaves_the_triggers_on_and_nothing_written(
    postgresql, documenter, monkeypatch
):
    make_victim(documenter, make_incident(documenter, Status.VERIFIED), Status.VERIFIED)
    before = rollup.stored_rows()
    original = synthetic.victim_rows

    def failing(*args, **kwargs):
        for number, row in enumerate(original(*args, **kwargs)):
            if number == 300:
                raise RuntimeError("disk full")
            yield row

    monkeypatch.setattr(synthetic, "victim_rows", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        synthetic.generate(victims=600, incidents=100, seed=3, allow_real_records=True)

    assert rollup.triggers_installed()
    assert Victim.objects.count() == 1
    assert rollup.stored_rows() == before
