"""The Django admin shows records under review as the API does: never other people's drafts."""

from __future__ import annotations

import pytest

from tests.conftest import make_incident, make_victim, web_client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["incident", "victim"])
def test_the_django_admin_hides_other_peoples_drafts_like_the_api(documenter, admin_user, model):

    incident = make_incident(documenter, title="Draft-title-Zq9")
    victim = make_victim(documenter, incident, name="Draft-victim-Zq9")
    record = incident if model == "incident" else victim
    browser = web_client_for(admin_user)

    listing = browser.get(f"/en/admin/incidents/{model}/")
    detail = browser.get(f"/en/admin/incidents/{model}/{record.pk}/change/")
    absent = browser.get(f"/en/admin/incidents/{model}/{record.pk + 1000}/change/")

    assert listing.status_code == 200
    assert b"Zq9" not in listing.content
    # The admin answers a hidden record exactly as an absent one: back to its index, nothing shown.
    assert (detail.status_code, detail["Location"]) == (absent.status_code, absent["Location"]) == (302, "/en/admin/")
    assert b"Zq9" not in detail.content
