"""The fast list path (config/shaping.py) answers byte for byte what the serializers answer, for every
role, filter and page: personal data (identity number, date of birth) only to the record's author,
reviewers and admins; roles, origin, dates, times and coordinates formatted alike."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy

from incidents.models import Incident, Status, Victim
from tests.conftest import client_for, make_incident, make_victim

pytestmark = pytest.mark.django_db

ACTORS = ["documenter", "second_documenter", "reviewer", "admin_user"]
PATHS = [
    "/api/v1/incidents/",
    "/api/v1/incidents/?status=verified&page_size=2",
    "/api/v1/incidents/?page_size=2&page=2",
    "/api/v1/victims/",
    "/api/v1/victims/?status=verified",
    "/api/v1/victims/?page_size=3&page=2",
    "/api/v1/victims/?search=Ahmad",
    "/api/v1/victims/?mine=true",
    "/api/v1/incidents/?mine=false&author=1",
    "/api/v1/review-queue/",
    "/api/v1/review-queue/?kind=victims",
]


@pytest.fixture
def records(documenter, second_documenter):
    """Every shape a row can take: drafts and verified records of two authors, personal data, roles, an
    imported origin, coordinates, a date of death, a duplicate, submitted records for the queue."""
    mine = make_incident(documenter, status=Status.VERIFIED, latitude=Decimal("36.2021"), longitude=Decimal("37.1343"))
    theirs = make_incident(second_documenter, status=Status.SUBMITTED, title="Shelling of a school")
    draft = make_incident(documenter, title="A draft")
    first = make_victim(
        documenter,
        mine,
        status=Status.VERIFIED,
        identity_number="0123456789",
        date_of_birth=dt.date(1990, 5, 4),
        date_of_death=dt.date(2020, 1, 16),
        roles=["medical", "media"],
    )
    make_victim(
        second_documenter,
        mine,
        status=Status.VERIFIED,
        name="Sara",
        name_ar="سارة",
        sex="female",
        age_years=9,
        identity_number="987",
        date_of_birth=dt.date(2011, 2, 3),
    )
    make_victim(second_documenter, theirs, status=Status.SUBMITTED, name="Ahmad Ali", age_years=None)
    make_victim(documenter, draft, name="", name_ar="محمد")
    Victim.objects.filter(pk=first.pk).update(origin_source="MoH list", origin_record_id="A-17")
    duplicate = make_victim(documenter, mine, status=Status.VERIFIED, name="Omar", identity_number="55")
    Victim.objects.filter(pk=duplicate.pk).update(duplicate_of=first)
    return Incident.objects.count()


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("path", PATHS)
def test_the_fast_list_gives_exactly_the_serializers_bytes(request, records, settings, actor, path):
    user = request.getfixturevalue(actor)
    client = client_for(user)

    settings.API_FAST_LISTS = False
    slow = client.get(path)
    settings.API_FAST_LISTS = True
    fast = client.get(path)

    assert slow.status_code == fast.status_code
    assert fast.content == slow.content
    assert fast.get("X-Count-Is-Estimate") == slow.get("X-Count-Is-Estimate")


def test_only_the_author_and_reviewers_see_a_victims_personal_data_on_the_fast_path(
    records, documenter, second_documenter, reviewer, settings
):
    settings.API_FAST_LISTS = True

    def personal(user) -> dict[str, tuple]:
        rows = client_for(user).get("/api/v1/victims/?status=verified").json()["results"]
        return {row["name"]: (row.get("identity_number"), row.get("date_of_birth")) for row in rows}

    assert personal(documenter) == {"Ahmad": ("0123456789", "1990-05-04"), "Sara": (None, None), "Omar": ("55", None)}
    assert personal(second_documenter) == {"Ahmad": (None, None), "Sara": ("987", "2011-02-03"), "Omar": (None, None)}
    assert personal(reviewer) == {
        "Ahmad": ("0123456789", "1990-05-04"),
        "Sara": ("987", "2011-02-03"),
        "Omar": ("55", None),
    }


@pytest.mark.parametrize(
    "data",
    [
        {"name": "محمد", "line": "a\u2028b\u2029c", "n": 2**53, "none": None, "yes": True, "list": [1, "x", []]},
        {"at": dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC), "on": dt.date(2020, 1, 15)},
        {"lazy": gettext_lazy("Invalid page."), "decimal": Decimal("36.2021"), "nested": {"deep": [{"a": "b"}]}},
        {1: "a key that is not a string", "big": 2**70},
        [{"kind": Status.VERIFIED, "text": 'quotes " and \\ backslash \n newline \t tab \x01 control'}],
    ],
    ids=["text-and-numbers", "times", "lazy-and-decimal", "fallback", "enums-and-escapes"],
)
def test_the_fast_json_renderer_writes_exactly_drfs_bytes(data):
    from rest_framework.renderers import JSONRenderer

    from config.shaping import FastJSONRenderer

    assert FastJSONRenderer().render(data) == JSONRenderer().render(data)
    indented = "application/json; indent=4"
    assert FastJSONRenderer().render(data, indented) == JSONRenderer().render(data, indented)


@pytest.mark.parametrize("zone", ["Asia/Damascus", "America/St_Johns"])
@pytest.mark.parametrize("path", ["/api/v1/incidents/", "/api/v1/victims/", "/api/v1/review-queue/"])
def test_times_are_written_in_the_active_time_zone_as_the_serializers_write_them(
    records, reviewer, settings, zone, path
):
    from django.utils import timezone

    client = client_for(reviewer)
    with timezone.override(zone):
        settings.API_FAST_LISTS = False
        slow = client.get(path)
        settings.API_FAST_LISTS = True
        fast = client.get(path)

    assert fast.status_code == slow.status_code == 200
    assert fast.content == slow.content
    assert b'Z"' not in fast.content  # not UTC: every time carries the zone's offset
