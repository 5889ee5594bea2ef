"""A real Celery worker process builds the working copies, against PostgreSQL, through Redis."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from evidence import tasks
from evidence.models import CustodyAction, CustodyEvent, DerivativeStatus, MediaItem
from tests.conftest import client_for, transactional, wait_for
from tests.evidence.conftest import jpeg_with_everything, upload


@pytest.fixture
def worker_sees_our_media_root(media_root, monkeypatch):
    """The worker is another process: it learns MEDIA_ROOT from its environment."""
    monkeypatch.setenv("MEDIA_ROOT", str(media_root))
    return media_root


@pytest.mark.worker
@transactional
def test_real_worker_builds_stripped_working_copies(
    worker_sees_our_media_root, celery_worker_process, documenter, incident, monkeypatch
):
    from outbox.models import OutboxMessage
    from outbox.tasks import deliver

    media_root = worker_sees_our_media_root
    # The upload's work goes through the outbox, relayed after commit to the default queue: keep it
    # off that shared queue (held here instead), then send the task to this worker's own queue.
    relayed: list[list] = []
    monkeypatch.setattr(deliver, "apply_async", lambda args=None, **kwargs: relayed.append(args))
    content = jpeg_with_everything()
    response = client_for(documenter).post(
        "/api/v1/media/", {"file": upload(content, "scene.jpg"), "incident": incident.pk}, format="multipart"
    )
    assert response.status_code == 201, response.content
    item_id = response.json()["id"]
    message = OutboxMessage.objects.get(task_name="evidence.tasks.process_media_item", args=[item_id])
    assert relayed == [[message.pk]], "the upload's own relay was intercepted, not sent"
    tasks.process_media_item.apply_async(args=[item_id], queue=celery_worker_process.queue)
    # Sent twice (a redelivery): the outcome is the same, one derivation in the chain of custody.
    tasks.process_media_item.apply_async(args=[item_id], queue=celery_worker_process.queue)

    item = wait_for(
        lambda: MediaItem.objects.filter(pk=item_id).exclude(derivative_status=DerivativeStatus.PENDING).first(),
        timeout=60,
    )
    assert item.derivative_status == DerivativeStatus.DONE, item.derivative_note
    assert item.metadata["device_serial"] == "SERIAL-424242"
    wait_for(lambda: CustodyEvent.objects.filter(item_id=item_id).count() >= 2, timeout=10)
    import time

    time.sleep(1)  # give the duplicate delivery time to finish
    assert list(CustodyEvent.objects.filter(item_id=item_id).order_by("id").values_list("action", flat=True)) == [
        CustodyAction.UPLOADED,
        CustodyAction.DERIVED,
    ]
    working = (media_root / item.working_path).read_bytes()
    assert b"SERIAL-424242" not in working and b"CanaryMaker" not in working
    assert Image.open(io.BytesIO(working)).size == (48, 64)
    assert (media_root / item.original.path).read_bytes() == content
