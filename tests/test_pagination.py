"""Pagination never truncates a list: whatever the estimated `count` says, following `next` reaches
every row exactly once, to the real end; a page past the real end is a clear 404.

On PostgreSQL, lists longer than `API_EXACT_COUNT_LIMIT` report the planner's estimate (config/api.py).
The tables here are fresh and never analysed, as on a new database after its first bulk load.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.api import EstimatingPaginator, forget_estimates
from incidents.models import Incident, Status, Victim
from tests.conftest import client_for, make_incident, make_victim, skip_or_fail

pytestmark = pytest.mark.django_db

ROWS = 137  # more than the limit below, and not a multiple of the page size


@pytest.fixture(autouse=True)
def _no_kept_estimates():
    forget_estimates()
    yield
    forget_estimates()


def many_victims(author, count: int = ROWS) -> set[int]:
    """`count` verified victims in one verified incident, written in bulk (no ANALYZE after it)."""
    incident = make_incident(author, status=Status.VERIFIED)
    template = make_victim(author, incident, status=Status.VERIFIED)
    fields = {
        f.attname: getattr(template, f.attname)
        for f in Victim._meta.concrete_fields
        if not f.primary_key and not f.generated
    }
    Victim.objects.bulk_create([Victim(**fields) for _n in range(count - 1)])
    return set(Victim.objects.values_list("pk", flat=True))


def walk(client, url: str) -> tuple[list[int], list[dict]]:
    """Follow `next` from `url` to the end; the ids seen in order, and every page's body."""
    seen, bodies = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:200]
        body = response.json()
        assert set(body) == {"count", "next", "previous", "results"}
        bodies.append({**body, "estimate": response["X-Count-Is-Estimate"]})
        seen.extend(row["id"] for row in body["results"])
        url = body["next"] and urlsplit(body["next"])._replace(scheme="", netloc="").geturl()
        assert len(bodies) <= ROWS, "next never ends"
    return seen, bodies


def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        skip_or_fail("estimated counts exist on PostgreSQL only (DATABASE_URL=postgres://...)")


def test_following_next_on_an_estimated_list_reaches_every_victim_exactly_once(documenter, reviewer, settings):
    require_postgresql()
    settings.API_EXACT_COUNT_LIMIT = 20
    expected = many_victims(documenter)

    seen, bodies = walk(client_for(reviewer), "/api/v1/victims/?page_size=10")

    assert bodies[0]["estimate"] == "true"
    assert sorted(seen) == sorted(expected)
    assert len(seen) == len(set(seen)) == ROWS


@pytest.mark.parametrize("estimate", [1, 10_000], ids=["far-too-low", "far-too-high"])
def test_a_wrong_estimate_neither_ends_the_walk_early_nor_makes_it_run_past_the_end(
    documenter, reviewer, settings, monkeypatch, estimate
):
    require_postgresql()
    settings.API_EXACT_COUNT_LIMIT = 20
    monkeypatch.setattr(EstimatingPaginator, "planner_estimate", staticmethod(lambda queryset: estimate))
    expected = many_victims(documenter)

    seen, bodies = walk(client_for(reviewer), "/api/v1/victims/?page_size=25")

    assert sorted(seen) == sorted(expected)
    assert len(bodies) == 6  # 137 rows in pages of 25: five full pages and one of 12
    assert bodies[-1]["next"] is None and len(bodies[-1]["results"]) == 12
    assert all(body["estimate"] == "true" for body in bodies)


def test_an_estimate_that_is_too_low_is_raised_to_the_rows_a_page_proves_exist(
    documenter, reviewer, settings, monkeypatch
):
    require_postgresql()
    settings.API_EXACT_COUNT_LIMIT = 20
    monkeypatch.setattr(EstimatingPaginator, "planner_estimate", staticmethod(lambda queryset: 1))
    many_victims(documenter)

    body = client_for(reviewer).get("/api/v1/victims/?page_size=25&page=5").json()

    assert body["count"] == 5 * 25 + 1  # at least this page's rows and the one after it
    assert body["next"] is not None


def test_a_page_past_the_real_end_of_an_estimated_list_is_a_404(documenter, reviewer, settings, monkeypatch):
    require_postgresql()
    settings.API_EXACT_COUNT_LIMIT = 20
    monkeypatch.setattr(EstimatingPaginator, "planner_estimate", staticmethod(lambda queryset: 10_000))
    many_victims(documenter)

    response = client_for(reviewer).get("/api/v1/victims/?page_size=25&page=7")

    assert response.status_code == 404


def test_an_exactly_counted_list_offers_next_exactly_while_rows_remain(documenter, reviewer, settings):
    settings.API_EXACT_COUNT_LIMIT = 0  # exact counts everywhere
    expected = many_victims(documenter, count=30)

    seen, bodies = walk(client_for(reviewer), "/api/v1/victims/?page_size=10")

    assert sorted(seen) == sorted(expected)
    assert [len(body["results"]) for body in bodies] == [10, 10, 10]
    assert {body["count"] for body in bodies} == {30}
    assert client_for(reviewer).get("/api/v1/victims/?page_size=10&page=4").status_code == 404


def test_following_next_through_the_review_queue_reaches_every_submitted_record_once(documenter, reviewer, settings):
    require_postgresql()
    settings.API_EXACT_COUNT_LIMIT = 20
    template = make_incident(documenter, status=Status.SUBMITTED)
    fields = {
        f.attname: getattr(template, f.attname)
        for f in Incident._meta.concrete_fields
        if not f.primary_key and not f.generated
    }
    Incident.objects.bulk_create([Incident(**fields) for _n in range(ROWS - 1)])

    seen, bodies = walk(client_for(reviewer), "/api/v1/review-queue/?kind=incidents&page_size=20")

    assert sorted(seen) == sorted(Incident.objects.values_list("pk", flat=True))
    assert len(seen) == len(set(seen)) == ROWS
    assert bodies[0]["estimate"] == "true"


def test_a_large_lists_estimate_is_kept_so_the_next_page_skips_the_probe_and_the_explain(
    documenter, reviewer, settings
):
    require_postgresql()
    settings.API_EXACT_COUNT_LIMIT = 20
    settings.API_COUNT_ESTIMATE_SECONDS = 30
    many_victims(documenter)
    client = client_for(reviewer)

    with CaptureQueriesContext(connection) as first:
        one = client.get("/api/v1/victims/?page_size=25").json()
    with CaptureQueriesContext(connection) as second:
        two = client.get("/api/v1/victims/?page_size=25&page=2").json()

    def counting(captured) -> list[str]:  # the probe (LIMIT 1 OFFSET limit) and the EXPLAIN
        sqls = [q["sql"] for q in captured.captured_queries]
        return [sql for sql in sqls if sql.startswith("EXPLAIN") or "OFFSET 20" in sql]

    assert len(counting(first)) == 2
    assert counting(second) == []
    assert two["count"] >= one["count"]  # the kept estimate, raised to the rows page 2 proves exist


def test_an_exact_count_is_never_kept(documenter, reviewer, settings):
    settings.API_EXACT_COUNT_LIMIT = 1000
    settings.API_COUNT_ESTIMATE_SECONDS = 30
    many_victims(documenter, count=30)
    client = client_for(reviewer)
    assert client.get("/api/v1/victims/").json()["count"] == 30

    Victim.objects.filter(pk__in=list(Victim.objects.values_list("pk", flat=True)[:5])).delete()

    assert client.get("/api/v1/victims/").json()["count"] == 25


def test_a_list_page_past_the_end_of_an_estimated_list_shows_the_first_page_not_an_error(
    documenter, reviewer, settings, monkeypatch
):
    require_postgresql()
    settings.API_EXACT_COUNT_LIMIT = 20
    monkeypatch.setattr(EstimatingPaginator, "planner_estimate", staticmethod(lambda queryset: 10_000))
    many_victims(documenter)
    from tests.conftest import web_client_for

    response = web_client_for(reviewer).get("/en/victims/?page=300")

    assert response.status_code == 200
