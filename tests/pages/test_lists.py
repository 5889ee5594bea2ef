"""List pages (incidents/listing.py): search, filters, sorting, pages, all in the URL; bad input is a 400."""

from __future__ import annotations

import datetime as dt

import pytest

from incidents.models import Incident, Status, Victim
from tests.conftest import location, make_incident, make_victim, perpetrator, web_client_for

pytestmark = pytest.mark.django_db


def titles(html: str, candidates: list[str]) -> list[str]:
    """The candidates in the order the page shows them."""
    found = [(html.index(f"<bdi>{t}</bdi>"), t) for t in candidates if f"<bdi>{t}</bdi>" in html]
    return [t for _at, t in sorted(found)]


@pytest.fixture
def cases(documenter):
    made = []
    for day in range(1, 31):
        made.append(make_incident(documenter, title=f"Case {day:02d}", occurred_on=dt.date(2020, 1, day)))
    return made


def test_all_incidents_are_paged_with_the_total_and_page_links(documenter, cases):
    html = web_client_for(documenter).get("/en/incidents/").content.decode()
    assert "30 records" in html
    assert "page 1 of 2" in html
    assert 'aria-current="page">1</a>' in html and "?page=2" in html
    assert titles(html, ["Case 30", "Case 06", "Case 05"]) == ["Case 30", "Case 06"]  # newest first, 25 a page


def test_the_page_size_and_the_second_page_come_from_the_url(documenter, cases):
    html = web_client_for(documenter).get("/en/incidents/?page_size=25&page=2").content.decode()
    assert titles(html, ["Case 05", "Case 01", "Case 06"]) == ["Case 05", "Case 01"]


def test_sorting_by_title_ascending_and_descending(documenter, cases):
    client = web_client_for(documenter)
    ascending = client.get("/en/incidents/?sort=title").content.decode()
    assert titles(ascending, ["Case 01", "Case 02"]) == ["Case 01", "Case 02"]
    assert 'aria-sort="ascending"' in ascending
    descending = client.get("/en/incidents/?sort=-title").content.decode()
    assert titles(descending, ["Case 30", "Case 29"]) == ["Case 30", "Case 29"]


def test_filters_by_status_date_range_place_party_and_weapon(documenter, cases):
    make_incident(
        documenter,
        title="Aleppo barrel bomb",
        location=location("Aleppo"),
        perpetrator=perpetrator("ISIS"),
        weapon="barrel_bomb",
        status=Status.SUBMITTED,
        occurred_on=dt.date(2020, 2, 3),
    )
    client = web_client_for(documenter)
    for query in (
        "status=submitted",
        f"location={location('Aleppo').pk}",
        f"perpetrator={perpetrator('ISIS').pk}",
        "weapon=barrel_bomb",
        "occurred_from=2020-02-01&occurred_to=2020-02-28",
    ):
        html = client.get(f"/en/incidents/?{query}").content.decode()
        assert "1 record" in html, query
        assert "<bdi>Aleppo barrel bomb</bdi>" in html, query


def test_mine_and_author_filters(documenter, second_documenter):
    make_incident(documenter, title="Mine", status=Status.VERIFIED)
    make_incident(second_documenter, title="Theirs", status=Status.VERIFIED)
    client = web_client_for(documenter)
    mine = client.get("/en/incidents/?mine=true").content.decode()
    assert "<bdi>Mine</bdi>" in mine and "<bdi>Theirs</bdi>" not in mine
    theirs = client.get(f"/en/incidents/?author={second_documenter.pk}").content.decode()
    assert "<bdi>Theirs</bdi>" in theirs and "<bdi>Mine</bdi>" not in theirs


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("sort=colour", "cannot be sorted by that"),
        ("page_size=7", "page sizes offered"),
        ("status=lost", "Select a valid choice"),
        ("occurred_from=yesterday", "Enter a valid date"),
        ("location=abc", "Enter a number"),
    ],
)
def test_bad_list_settings_are_a_400_with_the_reason(documenter, cases, query, reason):
    response = web_client_for(documenter).get(f"/en/incidents/?{query}")
    assert response.status_code == 400
    assert reason in response.content.decode()


def test_a_page_past_the_end_shows_the_last_page(documenter, cases):
    response = web_client_for(documenter).get("/en/incidents/?page=99")
    assert response.status_code == 200
    assert "page 2 of 2" in response.content.decode()


def test_lists_show_only_what_the_user_may_see(documenter, second_documenter):
    make_incident(documenter, title="A private draft")
    html = web_client_for(second_documenter).get("/en/incidents/?search=private").content.decode()
    assert "A private draft" not in html
    assert "0 records" in html


def test_filters_and_sort_survive_paging_links(documenter, cases):
    html = web_client_for(documenter).get("/en/incidents/?sort=title&status=draft").content.decode()
    assert "page=2&amp;sort=title&amp;status=draft" in html


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get("/en/victims/").status_code == 302


def test_people_without_a_role_may_not_see_the_lists(outsider):
    assert web_client_for(outsider).get("/en/incidents/").status_code == 403


# --- Search ------------------------------------------------------------------------------------------


def test_search_finds_a_victim_by_an_arabic_name_spelt_with_another_hamza_form(documenter):
    incident = make_incident(documenter)
    make_victim(documenter, incident, name="Ibrahim", name_ar="إبراهيم الأحمد")
    make_victim(documenter, incident, name="Omar", name_ar="عمر")
    html = web_client_for(documenter).get("/ar/victims/?search=ابراهيم الاحمد").content.decode()
    assert "إبراهيم الأحمد" in html
    assert ">عمر<" not in html


def test_search_tolerates_a_typo_in_a_latin_name(documenter):
    incident = make_incident(documenter)
    make_victim(documenter, incident, name="Ahmad Duaabs", name_ar="")
    html = web_client_for(documenter).get("/en/victims/?search=Ahmed").content.decode()
    assert "Ahmad Duaabs" in html


def test_search_finds_incidents_by_description_and_by_place_name(documenter):
    make_incident(documenter, title="Market", description="A barrel bomb hit the bakery queue.")
    make_incident(documenter, title="Hospital", location=location("Aleppo"), description="")
    client = web_client_for(documenter)
    by_description = client.get("/en/incidents/?search=bakery").content.decode()
    assert "<bdi>Market</bdi>" in by_description and "<bdi>Hospital</bdi>" not in by_description
    by_place = client.get("/en/incidents/?search=حلب").content.decode()
    assert "<bdi>Hospital</bdi>" in by_place and "<bdi>Market</bdi>" not in by_place


def test_the_api_searches_victims_too(documenter):
    from tests.conftest import client_for

    incident = make_incident(documenter)
    wanted = make_victim(documenter, incident, name="", name_ar="مؤمن")
    make_victim(documenter, incident, name="", name_ar="خالد")
    response = client_for(documenter).get("/api/v1/victims/", {"search": "مومن"})
    assert [row["id"] for row in response.json()["results"]] == [wanted.pk]


def test_the_api_searches_incidents_best_match_first(documenter):
    from tests.conftest import client_for

    exact = make_incident(documenter, title="Airstrike on the market")
    near = make_incident(documenter, title="Airstrikes near the market")
    make_incident(documenter, title="Shelling")
    response = client_for(documenter).get("/api/v1/incidents/", {"search": "airstrike"})
    assert [row["id"] for row in response.json()["results"]] == [exact.pk, near.pk]


def test_victims_list_filters_by_category_and_source_list(documenter):
    incident = make_incident(documenter)
    child = make_victim(documenter, incident, name="Child", name_ar="", age_years=8)
    make_victim(documenter, incident, name="Adult", name_ar="", age_years=40)
    Victim.objects.filter(pk=child.pk).update(origin_source="VDC export 2024-03", origin_record_id="17")
    client = web_client_for(documenter)
    by_category = client.get("/en/victims/?category=child").content.decode()
    assert "<bdi>Child</bdi>" in by_category and "<bdi>Adult</bdi>" not in by_category
    by_source = client.get("/en/victims/?source=VDC export 2024-03").content.decode()
    assert "<bdi>Child</bdi>" in by_source and "<bdi>Adult</bdi>" not in by_source


def test_arabic_pages_show_arabic_names_first(documenter):
    incident = make_incident(documenter)
    make_victim(documenter, incident, name="Fatima", name_ar="فاطمة")
    html = web_client_for(documenter).get("/ar/victims/").content.decode()
    assert html.index("<bdi>فاطمة</bdi>") < html.index("<bdi>Fatima</bdi>")


# --- My cases --------------------------------------------------------------------------------------


def test_my_cases_shows_what_was_sent_back_with_the_reviewers_comment(documenter, reviewer, settings):
    from incidents import workflow

    settings.REVIEW_MIN_EVIDENCE = 0
    incident = make_incident(documenter, title="Needs a date")
    workflow.submit(documenter, incident)
    workflow.review(reviewer, Incident.objects.get(pk=incident.pk), "request_changes", "Check the date.")
    html = web_client_for(documenter).get("/en/").content.decode()
    section = html[html.index('id="changes-requested"') :]
    assert "Needs a date" in section and "Check the date." in section


def test_my_cases_lists_only_my_own_cases(documenter, second_documenter):
    make_incident(documenter, title="Mine")
    make_incident(second_documenter, title="Theirs", status=Status.VERIFIED)
    html = web_client_for(documenter).get("/en/").content.decode()
    assert "<bdi>Mine</bdi>" in html and "<bdi>Theirs</bdi>" not in html


def test_the_filter_form_sent_with_every_filter_left_at_any_finds_everything(documenter, cases):
    empty = "search=&status=&occurred_from=&occurred_to=&location=&perpetrator=&weapon=&mine=&author=&page_size=25"
    response = web_client_for(documenter).get(f"/en/incidents/?{empty}")
    assert response.status_code == 200
    assert "30 records" in response.content.decode()
