"""A large list's estimated count is kept per list and filter signature (path, every query parameter but
the page's, the user): the next page of the same list skips the probe and the EXPLAIN, another filter or
another user gets its own, and a filter that narrows the list below API_EXACT_COUNT_LIMIT is counted
exactly although the whole list's estimate is kept. PostgreSQL only (estimates exist there)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.api import forget_estimates
from incidents.models import Status
from tests.conftest import client_for, make_incident, make_victim
from tests.test_pagination import many_victims, require_postgresql

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _estimates(settings):
    require_postgresql()
    settings.API_EXACT_COUNT_LIMIT = 20
    settings.API_COUNT_ESTIMATE_SECONDS = 30
    forget_estimates()
    yield
    forget_estimates()


def counting_statements(client, path: str) -> tuple[dict, list[str]]:
    """The body, and the statements that worked out its count (the probe past the limit, the EXPLAIN)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    sqls = [query["sql"] for query in captured.captured_queries]
    return response.json() | {"estimate": response["X-Count-Is-Estimate"]}, [
        sql for sql in sqls if sql.startswith("EXPLAIN") or "OFFSET 20" in sql
    ]


def test_the_same_list_and_filters_on_another_page_reuse_the_estimate(documenter, reviewer):
    many_victims(documenter)
    client = client_for(reviewer)

    first, probing = counting_statements(client, "/api/v1/victims/?status=verified&page_size=10")
    later, again = counting_statements(client, "/api/v1/victims/?page=3&page_size=30&status=verified")

    assert len(probing) == 2 and again == []
    assert first["estimate"] == later["estimate"] == "true"


def test_another_filter_or_another_user_gets_its_own_estimate(documenter, second_documenter, reviewer):
    many_victims(documenter)
    client = client_for(reviewer)
    counting_statements(client, "/api/v1/victims/")

    _body, other_filter = counting_statements(client, "/api/v1/victims/?status=verified")
    _body, other_user = counting_statements(client_for(documenter), "/api/v1/victims/")

    assert len(other_filter) == 2
    assert len(other_user) == 2


def test_a_filter_below_the_limit_is_counted_exactly_while_the_whole_lists_estimate_is_kept(documenter, reviewer):
    many_victims(documenter)
    incident = make_incident(documenter, status=Status.VERIFIED)
    for _n in range(3):
        make_victim(documenter, incident, status=Status.VERIFIED)
    client = client_for(reviewer)
    whole, _probing = counting_statements(client, "/api/v1/victims/")

    narrowed, _probing = counting_statements(client, f"/api/v1/victims/?incident={incident.pk}")

    assert whole["estimate"] == "true"
    assert (narrowed["estimate"], narrowed["count"], len(narrowed["results"])) == ("false", 3, 3)
