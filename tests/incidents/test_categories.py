"""A victim's category is derived, never typed in, and the database can group by it."""

from __future__ import annotations

import pytest

from incidents.models import Victim
from tests.conftest import client_for, make_incident


@pytest.mark.parametrize(
    ("sex", "age_years", "age_group", "expected"),
    [
        ("female", 17, None, "child"),  # a girl of 17 is a child, not a woman
        ("male", 17, None, "child"),
        ("female", 18, None, "woman"),  # an 18-year-old woman is a woman
        ("male", 18, None, "man"),
        ("female", 0, None, "child"),
        ("male", 130, None, "man"),
        ("unknown", 40, None, "unknown"),  # adult of unknown sex
        ("unknown", 5, None, "child"),  # a child of unknown sex is still a child
        ("female", None, None, "unknown"),  # unknown age
        ("female", None, "adult", "woman"),
        ("male", None, "adult", "man"),
        ("female", None, "child", "child"),
        ("unknown", None, "unknown", "unknown"),
    ],
)
def test_category_is_derived_from_sex_and_age(documenter, sex, age_years, age_group, expected):
    incident = make_incident(documenter)
    payload = {"incident": incident.pk, "name": "X", "sex": sex, "age_years": age_years}
    if age_group:
        payload["age_group"] = age_group
    response = client_for(documenter).post("/api/v1/victims/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["category"] == expected
    assert Victim.objects.filter(category=expected).count() == 1


def test_category_cannot_be_typed_in(documenter):
    incident = make_incident(documenter)
    response = client_for(documenter).post(
        "/api/v1/victims/",
        {"incident": incident.pk, "sex": "male", "age_years": 40, "category": "child"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["category"] == "man"


def test_category_follows_a_corrected_age(documenter):
    incident = make_incident(documenter)
    client = client_for(documenter)
    victim = client.post(
        "/api/v1/victims/", {"incident": incident.pk, "sex": "female", "age_years": 17}, format="json"
    ).json()
    assert victim["category"] == "child"
    response = client.patch(f"/api/v1/victims/{victim['id']}/", {"age_years": 19}, format="json")
    assert response.status_code == 200
    assert response.json()["category"] == "woman"
    assert response.json()["age_group"] == "adult"


def test_database_groups_victims_by_category(documenter):
    incident = make_incident(documenter)
    client = client_for(documenter)
    for sex, age in [("female", 17), ("female", 18), ("male", 50), ("male", 60), ("unknown", None)]:
        client.post("/api/v1/victims/", {"incident": incident.pk, "sex": sex, "age_years": age}, format="json")
    from django.db.models import Count

    counts = dict(Victim.objects.values_list("category").annotate(n=Count("id")).order_by())
    assert counts == {"child": 1, "woman": 1, "man": 2, "unknown": 1}
