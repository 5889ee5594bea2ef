"""Count snapshots moved from the incidents app to counts without moving a row: a database migrated
with the old code (incidents up to 0006, no counts app) migrates on, keeps its snapshots, and the
trigger still freezes the published ones."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from counts.models import CountSnapshot
from tests.conftest import transactional

BEFORE_THE_MOVE = [("incidents", "0006_victim_identifying_fields"), ("counts", None)]


def migrate_to(targets: list[tuple[str, str | None]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def migrate_to_the_latest() -> None:
    executor = MigrationExecutor(connection)
    migrate_to(executor.loader.graph.leaf_nodes())


@pytest.fixture
def database_before_the_move():
    migrate_to(BEFORE_THE_MOVE)
    try:
        yield
    finally:
        migrate_to_the_latest()
        ContentType.objects.clear_cache()


def insert_published_snapshot_with_the_old_code() -> int:
    """A published snapshot as the old code's state sees it: a row of `incidents.CountSnapshot`."""
    executor = MigrationExecutor(connection)
    old_model = executor.loader.project_state(BEFORE_THE_MOVE[0]).apps.get_model("incidents", "CountSnapshot")
    snapshot = old_model.objects.create(
        status="done",
        date_from=dt.date(2020, 1, 12),
        date_to=dt.date(2020, 1, 27),
        massacre_threshold=5,
        rule_version="2026.1",
        result={"civilians": {"total": 0, "children": 0, "women": 0, "men": 0, "unknown": 0}},
        fingerprint="f" * 64,
        summary_en="No civilian deaths were documented.",
        computed_at=timezone.now(),
        published_at=timezone.now(),
    )
    return snapshot.pk


@transactional
def test_a_database_migrated_with_the_old_code_keeps_its_snapshots_frozen(database_before_the_move):
    assert ContentType.objects.filter(app_label="incidents", model="countsnapshot").exists()
    snapshot_id = insert_published_snapshot_with_the_old_code()
    content_type_id = ContentType.objects.get(app_label="incidents", model="countsnapshot").pk

    migrate_to_the_latest()

    snapshot = CountSnapshot.objects.get(pk=snapshot_id)
    assert snapshot.is_published and snapshot.fingerprint == "f" * 64
    assert CountSnapshot._meta.db_table == "incidents_countsnapshot"
    # The content type (and with it the model's permissions) followed the model.
    assert ContentType.objects.get(pk=content_type_id).app_label == "counts"
    assert not ContentType.objects.filter(app_label="incidents", model="countsnapshot").exists()
    # The trigger created with the table by incidents/0004 still refuses any change to it.
    with pytest.raises(DatabaseError), transaction.atomic():
        CountSnapshot.objects.filter(pk=snapshot_id).update(summary_en="rewritten")
    assert CountSnapshot.objects.get(pk=snapshot_id).summary_en == "No civilian deaths were documented."
