"""The published sentences, in English and Arabic, against fixed sentences a reader would accept."""

from __future__ import annotations

import datetime as dt

import pytest

from counts import summaries
from counts.summaries import CHILD, CIVILIAN, GENITIVE, MASSACRE, NOMINATIVE, WOMAN, ar_count, ar_plural_form

JAN_12, JAN_27 = dt.date(2020, 1, 12), dt.date(2020, 1, 27)


def figures(total, children, women, men, unknown, massacres=0, rows=()) -> dict:
    return {
        "civilians": {"total": total, "children": children, "women": women, "men": men, "unknown": unknown},
        "massacres": massacres,
        "by_perpetrator": list(rows),
    }


def party_row(name, name_ar, total, children, women, massacres) -> dict:
    return {
        "perpetrator": {"id": 1, "name": name, "name_ar": name_ar},
        "total": total,
        "children": children,
        "women": women,
        "men": total - children - women,
        "unknown": 0,
        "massacres": massacres,
    }


REPORT = figures(
    87,
    33,
    11,
    43,
    0,
    massacres=4,
    rows=[
        party_row("Syrian regime forces", "قوات النظام السوري", 37, 8, 3, 1),
        party_row("Russian forces", "القوات الروسية", 50, 25, 8, 3),
    ],
)


def test_the_report_sentence_in_english():
    text = summaries.english_summary(REPORT, JAN_12, JAN_27, ["Syrian-Russian alliance"], ["Idlib", "Aleppo"])
    assert text == (
        "At least 87 civilians, including 33 children and 11 women (adult female), were killed, and four "
        "massacres committed, by Syrian-Russian alliance in Idlib and Aleppo between January 12, 2020, and "
        "January 27, 2020. Syrian regime forces killed 37 civilians, including eight children and three women, "
        "and committed one massacre. Russian forces killed 50 civilians, including 25 children and eight women, "
        "and committed three massacres."
    )


def test_the_report_sentence_in_arabic():
    text = summaries.arabic_summary(REPORT, JAN_12, JAN_27, ["التحالف السوري الروسي"], ["إدلب", "حلب"])
    assert text == (
        "قُتل ما لا يقل عن 87 مدنياً، بينهم 33 طفلاً و11 سيدة (أنثى بالغة)، وارتُكبت أربع مجازر، "
        "على يد التحالف السوري الروسي في إدلب وحلب بين 12 كانون الثاني 2020 و27 كانون الثاني 2020. "
        "نُسب إلى قوات النظام السوري مقتل 37 مدنياً، بينهم ثمانية أطفال وثلاث سيدات، وارتكاب مجزرة واحدة. "
        "كما نُسب إلى القوات الروسية مقتل 50 مدنياً، بينهم 25 طفلاً وثماني سيدات، وارتكاب ثلاث مجازر."
    )


def test_singulars_and_zero_categories_in_english():
    result = figures(1, 1, 0, 0, 0)
    assert summaries.english_summary(result, JAN_12, JAN_12) == (
        "At least one civilian, a child, was killed on January 12, 2020."
    )
    result = figures(2, 1, 1, 0, 0, massacres=1)
    assert summaries.english_summary(result, JAN_12, JAN_27, places=["Idlib"]) == (
        "At least two civilians, including a child and a woman (adult female), were killed, and one massacre "
        "committed, in Idlib between January 12, 2020, and January 27, 2020."
    )
    result = figures(9, 0, 0, 9, 0)
    assert summaries.english_summary(result, JAN_12, JAN_27) == (
        "At least nine civilians were killed between January 12, 2020, and January 27, 2020."
    )
    result = figures(1234, 0, 10, 1224, 0, massacres=12)
    assert summaries.english_summary(result, JAN_12, JAN_27) == (
        "At least 1,234 civilians, including 10 women (adult female), were killed, and 12 massacres "
        "committed, between January 12, 2020, and January 27, 2020."
    )


def test_singulars_duals_and_zero_categories_in_arabic():
    result = figures(1, 1, 0, 0, 0)
    assert summaries.arabic_summary(result, JAN_12, JAN_12) == (
        "قُتل ما لا يقل عن مدني واحد، وهو طفل، في 12 كانون الثاني 2020."
    )
    result = figures(2, 1, 1, 0, 0, massacres=1)
    assert summaries.arabic_summary(result, JAN_12, JAN_27, places=["إدلب"]) == (
        "قُتل ما لا يقل عن مدنيين اثنين، بينهم طفل وسيدة (أنثى بالغة)، وارتُكبت مجزرة واحدة، "
        "في إدلب بين 12 كانون الثاني 2020 و27 كانون الثاني 2020."
    )
    result = figures(9, 0, 0, 9, 0)
    assert summaries.arabic_summary(result, JAN_12, JAN_27) == (
        "قُتل ما لا يقل عن تسعة مدنيين بين 12 كانون الثاني 2020 و27 كانون الثاني 2020."
    )
    result = figures(103, 2, 2, 99, 0, massacres=2)
    assert summaries.arabic_summary(result, JAN_12, JAN_27) == (
        "قُتل ما لا يقل عن 103 مدنيين، بينهم طفلان وسيدتان (أنثى بالغة)، وارتُكبت مجزرتان "
        "بين 12 كانون الثاني 2020 و27 كانون الثاني 2020."
    )


def test_a_single_woman_is_a_female_civilian_in_arabic():
    row = party_row("ISIS", "تنظيم داعش", 1, 0, 1, 0)
    assert summaries.english_row("ISIS", row) == "ISIS killed one civilian, a woman."
    assert summaries.arabic_row("تنظيم داعش", row) == "نُسب إلى تنظيم داعش مقتل مدنية واحدة، وهي سيدة."
    assert summaries.arabic_summary(figures(1, 0, 1, 0, 0), JAN_12, JAN_12) == (
        "قُتل ما لا يقل عن مدنية واحدة، وهي سيدة (أنثى بالغة)، في 12 كانون الثاني 2020."
    )


def test_a_party_row_in_both_languages():
    row = party_row("ISIS", "تنظيم داعش", 2, 0, 0, 0)
    assert summaries.english_row("ISIS", row) == "ISIS killed two civilians."
    assert summaries.arabic_row("تنظيم داعش", row) == "نُسب إلى تنظيم داعش مقتل مدنيين اثنين."
    row = party_row("ISIS", "تنظيم داعش", 12, 0, 0, 2)
    assert summaries.english_row("ISIS", row) == "ISIS killed 12 civilians and committed two massacres."
    assert summaries.arabic_row("تنظيم داعش", row) == "نُسب إلى تنظيم داعش مقتل 12 مدنياً وارتكاب مجزرتين."


def test_no_deaths_is_said_plainly():
    result = figures(0, 0, 0, 0, 0)
    assert summaries.english_summary(result, JAN_12, JAN_27, ["ISIS"], ["Hama"]) == (
        "No civilian deaths by ISIS in Hama were documented between January 12, 2020, and January 27, 2020."
    )
    assert summaries.arabic_summary(result, JAN_12, JAN_27, ["تنظيم داعش"], ["حماة"]) == (
        "لم يُوثَّق مقتل أي مدني على يد تنظيم داعش في حماة بين 12 كانون الثاني 2020 و27 كانون الثاني 2020."
    )


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "zero"),
        (1, "one"),
        (2, "two"),
        (3, "few"),
        (10, "few"),
        (11, "many"),
        (99, "many"),
        (100, "other"),
        (101, "other"),
        (102, "other"),
        (103, "few"),
        (110, "few"),
        (111, "many"),
        (1000, "other"),
    ],
)
def test_the_six_arabic_plural_forms(n, expected):
    assert ar_plural_form(n) == expected


@pytest.mark.parametrize(
    ("n", "noun", "case", "emphasise", "expected"),
    [
        (1, CHILD, NOMINATIVE, False, "طفل"),
        (1, MASSACRE, NOMINATIVE, True, "مجزرة واحدة"),
        (1, CIVILIAN, GENITIVE, True, "مدني واحد"),
        (2, CHILD, NOMINATIVE, False, "طفلان"),
        (2, WOMAN, NOMINATIVE, False, "سيدتان"),
        (2, MASSACRE, GENITIVE, False, "مجزرتين"),
        (2, CIVILIAN, GENITIVE, True, "مدنيين اثنين"),
        (2, CIVILIAN, NOMINATIVE, True, "مدنيان اثنان"),
        (3, CHILD, NOMINATIVE, False, "ثلاثة أطفال"),
        (3, WOMAN, NOMINATIVE, False, "ثلاث سيدات"),
        (8, CHILD, NOMINATIVE, False, "ثمانية أطفال"),
        (8, WOMAN, NOMINATIVE, False, "ثماني سيدات"),
        (9, MASSACRE, NOMINATIVE, False, "تسع مجازر"),
        (10, CHILD, NOMINATIVE, False, "10 أطفال"),
        (11, CHILD, NOMINATIVE, False, "11 طفلاً"),
        (11, WOMAN, NOMINATIVE, False, "11 سيدة"),
        (99, CIVILIAN, GENITIVE, False, "99 مدنياً"),
        (100, CIVILIAN, GENITIVE, False, "100 مدني"),
        (102, CHILD, NOMINATIVE, False, "102 طفل"),
        (103, CHILD, NOMINATIVE, False, "103 أطفال"),
        (111, MASSACRE, NOMINATIVE, False, "111 مجزرة"),
        (1000, CIVILIAN, GENITIVE, False, "1000 مدني"),
    ],
)
def test_arabic_numbers_agree_with_their_nouns(n, noun, case, emphasise, expected):
    assert ar_count(n, noun, case, emphasise) == expected
