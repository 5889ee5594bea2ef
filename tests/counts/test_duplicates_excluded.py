"""Counts and confirmed duplicates: a snapshot reports how many records were excluded as duplicates; a
merge after publication leaves the published snapshot as it was, and a new snapshot supersedes it with
the lower figure and the higher duplicates figure."""

from __future__ import annotations

import csv
import io
import json

import pytest

from counts import services as count_services
from counts.models import CountSnapshot
from matching import services as matching
from tests.conftest import client_for, web_client_for
from tests.counts import scenario as sc
from tests.matching.review_helpers import pair_of

pytestmark = pytest.mark.django_db


def computed(admin, **kwargs) -> CountSnapshot:
    if "supersedes" not in kwargs:
        kwargs.update(date_from=sc.WINDOW[0], date_to=sc.WINDOW[1])
    pending = count_services.request_count(actor=admin, enqueue=False, **kwargs)
    return count_services.run_count(pending.pk)


@pytest.fixture
def world(documenter):
    return sc.build(documenter)


def test_a_snapshot_reports_the_records_excluded_as_duplicates(world, admin_user):
    snapshot = computed(admin_user)
    assert snapshot.result["excluded_duplicates"] == 1  # the duplicate of the man of 30
    assert snapshot.result["civilians"]["total"] == 11


def test_a_duplicate_outside_the_counts_filters_is_not_reported(world, admin_user):
    aleppo = world.places["aleppo"]  # the duplicate died in Saraqib (Idlib)
    snapshot = computed(admin_user, date_from=sc.WINDOW[0], date_to=sc.WINDOW[1], locations=[aleppo])
    assert snapshot.result["excluded_duplicates"] == 0


def test_a_merge_after_publication_changes_nothing_published_and_a_new_snapshot_supersedes_it(
    world, admin_user, reviewer
):
    published = count_services.publish(actor=admin_user, snapshot=computed(admin_user))
    frozen = (published.result, published.fingerprint)
    boy, girl = world.victims["boy5"], world.victims["girl_group"]  # I2's boy of 5 and girl: one child, say
    matching.decide(pair_of(boy, girl), reviewer, "confirm", keep=boy.pk, comment="Same child, two lists.")

    again = CountSnapshot.objects.get(pk=published.pk)
    assert (again.result, again.fingerprint) == frozen
    public = client_for(None).get(f"/api/v1/public/counts/{published.pk}/").json()
    assert public["result"]["civilians"]["total"] == 11 and public["result"]["excluded_duplicates"] == 1

    correction = computed(admin_user, supersedes=published)
    assert correction.supersedes_id == published.pk
    assert correction.result["civilians"]["total"] == 10
    assert correction.result["civilians"]["children"] == 2
    assert correction.result["excluded_duplicates"] == 2
    assert correction.fingerprint != published.fingerprint


def test_unmerging_brings_the_record_back_into_a_new_count(world, admin_user, reviewer, second_reviewer):
    boy, girl = world.victims["boy5"], world.victims["girl_group"]
    matching.decide(pair_of(boy, girl), reviewer, "confirm", keep=boy.pk)
    matching.unmerge(type(girl).objects.get(pk=girl.pk), second_reviewer, "Siblings, not one child.")
    snapshot = computed(admin_user)
    assert (snapshot.result["civilians"]["total"], snapshot.result["excluded_duplicates"]) == (11, 1)


@pytest.mark.parametrize(("prefix", "label"), [("en", "Excluded as duplicates"), ("ar", "استُبعدوا لأنهم مكرَّرون")])
def test_the_count_page_shows_the_duplicates_figure(world, admin_user, prefix, label):
    snapshot = computed(admin_user)
    html = web_client_for(admin_user).get(f"/{prefix}/counts/{snapshot.pk}/").content.decode()
    assert label in html


def test_the_csv_and_json_exports_list_the_duplicates_figure(world, admin_user):
    snapshot = computed(admin_user)
    content, _type, _name = count_services.export(actor=admin_user, snapshot=snapshot, export_format="csv")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    row = next(row for row in rows if row["table"] == "excluded_duplicates")
    assert (row["name"], row["name_ar"], row["total"]) == ("Excluded as duplicates", "استُبعدوا لأنهم مكرَّرون", "1")
    document, _type, _name = count_services.export(actor=admin_user, snapshot=snapshot, export_format="json")
    assert json.loads(document)["result"]["excluded_duplicates"] == 1


def test_the_xlsx_export_lists_the_duplicates_figure(world, admin_user):
    from openpyxl import load_workbook

    snapshot = computed(admin_user)
    content, _type, _name = count_services.export(actor=admin_user, snapshot=snapshot, export_format="xlsx")
    summary = load_workbook(io.BytesIO(content))["Summary"]
    facts = {row[0].value: row[1].value for row in summary.iter_rows()}
    assert facts["Excluded as duplicates"] == 1
