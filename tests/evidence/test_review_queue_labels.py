"""The review queue reads each record's label with its row (the model's LABEL_FIELDS): every kind's label is
exactly its record's str(), and a page of every kind costs the same statements as a page of one."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evidence import services as evidence
from incidents import workflow
from tests.conftest import client_for, make_incident, make_victim, web_client_for
from tests.evidence.conftest import jpeg_with_everything, upload

pytestmark = pytest.mark.django_db

MODELS = {name: kind.model for name, kind in workflow.KINDS.items()}  # every reviewable kind


@pytest.fixture
def every_kind_submitted(documenter, django_capture_on_commit_callbacks):
    """One submitted record of each kind (an unnamed victim too, labelled by its id)."""
    incident = make_incident(documenter, title="Shelling of the market", occurred_on=dt.date(2019, 3, 7))
    make_victim(documenter, incident, name="Omar")
    make_victim(documenter, incident, name="", name_ar="")
    witness = evidence.register_witness(author=documenter, name="Witness Label-Test", contact="+963 2")
    evidence.create_testimony(
        author=documenter,
        incident=incident,
        witness=witness,
        taken_on=dt.date(2019, 3, 9),
        language="ar",
        statement="I saw it.",
    )
    evidence.create_source(author=documenter, incident=incident, url="https://example.org/a", title="A report")
    with django_capture_on_commit_callbacks(execute=True):
        web_client_for(documenter).post(f"/en/incidents/{incident.pk}/media/", {"file": upload(jpeg_with_everything())})
    workflow.submit(documenter, incident)  # takes its victims and evidence along
    return incident


def test_every_kinds_label_is_its_records_str(every_kind_submitted, reviewer, media_root, settings):
    for fast in (True, False):
        settings.API_FAST_LISTS = fast
        rows = client_for(reviewer).get("/api/v1/review-queue/").json()["results"]

        assert sorted(row["kind"] for row in rows) == [
            "incidents",
            "media",
            "sources",
            "testimonies",
            "victims",
            "victims",
        ]
        for row in rows:
            assert row["label"] == str(MODELS[row["kind"]].objects.get(pk=row["id"])), row
        labels = {row["label"] for row in rows}
        assert "2019-03-07 Shelling of the market" in labels and "Omar" in labels and "A report" in labels


def test_a_page_of_every_kind_reads_no_record_after_the_page(every_kind_submitted, reviewer, media_root):
    client = client_for(reviewer)
    assert client.get("/api/v1/review-queue/").status_code == 200  # the user's permissions, read once
    counts = {}
    for kind in ("incidents", ""):
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/api/v1/review-queue/", {"kind": kind} if kind else {})
        assert response.status_code == 200
        counts[kind or "every kind"] = [query["sql"] for query in captured.captured_queries]
    assert len(counts["every kind"]) == len(counts["incidents"]), counts
    assert not [sql for sql in counts["every kind"] if "evidence_witness" in sql and "UNION" not in sql]
