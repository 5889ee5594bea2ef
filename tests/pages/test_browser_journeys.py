"""Issue 15's journeys in a real browser (Debian's Chromium via Playwright), in English at desktop width and
in Arabic at phone width (390 px), over a case file of 200+ records: search by an Arabic name spelt with
another hamza form, a sent-back testimony edited and resubmitted, Back + Save creating nothing new, the
review of a case with its evidence in one step, and axe-core (from node_modules) on every main page."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from evidence import services as evidence
from evidence.models import Source
from evidence.models import Testimony as TestimonyRecord
from incidents import services, workflow
from incidents.models import Incident, Status, Victim
from tests.conftest import make_user, transactional
from tests.pages.browser_helpers import AXE, WIDTHS, build_case_file, check_accessible
from tests.test_browser import Session

pytestmark = [transactional]


@pytest.fixture
def axe_available():
    from tests.conftest import skip_or_fail

    if not AXE.exists():
        skip_or_fail("axe-core is not installed in node_modules (make assets)")


def session_for(chromium, live_server, width: str, prefix: str, user=None) -> Session:
    language, viewport = WIDTHS[width]
    session = Session(chromium, live_server.url, language, viewport, f"15-{prefix}", bypass_csp=True)
    if user is not None:
        session.sign_in(user.username)
    return session


def add_testimony(author, incident, statement="I saw the shells fall."):
    witness = evidence.register_witness(author=author, name="Witness Canary-Journey", contact="+963 9")
    return evidence.create_testimony(
        author=author,
        incident=incident,
        witness=witness,
        taken_on=dt.date(2020, 1, 16),
        language="ar",
        statement=statement,
    )


@pytest.mark.parametrize("width", list(WIDTHS))
def test_lists_search_and_every_main_page_pass_axe(chromium, live_server, evidence_storage, axe_available, width):
    documenter = make_user(f"doc-lists-{width}", "documenter")
    cases = build_case_file(documenter)
    wanted = services.create_victim(
        author=documenter,
        incident=cases[0],
        name="Ibrahim al-Ahmad",
        name_ar="إبراهيم الأحمد",
        sex="male",
        age_years=41,
    )
    evidence.create_source(author=documenter, incident=cases[0], url="https://example.org/report", title="Report")
    session = session_for(chromium, live_server, width, f"lists-{width}", documenter)
    page = session.page
    session.go("/")
    check_accessible(session, "my-cases")
    assert "220" in page.locator(".listing-total").inner_text()
    session.go("/incidents/")
    check_accessible(session, "all-incidents")
    page.click(".pagination a[rel=next]")
    page.wait_for_url(re.compile(r".*page=2.*"))
    session.go("/victims/")
    check_accessible(session, "victims")
    # Another hamza form and no diacritics: ابراهيم الاحمد finds إبراهيم الأحمد among 440 victims.
    page.fill("#id_search", "ابراهيم الاحمد")
    page.click(".listing-controls button[type=submit]")
    page.wait_for_url(re.compile(r".*search=.*"))
    rows = page.locator("table.victim-list tbody tr")
    assert rows.count() == 1
    assert "إبراهيم الأحمد" in rows.first.inner_text()
    check_accessible(session, "victims-searched")
    assert Victim.objects.get(pk=wanted.pk).name_ar_folded == "ابراهيم الاحمد"
    session.go("/evidence/?kind=sources")
    check_accessible(session, "evidence-sources")
    session.go("/notices/")
    check_accessible(session, "notices")
    session.go(f"/incidents/{cases[0].pk}/")
    check_accessible(session, "incident")
    session.go(f"/incidents/{cases[0].pk}/sources/new/")
    check_accessible(session, "source-form")
    session.go("/incidents/new/")
    check_accessible(session, "new-incident")
    session.close()
    anonymous = session_for(chromium, live_server, width, f"signin-{width}")
    anonymous.go("/accounts/login/")
    check_accessible(anonymous, "sign-in")
    anonymous.page.fill("#id_username", documenter.username)
    anonymous.page.fill("#id_password", "wrong password entirely")
    anonymous.page.click("main button[type=submit]")
    anonymous.page.wait_for_load_state()
    assert anonymous.page.input_value("#id_username") == documenter.username  # kept after a wrong password
    anonymous.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_a_sent_back_testimony_is_edited_and_resubmitted(chromium, live_server, evidence_storage, axe_available, width):
    documenter = make_user(f"doc-back-{width}", "documenter")
    reviewer = make_user(f"rev-back-{width}", "reviewer")
    build_case_file(documenter, count=200)
    incident = services.create_incident(
        author=documenter,
        title="Market strike",
        occurred_on=dt.date(2020, 1, 15),
        location=Incident.objects.first().location,
        perpetrator=Incident.objects.first().perpetrator,
        weapon="missile",
    )
    testimony = add_testimony(documenter, incident, "Unclear account.")
    workflow.submit(documenter, incident)
    workflow.review(
        reviewer, TestimonyRecord.objects.get(pk=testimony.pk), "request_changes", "Say at what time it happened."
    )
    session = session_for(chromium, live_server, width, f"sent-back-{width}", documenter)
    page = session.page
    session.go("/")
    assert "Say at what time it happened." in page.locator("#changes-requested").locator("..").inner_text()
    session.go(f"/incidents/{incident.pk}/")
    page.click(f"#testimonies-{testimony.pk} .item-actions a")
    page.wait_for_url(re.compile(rf".*/testimonies/{testimony.pk}/$"))
    check_accessible(session, "testimony-edit")
    page.fill("#id_statement", "The shells fell at noon.")
    page.click("main form.record-form button[type=submit]")
    page.wait_for_url(re.compile(rf".*/incidents/{incident.pk}/.*"))
    page.click(f"#testimonies-{testimony.pk} .item-actions button[type=submit]")
    page.wait_for_load_state()
    testimony.refresh_from_db()
    assert (testimony.statement, testimony.status) == ("The shells fell at noon.", Status.SUBMITTED)
    assert "Canary-Journey" not in page.content()
    session.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_back_and_save_creates_nothing_new(chromium, live_server, evidence_storage, width):
    documenter = make_user(f"doc-again-{width}", "documenter")
    build_case_file(documenter, count=200)
    before = Incident.objects.count()
    session = session_for(chromium, live_server, width, f"back-save-{width}", documenter)
    page = session.page
    session.go("/incidents/new/")
    page.fill("#id_title", "Back and save")
    page.select_option("#id_location", str(Incident.objects.first().location_id))
    page.select_option("#id_perpetrator", str(Incident.objects.first().perpetrator_id))
    page.fill("#id_occurred_on", "2020-02-02")
    page.click("form[data-autosave] button[type=submit]")
    page.wait_for_url(re.compile(r".*/incidents/\d+/$"))
    assert Incident.objects.count() == before + 1
    page.go_back()
    page.wait_for_load_state()
    page.fill("#id_title", "Back and save, changed")
    page.click("form[data-autosave] button[type=submit]")
    page.wait_for_url(re.compile(r".*/incidents/\d+/$"))
    assert Incident.objects.count() == before + 1  # the same draft, not a second one
    created = Incident.objects.get(title__startswith="Back and save")
    assert page.url.endswith(f"/incidents/{created.pk}/")
    session.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_a_case_is_reviewed_with_its_evidence_in_one_step(
    chromium,
    live_server,
    evidence_storage,
    axe_available,
    width,
    settings,
):
    settings.REVIEW_MIN_EVIDENCE = 1
    documenter = make_user(f"doc-case-{width}", "documenter")
    reviewer = make_user(f"rev-case-{width}", "reviewer")
    cases = build_case_file(documenter, count=200)
    for incident in cases[:30]:
        workflow.submit(documenter, incident)
    case = cases[-1]  # the oldest case, not yet submitted: submitted last, with its evidence
    testimony = add_testimony(documenter, case)
    source = evidence.create_source(author=documenter, incident=case, url="https://example.org/r", title="Report")
    workflow.submit(documenter, case)
    session = session_for(chromium, live_server, width, f"case-review-{width}", reviewer)
    page = session.page
    session.go("/review/")
    check_accessible(session, "review-queue")
    assert "31" in page.locator(".listing-total").inner_text()
    session.go(f"/review/incidents/{case.pk}/")
    check_accessible(session, "case-review")
    page.check("input[name=decision][value=approve]")
    page.check(f"input[name=evidence_testimonies_{testimony.pk}][value=approve]")
    page.check(f"input[name=evidence_sources_{source.pk}][value=approve]")
    page.click(".review-decision button[type=submit]")
    page.wait_for_url(re.compile(r".*/review/$"))
    case.refresh_from_db()
    assert case.status == Status.VERIFIED
    assert TestimonyRecord.objects.get(pk=testimony.pk).status == Status.VERIFIED
    assert Source.objects.get(pk=source.pk).status == Status.VERIFIED
    assert set(Victim.objects.filter(incident=case).values_list("status", flat=True)) == {Status.VERIFIED}
    # Three more, decided at once with one comment: each its own transition.
    for incident in cases[:3]:
        page.check(f"#choose-{incident.pk}")
    page.select_option("#bulk-decision", "request_changes")
    page.fill("#bulk-comment", "Add a source for each.")
    page.click(".bulk-decision button[type=submit]")
    page.wait_for_load_state()
    assert {Incident.objects.get(pk=i.pk).status for i in cases[:3]} == {Status.CHANGES_REQUESTED}
    session.close()
    notified = session_for(chromium, live_server, width, f"notices-{width}", documenter)
    notified.go("/")
    assert notified.page.locator(".nav .badge").count() == 1
    notified.go("/notices/")
    check_accessible(notified, "notices-new")
    notified.close()
