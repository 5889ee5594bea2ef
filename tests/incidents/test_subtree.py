"""A place's or party's subtree is read in one recursive statement, however deep the tree, and filters
through it reach the deepest level (the review queue, the lists)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import Location, Perpetrator, Status
from tests.conftest import client_for, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture
def deep_places():
    """Aleppo → district → subdistrict → two communities, and a second district."""
    aleppo = Location.objects.get(name="Aleppo", level="governorate")
    district = Location.objects.create(name="Jebel Saman", level="district", parent=aleppo)
    other = Location.objects.create(name="Afrin", level="district", parent=aleppo)
    subdistrict = Location.objects.create(name="Mount Simeon", level="subdistrict", parent=district)
    first = Location.objects.create(name="Village A", level="community", parent=subdistrict)
    second = Location.objects.create(name="Village B", level="community", parent=subdistrict)
    return {"aleppo": aleppo, "district": district, "other": other, "sub": subdistrict, "a": first, "b": second}


def test_a_deep_subtree_is_one_statement(deep_places):
    with CaptureQueriesContext(connection) as captured:
        found = Location.objects.subtree_ids([deep_places["aleppo"].pk])

    assert found == {place.pk for place in deep_places.values()}
    assert len(captured.captured_queries) == 1
    assert Location.objects.subtree_ids([deep_places["district"].pk, deep_places["b"].pk]) == {
        deep_places[name].pk for name in ("district", "sub", "a", "b")
    }


def test_ids_that_name_no_node_give_nothing_and_send_nothing(db):
    with CaptureQueriesContext(connection) as captured:
        assert Location.objects.subtree_ids([]) == set()
        assert Location.objects.subtree_ids([2**70]) == set()
    assert captured.captured_queries == []
    assert Perpetrator.objects.subtree_ids([10**12]) == set()


def test_the_whole_country_is_every_place(deep_places):
    syria = Location.objects.get(name="Syria", level="country")
    assert Location.objects.subtree_ids([syria.pk]) == set(Location.objects.values_list("pk", flat=True))


def test_a_filtered_tree_keeps_to_its_rows(deep_places):
    assert Location.objects.exclude(level="community").subtree_ids([deep_places["aleppo"].pk]) == {
        deep_places[name].pk for name in ("aleppo", "district", "other", "sub")
    }


def test_the_review_queue_and_the_incidents_list_reach_the_deepest_place(deep_places, documenter, reviewer):
    make_incident(documenter, status=Status.SUBMITTED, title="in a village", location=deep_places["b"])
    make_incident(documenter, status=Status.SUBMITTED, title="elsewhere")
    client = client_for(reviewer)

    queue = client.get(f"/api/v1/review-queue/?location={deep_places['aleppo'].pk}").json()["results"]
    listed = client.get(f"/api/v1/incidents/?location={deep_places['district'].pk}").json()["results"]

    assert [row["label"].split(" ", 1)[1] for row in queue] == ["in a village"]
    assert [row["title"] for row in listed] == ["in a village"]
