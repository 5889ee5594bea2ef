"""Browser-test helpers for the lists and journeys of issue 15 (on top of tests/test_browser.py's Session):
axe-core from node_modules (never a CDN), a case file of 200+ records built through services and bulk
writes, and the two widths every journey runs at."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from incidents import services
from incidents.models import Incident, Location, Perpetrator, Status, Victim

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {
    "en-desktop": ("en", {"width": 1280, "height": 900}),
    "ar-phone": ("ar", {"width": 390, "height": 844}),
}


def axe_violations(page) -> list[str]:
    """Run axe-core on the page; the violations as 'rule: target' lines (none expected). The session is
    opened with bypass_csp=True so the script can be added without loosening the site's own policy."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await window.axe.run(document)")
    return [
        f"{violation['id']}: {json.dumps([node['target'] for node in violation['nodes']][:5])}"
        for violation in result["violations"]
    ]


def check_accessible(session, name: str) -> None:
    """The page's own checks (direction, width, Arabic text), then axe-core with no violations."""
    session.check_page(name)
    violations = axe_violations(session.page)
    assert violations == [], f"{name} ({session.language}): axe-core violations {violations}"


def build_case_file(documenter, count: int = 220) -> list[Incident]:
    """`count` incidents by the documenter through the service, and two victims each written in bulk (as an
    import writes them), so every list has several pages; returns the incidents, newest first."""
    idlib = Location.objects.get(name="Idlib")
    party = Perpetrator.objects.get(name="Syrian regime forces")
    incidents = [
        services.create_incident(
            author=documenter,
            title=f"Shelling {n:03d}",
            occurred_on=dt.date(2019, 1, 1) + dt.timedelta(days=n),
            location=idlib,
            perpetrator=party,
            weapon="artillery",
        )
        for n in range(count)
    ]
    names = [("Khaled", "خالد"), ("Omar", "عمر"), ("Huda", "هدى"), ("Samir", "سمير")]
    Victim.objects.bulk_create(
        Victim(
            incident=incident,
            created_by=documenter,
            status=Status.DRAFT,
            name=f"{names[(n + k) % 4][0]} {n}",
            name_ar=names[(n + k) % 4][1],
            sex="male",
            age_years=30,
            age_group="adult",
        )
        for n, incident in enumerate(incidents)
        for k in range(2)
    )
    return incidents[::-1]
