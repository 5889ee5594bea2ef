"""A published snapshot shows the names and coordinates it was computed with: renaming or moving a
place, or renaming a party or a reporting period afterwards, changes nothing the public sees — not
the public API, not the figures page (English or Arabic), not a single export."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.test import Client

from counts import services as count_services
from incidents.models import Location, Perpetrator, ReportingPeriod
from tests.conftest import client_for
from tests.counts import scenario as sc

CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.fixture
def published(documenter, admin_user, settings):
    # Render every export afresh: the test is about what a file says, not about the cache.
    settings.COUNT_EXPORT_CACHE_SECONDS = 0
    world = sc.build(documenter)
    period = ReportingPeriod.objects.create(
        name="January offensive", name_ar="هجوم كانون الثاني", start=sc.WINDOW[0], end=sc.WINDOW[1]
    )
    places, parties = world.places, world.parties
    pending = count_services.request_count(
        actor=admin_user,
        period=period,
        locations=[places["idlib"], places["aleppo"]],
        perpetrators=[parties["alliance"], parties["isis"]],
        enqueue=False,
    )
    snapshot = count_services.publish(actor=admin_user, snapshot=count_services.run_count(pending.pk))
    return world, period, snapshot


def everything_the_public_sees(snapshot) -> dict[str, object]:
    from openpyxl import load_workbook
    from pypdf import PdfReader

    api = client_for(None)
    seen: dict[str, object] = {
        "list": api.get("/api/v1/public/counts/").json(),
        "detail": api.get(f"/api/v1/public/counts/{snapshot.pk}/").json(),
    }
    for language in ("en", "ar"):
        page = Client().get(f"/{language}/figures/{snapshot.pk}/")
        assert page.status_code == 200
        seen[f"page-{language}"] = CSRF.sub(b"", page.content).decode()
    for export_format in ("csv", "json", "xlsx", "pdf"):
        response = api.get(f"/api/v1/public/counts/{snapshot.pk}/export/?format={export_format}")
        assert response.status_code == 200, export_format
        if export_format == "xlsx":  # the workbook's own timestamps differ; its cells must not
            workbook = load_workbook(io.BytesIO(response.content))
            seen[export_format] = {sheet.title: list(sheet.values) for sheet in workbook.worksheets}
        elif export_format == "pdf":  # likewise the PDF's creation time; its text must not
            seen[export_format] = [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]
        else:
            seen[export_format] = response.content
    return seen


def rename_and_move_everything(world, period) -> None:
    idlib, aleppo = world.places["idlib"], world.places["aleppo"]
    Location.objects.filter(pk=idlib.pk).update(
        name="Renamed governorate",
        name_ar="محافظة أعيدت تسميتها",
        latitude=idlib.latitude + Decimal("1.5"),
        longitude=idlib.longitude - Decimal("2.25"),
    )
    Location.objects.filter(pk=aleppo.pk).update(name="Another new name", latitude=None, longitude=None)
    for key in ("regime", "alliance", "isis"):
        Perpetrator.objects.filter(pk=world.parties[key].pk).update(name=f"Renamed {key}", name_ar=f"جهة {key}")
    ReportingPeriod.objects.filter(pk=period.pk).update(name="Renamed period", name_ar="فترة أخرى")


def test_renaming_places_parties_and_the_period_after_publication_changes_nothing_the_public_sees(published):
    world, period, snapshot = published
    before = everything_the_public_sees(snapshot)
    assert "January offensive" in before["page-en"] and "هجوم كانون الثاني" in before["page-ar"]
    assert 'class="symbol"' in before["page-en"]  # Idlib and Aleppo are on the map

    rename_and_move_everything(world, period)
    after = everything_the_public_sees(snapshot)

    assert after.keys() == before.keys()
    for seen in before:
        assert after[seen] == before[seen], seen
    assert "Renamed" not in after["page-en"] and "Renamed" not in str(after["detail"])


def test_the_snapshot_carries_the_names_and_coordinates_it_shows(published):
    world, period, snapshot = published
    idlib = world.places["idlib"]

    detail = client_for(None).get(f"/api/v1/public/counts/{snapshot.pk}/").json()

    assert detail["period"] == {"id": period.pk, "name": "January offensive", "name_ar": "هجوم كانون الثاني"}
    assert detail["locations"] == [
        sc.named(place) for place in sorted((world.places["idlib"], world.places["aleppo"]), key=lambda place: place.pk)
    ]
    assert detail["perpetrators"] == [
        sc.named(party)
        for party in sorted((world.parties["alliance"], world.parties["isis"]), key=lambda party: party.pk)
    ]
    first = detail["result"]["by_location"][0]["location"]
    assert first == sc.place(idlib) and first["latitude"] == f"{idlib.latitude:.6f}"


def test_a_snapshot_computed_before_names_were_frozen_is_named_from_the_tables(published):
    from counts.models import CountSnapshot

    world, period, snapshot = published
    # Unpublished (a published row cannot change), then as stored before counts/0002.
    legacy = count_services.run_count(
        count_services.request_count(
            actor=snapshot.created_by, period=period, locations=[world.places["idlib"]], enqueue=False
        ).pk
    )
    CountSnapshot.objects.filter(pk=legacy.pk).update(parameter_names=None)
    legacy.refresh_from_db()

    assert count_services.parameter_names(legacy) == {
        "period": {"id": period.pk, "name": "January offensive", "name_ar": "هجوم كانون الثاني"},
        "locations": [sc.named(world.places["idlib"])],
        "perpetrators": [],
    }
