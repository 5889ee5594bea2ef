"""The count pages' charts and maps: a day chart with axes, dates and values that shows the days without
deaths, one sentence instead of empty tables and maps, and the counted incidents' own positions for admins
(the public keeps governorates)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client

from counts import graphics
from counts import services as count_services
from incidents.models import Status
from tests.conftest import location, make_incident, make_victim, web_client_for

pytestmark = pytest.mark.django_db


def count(admin, date_from=dt.date(2020, 1, 1), date_to=dt.date(2020, 1, 31)):
    pending = count_services.request_count(actor=admin, date_from=date_from, date_to=date_to, enqueue=False)
    return count_services.run_count(pending.pk)


def killed(documenter, on: dt.date, victims: int = 1, **incident):
    record = make_incident(documenter, status=Status.VERIFIED, occurred_on=on, **incident)
    for n in range(victims):
        make_victim(documenter, record, status=Status.VERIFIED, name=f"Victim {n}", sex="female", age_years=30)
    return record


# --- The day chart's geometry -------------------------------------------------------------------------


def test_the_day_chart_has_a_column_for_every_day_of_the_window_zero_included():
    chart = graphics.day_columns(
        [{"date": "2020-01-01", "total": 3}, {"date": "2020-01-03", "total": 1}],
        dt.date(2020, 1, 1),
        dt.date(2020, 1, 5),
    )
    assert [(column["date"].day, column["total"]) for column in chart["columns"]] == [
        (1, 3),
        (2, 0),
        (3, 1),
        (4, 0),
        (5, 0),
    ]
    assert [column["empty"] for column in chart["columns"]] == [False, True, False, True, True]
    assert chart["empty_days"] == 3


def test_the_day_chart_has_a_value_axis_rounded_up_and_dates_at_both_ends():
    chart = graphics.day_columns([{"date": "2020-01-10", "total": 7}], dt.date(2020, 1, 1), dt.date(2020, 1, 31))
    assert [tick["value"] for tick in chart["ticks"]] == [0, 5, 10]
    assert chart["labels"][0]["date"] == dt.date(2020, 1, 1)
    assert chart["labels"][-1]["date"] == dt.date(2020, 1, 31)
    tallest = max(chart["columns"], key=lambda column: column["height"])
    assert tallest["date"] == dt.date(2020, 1, 10) and tallest["y"] > chart["axis"]["top"]  # 7 of 10


def test_a_window_of_more_than_half_a_year_is_drawn_a_month_per_column():
    chart = graphics.day_columns(
        [{"date": "2020-02-10", "total": 2}, {"date": "2020-02-20", "total": 3}],
        dt.date(2020, 1, 1),
        dt.date(2020, 12, 31),
    )
    assert chart["by_month"] is True
    assert len(chart["columns"]) == 12
    assert [column["total"] for column in chart["columns"]][:3] == [0, 5, 0]


@pytest.mark.parametrize(("value", "top"), [(0, 1), (1, 1), (3, 5), (7, 10), (12, 20), (450, 500), (1000, 1000)])
def test_the_value_axis_tops_at_one_two_or_five_times_a_power_of_ten(value, top):
    assert graphics.nice_ceiling(value) == top


# --- On the pages ---------------------------------------------------------------------------------


def test_the_count_page_draws_axes_date_labels_values_and_the_days_without_deaths(documenter, admin_user):
    killed(documenter, dt.date(2020, 1, 10), victims=2)
    killed(documenter, dt.date(2020, 1, 20), victims=1)
    snapshot = count(admin_user)
    html = web_client_for(admin_user).get(f"/en/counts/{snapshot.pk}/").content.decode()
    chart = html[html.index('<figure class="day-chart">') : html.index("</figure>", html.index("day-chart"))]
    assert chart.count('class="axis"') == 2
    assert chart.count('<rect class="zero"') == 29  # 31 days, two with deaths
    assert "<title>10 January 2020: 2</title>" in chart and "<title>11 January 2020: 0</title>" in chart
    assert ">1 Jan</text>" in chart and ">31 Jan</text>" in chart
    assert re.search(r'<text class="value"[^>]*>2</text>', chart)


def test_the_arabic_day_chart_names_the_months_in_arabic(documenter, admin_user):
    killed(documenter, dt.date(2020, 1, 10))
    snapshot = count(admin_user)
    html = web_client_for(admin_user).get(f"/ar/counts/{snapshot.pk}/").content.decode()
    chart = html[html.index('<figure class="day-chart">') : html.index("</figure>", html.index("day-chart"))]
    assert "January" not in chart and "Jan<" not in chart
    assert ">1 كانون الثاني</text>" in chart  # the month named as on every other Arabic page
    assert 'dir="ltr"' in chart  # the time axis reads left to right, its labels unmirrored


@pytest.mark.parametrize(
    ("language", "sentence"), [("en", "No verified deaths in this window."), ("ar", "لا وفيات موثَّقة في هذه الفترة.")]
)
def test_an_empty_count_says_so_instead_of_showing_empty_tables_and_maps(documenter, admin_user, language, sentence):
    killed(documenter, dt.date(2021, 6, 1))  # outside the window
    snapshot = count(admin_user)
    count_services.publish(actor=admin_user, snapshot=snapshot)
    for html in (
        web_client_for(admin_user).get(f"/{language}/counts/{snapshot.pk}/").content.decode(),
        Client().get(f"/{language}/figures/{snapshot.pk}/").content.decode(),
    ):
        main = html[html.index("<main") :]
        assert sentence in main
        assert "<table" not in main and 'class="map' not in main and "day-chart" not in main


def test_admins_see_the_counted_incidents_at_their_own_coordinates(documenter, admin_user):
    killed(
        documenter,
        dt.date(2020, 1, 10),
        victims=2,
        title="Strike on the bakery",
        latitude=Decimal("35.930600"),
        longitude=Decimal("36.633900"),
    )
    killed(documenter, dt.date(2020, 1, 12), title="Shelling without a position")
    snapshot = count(admin_user)
    html = web_client_for(admin_user).get(f"/en/counts/{snapshot.pk}/").content.decode()
    assert html.count('class="incident-point"') == 1
    assert "<title>Strike on the bakery: 2</title>" in html
    assert "2 counted incidents." in html
    assert "1 has no coordinates and is not on the map." in html


def test_the_public_figures_keep_governorates_and_never_show_incident_positions(documenter, admin_user):
    killed(
        documenter,
        dt.date(2020, 1, 10),
        title="Strike on the bakery",
        location=location("Idlib"),
        latitude=Decimal("35.930600"),
        longitude=Decimal("36.633900"),
    )
    snapshot = count(admin_user)
    count_services.publish(actor=admin_user, snapshot=snapshot)
    html = Client().get(f"/en/figures/{snapshot.pk}/").content.decode()
    assert 'class="symbol"' in html  # the governorate
    assert "incident-point" not in html and "Strike on the bakery" not in html and "35.9306" not in html
