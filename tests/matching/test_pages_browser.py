"""Confirming a pair in a real browser (Chromium via Playwright, tests/test_browser.py's helper): a
reviewer opens the duplicates queue, the pair page, keeps the second record and confirms — in English at
desktop width and in Arabic at phone width (390 px, right to left, no horizontal page scroll, no
untranslated text)."""

from __future__ import annotations

import pytest

from incidents.models import Status, Victim
from matching.models import CandidatePair
from tests.conftest import make_incident, make_user, make_victim, transactional
from tests.test_browser import Session

VIEWPORTS = {"en": {"width": 1280, "height": 900}, "ar": {"width": 390, "height": 844}}
WORDS = {
    "en": {"confirmed": "Confirmed: record #", "comment": "One man in both lists."},
    "ar": {"confirmed": "تم التأكيد: أُبقي السجل رقم", "comment": "رجل واحد في القائمتين."},
}


@transactional
@pytest.mark.parametrize("language", ["en", "ar"])
def test_a_reviewer_confirms_a_pair_in_the_browser(chromium, live_server, language):
    documenter = make_user(f"documenter-dup-{language}", "documenter")
    other = make_user(f"documenter2-dup-{language}", "documenter")
    reviewer = make_user(f"reviewer-dup-{language}", "reviewer")
    first = make_victim(
        documenter,
        make_incident(documenter, status=Status.VERIFIED),
        status=Status.VERIFIED,
        name="Abd al-Rahman Hasan al-Khatib",
        name_ar="عبد الرحمن حسن الخطيب",
        age_years=34,
    )
    second = make_victim(
        other,
        make_incident(other, status=Status.VERIFIED, title="Shelling of the bakery"),
        status=Status.VERIFIED,
        name="Abdulrahman Hassan Alkhatib",
        name_ar="عبدالرحمن حسن الخطيب",
        age_years=35,
    )
    Victim.objects.filter(pk=second.pk).update(origin_source="MoH 2024-08", origin_record_id="4411")
    pair = CandidatePair.objects.create(
        victim_a=first,
        victim_b=second,
        score=0.96,
        likely=True,
        reasons=[
            {"code": "name_same", "script": "ar"},
            {"code": "ages", "a": 34, "b": 35},
            {"code": "places_km", "km": 2},
            {"code": "sources", "a": "", "b": "MoH 2024-08"},
        ],
    )

    session = Session(chromium, live_server.url, language, VIEWPORTS[language], "9-duplicates")
    page = session.page
    session.sign_in(reviewer.username)
    session.go("/duplicates/")
    session.check_page("queue")
    page.click(f"a[href$='/duplicates/{pair.pk}/']:not([aria-label])")
    page.wait_for_load_state()
    session.check_page("pair")
    assert page.locator("table.pair-compare tr.differs").count() >= 1  # ages 34 and 35
    page.check("#id_decision_0")  # confirm
    page.check("#id_keep_1")  # keep the second record
    page.fill("#id_comment", WORDS[language]["comment"])
    page.click(".pair-decision button[type=submit]")
    page.wait_for_load_state()
    assert WORDS[language]["confirmed"] in page.locator(".messages").inner_text()
    session.check_page("confirmed")
    session.close()

    assert Victim.objects.get(pk=first.pk).duplicate_of_id == second.pk
    decided = CandidatePair.objects.get(pk=pair.pk)
    assert (decided.status, decided.kept_id, decided.decided_by_id) == ("confirmed", second.pk, reviewer.pk)
