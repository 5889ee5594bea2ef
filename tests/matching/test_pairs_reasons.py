"""Reason codes rendered in words (matching.reasons.describe), English and Arabic."""

from __future__ import annotations

import pytest

from matching.reasons import describe

CASES = [
    ({"code": "name_same", "script": "ar"}, "same Arabic name after normalisation", "الاسم العربي نفسه بعد التوحيد"),
    (
        {"code": "name_same", "script": "latin"},
        "same Latin name after normalisation",
        "الاسم اللاتيني نفسه بعد التوحيد",
    ),
    (
        {"code": "name_similar", "script": "ar", "similarity": 0.93},
        "Arabic names 93% alike",
        "الاسمان العربيان متشابهان بنسبة 93%",
    ),
    (
        {"code": "name_parts", "script": "ar", "matched": 3, "total": 4},
        "3 of 4 name parts match",
        "3 من 4 أجزاء من الاسم تتطابق",
    ),
    (
        {"code": "name_translit", "similarity": 0.93},
        "the Arabic name matches the Latin spelling (93% alike)",
        "الاسم العربي يطابق الكتابة اللاتينية (تشابه 93%)",
    ),
    ({"code": "name_differs", "script": "ar"}, "names differ", "الاسمان مختلفان"),
    ({"code": "sex_same"}, "same sex", "الجنس نفسه"),
    ({"code": "sex_differs"}, "different sex", "جنس مختلف"),
    ({"code": "ages", "a": 34, "b": 35}, "ages 34 and 35", "العمران 34 و35"),
    ({"code": "ages", "a": 34, "b": 34}, "same age, 34", "العمر نفسه، 34"),
    ({"code": "birth_date_same"}, "same date of birth", "تاريخ الميلاد نفسه"),
    ({"code": "birth_date_differs"}, "different dates of birth", "تاريخا ميلاد مختلفان"),
    ({"code": "identity_same"}, "same identity number", "رقم الهوية نفسه"),
    ({"code": "identity_differs"}, "different identity numbers", "رقما هوية مختلفان"),
    ({"code": "death_date_same"}, "same date of death", "تاريخ الوفاة نفسه"),
    ({"code": "death_dates", "days": 3}, "dates of death 3 days apart", "بين تاريخي الوفاة 3 أيام"),
    ({"code": "place_same"}, "same place of death", "مكان الوفاة نفسه"),
    ({"code": "places_km", "km": 2}, "places 2 km apart", "المكانان على بعد 2 كم"),
    ({"code": "incident_same"}, "in the same incident", "في الحادثة نفسها"),
    (
        {"code": "sources", "a": "MoH 2024-04", "b": "MoH 2024-08"},
        "from lists “MoH 2024-04” and “MoH 2024-08”",
        "من القائمتين “MoH 2024-04” و“MoH 2024-08”",
    ),
]


@pytest.mark.parametrize(
    ("reason", "english", "arabic"), CASES, ids=[c[0]["code"] + str(i) for i, c in enumerate(CASES)]
)
def test_each_reason_code_reads_in_english_and_arabic(reason, english, arabic):
    assert describe([reason], "en") == [english]
    assert describe([reason], "ar") == [arabic]


def test_parameters_may_also_sit_under_params():
    assert describe([{"code": "ages", "params": {"a": 40, "b": 41}}], "en") == ["ages 40 and 41"]


def test_a_record_typed_in_is_named_as_such_in_the_sources_reason():
    assert describe([{"code": "sources", "a": "", "b": "MoH 2024-08"}], "en") == [
        "from lists typed in and “MoH 2024-08”"
    ]


@pytest.mark.parametrize(
    "reason",
    [
        {"code": "new_feature"},
        {"code": "ages"},
        {"code": "ages", "a": "x", "b": 3},
        {"code": "name_similar", "similarity": 7},
    ],
)
def test_unknown_or_malformed_reasons_read_as_their_code(reason):
    assert describe([reason], "en") == [reason["code"]]


def test_anything_but_a_list_describes_nothing():
    assert describe(None) == [] and describe({"code": "ages"}) == []
