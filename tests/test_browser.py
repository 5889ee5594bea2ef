"""The four journeys in a real browser (Debian's Chromium driven by Playwright) against the live server:
a documenter records and submits an incident, a reviewer approves it, an admin runs and publishes a
count, and the public page shows it — once in English (desktop width) and once in Arabic (phone width,
right to left). Every page is screenshotted into test-artifacts/screenshots/, no request may leave
127.0.0.1, and the Arabic pages may show no untranslated text.

Skips with a reason when Chromium or Playwright is missing on a newcomer's machine; fails under CI.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from incidents.models import Incident, Location, Perpetrator, Status, Victim
from tests.conftest import make_user, skip_or_fail, transactional

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")

# Text on an Arabic page that is not the page's own words: user data (<bdi>, form fields), code, anything marked
# as another language, and left-to-right literals (dates in ISO form, coordinates).
VISIBLE_OWN_TEXT = """() => {
  const root = document.body.cloneNode(true);
  const foreign = 'bdi, code, script, style, input, textarea, [lang]:not([lang="ar"]), [dir="ltr"]';
  root.querySelectorAll(foreign).forEach((e) => e.remove());
  return root.textContent;
}"""


# The elements sticking out of the screen, to say which one breaks the phone layout.
WIDEST = """() => Array.from(document.querySelectorAll('body *'))
  .filter((e) => e.scrollWidth > window.innerWidth + 1 && getComputedStyle(e).overflowX === 'visible')
  .map((e) => e.tagName + '.' + e.className + '#' + e.id + ':' + e.scrollWidth)"""


def launch_chromium():
    """Playwright and Chromium for the whole session: the `chromium` fixture (tests/conftest.py) shared by
    every module's browser tests, since one thread runs one Playwright (a second sync_playwright() in the
    same thread would run inside the first one's event loop and fail)."""
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright Python package is not installed (make dev-deps)")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    # Once Playwright's loop runs in this thread, Django keeps its connections per async context:
    # new connection objects, which must carry the serialized seed data that transactional tests
    # restore (places, parties, groups) when the database was set up before the browser started.
    from django.db import connections

    serialized = {alias: getattr(connections[alias], "_test_serialized_contents", None) for alias in connections}
    playwright = sync_playwright().start()
    for alias, contents in serialized.items():
        if contents is not None:
            connections[alias]._test_serialized_contents = contents
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()
    playwright.stop()


class Session:
    """One signed-in (or anonymous) browser context, refusing every request that leaves 127.0.0.1."""

    def __init__(self, browser, base_url: str, language: str, viewport: dict, prefix: str, **context_options):
        self.context = browser.new_context(
            viewport=viewport, locale="ar" if language == "ar" else "en-GB", **context_options
        )
        self.language = language
        self.base_url = base_url
        self.prefix = prefix
        self.outside_requests: list[str] = []
        self.console_errors: list[str] = []
        self.context.route("**/*", self._only_local)
        self.page = self.context.new_page()
        self.page.on("dialog", lambda dialog: dialog.accept())
        self.page.on(
            "console", lambda message: self.console_errors.append(message.text) if message.type == "error" else None
        )
        self.shots = 0
        self.taken: dict[str, bool] = {}

    def _only_local(self, route) -> None:
        url = urlparse(route.request.url)
        if url.scheme in ("data", "blob") or url.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.outside_requests.append(route.request.url)
            route.abort()

    def go(self, path: str) -> None:
        self.page.goto(f"{self.base_url}/{self.language}{path}")

    def sign_in(self, username: str) -> None:
        from django.contrib.auth import get_user_model
        from django_otp.oath import TOTP
        from django_otp.plugins.otp_totp.models import TOTPDevice

        user = get_user_model().objects.get(username=username)
        device = None
        if user.is_staff or user.groups.filter(name__in=["reviewer", "admin"]).exists():
            # Reviewers and admins verify a TOTP code after the password: an enrolled authenticator app.
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
                user=user, name="browser test", confirmed=True
            )
        self.go("/accounts/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", f"pw-{username}-long-enough")
        self.page.click("main button[type=submit]")
        self.page.wait_for_load_state()
        if device is not None:
            self.go("/account/two-factor/verify/")
            code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
            self.page.fill("#id_code", f"{code:0{device.digits}d}")
            self.page.click("main button[type=submit]")
            self.page.wait_for_load_state()

    def check_page(self, name: str) -> None:
        """Screenshot the page; check direction, phone-width fit and (in Arabic) untranslated text."""
        page = self.page
        page.wait_for_load_state()
        self.shots += 1
        self.taken[name] = True
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(SCREENSHOTS / f"{self.prefix}-{self.language}-{self.shots:02d}-{name}.png"), full_page=True
        )
        direction = page.get_attribute("html", "dir")
        assert direction == ("rtl" if self.language == "ar" else "ltr"), name
        assert page.get_attribute("html", "lang") == self.language
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{name}: the page is {overflow}px wider than the screen: {page.evaluate(WIDEST)}"
        if self.language == "ar":
            leftovers = LATIN_WORD.findall(page.evaluate(VISIBLE_OWN_TEXT))
            assert leftovers == [], f"{name}: untranslated text on the Arabic page: {leftovers}"

    def shots_of(self, name: str) -> bool:
        return self.taken.get(name, False)

    def close(self) -> None:
        self.context.close()
        assert self.outside_requests == [], f"requests left 127.0.0.1: {self.outside_requests}"
        assert self.console_errors == [], f"browser console errors: {self.console_errors}"


JOURNEY = {
    "en": {
        "viewport": {"width": 1280, "height": 900},
        "title": "Airstrike on the Maarat al-Numan market",
        "place_search": "Idlib",
        "victims": [("فاطمة", "Fatima", "female", "9"), ("مريم", "Maryam", "female", "34")],
        "child": "Child",
        "adult": "Woman (adult female)",
        "narrative": "Warplanes struck the market at noon.",
        "comment": "Consistent with the footage and the testimony.",
        "submitted": "Submitted",
        "verified": "Verified",
        "civilians": "Civilians killed (at least)",
    },
    "ar": {
        "viewport": {"width": 390, "height": 844},
        "title": "غارة جوية على سوق معرة النعمان",
        "place_search": "ادلب",  # without the hamza: the search folds letter forms
        "victims": [("خالد", "Khaled", "male", "12"), ("أحمد", "Ahmad", "male", "40")],
        "child": "طفل",
        "adult": "رجل (ذكر بالغ)",
        "narrative": "قصفت الطائرات السوق ظهرًا.",
        "comment": "متّسق مع المقاطع المصوّرة والشهادة.",
        "submitted": "مُرسَل للمراجعة",
        "verified": "موثَّق",
        "civilians": "المدنيون القتلى (على الأقل)",
    },
}


@pytest.fixture
def evidence_storage(settings, tmp_path):
    """A private media directory and a witness key; tasks run in-process for the live server
    (the real worker has its own tests: tests/test_worker.py, tests/evidence/test_media_worker.py)."""
    import base64

    from config.celery import app

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    settings.WITNESS_KEYS = {"browser": base64.b64encode(b"B" * 32).decode()}
    settings.WITNESS_KEY_ID = "browser"
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield tmp_path
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


def evidence_files(folder: Path) -> list[Path]:
    """Two photos made on the spot (nothing binary is committed), one with a GPS position."""
    from PIL import ExifTags, Image

    with_gps = folder / "market-gps.jpg"
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (35.0, 55.0, 50.16), 3: "E", 4: (36.0, 38.0, 2.04)})
    Image.new("RGB", (320, 240), (160, 40, 30)).save(with_gps, "JPEG", exif=exif.tobytes())
    plain = folder / "street.png"
    Image.new("RGB", (200, 150), (30, 90, 160)).save(plain, "PNG")
    return [with_gps, plain]


@transactional
@pytest.mark.parametrize("language", ["en", "ar"])
def test_document_review_count_and_publish_in_the_browser(
    chromium, live_server, evidence_storage, map_outline, language
):
    words = JOURNEY[language]
    documenter = make_user(f"documenter-{language}", "documenter")
    reviewer = make_user(f"reviewer-{language}", "reviewer")
    admin = make_user(f"admin-{language}", "admin")
    idlib = Location.objects.get(name="Idlib")
    russia = Perpetrator.objects.get(name="Russian forces")
    base = live_server.url

    # --- The documenter records an incident, its victims, testimony and photos, and submits it. ---
    documenter_session = Session(chromium, base, language, words["viewport"], "1-documenter")
    page = documenter_session.page
    documenter_session.sign_in(documenter.username)
    documenter_session.check_page("my-cases-empty")
    page.click(f"a[href='/{language}/incidents/new/'] >> nth=0")
    documenter_session.check_page("new-incident")
    page.fill("#id_title", words["title"])
    page.fill(".select-search[aria-controls=id_location]", words["place_search"])
    assert page.input_value("#id_location") == str(idlib.pk)
    page.select_option("#id_perpetrator", str(russia.pk))
    page.select_option("#id_weapon", "fixed_wing_aircraft")
    page.fill("#id_occurred_on", "2020-01-15")
    page.select_option("#id_date_precision", "day")
    page.fill("#id_injured_count", "12")
    page.fill("#id_description", words["narrative"])
    # The draft saves itself: the form's address becomes the new draft's page.
    page.wait_for_function(
        "() => /\\/incidents\\/\\d+\\/$/.test(document.querySelector('form[data-autosave]').getAttribute('action'))"
    )
    documenter_session.check_page("draft-autosaved")
    page.click("form[data-autosave] button[type=submit]")
    page.wait_for_url(re.compile(r".*/incidents/\d+/$"))
    incident = Incident.objects.get(created_by=documenter)
    assert (incident.title, incident.location_id, incident.perpetrator_id, incident.occurred_on) == (
        words["title"],
        idlib.pk,
        russia.pk,
        dt.date(2020, 1, 15),
    )
    for name_ar, name, sex, age in words["victims"]:
        page.fill("#id_name_ar", name_ar)
        page.fill("#id_name", name)
        page.select_option("#id_sex", sex)
        page.fill("#id_age_years", age)
        page.click("form.quick-add button[type=submit]")
        page.wait_for_load_state()
    victims_table = page.locator("table.victims")
    assert victims_table.locator("tbody tr").count() == 2
    assert words["child"] in victims_table.inner_text()
    assert words["adult"] in victims_table.inner_text()
    documenter_session.check_page("incident-with-victims")

    page.click("#testimony a.button")
    page.wait_for_url(re.compile(r".*/testimony/$"))
    page.fill("#id_witness_name", "Witness Canary-Browser")
    page.fill("#id_witness_contact", "+963-000-browser")
    page.fill("#id_taken_on", "2020-01-16")
    page.select_option("#id_language", "ar")
    page.fill("#id_statement", "رأيت الطائرة تقصف السوق عند الظهر.")
    documenter_session.check_page("testimony-form")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/incidents/\d+/(#testimony)?$"))
    assert "Canary-Browser" not in page.content()  # the identity is never shown back

    page.set_input_files("#upload-files", [str(path) for path in evidence_files(evidence_storage)])
    page.click(".upload-form button[type=submit]")
    page.wait_for_selector(".upload-progress progress[value='100'] >> nth=1")
    page.wait_for_selector(".thumbnails img >> nth=1", timeout=30_000)
    documenter_session.check_page("evidence-uploaded")

    page.click("#submit button[type=submit]")
    page.wait_for_url(f"{base}/{language}/")
    assert words["submitted"] in page.locator("main").inner_text()
    documenter_session.check_page("my-cases-submitted")
    incident.refresh_from_db()
    assert incident.status == Status.SUBMITTED
    assert set(Victim.objects.filter(incident=incident).values_list("status", flat=True)) == {Status.SUBMITTED}
    documenter_session.close()

    # --- The reviewer approves the evidence, then the incident with its victims. ---
    reviewer_session = Session(chromium, base, language, words["viewport"], "2-reviewer")
    page = reviewer_session.page
    reviewer_session.sign_in(reviewer.username)
    reviewer_session.go("/review/")
    reviewer_session.check_page("review-queue")
    # The queue is by case: one row for the incident with its 2 victims, testimony and 2 photos.
    assert page.locator("table.records tbody tr").count() == 1
    page.click(f"a[href='/{language}/review/incidents/{incident.pk}/']")
    assert page.locator(".gps-map svg .gps-point").count() == 1  # GPS, for reviewers only
    reviewer_session.check_page("review-incident")
    # The case and its evidence in one step: each piece of evidence approved here counts at once.
    for radio in page.locator(".evidence-decisions input[type=radio][value=approve]").all():
        radio.check()
    page.check("input[name=decision][value=approve]")
    page.fill("#id_comment", words["comment"])
    page.click(".review-decision button[type=submit]")
    page.wait_for_url(f"{base}/{language}/review/")
    reviewer_session.check_page("review-queue-after-approval")
    incident.refresh_from_db()
    assert incident.status == Status.VERIFIED
    assert set(Victim.objects.filter(incident=incident).values_list("status", flat=True)) == {Status.VERIFIED}
    reviewer_session.close()

    run_count_and_public_page(chromium, base, language, words, admin)


def run_count_and_public_page(chromium, base: str, language: str, words: dict, admin) -> None:
    """The admin runs a count, watches it finish, publishes it; the public page shows it."""
    admin_session = Session(chromium, base, language, words["viewport"], "3-admin")
    page = admin_session.page
    admin_session.sign_in(admin.username)
    admin_session.go("/counts/")
    admin_session.check_page("counts")
    page.check("input[name=mode][value=window]")
    page.fill("#id_date_from", "2020-01-01")
    page.fill("#id_date_to", "2020-01-31")
    page.click(".count-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/counts/\d+/$"))
    page.wait_for_selector("[data-count-status].status-done", timeout=60_000)
    admin_session.check_page("count-done")
    assert "2" in page.locator(".figure .value").first.inner_text()
    page.click("a[href$='/publish/']")  # publishing is a step of its own: it says it cannot be undone
    page.wait_for_url(re.compile(r".*/counts/\d+/publish/$"))
    admin_session.check_page("count-publish-confirm")
    page.click(".confirm-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/counts/\d+/$"))
    admin_session.check_page("count-published")
    admin_session.go("/admin/")
    admin_session.page.wait_for_load_state()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"3-admin-{language}-99-vocabularies.png"), full_page=True)
    assert page.locator("a[href$='/admin/incidents/location/']").count() >= 1
    admin_session.close()

    public_session = Session(chromium, base, language, words["viewport"], "4-public")
    page = public_session.page
    public_session.go("/figures/")
    public_session.check_page("published-figures")
    main = page.locator("main").inner_text()
    assert words["civilians"] in main
    assert page.locator(".map svg path.country").count() == 1
    assert page.locator(".map svg circle.symbol").count() == 1
    assert page.locator("p.summary").inner_text().strip() != ""
    public_session.close()


@transactional
def test_refused_upload_says_why_in_the_browser(chromium, live_server, evidence_storage):
    """Several files at once: the accepted one is sealed, the disguised one gets the 415 reason on its row."""
    from incidents import services

    documenter = make_user("documenter-upload", "documenter")
    incident = services.create_incident(
        author=documenter,
        title="Shelling of the bakery",
        occurred_on=dt.date(2020, 1, 20),
        location=Location.objects.get(name="Idlib"),
        perpetrator=Perpetrator.objects.get(name="Syrian regime forces"),
        weapon="artillery",
    )
    disguised = evidence_storage / "photo.jpg"
    disguised.write_text("<html><script>alert(1)</script></html>")
    photo = evidence_files(evidence_storage)[1]
    session = Session(chromium, live_server.url, "ar", {"width": 390, "height": 844}, "5-refusal")
    page = session.page
    session.sign_in(documenter.username)
    session.go(f"/incidents/{incident.pk}/")
    page.set_input_files("#upload-files", [str(photo), str(disguised)])
    page.click(".upload-form button[type=submit]")
    refused = page.locator(".upload-progress li").nth(1).locator(".upload-note.error")
    refused.wait_for()
    # The API's own reason, in the page's language (the upload sends Accept-Language), said once.
    reason = refused.inner_text()
    assert "لا تُقبل الملفات من نوع text/html" in reason
    assert "not accepted" not in reason
    assert "لم تُرفع بعض الملفات" in page.locator("[data-upload-status]").inner_text()
    session.check_page("upload-refused")
    assert incident.media.count() == 1
    # The refusal itself is an expected 415 from the API, not a page error.
    session.console_errors = [error for error in session.console_errors if "415" not in error]
    session.close()
