"""The API's review queue: every submitted record, paged like any list, filters checked (400 naming the
field), odd ids finding nothing."""

from __future__ import annotations

import pytest

from incidents.models import Incident, Status
from tests.conftest import client_for, make_incident

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"


@pytest.mark.parametrize("param", ["location", "perpetrator"])
def test_a_huge_place_or_party_id_in_the_review_queue_finds_nothing_instead_of_a_500(reviewer, documenter, param):
    make_incident(documenter, status=Status.SUBMITTED)

    response = client_for(reviewer).get(f"/api/v1/review-queue/?{param}={HUGE}")

    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize("query", ["kind=bogus", "kind=incidents,bogus", "location=abc", "perpetrator=1,x"])
def test_a_malformed_review_queue_filter_is_a_400_naming_the_field_not_a_silently_widened_queue(
    reviewer, documenter, query
):
    make_incident(documenter, status=Status.SUBMITTED)

    response = client_for(reviewer).get(f"/api/v1/review-queue/?{query}")

    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_the_review_queue_pages_like_every_other_list(reviewer, documenter):
    for _n in range(3):
        make_incident(documenter, status=Status.SUBMITTED)

    body = client_for(reviewer).get("/api/v1/review-queue/?page_size=2").json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert len(body["results"]) == 2


def test_the_review_queue_counts_and_pages_every_submitted_record_beyond_a_thousand(reviewer, documenter, settings):
    settings.API_EXACT_COUNT_LIMIT = 0  # exact counts on PostgreSQL too (large lists are estimated otherwise)
    template = make_incident(documenter, status=Status.SUBMITTED)
    fields = {
        f.attname: getattr(template, f.attname)
        for f in Incident._meta.concrete_fields
        if not f.primary_key and not f.generated
    }
    Incident.objects.bulk_create([Incident(**fields) for _n in range(1000)])

    body = client_for(reviewer).get("/api/v1/review-queue/?kind=incidents&page=21").json()

    assert body["count"] == 1001
    assert len(body["results"]) == 1
    assert body["results"][0]["kind"] == "incidents"
    assert body["results"][0]["label"].endswith(template.title)


def test_walking_the_mixed_review_queue_page_by_page_shows_every_record_once_oldest_first(reviewer, documenter):
    """Each page is read as every kind's first rows (PostgreSQL); the pages must still be the queue's order."""
    import datetime as dt

    from django.utils import timezone

    from incidents.models import Victim
    from tests.conftest import make_victim

    start = timezone.now() - dt.timedelta(days=30)
    expected = []
    for n in range(7):
        incident = make_incident(documenter, status=Status.SUBMITTED)
        victims = [make_victim(documenter, incident, status=Status.SUBMITTED) for _ in range(2)]
        # Interleave the kinds in time, with a tie on updated_at between an incident and a victim.
        Incident.objects.filter(pk=incident.pk).update(updated_at=start + dt.timedelta(hours=3 * n))
        Victim.objects.filter(pk=victims[0].pk).update(updated_at=start + dt.timedelta(hours=3 * n))
        Victim.objects.filter(pk=victims[1].pk).update(updated_at=start + dt.timedelta(hours=3 * n + 1))
        expected += [("incidents", incident.pk), ("victims", victims[0].pk), ("victims", victims[1].pk)]
    client = client_for(reviewer)

    seen, url = [], "/api/v1/review-queue/?page_size=4"
    while url:
        body = client.get(url).json()
        seen += [(item["kind"], item["id"]) for item in body["results"]]
        url = body["next"]

    assert seen == expected
