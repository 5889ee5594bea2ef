"""Template filters that make pages read well: coordinates, language names, victims' names, waits."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from django.utils import translation

from incidents.templatetags.site import coordinate, language_name, victim_name, victim_other_name, wait_minutes


def test_coordinates_have_a_decimal_point_and_a_hemisphere_in_every_language():
    with translation.override("ar"):
        north = coordinate("35.9306", "latitude")
        west = coordinate(-3.5, "longitude")
    assert north == '<bdi dir="ltr">35.930600°</bdi> شمالًا'
    assert west == '<bdi dir="ltr">3.500000°</bdi> غربًا'
    with translation.override("en"):
        assert coordinate("-12.25", "latitude") == '<bdi dir="ltr">12.250000°</bdi> S'


def test_a_coordinate_that_is_not_a_number_shows_nothing():
    assert coordinate("north", "latitude") == ""


def test_language_codes_are_shown_as_names():
    with translation.override("ar"):
        assert language_name("ar") == "العربية"
    with translation.override("en"):
        assert language_name("ku") == "Kurdish"
        assert language_name("xx") == "xx"


def test_arabic_pages_show_the_arabic_name_first_and_english_pages_the_latin_one():
    victim = SimpleNamespace(name="Fatima", name_ar="فاطمة", pk=3)
    with translation.override("ar"):
        assert (victim_name(victim), victim_other_name(victim)) == ("فاطمة", "Fatima")
    with translation.override("en"):
        assert (victim_name(victim), victim_other_name(victim)) == ("Fatima", "فاطمة")
    assert victim_name(SimpleNamespace(name="", name_ar="", pk=3)) == "#3"


def test_waits_are_whole_minutes_rounded_up():
    assert wait_minutes(dt.timedelta(minutes=15)) == 15
    assert wait_minutes(61) == 2
    assert wait_minutes(None) == 0
