"""The tree rules of places and parties, refused alike by the API and the Django admin (reference.py
states them once), with a reason; accepted changes are audited."""

from __future__ import annotations

import html

import pytest

from audit.models import AuditEntry
from incidents.models import Location, Perpetrator
from tests.conftest import client_for, web_client_for

pytestmark = pytest.mark.django_db

LEVEL_REASON = "A place must sit below its parent's level."
PLACE_CYCLE_REASON = "A place cannot be moved under itself."
PARTY_CYCLE_REASON = "A party cannot be placed under itself."


def place_form(place: Location, **overrides) -> dict:
    form = {
        "name": place.name,
        "name_ar": place.name_ar,
        "level": place.level,
        "parent": place.parent_id or "",
        "latitude": place.latitude if place.latitude is not None else "",
        "longitude": place.longitude if place.longitude is not None else "",
    }
    return {**form, **overrides}


def admin_refusal(response) -> str:
    assert response.status_code == 200, "the admin shows the form again with the reason"
    return html.unescape(response.content.decode())


@pytest.fixture
def district(admin_user) -> Location:
    return Location.objects.create(name="Maarat", level="district", parent=Location.objects.get(name="Idlib"))


def writes() -> int:
    return AuditEntry.objects.filter(action__regex=r"^(place|party|period)\.").count()


def test_wrong_level_order_is_refused_alike_by_the_api_and_the_admin(admin_user, district):
    idlib = Location.objects.get(name="Idlib")
    api = client_for(admin_user).patch(f"/api/v1/locations/{district.pk}/", {"level": "governorate"}, format="json")
    page = web_client_for(admin_user).post(
        f"/en/admin/incidents/location/{district.pk}/change/", place_form(district, level="governorate")
    )
    assert api.status_code == 400 and api.json() == {"level": [LEVEL_REASON]}
    assert LEVEL_REASON in admin_refusal(page)
    new_api = client_for(admin_user).post(
        "/api/v1/locations/", {"name": "Bad", "level": "country", "parent": idlib.pk}, format="json"
    )
    new_page = web_client_for(admin_user).post(
        "/en/admin/incidents/location/add/", {"name": "Bad", "level": "country", "parent": idlib.pk}
    )
    assert new_api.status_code == 400 and new_api.json() == {"level": [LEVEL_REASON]}
    assert LEVEL_REASON in admin_refusal(new_page)
    district.refresh_from_db()
    assert district.level == "district" and not Location.objects.filter(name="Bad").exists()
    assert writes() == 0


def test_a_place_moved_under_itself_is_refused_alike(admin_user, district):
    idlib = Location.objects.get(name="Idlib")
    api = client_for(admin_user).patch(f"/api/v1/locations/{idlib.pk}/", {"parent": district.pk}, format="json")
    page = web_client_for(admin_user).post(
        f"/en/admin/incidents/location/{idlib.pk}/change/", place_form(idlib, parent=district.pk)
    )
    assert api.status_code == 400 and PLACE_CYCLE_REASON in api.json()["parent"]
    assert PLACE_CYCLE_REASON in admin_refusal(page)
    idlib.refresh_from_db()
    assert idlib.parent.name == "Syria"
    assert writes() == 0


def test_a_party_placed_under_its_own_child_is_refused_alike(admin_user):
    alliance = Perpetrator.objects.get(name="Syrian-Russian alliance")
    child = Perpetrator.objects.get(name="Russian forces")
    api = client_for(admin_user).patch(f"/api/v1/perpetrators/{alliance.pk}/", {"parent": child.pk}, format="json")
    page = web_client_for(admin_user).post(
        f"/en/admin/incidents/perpetrator/{alliance.pk}/change/",
        {"name": alliance.name, "name_ar": alliance.name_ar, "parent": child.pk},
    )
    assert api.status_code == 400 and api.json() == {"parent": [PARTY_CYCLE_REASON]}
    assert PARTY_CYCLE_REASON in admin_refusal(page)
    alliance.refresh_from_db()
    assert alliance.parent_id is None
    assert writes() == 0


def test_accepted_changes_are_audited_through_either_door(admin_user, district, documenter):
    moved = client_for(admin_user).patch(f"/api/v1/locations/{district.pk}/", {"name": "Maarat al-Numan"})
    assert moved.status_code == 200
    entry = AuditEntry.objects.get(action="place.changed")
    assert (entry.actor_id, entry.target_id, entry.details["fields"]) == (admin_user.pk, district.pk, ["name"])

    page = web_client_for(admin_user).post(
        "/en/admin/incidents/reportingperiod/add/",
        {"name": "Truce", "name_ar": "", "start": "2022-04-02", "end": "2022-10-02"},
    )
    assert page.status_code == 302
    created = AuditEntry.objects.get(action="period.created")
    assert created.actor_id == admin_user.pk and set(created.details["fields"]) == {"name", "start", "end"}

    # A documenter may not write reference data (403), and nothing is logged as written.
    assert client_for(documenter).patch(f"/api/v1/locations/{district.pk}/", {"name": "X"}).status_code == 403
    assert writes() == 2


def test_a_place_with_places_below_is_not_deleted_and_nothing_is_logged(admin_user):
    syria = Location.objects.get(name="Syria")
    response = client_for(admin_user).delete(f"/api/v1/locations/{syria.pk}/")
    assert response.status_code == 409
    assert Location.objects.filter(pk=syria.pk).exists()
    assert writes() == 0
    idlib = Location.objects.get(name="Idlib")
    assert client_for(admin_user).delete(f"/api/v1/locations/{idlib.pk}/").status_code == 204
    entry = AuditEntry.objects.get(action="place.deleted")
    assert (entry.actor_id, entry.target_id, entry.details["name"]) == (admin_user.pk, idlib.pk, "Idlib")


def test_period_end_before_start_is_refused_by_the_admin_too(admin_user):
    page = web_client_for(admin_user).post(
        "/en/admin/incidents/reportingperiod/add/",
        {"name": "Backwards", "name_ar": "", "start": "2022-04-02", "end": "2022-01-01"},
    )
    assert "The end must not be before the start." in admin_refusal(page)
    assert writes() == 0
