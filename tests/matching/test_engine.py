"""The matcher on its own: features, blocking, scores and reason codes (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from matching import engine


def person(id_: int, **fields) -> dict:
    record = {"id": id_, "name": "", "name_ar": "", "sex": "male", "age": 40, "source": ""}
    record.update(fields)
    return record


def scored(records: list[dict], incremental_new: set[int] | None = None) -> dict[tuple[int, int], engine.ScoredPair]:
    matcher = engine.Matcher(memory_limit="500MB", threads=1)
    try:
        if incremental_new is None:
            matcher.add(records)
            return {(p.a, p.b): p for p in matcher.pairs()}
        matcher.add([r for r in records if r["id"] not in incremental_new], is_new=False)
        matcher.add([r for r in records if r["id"] in incremental_new], is_new=True)
        return {(p.a, p.b): p for p in matcher.pairs(incremental=True)}
    finally:
        matcher.close()


def test_two_extractions_of_one_person_are_a_likely_pair():
    pairs = scored(
        [
            person(1, name_ar="منير سالم محمود الطلاع", name="Munir Salem Mahmoud Altalaa", age=52, source="a"),
            person(2, name_ar="مني سالم محمود الطلاع", name="Mani Salem Mahmoud Altalaa", age=53, source="b"),
            person(3, name_ar="خليل مصطفي محمد طموس", name="Khalil Mustafa Muhammad Tamous", age=30),
        ]
    )
    assert set(pairs) == {(1, 2)}
    assert pairs[(1, 2)].likely and 0.0 <= pairs[(1, 2)].score <= 1.0


def test_the_same_name_at_very_different_ages_is_not_likely():
    pairs = scored(
        [
            person(1, name_ar="عبدالرحمن أحمد عبدالرحمن شهاب", age=14),
            person(2, name_ar="عبدالرحمن أحمد عبدالرحمن شهاب", age=66),
        ]
    )
    assert not any(pair.likely for pair in pairs.values())


def test_an_arabic_record_meets_its_english_spelling():
    pairs = scored(
        [
            person(1, name_ar="محمود ابراهيم نصار ابوعمره", age=61),
            person(2, name="Mahmoud Ibrahim Nassar Abu Amra", age=61),
        ]
    )
    assert (1, 2) in pairs
    assert {"code": "name_translit", "similarity": pytest.approx(1.0)} in pairs[(1, 2)].reasons


def test_an_incremental_scan_forms_only_pairs_with_a_new_record():
    twin = {"name_ar": "سميره حسين محمود النجار", "sex": "female", "age": 20}
    pairs = scored([person(1, **twin), person(2, **twin), person(3, **twin)], incremental_new={3})
    assert set(pairs) == {(1, 3), (2, 3)}


def test_reason_codes_follow_the_contract_and_hide_identity_numbers_and_birth_dates():
    left = engine.features(
        person(
            1,
            name_ar="أحمد محمد علي حسن",
            identity_number="800123456",
            dob="1990-05-01",
            date_of_death=dt.date(2024, 1, 1),
            place_id=7,
            latitude=31.5,
            longitude=34.46,
            incident_id=3,
            source="MoH 2024-04",
        )
    )
    right = engine.features(
        person(
            2,
            name_ar="احمد محمد علي حسين",
            identity_number="800123457",
            dob="1990-05-02",
            age=41,
            date_of_death=dt.date(2024, 1, 4),
            place_id=8,
            latitude=31.52,
            longitude=34.46,
            incident_id=3,
            source="",
        )
    )
    reasons = engine.reasons(left, right)
    codes = [reason["code"] for reason in reasons]
    assert codes == [
        "name_similar",
        "name_parts",
        "sex_same",
        "ages",
        "birth_date_differs",
        "identity_differs",
        "death_dates",
        "places_km",
        "incident_same",
        "sources",
    ]
    by_code = {reason["code"]: reason for reason in reasons}
    assert by_code["name_parts"] == {"code": "name_parts", "script": "ar", "matched": 4, "total": 4}
    assert by_code["ages"] == {"code": "ages", "a": 40, "b": 41}
    assert by_code["death_dates"] == {"code": "death_dates", "days": 3}
    assert by_code["places_km"]["km"] == pytest.approx(2.2, abs=0.1)
    assert by_code["sources"] == {"code": "sources", "a": "MoH 2024-04", "b": ""}
    text = repr(reasons)
    assert "800123456" not in text and "1990" not in text


def test_the_same_name_and_identity_number_give_same_codes():
    left = engine.features(person(1, name_ar="أحمد", name="Ahmad", identity_number="x1"))
    right = engine.features(person(2, name_ar="احمد", name="ahmad", identity_number="X1"))
    codes = [reason["code"] for reason in engine.reasons(left, right)]
    assert codes[:2] == ["name_same", "name_same"] and "identity_same" in codes
