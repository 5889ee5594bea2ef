"""Lists' SQL kept per filter signature (config/compiled.py): a warm page compiles nothing and answers
exactly what a freshly built list answers, for every role, filter, subtree and page; a change of the
user's role or of the place tree between two requests with the same signature is seen by the second."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext

from config.compiled import KEPT_LISTS
from incidents import reference
from incidents.api import IncidentViewSet, VictimViewSet
from incidents.models import Location, Status, Victim
from incidents.workflow import review
from tests.conftest import client_for, location, make_incident, make_victim, perpetrator, skip_or_fail

pytestmark = pytest.mark.django_db

ACTORS = ["documenter", "second_documenter", "reviewer", "admin_user"]
PATHS = [
    "/api/v1/incidents/",
    "/api/v1/incidents/?status=verified&page_size=2",
    "/api/v1/incidents/?page_size=2&page=2",
    "/api/v1/incidents/?location={idlib}&perpetrator={regime}",
    "/api/v1/incidents/?occurred_from=2020-01-01&occurred_to=2020-12-31&weapon=fixed_wing_aircraft",
    "/api/v1/incidents/?mine=true",
    "/api/v1/incidents/?author=1",
    "/api/v1/incidents/?page=9",  # past the end: 404
    "/api/v1/incidents/?status=bogus",  # invalid: 400
    "/api/v1/incidents/?occurred_from=yesterday",  # invalid: 400
    "/api/v1/victims/",
    "/api/v1/victims/?status=verified&category=child",
    "/api/v1/victims/?location={idlib}&sex=male",
    "/api/v1/victims/?page_size=2&page=2",
    "/api/v1/victims/?incident={incident}",
    "/api/v1/victims/?incident=99999999999999999999",  # an id nobody holds: nothing
    "/api/v1/victims/?location=abc",  # invalid: 400
    "/api/v1/victims/?page_size=0",
    "/api/v1/review-queue/",
    "/api/v1/review-queue/?kind=victims",
    "/api/v1/review-queue/?location={idlib}",
    "/api/v1/review-queue/?page=2&page_size=1",
    "/api/v1/review-queue/?kind=bogus",  # invalid: 400
]


@pytest.fixture(autouse=True)
def _nothing_kept_between_tests():
    KEPT_LISTS.clear()
    yield
    KEPT_LISTS.clear()


@pytest.fixture
def records(documenter, second_documenter):
    aleppo = location("Aleppo")
    mine = make_incident(documenter, status=Status.VERIFIED)
    theirs = make_incident(second_documenter, status=Status.SUBMITTED, title="Shelling of a school", location=aleppo)
    make_incident(documenter, title="A draft")
    make_victim(documenter, mine, status=Status.VERIFIED, age_years=9)
    make_victim(second_documenter, mine, status=Status.VERIFIED, name="Sara", sex="female")
    make_victim(second_documenter, theirs, status=Status.SUBMITTED, name="Omar")
    make_victim(documenter, mine, status=Status.SUBMITTED, name="Nour")
    return mine


def _path(path: str, incident) -> str:
    return path.format(idlib=location("Idlib").pk, regime=perpetrator().pk, incident=incident.pk)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("path", PATHS)
def test_a_kept_list_answers_exactly_what_a_built_one_answers(request, records, settings, actor, path):
    client = client_for(request.getfixturevalue(actor))
    path = _path(path, records)

    settings.API_COMPILED_LISTS = False
    built = client.get(path)
    settings.API_COMPILED_LISTS = True
    cold = client.get(path)  # compiles and keeps (on PostgreSQL: prepares the page)
    warm = client.get(path)  # from the kept SQL (on PostgreSQL: the prepared page, executed by name)
    settings.API_PREPARED_LISTS = False
    unprepared = client.get(path)  # the kept SQL sent as text

    for response in (cold, warm, unprepared):
        assert response.status_code == built.status_code
        assert response.content == built.content
        assert response.get("X-Count-Is-Estimate") == built.get("X-Count-Is-Estimate")


def test_a_warm_page_builds_no_queryset_and_reads_other_pages_of_the_same_signature(
    records, documenter, monkeypatch, settings
):
    settings.API_COMPILED_LISTS = True
    built = []
    original = VictimViewSet.get_queryset
    monkeypatch.setattr(VictimViewSet, "get_queryset", lambda self: built.append(1) or original(self))
    client = client_for(documenter)

    pages = [client.get(f"/api/v1/victims/?status=verified&page_size=1&page={n}") for n in (1, 2, 3)]

    assert [page.status_code for page in pages] == [200, 200, 404]
    assert len(built) == 1  # the first request only
    names = [page.json()["results"][0]["name"] for page in pages[:2]]
    assert sorted(names) == ["Ahmad", "Sara"]
    assert pages[0].json()["next"] and not pages[1].json()["next"]


def test_invalid_filters_are_refused_every_time_with_the_same_reason(records, documenter, settings):
    settings.API_COMPILED_LISTS = True
    client = client_for(documenter)

    answers = [client.get("/api/v1/victims/?status=bogus") for _ in range(2)]

    assert [answer.status_code for answer in answers] == [400, 400]
    assert answers[0].json() == answers[1].json()
    assert "status" in answers[0].json()
    assert len(KEPT_LISTS) == 0


def test_a_search_is_never_kept(records, documenter, settings):
    settings.API_COMPILED_LISTS = True
    client_for(documenter).get("/api/v1/victims/?search=Sara")
    assert len(KEPT_LISTS) == 0


def _afresh(user):
    """The user as the next request loads it (a fresh instance: no permissions cached on it)."""
    return type(user).objects.get(pk=user.pk)


def test_a_role_given_between_two_requests_is_seen_by_the_second(records, documenter, second_documenter, settings):
    settings.API_COMPILED_LISTS = True
    path = "/api/v1/victims/?sex=male"

    before = {row["name"] for row in client_for(_afresh(documenter)).get(path).json()["results"]}
    second_documenter.groups.add(Group.objects.get(name="reviewer"))  # not the asker: nothing changes for them
    same = {row["name"] for row in client_for(_afresh(documenter)).get(path).json()["results"]}
    documenter.groups.add(Group.objects.get(name="reviewer"))
    after = {row["name"] for row in client_for(_afresh(documenter)).get(path).json()["results"]}

    assert before == same == {"Ahmad", "Nour"}  # their own records and verified ones
    assert after == {"Ahmad", "Nour", "Omar"}  # a reviewer also sees another's submitted record


def test_a_role_taken_away_between_two_requests_is_seen_by_the_second(records, reviewer, settings):
    settings.API_COMPILED_LISTS = True
    client = client_for(_afresh(reviewer))

    assert client.get("/api/v1/review-queue/").status_code == 200
    names = {row["name"] for row in client.get("/api/v1/victims/").json()["results"]}
    assert names == {"Ahmad", "Sara", "Omar", "Nour"}
    reviewer.groups.set([Group.objects.get(name="documenter")])
    client = client_for(_afresh(reviewer))

    assert client.get("/api/v1/review-queue/").status_code == 403
    assert {row["name"] for row in client.get("/api/v1/victims/").json()["results"]} == {"Ahmad", "Sara"}


def test_a_place_moved_into_a_subtree_between_two_requests_is_seen_by_the_second(
    records, second_documenter, reviewer, admin_user, settings
):
    settings.API_COMPILED_LISTS = True
    idlib, aleppo = location("Idlib"), location("Aleppo")
    district = reference.create(actor=admin_user, model=Location, name="A district", level="district", parent=aleppo)
    moved = make_incident(second_documenter, status=Status.SUBMITTED, title="Moved", location=district)
    make_victim(second_documenter, moved, status=Status.SUBMITTED, name="Rami")
    paths = [f"/api/v1/{name}/?location={idlib.pk}" for name in ("incidents", "victims", "review-queue")]
    client = client_for(reviewer)

    before = [client.get(path).json()["count"] for path in paths]
    reference.change(actor=admin_user, row=district, parent=idlib)  # its records now lie under Idlib
    after = [client.get(path).json()["count"] for path in paths]

    assert before == [1, 3, 1]
    assert after == [2, 4, 3]


def test_a_place_added_under_a_subtree_between_two_requests_is_seen_by_the_second(
    records, documenter, admin_user, settings
):
    settings.API_COMPILED_LISTS = True
    idlib = location("Idlib")
    client = client_for(documenter)
    path = f"/api/v1/incidents/?location={idlib.pk}"

    before = client.get(path).json()["count"]
    village = reference.create(actor=admin_user, model=Location, name="A village", level="community", parent=idlib)
    make_incident(documenter, status=Status.VERIFIED, location=village)
    after = client.get(path).json()["count"]

    assert (before, after) == (2, 3)


def test_each_user_and_list_has_its_own_kept_sql(records, documenter, second_documenter, settings):
    settings.API_COMPILED_LISTS = True
    path = "/api/v1/incidents/?mine=true"

    mine = [row["title"] for row in client_for(documenter).get(path).json()["results"]]
    theirs = [row["title"] for row in client_for(second_documenter).get(path).json()["results"]]

    assert sorted(mine) == ["A draft", "Airstrike on a market"]
    assert theirs == ["Shelling of a school"]
    assert len(KEPT_LISTS) == 2
    assert IncidentViewSet.__qualname__ in {key[0] for key in KEPT_LISTS._lists}


# --- a kept page prepared on the database connection (API_PREPARED_LISTS, PostgreSQL) --------------------


def _prepared_pages() -> list[str]:
    """This connection's prepared statements (PostgreSQL's own view of them) that read a page."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", ["%LIMIT%"])
        return sorted(row[0] for row in cursor.fetchall())


def test_a_kept_page_is_prepared_once_per_connection_and_then_executed_by_name(records, reviewer, settings):
    if connection.vendor != "postgresql":
        skip_or_fail("prepared pages exist on PostgreSQL only (DATABASE_URL=postgres://...)")
    settings.API_COMPILED_LISTS = settings.API_PREPARED_LISTS = True
    client = client_for(reviewer)
    before = _prepared_pages()

    first = [client.get("/api/v1/victims/?page_size=2") for _ in range(3)]
    after_one_page = _prepared_pages()
    seen: list[str] = []

    def wrapper(execute, sql, params, many, context):  # execute wrappers still see the page's statement
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        second = client.get("/api/v1/victims/?page_size=2&page=2")
    after_two_pages = _prepared_pages()
    reset_queries()  # a request clears the log as it starts: capture from an empty one
    with CaptureQueriesContext(connection) as logged:  # the debug query log: the statement's text
        client.get("/api/v1/victims/?page_size=2&page=2")
    logged_sql = [query["sql"] for query in logged.captured_queries]  # now: the next request clears the log
    settings.API_PREPARED_LISTS = False
    plain = client.get("/api/v1/victims/?page_size=2&page=2")

    assert [page.status_code for page in first] == [200, 200, 200] and second.status_code == 200
    assert len(after_one_page) == len(before) + 1  # three requests, one statement prepared
    assert len(after_two_pages) == len(before) + 2  # another page: its own statement
    assert _prepared_pages() == after_two_pages  # turned off: nothing more prepared
    new = sorted(set(after_two_pages) - set(before))
    assert all("incidents_victim" in text and "LIMIT 3" in text for text in new)  # the page's own SQL, values in
    assert [sql for sql in seen if sql in new] == [text for text in new if "OFFSET 2" in text]
    assert plain.content == second.content
    assert [sql for sql in logged_sql if sql in new] == [text for text in new if "OFFSET 2" in text]


def test_rows_changed_between_two_prepared_pages_are_read_afresh(records, reviewer, settings):
    settings.API_COMPILED_LISTS = settings.API_PREPARED_LISTS = True
    client = client_for(reviewer)
    path = "/api/v1/victims/?status=verified"

    before = {row["name"] for row in client.get(path).json()["results"]}
    client.get(path)  # executed by name on PostgreSQL
    review(reviewer, Victim.objects.get(name="Nour"), "approve", comment="checked")
    after = {row["name"] for row in client.get(path).json()["results"]}

    assert before == {"Ahmad", "Sara"}
    assert after == {"Ahmad", "Sara", "Nour"}


def test_a_prepared_page_reads_the_same_times_as_djangos_cursor(records, documenter, reviewer, settings):
    """Timestamps of a prepared page (psycopg's own loader when the session's zone is UTC): equal, aware,
    with the very tzinfo Django's loader gives, to the microsecond and on the second."""
    import datetime as dt

    from incidents.models import Incident

    Incident.objects.filter(pk=records.pk).update(created_at=dt.datetime(2021, 3, 4, 5, 6, 7, tzinfo=dt.UTC))
    settings.API_COMPILED_LISTS = True
    client_for(reviewer).get("/api/v1/review-queue/")
    client_for(documenter).get("/api/v1/incidents/")
    kept = [compiled for compiled, _subtrees in KEPT_LISTS._lists.values()]

    settings.API_PREPARED_LISTS = True
    prepared = [compiled.rows(0, 20) for compiled in kept]
    settings.API_PREPARED_LISTS = False
    plain = [compiled.rows(0, 20) for compiled in kept]

    assert prepared == plain and all(prepared)

    def cells(row):
        return row.values() if isinstance(row, dict) else row

    times = [
        (value, other)
        for rows, others in zip(prepared, plain, strict=True)
        for row, same in zip(rows, others, strict=True)
        for value, other in zip(cells(row), cells(same), strict=True)
        if isinstance(value, dt.datetime)
    ]
    assert len(times) >= 6
    assert all(value.tzinfo is other.tzinfo and value.tzinfo is not None for value, other in times)
    assert any(value.microsecond for value, _other in times)
    assert dt.datetime(2021, 3, 4, 5, 6, 7, tzinfo=dt.UTC) in [value for value, _other in times]
