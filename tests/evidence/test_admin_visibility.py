"""The Django admin shows evidence as the API does: never that of other people's drafts."""

from __future__ import annotations

import datetime as dt

import pytest

from evidence import services
from tests.conftest import web_client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["testimony", "source"])
def test_the_django_admin_hides_evidence_of_other_peoples_drafts_like_the_api(documenter, admin_user, incident, model):

    witness = services.register_witness(author=documenter, name="Someone")
    testimony = services.create_testimony(
        author=documenter,
        incident=incident,
        witness=witness,
        taken_on=dt.date(2020, 1, 16),
        language="ar",
        statement="s",
    )
    source = services.create_source(author=documenter, incident=incident, title="Draft-source-Zq9")
    record = testimony if model == "testimony" else source
    browser = web_client_for(admin_user)

    listing = browser.get(f"/en/admin/evidence/{model}/")
    detail = browser.get(f"/en/admin/evidence/{model}/{record.pk}/change/")
    absent = browser.get(f"/en/admin/evidence/{model}/{record.pk + 1000}/change/")

    assert listing.status_code == 200
    assert witness.code.encode() not in listing.content and b"Zq9" not in listing.content
    # The admin answers a hidden record exactly as an absent one: back to its index, nothing shown.
    assert (detail.status_code, detail["Location"]) == (absent.status_code, absent["Location"]) == (302, "/en/admin/")
