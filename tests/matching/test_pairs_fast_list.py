"""The duplicates list's fast path (`.values()` rows shaped without DRF's serializer, config/shaping.py)
answers byte for byte what CandidatePairSerializer answers: for reviewers and admins, every filter and
page, in English and Arabic, decided and undecided pairs, imported records, roles, duplicates, and scores
that orjson would write differently from `json`."""

from __future__ import annotations

import datetime as dt

import pytest

from incidents.models import Status, Victim
from matching import services
from tests.conftest import client_for, location, make_incident, make_victim
from tests.matching.review_helpers import pair_of, verified_victim

pytestmark = pytest.mark.django_db

PATHS = [
    "/api/v1/duplicates/",
    "/api/v1/duplicates/?status=candidate",
    "/api/v1/duplicates/?status=dismissed",
    "/api/v1/duplicates/?likely=false",
    "/api/v1/duplicates/?source=MoH%20list",
    "/api/v1/duplicates/?page_size=2&page=2",
    "/api/v1/duplicates/?location={idlib}",
]


@pytest.fixture
def pairs(documenter, second_documenter, reviewer):
    """Pairs of every shape: personal data of two authors, roles, an imported origin, a date of death,
    a record marked a duplicate, a dismissed pair (decided by, decided at, comment), tiny and zero scores."""
    first = verified_victim(
        documenter,
        name="Khaled Omar",
        name_ar="خالد عمر",
        identity_number="998877",
        date_of_birth=dt.date(1990, 5, 4),
        date_of_death=dt.date(2020, 1, 16),
        roles=["medical", "media"],
    )
    second = verified_victim(second_documenter, name="Khalid Omar", name_ar="خالد عمر", identity_number="998877")
    Victim.objects.filter(pk=second.pk).update(origin_source="MoH list", origin_record_id="A-17")
    third = verified_victim(second_documenter, name="Sara", sex="female", age_years=9)
    fourth = verified_victim(documenter, name="Omar")
    Victim.objects.filter(pk=fourth.pk).update(duplicate_of=first)
    pair_of(first, second, score=0.91)
    pair_of(first, third, score=0.00001234, likely=False)
    pair_of(second, third, score=0.0, likely=False)
    dismissed = pair_of(third, fourth, score=0.5, likely=False)
    services.decide(dismissed, reviewer, "dismiss", comment="Different ages")
    return first


@pytest.mark.parametrize("actor", ["reviewer", "admin_user"])
@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("path", PATHS)
def test_the_fast_duplicates_list_gives_exactly_the_serializers_bytes(request, pairs, settings, actor, language, path):
    client = client_for(request.getfixturevalue(actor))
    path = path.format(idlib=location("Idlib").pk)

    settings.API_FAST_LISTS = False
    slow = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
    settings.API_FAST_LISTS = True
    fast = client.get(path, HTTP_ACCEPT_LANGUAGE=language)

    assert slow.status_code == fast.status_code == 200
    assert fast.content == slow.content
    assert fast.get("X-Count-Is-Estimate") == slow.get("X-Count-Is-Estimate")


def test_the_fast_duplicates_list_shows_each_victim_as_the_victims_list_does(pairs, reviewer, settings):
    settings.API_FAST_LISTS = True
    client = client_for(reviewer)
    victims = {row["id"]: row for row in client.get("/api/v1/victims/?page_size=200").json()["results"]}

    listed = client.get("/api/v1/duplicates/").json()["results"]

    assert len(listed) == 4
    for row in listed:
        assert row["victim_a"] == victims[row["victim_a"]["id"]]
        assert row["victim_b"] == victims[row["victim_b"]["id"]]
    first = next(row["victim_a"] for row in listed if row["victim_a"]["id"] == pairs.pk)
    assert (first["identity_number"], first["date_of_birth"], first["roles"]) == (
        "998877",
        "1990-05-04",
        ["medical", "media"],
    )


def test_a_tiny_score_is_written_as_json_writes_it(pairs, reviewer, settings):
    settings.API_FAST_LISTS = True
    body = client_for(reviewer).get("/api/v1/duplicates/?likely=false").content
    assert b'"score":1.234e-05' in body
    assert b'"score":0.0' in body


def test_documenters_are_refused_the_duplicates_list_on_the_fast_path(pairs, documenter, settings):
    settings.API_FAST_LISTS = True
    assert client_for(documenter).get("/api/v1/duplicates/").status_code == 403


def test_a_decisions_answer_writes_a_tiny_score_as_json_writes_it(documenter, second_documenter, reviewer):
    tiny = pair_of(verified_victim(documenter, name="Nour"), verified_victim(second_documenter, name="Nur"), 0.0000456)

    response = client_for(reviewer).post(
        f"/api/v1/duplicates/{tiny.pk}/decide/", {"decision": "dismiss", "comment": "no"}, format="json"
    )

    assert response.status_code == 200
    assert b'"score":4.56e-05' in response.content


# --- the list's SQL kept per filter signature (config/compiled.py) ------------------------------------


@pytest.fixture
def nothing_kept():
    from config.compiled import KEPT_LISTS

    KEPT_LISTS.clear()
    yield KEPT_LISTS
    KEPT_LISTS.clear()


@pytest.mark.parametrize("actor", ["reviewer", "admin_user", "documenter"])
@pytest.mark.parametrize(
    "path", [*PATHS, "/api/v1/duplicates/?page=7", "/api/v1/duplicates/?likely=maybe", "/api/v1/duplicates/?location=x"]
)
def test_a_kept_duplicates_list_answers_exactly_what_a_built_one_answers(
    request, pairs, nothing_kept, settings, actor, path
):
    client = client_for(request.getfixturevalue(actor))
    path = path.format(idlib=location("Idlib").pk)

    settings.API_COMPILED_LISTS = False
    built = client.get(path)
    settings.API_COMPILED_LISTS = True
    cold, warm = client.get(path), client.get(path)

    for response in (cold, warm):
        assert response.status_code == built.status_code
        assert response.content == built.content


def test_each_decider_sees_their_own_drafts_pairs_and_a_role_taken_away_counts_at_once(
    pairs, nothing_kept, reviewer, settings
):
    from django.contrib.auth.models import Group

    from tests.conftest import make_user

    settings.API_COMPILED_LISTS = True
    both = make_user("documenter-and-reviewer", "documenter", "reviewer")
    draft = make_victim(both, make_incident(both, status=Status.VERIFIED), name="Khaled O.")
    pair_of(pairs, draft, score=0.99)  # a draft: only its author sees it (and so the pair)

    def count(user) -> int | None:
        response = client_for(type(user).objects.get(pk=user.pk)).get("/api/v1/duplicates/")
        return response.json()["count"] if response.status_code == 200 else response.status_code

    assert (count(both), count(reviewer), count(both)) == (5, 4, 5)
    both.groups.remove(Group.objects.get(name="reviewer"))
    assert count(both) == 403


def test_a_place_moved_under_the_filtered_place_is_seen_by_the_next_request(
    pairs, nothing_kept, reviewer, admin_user, documenter, second_documenter, settings
):
    from incidents import reference
    from incidents.models import Location

    settings.API_COMPILED_LISTS = True
    idlib, aleppo = location("Idlib"), location("Aleppo")
    district = reference.create(actor=admin_user, model=Location, name="A district", level="district", parent=aleppo)
    there = make_incident(documenter, status=Status.VERIFIED, location=district)
    pair_of(verified_victim(documenter, there, name="Rami"), verified_victim(second_documenter, there, name="Ramy"))
    path = f"/api/v1/duplicates/?location={idlib.pk}"
    client = client_for(reviewer)

    before = client.get(path).json()["count"]
    reference.change(actor=admin_user, row=district, parent=idlib)
    after = client.get(path).json()["count"]

    assert (before, after) == (4, 5)


def test_the_pairs_page_reads_each_pairs_victims_once_and_shows_only_visible_pairs(
    pairs, nothing_kept, reviewer, documenter, settings
):
    """Visibility on each side's joined victim row (and its incident), not a second read of every victim
    through `IN (SELECT ... visible victims)`; a draft of another author hides its pairs as before."""
    from django.db import connection

    from tests.conftest import make_user

    settings.API_COMPILED_LISTS = True
    other = make_user("another-documenter", "documenter")
    hidden = make_victim(other, make_incident(other, status=Status.VERIFIED), name="Khaled O.")  # a draft
    pair_of(pairs, hidden, score=0.99)
    statements: list[str] = []

    def wrapper(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        listed = client_for(reviewer).get("/api/v1/duplicates/").json()

    page = next(sql for sql in statements if "ORDER BY" in sql and "matching_candidatepair" in sql)
    assert "IN (SELECT" not in page
    assert page.count('JOIN "incidents_victim"') == 2 and page.count('JOIN "incidents_incident"') == 2
    shown = {row[side]["id"] for row in listed["results"] for side in ("victim_a", "victim_b")}
    assert listed["count"] == 4 and hidden.pk not in shown


@pytest.mark.parametrize("language", ["en", "ar"])
def test_reasons_read_as_their_stored_text_are_written_exactly_as_the_serializer_writes_them(
    documenter, second_documenter, reviewer, nothing_kept, settings, language
):
    """Every shape of stored reasons, several pairs sharing some: put into words once per distinct text."""
    shapes = [
        [{"code": "sources", "params": {"a": "قائمة وزارة الصحة", "b": "MoH \u2028 list"}}],
        [{"code": "places_km", "km": 2.5}, {"code": "ages", "a": 34, "b": 36}, {"code": "unknown_code", "x": 1}],
        [{"code": "ages", "params": {"a": "x", "b": None}}, "not a reason", 7],
        [],
        {"code": "a dict, not a list"},
        "text",
    ]
    for index, reasons in enumerate([*shapes, *shapes[:2]]):
        pair_of(
            verified_victim(documenter, name=f"Hasan {index}"),
            verified_victim(second_documenter, name=f"Hassan {index}"),
            score=0.5 + index / 100,
            reasons=reasons,
        )
    client = client_for(reviewer)

    settings.API_FAST_LISTS = False
    slow = client.get("/api/v1/duplicates/", HTTP_ACCEPT_LANGUAGE=language)
    settings.API_FAST_LISTS = True
    fast = [client.get("/api/v1/duplicates/", HTTP_ACCEPT_LANGUAGE=language) for _ in range(2)]

    assert slow.status_code == 200 and len(slow.json()["results"]) == 8
    assert [answer.content for answer in fast] == [slow.content, slow.content]
