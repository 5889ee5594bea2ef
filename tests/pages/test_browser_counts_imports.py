"""The count pages and the imports list in a real browser (Debian's Chromium via Playwright), in English and
Arabic, at desktop width and at phone width (390 px): axe-core (from node_modules) finds no violation, no
page is wider than the screen, and the wide tables scroll inside a focusable, named region with a visible
hint while the page itself stays put."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from counts import services as count_services
from incidents.models import Location, Status
from intake.models import Import
from tests.conftest import make_incident, make_user, make_victim, transactional
from tests.pages.browser_helpers import AXE, check_accessible
from tests.test_browser import Session

pytestmark = [transactional]

VIEWS = {
    "en-desktop": ("en", {"width": 1280, "height": 900}),
    "en-phone": ("en", {"width": 390, "height": 844}),
    "ar-desktop": ("ar", {"width": 1280, "height": 900}),
    "ar-phone": ("ar", {"width": 390, "height": 844}),
}


@pytest.fixture
def axe_available():
    from tests.conftest import skip_or_fail

    if not AXE.exists():
        skip_or_fail("axe-core is not installed in node_modules (make assets)")


def counted_world(documenter, admin):
    """Deaths on a few days of January 2020 in two governorates (one incident with its own position), a done
    count of that month, and a done count of an empty window."""
    places = [Location.objects.get(name="Idlib"), Location.objects.get(name="Aleppo")]
    for n, day in enumerate((3, 4, 9, 20)):
        incident = make_incident(
            documenter,
            status=Status.VERIFIED,
            title=f"غارة {n}",  # user data in the map symbols' SVG titles, which cannot hold a <bdi>
            occurred_on=dt.date(2020, 1, day),
            location=places[n % 2],
            latitude=Decimal("35.93") if n == 0 else None,
            longitude=Decimal("36.63") if n == 0 else None,
        )
        for k in range(n + 1):
            make_victim(documenter, incident, status=Status.VERIFIED, name=f"Victim {n}-{k}", sex="female", age_years=9)
    done = []
    for window in ((dt.date(2020, 1, 1), dt.date(2020, 1, 31)), (dt.date(2021, 1, 1), dt.date(2021, 1, 31))):
        pending = count_services.request_count(actor=admin, date_from=window[0], date_to=window[1], enqueue=False)
        done.append(count_services.run_count(pending.pk))
    count_services.publish(actor=admin, snapshot=done[1])
    return done


def imports_of(user, count: int, language: str) -> None:
    # Source names are user data; the source filter's <option>s cannot isolate them in a <bdi>, so the Arabic
    # pages' untranslated-text check gets Arabic names.
    latin = "VDC export 2024" if language == "en" else "قائمة مركز التوثيق"
    Import.objects.bulk_create(
        Import(
            created_by=user,
            source=f"قائمة الضحايا {n:02d}" if n % 2 else f"{latin}-{n:02d}",
            status=Import.State.DONE,
            dry_run=n % 3 == 0,
            file_path=f"x/{n}",
            sha256=f"{n:064x}",
            file_format="csv",
            summary={"rows": 1000 + n, "errors": n},
        )
        for n in range(count)
    )


def assert_scrolls_in_its_region(session: Session, selector: str) -> None:
    """On a phone the table is wider than its region, the region scrolls (not the page), is focusable, has a
    name, and a hint says so; on a desktop nothing needs to."""
    page = session.page
    region = page.locator(selector).first
    assert region.get_attribute("tabindex") == "0" and region.get_attribute("role") == "region"
    assert region.get_attribute("aria-label") or region.get_attribute("aria-labelledby")
    narrow = page.viewport_size["width"] < 500
    if narrow:
        assert region.evaluate("(e) => e.scrollWidth > e.clientWidth"), "the table should scroll in its region"
        hint = region.locator("xpath=preceding-sibling::p[contains(@class, 'scroll-hint')][1]")
        assert hint.is_visible()
        region.focus()
        page.keyboard.press("ArrowRight" if session.language == "en" else "ArrowLeft")
        # Chromium animates keyboard scrolling: give the animation time on a loaded machine.
        scrolled = False
        for _ in range(30):
            scrolled = region.evaluate("(e) => Math.abs(e.scrollLeft) > 0")
            if scrolled:
                break
            page.wait_for_timeout(100)
        assert scrolled, "the keyboard scrolls the focused region"
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1


@pytest.mark.parametrize("view", list(VIEWS))
def test_count_pages_and_the_imports_list_pass_axe_at_both_widths_in_both_languages(
    chromium, live_server, axe_available, view
):
    language, viewport = VIEWS[view]
    documenter = make_user(f"doc-counts-{view}", "documenter")
    admin = make_user(f"admin-counts-{view}", "admin")
    full, empty = counted_world(documenter, admin)
    imports_of(admin, 30, language)
    session = Session(chromium, live_server.url, language, viewport, f"15b-{view}", bypass_csp=True)
    page = session.page
    session.sign_in(admin.username)

    session.go("/counts/")
    check_accessible(session, "counts")
    session.go(f"/counts/{full.pk}/")
    check_accessible(session, "count-detail")
    assert page.locator(".day-chart rect.zero").count() == 27  # 31 days of January, 4 with deaths
    assert page.locator(".day-chart line.axis").count() == 2
    assert page.locator(".incident-map circle.incident-point").count() == 1
    page.click("details:has(.table-scroll) summary >> nth=0")  # the figures by day
    check_accessible(session, "count-detail-by-day")
    assert_scrolls_in_its_region(session, "section[aria-labelledby=perpetrator-title] .table-scroll")
    session.go(f"/counts/{full.pk}/publish/")
    check_accessible(session, "count-publish-confirm")
    assert page.locator(".publish-warning").is_visible()
    session.go(f"/counts/{empty.pk}/")
    check_accessible(session, "count-empty")
    assert page.locator(".empty-count").is_visible() and page.locator("main table").count() == 0

    session.go("/imports/")
    check_accessible(session, "imports")
    assert "30" in page.locator(".listing-total").inner_text()
    assert page.locator("table.imports tbody tr").count() == 25
    assert_scrolls_in_its_region(session, "div.table-scroll[aria-labelledby=imports-title]")
    link = page.locator("table.imports tbody tr >> nth=0 >> a").first  # a row's action stays reachable
    link.scroll_into_view_if_needed()
    assert link.is_visible()
    page.click(".pagination a[rel=next]")
    page.wait_for_load_state()
    assert page.locator("table.imports tbody tr").count() == 5
    check_accessible(session, "imports-page-2")
    session.close()

    public = Session(chromium, live_server.url, language, viewport, f"15b-{view}-public", bypass_csp=True)
    public.go(f"/figures/{empty.pk}/")
    check_accessible(public, "public-empty-count")
    assert public.page.locator(".empty-count").is_visible()
    public.close()
