"""The imports list page uses the list helper (incidents/listing.py): pages with the total and a page size,
sorting, and the status, source and kind filters in the URL; a wide table scrolls in a named region."""

from __future__ import annotations

import re

import pytest

from intake.models import Import
from tests.conftest import make_user, web_client_for

pytestmark = pytest.mark.django_db


def many_imports(user, count: int, **fields) -> list[Import]:
    """Import rows written in bulk (test arrangement: their runs are not what these tests are about)."""
    return Import.objects.bulk_create(
        Import(
            created_by=user,
            source=fields.get("source", f"List {n:03d}"),
            status=fields.get("status", Import.State.DONE),
            dry_run=fields.get("dry_run", n % 2 == 0),
            file_path=f"x/{n}",
            sha256=f"{n:064x}",
            file_format="csv",
            summary={"rows": n, "errors": 0},
        )
        for n in range(count)
    )


def row_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="import-(\d+)">', html)]


def test_the_imports_list_is_paged_with_the_total_and_page_links(documenter):
    many_imports(documenter, 60)
    html = web_client_for(documenter).get("/en/imports/").content.decode()
    assert len(row_ids(html)) == 25
    assert "60 records" in html and "page 1 of 3" in html
    assert 'rel="next"' in html


def test_the_page_size_and_the_page_come_from_the_url(documenter):
    many_imports(documenter, 60)
    html = web_client_for(documenter).get("/en/imports/?page_size=50&page=2").content.decode()
    assert len(row_ids(html)) == 10


def test_the_newest_import_comes_first_and_the_list_sorts_by_source_both_ways(documenter):
    made = many_imports(documenter, 5)
    client = web_client_for(documenter)
    assert row_ids(client.get("/en/imports/").content.decode()) == sorted((i.pk for i in made), reverse=True)
    ascending = client.get("/en/imports/?sort=source").content.decode()
    descending = client.get("/en/imports/?sort=-source").content.decode()
    assert row_ids(ascending) == [i.pk for i in sorted(made, key=lambda i: i.source)]
    assert row_ids(descending) == row_ids(ascending)[::-1]
    assert 'aria-sort="ascending"' in ascending


def test_the_imports_list_filters_by_status_source_and_kind_from_the_url(documenter):
    many_imports(documenter, 4, source="MoH 2024", status=Import.State.DONE)
    failed = many_imports(documenter, 1, source="MoH 2024", status=Import.State.FAILED)
    others = many_imports(documenter, 3, source="VDC export")
    client = web_client_for(documenter)
    assert row_ids(client.get("/en/imports/?status=failed").content.decode()) == [failed[0].pk]
    by_source = row_ids(client.get("/en/imports/?source=VDC+export").content.decode())
    assert sorted(by_source) == sorted(i.pk for i in others)
    checks = row_ids(client.get("/en/imports/?source=VDC+export&dry_run=true").content.decode())
    assert sorted(checks) == sorted(i.pk for i in others if i.dry_run)
    html = client.get("/en/imports/?source=VDC+export").content.decode()
    assert '<option value="VDC export" selected>' in html  # the filter form shows what the URL chose


def test_a_filter_value_the_list_does_not_know_is_a_400_with_the_reason(documenter):
    many_imports(documenter, 2)
    response = web_client_for(documenter).get("/en/imports/?status=exploded&sort=sha256")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Select a valid choice" in html and "This list cannot be sorted by that." in html
    assert row_ids(html) == []


def test_a_documenter_pages_through_their_own_imports_only(documenter, admin_user):
    other = make_user("other-importer", "documenter")
    many_imports(documenter, 3)
    many_imports(other, 2)
    assert "3 records" in web_client_for(documenter).get("/en/imports/").content.decode()
    assert "5 records" in web_client_for(admin_user).get("/en/imports/").content.decode()


def test_the_imports_table_scrolls_in_a_named_focusable_region_with_a_hint(documenter):
    many_imports(documenter, 1)
    html = web_client_for(documenter).get("/ar/imports/").content.decode()
    assert 'dir="rtl"' in html
    assert '<div class="table-scroll" tabindex="0" role="region" aria-labelledby="imports-title">' in html
    assert 'class="scroll-hint"' in html
    assert "Kind" not in html and "Any kind" not in html  # the filters' labels are in Arabic


def test_no_import_matching_the_filters_says_so(documenter):
    many_imports(documenter, 1, status=Import.State.DONE)
    html = web_client_for(documenter).get("/en/imports/?status=failed").content.decode()
    assert "No imports match these filters." in html and "No imports yet." not in html
