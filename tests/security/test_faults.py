"""Faults: the database lost mid-request (503, nothing half-written); the disk full during an upload (507)."""

from __future__ import annotations

import errno
from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError

from audit.models import AuditEntry
from incidents.models import Incident, Status
from tests.conftest import client_for, make_incident, web_client_for

LOST = OperationalError("server closed the connection unexpectedly")


def lose_the_database_on_audit_write():
    """The connection dies after the status update, when the audit entry is written (mid-request)."""
    return mock.patch("audit.models.AuditEntry.save", side_effect=LOST)


def test_database_lost_mid_submit_answers_503_and_writes_nothing(documenter):
    incident = make_incident(documenter)
    client = client_for(documenter)
    before = AuditEntry.objects.count()  # the incident's own creation is recorded; the failed move adds nothing
    with lose_the_database_on_audit_write():
        response = client.post(f"/api/v1/incidents/{incident.pk}/submit/")
    assert response.status_code == 503
    assert "nothing was saved" in response.json()["detail"]
    incident.refresh_from_db()
    assert incident.status == Status.DRAFT, "the status update was rolled back with the failed audit write"
    assert incident.version == 1
    assert AuditEntry.objects.count() == before
    assert not AuditEntry.objects.filter(action="incidents.submit").exists()


def test_database_lost_mid_review_leaves_the_incident_and_its_victims_unchanged(documenter, reviewer, settings):
    from incidents.models import Victim
    from tests.conftest import make_victim

    settings.REVIEW_MIN_EVIDENCE = 0
    incident = make_incident(documenter, status=Status.SUBMITTED)
    victims = [make_victim(documenter, incident, status=Status.SUBMITTED, name=f"V{n}") for n in range(3)]
    before = AuditEntry.objects.count()
    with lose_the_database_on_audit_write():
        response = client_for(reviewer).post(
            f"/api/v1/incidents/{incident.pk}/review/", {"decision": "approve"}, format="json"
        )
    assert response.status_code == 503
    assert Incident.objects.get(pk=incident.pk).status == Status.SUBMITTED
    assert set(Victim.objects.filter(pk__in=[v.pk for v in victims]).values_list("status", flat=True)) == {
        Status.SUBMITTED
    }
    assert AuditEntry.objects.count() == before
    assert not AuditEntry.objects.filter(action__in=["incidents.approve", "victims.approve"]).exists()


def test_a_page_answers_503_when_the_database_is_lost(documenter):
    client = web_client_for(documenter)
    with mock.patch("incidents.views.render", side_effect=LOST):
        response = client.get("/en/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "Please try again" in response.content.decode()


@pytest.fixture
def media_root(settings, tmp_path) -> Path:
    from tests.evidence.conftest import KEY_A

    settings.WITNESS_KEYS = {"k1": KEY_A}
    settings.WITNESS_KEY_ID = "k1"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


def unique_png() -> bytes:
    """Bytes no other test has uploaded (so nothing is already sealed under the same hash)."""
    import io
    import secrets

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (24, 24), tuple(secrets.token_bytes(3))).save(buffer, "PNG")
    return buffer.getvalue()


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def test_disk_full_while_streaming_an_upload_answers_507_and_leaves_nothing(documenter, media_root):
    from evidence.models import MediaItem
    from evidence.uploads import HashingUploadHandler
    from tests.evidence.conftest import upload

    incident = make_incident(documenter)
    original = HashingUploadHandler.receive_data_chunk

    def quota_exceeded(self, raw_data, start):
        original(self, raw_data[: len(raw_data) // 2], start)  # half a chunk reaches the disk
        raise OSError(errno.ENOSPC, "No space left on device")

    with mock.patch.object(HashingUploadHandler, "receive_data_chunk", quota_exceeded):
        response = client_for(documenter).post(
            "/api/v1/media/",
            {"file": upload(unique_png(), "p.png", "image/png"), "incident": incident.pk},
            format="multipart",
        )
    assert response.status_code == 507
    assert MediaItem.objects.count() == 0
    assert files_under(media_root) == [], "the partial file is removed"


def test_disk_full_while_sealing_the_original_answers_507_and_leaves_nothing(documenter, media_root):
    from evidence.models import MediaItem, SealedOriginal
    from tests.evidence.conftest import upload

    incident = make_incident(documenter)

    def copy_until_full(reader, writer, length=0):
        writer.write(reader.read(100))  # part of the original reaches the disk, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    # No hard links here either: the sealing copies the file, and the disk fills during the copy.
    with (
        mock.patch("evidence.media.os.link", side_effect=OSError(errno.EXDEV, "Invalid cross-device link")),
        mock.patch("evidence.media.shutil.copyfileobj", side_effect=copy_until_full),
    ):
        response = client_for(documenter).post(
            "/api/v1/media/",
            {"file": upload(unique_png(), "p.png", "image/png"), "incident": incident.pk},
            format="multipart",
        )
    assert response.status_code == 507
    assert MediaItem.objects.count() == 0 and SealedOriginal.objects.count() == 0
    assert files_under(media_root) == []
