"""Arranging candidate pairs for the review tests directly (the scan is tested with the engine)."""

from __future__ import annotations

from typing import Any

from incidents.models import Status, Victim
from matching.models import CandidatePair
from tests.conftest import make_incident, make_victim

REASONS = [
    {"code": "name_same", "script": "ar"},
    {"code": "ages", "a": 34, "b": 35},
    {"code": "death_date_same"},
    {"code": "places_km", "km": 2},
]


def pair_of(first: Victim, second: Victim, score: float = 0.97, likely: bool = True, **extra: Any) -> CandidatePair:
    a, b = sorted((first, second), key=lambda victim: victim.pk)
    return CandidatePair.objects.create(
        victim_a=a, victim_b=b, score=score, likely=likely, reasons=extra.pop("reasons", REASONS), **extra
    )


def verified_victim(author, incident=None, **fields: Any) -> Victim:
    """A verified victim on a verified incident (counted, if the window holds its date)."""
    incident = incident or make_incident(author, status=Status.VERIFIED)
    return make_victim(author, incident, status=Status.VERIFIED, **fields)


def fresh(victim: Victim) -> Victim:
    return Victim.objects.get(pk=victim.pk)
