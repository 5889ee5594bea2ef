"""A worker killed with SIGKILL in the middle of an import: the task runs again, goes on from the last
committed batch, and the import ends exactly as an uninterrupted one (nothing twice, nothing half)."""

from __future__ import annotations

import time

import pytest

from audit.models import AuditEntry
from evidence.models import Source
from incidents.models import Incident, Victim
from intake.models import Import
from tests.conftest import transactional, wait_for
from tests.intake.conftest import csv_bytes, moh_people, moh_rows, upload
from tests.outbox.test_outbox import broker_at  # noqa: F401 - fixture
from tests.outbox.test_worker_killed import (
    VISIBILITY_SECONDS,
    kill_group,
    killable_workers,
    require_real_workers,
    start_worker,
)

PEOPLE = 1500
BATCH = 100


@pytest.mark.slow
@pytest.mark.worker
@transactional
def test_a_worker_killed_mid_import_runs_it_again_and_the_result_is_whole(
    documenter,
    broker_at,  # noqa: F811
    settings,
    tmp_path,
    monkeypatch,
):
    require_real_workers()
    storage = tmp_path / "imports"
    settings.IMPORT_ROOT = str(storage)
    settings.IMPORT_BATCH_ROWS = BATCH
    monkeypatch.setenv("IMPORT_ROOT", str(storage))  # the workers keep and read the list where this test put it
    monkeypatch.setenv("IMPORT_BATCH_ROWS", str(BATCH))
    with killable_workers(broker_at) as (url, workers, blocker):
        workers.append(start_worker(url))
        response = upload(documenter, csv_bytes(moh_rows(moh_people(PEOPLE))))
        assert response.status_code == 202
        import_id = response.json()["id"]
        wait_for(lambda: Import.objects.get(pk=import_id).rows_done >= 3 * BATCH, timeout=60)
        # Let the batch in flight commit, then hold the victims table: the next batch blocks part-way
        # (its incidents and sources inserted, its victims waiting) and the worker dies right there.
        blocker.execute("LOCK TABLE incidents_victim IN SHARE MODE")
        time.sleep(1.5)
        kill_group(workers[0])
        blocker.rollback()

        interrupted = Import.objects.get(pk=import_id)
        assert interrupted.status == "running"
        assert 3 * BATCH <= interrupted.rows_done < PEOPLE
        # What was committed is exactly what the checkpoint says: whole batches, nothing of the killed one.
        assert Victim.objects.count() == interrupted.rows_done == interrupted.summary["victims_created"]
        assert Incident.objects.count() == interrupted.summary["incidents_created"] == Source.objects.count()

        time.sleep(VISIBILITY_SECONDS + 1)
        workers.append(start_worker(url))  # never acknowledged: delivered again, and run again
        try:
            wait_for(lambda: Import.objects.get(pk=import_id).status == "done", timeout=120)
        except BaseException:
            kill_group(workers[-1])
            with open("/tmp/intake-second-worker.log", "w") as log:
                log.write(workers[-1].stdout.read())
            raise

        record = Import.objects.get(pk=import_id)
        assert record.attempts == 2, "claimed once by each worker"
        assert {key: record.summary[key] for key in ("rows", "victims_created", "incidents_created", "unchanged")} == {
            "rows": PEOPLE,
            "victims_created": PEOPLE,
            "incidents_created": PEOPLE // 3,
            "unchanged": 0,
        }
        assert record.summary["errors"] == 0 and (record.rows_done, record.rows_total) == (PEOPLE, PEOPLE)
        assert Victim.objects.count() == PEOPLE == Victim.objects.values("origin_record_id").distinct().count()
        assert Incident.objects.count() == PEOPLE // 3 == Source.objects.count()
        assert AuditEntry.objects.filter(action="import.finished", target_id=import_id).count() == 1
        created = [
            pk
            for entry in AuditEntry.objects.filter(action="import.batch", target_id=import_id)
            for first, last in entry.details["victims_created"]
            for pk in range(first, last + 1)
        ]
        assert sorted(created) == sorted(Victim.objects.values_list("pk", flat=True))
