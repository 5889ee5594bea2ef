"""A published count's export files never change: rendered once, then served from Django's cache; the
public's downloads write one audit entry per snapshot, format and language, not one per request."""

from __future__ import annotations

import pytest
from django.utils import translation

from audit.models import AuditEntry
from counts import exports
from counts import services as count_services
from tests.conftest import client_for
from tests.counts import scenario as sc


@pytest.fixture
def published(documenter, admin_user):
    sc.build(documenter)
    pending = count_services.request_count(
        actor=admin_user, date_from=sc.WINDOW[0], date_to=sc.WINDOW[1], enqueue=False
    )
    return count_services.publish(actor=admin_user, snapshot=count_services.run_count(pending.pk))


@pytest.fixture
def renders(monkeypatch) -> list[str]:
    """Every time an export file is actually rendered (rather than served from the cache)."""
    rendered: list[str] = []
    original = exports.render

    def counting_render(snapshot, export_format):
        rendered.append(export_format)
        return original(snapshot, export_format)

    monkeypatch.setattr(exports, "render", counting_render)
    return rendered


def public_export(client, snapshot, export_format: str):
    return client.get(f"/api/v1/public/counts/{snapshot.pk}/export/?format={export_format}")


def exported_entries(snapshot) -> list[tuple]:
    entries = AuditEntry.objects.for_target(snapshot).filter(action="count.exported").order_by("sequence")
    return [(entry.actor_id, entry.details["format"]) for entry in entries]


def test_a_published_export_is_rendered_once_and_then_served_from_the_cache(published, anonymous_client, renders):
    first = public_export(anonymous_client, published, "csv")
    again = [public_export(anonymous_client, published, "csv") for _ in range(3)]

    assert first.status_code == 200 and all(response.status_code == 200 for response in again)
    assert {response.content for response in again} == {first.content}
    assert renders == ["csv"]


def test_anonymous_downloads_write_one_audit_entry_per_snapshot_and_format(published, anonymous_client):
    for _ in range(4):
        assert public_export(anonymous_client, published, "csv").status_code == 200
        assert public_export(anonymous_client, published, "json").status_code == 200

    assert exported_entries(published) == [(None, "csv"), (None, "json")]


def test_the_cache_and_its_audit_entry_are_per_language(published, renders):
    anonymous = client_for(None)
    with translation.override("ar"):
        assert count_services.export(actor=None, snapshot=published, export_format="csv")[0]
    assert public_export(anonymous, published, "csv").status_code == 200  # the request's language: English

    assert renders == ["csv", "csv"]
    assert exported_entries(published) == [(None, "csv"), (None, "csv")]


def test_signed_in_exports_of_a_published_snapshot_are_audited_every_time(published, admin_user, renders):
    admin = client_for(admin_user)
    for _ in range(2):
        assert admin.get(f"/api/v1/counts/{published.pk}/export/?format=csv").status_code == 200

    assert exported_entries(published) == [(admin_user.pk, "csv"), (admin_user.pk, "csv")]
    assert renders == ["csv"]  # the file itself still comes from the cache


def test_an_unpublished_snapshot_is_rendered_afresh_every_time(documenter, admin_user, renders):
    sc.build(documenter)
    pending = count_services.request_count(
        actor=admin_user, date_from=sc.WINDOW[0], date_to=sc.WINDOW[1], enqueue=False
    )
    snapshot = count_services.run_count(pending.pk)
    admin = client_for(admin_user)
    for _ in range(2):
        assert admin.get(f"/api/v1/counts/{snapshot.pk}/export/?format=json").status_code == 200

    assert renders == ["json", "json"]
    assert exported_entries(snapshot) == [(admin_user.pk, "json"), (admin_user.pk, "json")]
