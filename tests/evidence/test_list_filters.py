"""Evidence list filters: a hidden incident's or witness's id reads exactly like an absent one."""

from __future__ import annotations

import datetime as dt

import pytest

from evidence import services
from tests.conftest import client_for, make_incident

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"


@pytest.mark.parametrize("path", ["testimonies", "sources", "media"])
def test_filtering_evidence_by_a_hidden_incident_looks_exactly_like_an_absent_one(documenter, second_documenter, path):
    hidden = make_incident(second_documenter)
    client = client_for(documenter)

    on_hidden = client.get(f"/api/v1/{path}/?incident={hidden.pk}")
    on_absent = client.get(f"/api/v1/{path}/?incident={hidden.pk + 1000}")
    on_huge = client.get(f"/api/v1/{path}/?incident={HUGE}")

    assert on_hidden.status_code == on_absent.status_code == on_huge.status_code == 200
    assert on_hidden.json()["count"] == on_absent.json()["count"] == 0
    assert client.get(f"/api/v1/{path}/?incident=abc").status_code == 400


def test_filtering_testimony_by_a_hidden_witness_looks_exactly_like_an_absent_one(
    documenter, second_documenter, verified_incident
):
    theirs = services.register_witness(author=second_documenter, name="Their witness")
    services.create_testimony(
        author=second_documenter,
        incident=verified_incident,
        witness=theirs,
        taken_on=dt.date(2020, 1, 16),
        language="ar",
        statement="...",
    )
    client = client_for(documenter)

    on_hidden = client.get(f"/api/v1/testimonies/?witness={theirs.pk}")
    on_absent = client.get(f"/api/v1/testimonies/?witness={theirs.pk + 1000}")

    assert on_hidden.status_code == on_absent.status_code == 200
    assert on_hidden.json()["count"] == on_absent.json()["count"] == 0
