"""Places, parties and periods: seeded, readable by every role, writable by admins only."""

from __future__ import annotations

from incidents.models import Location, Perpetrator, ReportingPeriod
from tests.conftest import client_for, make_incident


def test_syria_and_its_fourteen_governorates_are_seeded(db):
    syria = Location.objects.get(name="Syria", level="country")
    governorates = Location.objects.filter(parent=syria, level="governorate")
    assert governorates.count() == 14
    assert governorates.filter(name_ar="").count() == 0
    assert governorates.filter(latitude__isnull=True).count() == 0


def test_perpetrator_tree_is_seeded(db):
    alliance = Perpetrator.objects.get(name="Syrian-Russian alliance")
    assert set(alliance.children.values_list("name", flat=True)) == {"Syrian regime forces", "Russian forces"}
    assert Perpetrator.objects.subtree_ids([alliance.pk]) == set(
        Perpetrator.objects.filter(
            name__in=["Syrian-Russian alliance", "Syrian regime forces", "Russian forces"]
        ).values_list("pk", flat=True)
    )


def test_every_role_reads_reference_data(documenter, reviewer, admin_user):
    for user in (documenter, reviewer, admin_user):
        response = client_for(user).get("/api/v1/locations/?level=governorate")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"count", "next", "previous", "results"}
        assert body["count"] == 14
        assert set(body["results"][0]) == {"id", "name", "name_ar", "level", "parent", "latitude", "longitude"}


def test_documenter_cannot_write_reference_data(documenter):
    client = client_for(documenter)
    assert client.post("/api/v1/perpetrators/", {"name": "New party"}, format="json").status_code == 403
    assert Perpetrator.objects.filter(name="New party").count() == 0


def test_admin_configures_another_conflict_without_code(admin_user):
    client = client_for(admin_user)
    country = client.post(
        "/api/v1/locations/", {"name": "Yemen", "name_ar": "اليمن", "level": "country"}, format="json"
    )
    assert country.status_code == 201, country.json()
    province = client.post(
        "/api/v1/locations/",
        {"name": "Taiz", "name_ar": "تعز", "level": "governorate", "parent": country.json()["id"], "latitude": "13.58"},
        format="json",
    )
    assert province.status_code == 201
    party = client.post("/api/v1/perpetrators/", {"name": "Coalition", "name_ar": "التحالف"}, format="json")
    assert party.status_code == 201
    period = client.post(
        "/api/v1/periods/",
        {"name": "Truce", "name_ar": "الهدنة", "start": "2022-04-02", "end": "2022-10-02"},
        format="json",
    )
    assert period.status_code == 201
    assert ReportingPeriod.objects.get().name_ar == "الهدنة"


def test_place_cannot_sit_above_its_parent_level(admin_user):
    idlib = Location.objects.get(name="Idlib")
    response = client_for(admin_user).post(
        "/api/v1/locations/", {"name": "Bad", "level": "country", "parent": idlib.pk}, format="json"
    )
    assert response.status_code == 400
    assert "level" in response.json()


def test_period_end_before_start_is_refused(admin_user):
    response = client_for(admin_user).post(
        "/api/v1/periods/", {"name": "Backwards", "start": "2022-04-02", "end": "2022-01-01"}, format="json"
    )
    assert response.status_code == 400
    assert "end" in response.json()


def test_deleting_a_place_in_use_is_a_conflict_not_an_error(admin_user, documenter):
    incident = make_incident(documenter)
    response = client_for(admin_user).delete(f"/api/v1/locations/{incident.location_id}/")
    assert response.status_code == 409
    assert Location.objects.filter(pk=incident.location_id).exists()


def test_filtering_incidents_by_a_place_includes_its_subtree(documenter):
    syria = Location.objects.get(name="Syria")
    aleppo = Location.objects.get(name="Aleppo")
    district = Location.objects.create(name="Jebel Saman", level="district", parent=aleppo)
    make_incident(documenter, title="in district", location=district)
    make_incident(documenter, title="in Idlib")
    client = client_for(documenter)
    titles = lambda q: {r["title"] for r in client.get(f"/api/v1/incidents/?{q}").json()["results"]}  # noqa: E731
    assert titles(f"location={aleppo.pk}") == {"in district"}
    assert titles(f"location={syria.pk}") == {"in district", "in Idlib"}
    alliance = Perpetrator.objects.get(name="Syrian-Russian alliance")
    assert titles(f"perpetrator={alliance.pk}") == {"in district", "in Idlib"}
    assert titles("occurred_from=2020-01-16") == set()
