"""Who may fetch what; the chain of custody; fixity; derivatives that fail never lose the original."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from evidence import services, tasks
from evidence.models import CustodyAction, CustodyEvent, DerivativeStatus, FixityStatus, MediaItem, SealedOriginal
from incidents.models import Status
from tests.conftest import client_for, make_user, skip_or_fail, transactional
from tests.evidence.conftest import jpeg_with_everything, upload, wav_bytes

URL = "/api/v1/media/"


@pytest.fixture
def item(documenter, incident, django_capture_on_commit_callbacks) -> MediaItem:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(documenter).post(
            URL, {"file": upload(jpeg_with_everything(), "scene.jpg"), "incident": incident.pk}, format="multipart"
        )
    assert response.status_code == 201, response.content
    return MediaItem.objects.select_related("original").get(pk=response.json()["id"])


def submitted(item: MediaItem) -> MediaItem:
    from incidents.models import Incident

    MediaItem.objects.filter(pk=item.pk).update(status=Status.SUBMITTED)
    Incident.objects.filter(pk=item.incident_id).update(status=Status.SUBMITTED)
    item.refresh_from_db()
    return item


ACTORS = ["documenter", "second_documenter", "reviewer", "admin_user", "outsider", "anonymous"]


@pytest.mark.parametrize(
    ("actor", "detail", "original", "redacted", "custody"),
    [
        # The uploader: everything.
        ("documenter", 200, 200, 200, 200),
        # Another documenter: the item is in someone else's unverified incident → 404 everywhere.
        ("second_documenter", 404, 404, 404, 404),
        # Reviewers and admins: everything once submitted.
        ("reviewer", 200, 200, 200, 200),
        ("admin_user", 200, 200, 200, 200),
        # Signed in without a role: 403; anonymous: 401.
        ("outsider", 403, 403, 403, 403),
        ("anonymous", 401, 401, 401, 401),
    ],
)
def test_access_to_a_submitted_item_per_role(request, item, actor, detail, original, redacted, custody):
    submitted(item)
    user = None if actor == "anonymous" else request.getfixturevalue(actor)
    client = client_for(user)
    assert client.get(f"{URL}{item.pk}/").status_code == detail
    assert client.get(f"{URL}{item.pk}/original/").status_code == original
    assert client.get(f"{URL}{item.pk}/redacted/").status_code == redacted
    assert client.get(f"{URL}{item.pk}/custody/").status_code == custody
    listed = client.get(URL)
    if detail == 200:
        assert [row["id"] for row in listed.json()["results"]] == [item.pk]
    elif detail == 404:
        assert listed.json()["results"] == []


def test_reviewer_cannot_see_a_draft_item_of_someone_else(reviewer, item):
    assert client_for(reviewer).get(f"{URL}{item.pk}/original/").status_code == 404
    assert client_for(reviewer).get(URL).json()["results"] == []


def test_documenter_sees_a_verified_item_but_not_its_original(second_documenter, item):
    from incidents.models import Incident

    MediaItem.objects.filter(pk=item.pk).update(status=Status.VERIFIED)
    Incident.objects.filter(pk=item.incident_id).update(status=Status.VERIFIED)
    client = client_for(second_documenter)
    assert client.get(f"{URL}{item.pk}/").status_code == 200
    assert client.get(f"{URL}{item.pk}/redacted/").status_code == 200
    assert client.get(f"{URL}{item.pk}/original/").status_code == 403
    assert not CustodyEvent.objects.filter(action=CustodyAction.DOWNLOADED).exists()


def test_original_is_served_as_an_uncached_sandboxed_attachment(documenter, item):
    response = client_for(documenter).get(f"{URL}{item.pk}/original/", HTTP_ACCEPT="application/octet-stream")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="scene.jpg"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["Content-Type"] == "image/jpeg"
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == item.original.sha256
    import base64

    assert response["Repr-Digest"] == f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


def test_non_ascii_names_are_encoded_per_rfc_6266(documenter, incident):
    response = client_for(documenter).post(
        URL, {"file": upload(wav_bytes(), "شهادة.wav", "audio/wav"), "incident": incident.pk}, format="multipart"
    )
    assert response.status_code == 201
    download = client_for(documenter).get(f"{URL}{response.json()['id']}/original/")
    assert download["Content-Disposition"] == "attachment; filename*=utf-8''%D8%B4%D9%87%D8%A7%D8%AF%D8%A9.wav"


def test_custody_records_upload_derivation_and_each_download_in_order(documenter, reviewer, item):
    submitted(item)
    client_for(reviewer).get(f"{URL}{item.pk}/original/")
    client_for(documenter).get(f"{URL}{item.pk}/original/")
    client_for(reviewer).get(f"{URL}{item.pk}/redacted/")  # working copies are not the original: no event
    services.check_fixity(item.original_id)
    events = client_for(reviewer).get(f"{URL}{item.pk}/custody/").json()
    assert [(e["action"], e["actor"]) for e in events] == [
        ("uploaded", "documenter"),
        ("derived", None),
        ("downloaded", "reviewer"),
        ("downloaded", "documenter"),
        ("fixity_checked", None),
    ]
    assert events[0]["sha256"] == item.original.sha256 and events[0]["size"] == item.original.size
    assert events[1]["details"]["working_copy"]["content_type"] == "image/jpeg"
    assert events[4]["details"]["outcome"] == "ok"
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)


def test_media_cannot_be_deleted_and_custody_has_no_write_endpoint(documenter, item):
    client = client_for(documenter)
    assert client.delete(f"{URL}{item.pk}/").status_code == 405
    assert client.post(f"{URL}{item.pk}/custody/", {}, format="json").status_code == 405
    assert MediaItem.objects.filter(pk=item.pk).exists()


@transactional
def test_custody_events_cannot_be_changed_or_deleted_on_postgresql(documenter, incident):
    if connection.vendor != "postgresql":
        skip_or_fail("the append-only trigger is PostgreSQL's (SQLite relies on the application never updating)")
    response = client_for(documenter).post(
        URL, {"file": upload(wav_bytes(), "a.wav", "audio/wav"), "incident": incident.pk}, format="multipart"
    )
    event = CustodyEvent.objects.get(item_id=response.json()["id"], action="uploaded")
    for statement in (
        lambda: CustodyEvent.objects.filter(pk=event.pk).update(sha256="0" * 64),
        lambda: CustodyEvent.objects.filter(pk=event.pk).delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            statement()
    event.refresh_from_db()
    assert event.sha256 == response.json()["sha256"]


def test_sealed_original_is_read_only_on_disk(item, media_root):
    mode = (media_root / item.original.path).stat().st_mode
    assert not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def test_fixity_check_flags_a_changed_original(item, media_root, reviewer):
    path = media_root / item.original.path
    os.chmod(path, 0o600)
    path.write_bytes(path.read_bytes() + b"tampered")
    assert tasks.check_fixity.delay(item.original_id).get() == FixityStatus.CHANGED
    sealed = SealedOriginal.objects.get(pk=item.original_id)
    assert sealed.fixity_status == FixityStatus.CHANGED and sealed.fixity_checked_at is not None
    event = CustodyEvent.objects.filter(item=item, action=CustodyAction.FIXITY_CHECKED).get()
    assert event.details["outcome"] == "changed" and event.sha256 != item.original.sha256
    submitted(item)
    assert client_for(reviewer).get(f"{URL}{item.pk}/").json()["fixity"] == "changed"


def test_fixity_check_flags_a_missing_original(item, media_root):
    path = media_root / item.original.path
    os.chmod(path.parent, 0o700)
    path.unlink()
    assert services.check_fixity(item.original_id) == FixityStatus.MISSING


def test_scheduled_fixity_run_checks_every_original_due(item, settings):
    assert "evidence.tasks.schedule_fixity_checks" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert tasks.schedule_fixity_checks.delay().get() == 1
    assert SealedOriginal.objects.get(pk=item.original_id).fixity_status == FixityStatus.OK
    # Just checked: not due again until the interval has passed.
    assert tasks.schedule_fixity_checks.delay().get() == 0


def test_processing_twice_changes_nothing(item):
    before = list(CustodyEvent.objects.filter(item=item).values_list("pk", flat=True))
    assert tasks.process_media_item.delay(item.pk).get() == DerivativeStatus.DONE
    assert list(CustodyEvent.objects.filter(item=item).values_list("pk", flat=True)) == before


def test_a_failed_derivative_keeps_the_original_and_says_why(documenter, incident, media_root, monkeypatch, reviewer):
    from evidence import media

    def explode(*args, **kwargs):
        raise MemoryError("simulated: image too large to rebuild")

    monkeypatch.setattr(media, "build_working_copies", explode)
    content = jpeg_with_everything()
    response = client_for(documenter).post(
        URL, {"file": upload(content, "x.jpg"), "incident": incident.pk}, format="multipart"
    )
    item = MediaItem.objects.get(pk=response.json()["id"])
    assert services.process_media_item(item.pk) == DerivativeStatus.FAILED
    item.refresh_from_db()
    assert "MemoryError" in item.derivative_note
    assert (media_root / item.original.path).read_bytes() == content
    assert CustodyEvent.objects.filter(item=item, action=CustodyAction.DERIVATION_FAILED).count() == 1
    body = client_for(documenter).get(f"{URL}{item.pk}/").json()
    assert body["derivative_status"] == "failed" and "MemoryError" in body["derivative_note"]
    assert client_for(documenter).get(f"{URL}{item.pk}/redacted/").status_code == 404
    assert client_for(documenter).get(f"{URL}{item.pk}/original/").status_code == 200


def test_video_without_ffmpeg_is_recorded_as_unavailable(documenter, incident, monkeypatch):
    from evidence import media

    monkeypatch.setattr(media, "ffmpeg_available", lambda: False)
    response = client_for(documenter).post(
        URL, {"file": upload(wav_bytes(), "a.wav", "audio/wav"), "incident": incident.pk}, format="multipart"
    )
    assert response.status_code == 201
    assert services.process_media_item(response.json()["id"]) == DerivativeStatus.UNAVAILABLE
    body = client_for(documenter).get(f"{URL}{response.json()['id']}/").json()
    assert "ffmpeg" in body["derivative_note"]


def test_audio_is_stripped_with_ffmpeg_when_installed(documenter, incident, tmp_path):
    import shutil
    import subprocess

    if not shutil.which("ffmpeg"):
        skip_or_fail("ffmpeg is not installed (make system-deps)")
    source = tmp_path / "tagged.wav"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=1",
            "-metadata",
            "artist=canary-artist",
            "-metadata",
            "comment=canary-comment",
            str(source),
        ],
        check=True,
    )
    content = source.read_bytes()
    assert b"canary-artist" in content
    response = client_for(documenter).post(
        URL, {"file": upload(content, "tagged.wav", "audio/wav"), "incident": incident.pk}, format="multipart"
    )
    assert response.status_code == 201, response.content
    item_id = response.json()["id"]
    assert services.process_media_item(item_id) == DerivativeStatus.DONE
    item = MediaItem.objects.get(pk=item_id)
    assert item.metadata["tags"]["artist"] == "canary-artist"
    data = b"".join(client_for(documenter).get(f"{URL}{item_id}/redacted/").streaming_content)
    assert data.startswith(b"RIFF") and b"canary-artist" not in data and b"canary-comment" not in data


def test_export_hook_adds_a_custody_event(item, admin_user):
    assert services.record_export(actor=admin_user, items=[item], export="evidence bundle 7") == 1
    event = CustodyEvent.objects.filter(item=item).order_by("-id").first()
    assert event.action == "exported" and event.actor == admin_user


def test_identity_permission_grant_does_not_open_originals(item):
    grantee = make_user("grantee", "documenter")
    assert client_for(grantee).get(f"{URL}{item.pk}/original/").status_code == 404


AV_SAMPLES = {
    "mp4": (
        ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=1", "-c:v", "libx264", "-pix_fmt", "yuv420p"],
        "video/mp4",
    ),
    "mov": (
        ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=1", "-c:v", "libx264", "-pix_fmt", "yuv420p"],
        "video/quicktime",
    ),
    "webm": (["-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=1", "-c:v", "libvpx"], "video/webm"),
    "mp3": (["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libmp3lame"], "audio/mpeg"),
    "m4a": (["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "aac"], "audio/mp4"),
    "ogg": (["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libvorbis"], "audio/ogg"),
}


def _ffmpeg_sample(tmp_path, extension: str) -> bytes:
    import shutil
    import subprocess

    if not shutil.which("ffmpeg"):
        skip_or_fail("ffmpeg is not installed (make system-deps)")
    target = tmp_path / f"sample.{extension}"
    arguments, _type = AV_SAMPLES[extension]
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            *arguments,
            "-metadata",
            "title=canary-title",
            "-metadata",
            "location=+35.9306+036.6339/",
            str(target),
        ],
        check=True,
        timeout=60,
    )
    return target.read_bytes()


@pytest.mark.parametrize("extension", sorted(AV_SAMPLES))
def test_audio_and_video_are_accepted_and_stripped_of_container_metadata(documenter, incident, tmp_path, extension):
    content = _ffmpeg_sample(tmp_path, extension)
    assert b"canary-title" in content
    response = client_for(documenter).post(
        URL,
        {"file": upload(content, f"clip.{extension}", "application/octet-stream"), "incident": incident.pk},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == AV_SAMPLES[extension][1]
    item_id = response.json()["id"]
    assert services.process_media_item(item_id) == DerivativeStatus.DONE, MediaItem.objects.get(
        pk=item_id
    ).derivative_note
    item = MediaItem.objects.get(pk=item_id)
    assert item.metadata["tags"].get("title") == "canary-title" or item.metadata["tags"].get("TITLE") == "canary-title"
    data = b"".join(client_for(documenter).get(f"{URL}{item_id}/redacted/").streaming_content)
    assert b"canary-title" not in data and b"+35.9306" not in data
    assert len(data) > 100
    original = b"".join(client_for(documenter).get(f"{URL}{item_id}/original/").streaming_content)
    assert original == content
    thumbnail = client_for(documenter).get(f"{URL}{item_id}/redacted/?thumbnail=1")
    if item.original.kind == "video":
        assert thumbnail.status_code == 200
        assert b"".join(thumbnail.streaming_content).startswith(b"\xff\xd8")
    else:
        assert thumbnail.status_code == 404


def test_gps_telemetry_in_a_subtitle_stream_is_left_out_of_the_working_copy(documenter, incident, tmp_path):
    """Drones write position per frame into a subtitle track; the working copy keeps audio and video only."""
    import subprocess

    _ffmpeg_sample(tmp_path, "mp4")  # writes sample.mp4
    track = tmp_path / "gps.srt"
    track.write_text("1\n00:00:00,000 --> 00:00:01,000\nGPS(35.9306,36.6339) canary-telemetry\n\n")
    combined = tmp_path / "drone.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(tmp_path / "sample.mp4"),
            "-i",
            str(track),
            "-map",
            "0",
            "-map",
            "1",
            "-c",
            "copy",
            "-c:s",
            "mov_text",
            str(combined),
        ],
        check=True,
        timeout=60,
    )
    content = combined.read_bytes()
    assert b"canary-telemetry" in content
    response = client_for(documenter).post(
        URL, {"file": upload(content, "drone.mp4", "video/mp4"), "incident": incident.pk}, format="multipart"
    )
    assert response.status_code == 201, response.content
    assert services.process_media_item(response.json()["id"]) == DerivativeStatus.DONE
    data = b"".join(client_for(documenter).get(f"{URL}{response.json()['id']}/redacted/").streaming_content)
    assert b"canary-telemetry" not in data and b"35.9306" not in data


def test_a_corrupt_video_is_refused_with_400(documenter, incident, tmp_path, media_root):
    content = _ffmpeg_sample(tmp_path, "mp4")
    broken = content[:40] + b"\x00" * (len(content) - 40)
    response = client_for(documenter).post(
        URL, {"file": upload(broken, "clip.mp4", "video/mp4"), "incident": incident.pk}, format="multipart"
    )
    assert response.status_code == 400, response.content  # an MP4 by its first bytes, damaged after: 400, not 415
    assert not MediaItem.objects.exists()
    assert list(media_root.rglob("*.part")) == [] and not list((media_root / "evidence").rglob("originals/*/*/*"))


@transactional
def test_two_simultaneous_uploads_of_the_same_bytes_store_one_original(documenter, second_documenter, media_root):
    import threading

    from django.db import connections

    from evidence.uploads import StreamedUpload, incoming_dir
    from tests.conftest import make_incident

    if connection.vendor != "postgresql":
        skip_or_fail("concurrent transactions need PostgreSQL")
    content = jpeg_with_everything()
    sha = hashlib.sha256(content).hexdigest()
    incidents = [make_incident(documenter), make_incident(second_documenter)]
    authors = [documenter, second_documenter]
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def upload_once(index: int) -> None:
        try:
            temp = incoming_dir() / f"race-{index}.part"
            temp.write_bytes(content)
            streamed = StreamedUpload(temp_path=temp, name="same.jpg", sha256=sha, size=len(content), content_type="")
            barrier.wait(timeout=10)
            with transaction.atomic():
                item, _created = services.upload_media(
                    author=authors[index], incident=incidents[index], upload=streamed
                )
            outcomes.append(item.pk)
        except Exception as exc:  # reported below
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=upload_once, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    assert SealedOriginal.objects.count() == 1
    assert MediaItem.objects.filter(original__sha256=sha).count() == 2
    files = [p for p in (media_root / "evidence" / "originals").rglob("*") if p.is_file()]
    assert [p.name for p in files] == [sha]
    assert not list(media_root.rglob("*.part"))
    assert files[0].read_bytes() == content


def test_metadata_the_database_refuses_is_dropped_not_fatal(documenter, incident, monkeypatch):
    from evidence import media

    if connection.vendor != "postgresql":
        skip_or_fail("only PostgreSQL refuses NUL inside JSON")
    monkeypatch.setattr(media, "extract_metadata", lambda path, allowed: {"raw": "a\x00b"})
    response = client_for(documenter).post(
        URL, {"file": upload(jpeg_with_everything(), "x.jpg"), "incident": incident.pk}, format="multipart"
    )
    item_id = response.json()["id"]
    assert services.process_media_item(item_id) == DerivativeStatus.DONE
    item = MediaItem.objects.get(pk=item_id)
    assert item.metadata == {} and "metadata dropped" in item.derivative_note
    assert CustodyEvent.objects.filter(item=item, action=CustodyAction.DERIVED).count() == 1


def test_every_scheduled_task_is_a_registered_task(settings):
    from config.celery import app

    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks, entry["task"]


def test_fixity_command_reports_changed_originals(item, media_root):
    from io import StringIO

    out = StringIO()
    call_command("check_media_fixity", "--all", stdout=out)
    assert "Checked 1 original(s); 0 changed" in out.getvalue()
    path = media_root / item.original.path
    os.chmod(path, 0o600)
    path.write_bytes(b"replaced")
    with pytest.raises(Exception, match="failed the fixity check"):
        call_command("check_media_fixity", "--all", stdout=StringIO(), stderr=StringIO())
    assert SealedOriginal.objects.get(pk=item.original_id).fixity_status == FixityStatus.CHANGED


def test_only_the_uploader_edits_the_description_while_editable(documenter, second_documenter, item):
    url = f"{URL}{item.pk}/"
    response = client_for(documenter).patch(
        url, {"description": "Market, north side", "status": "verified"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["description"] == "Market, north side" and response.json()["status"] == "draft"
    assert response.json()["sha256"] == item.original.sha256
    assert client_for(second_documenter).patch(url, {"description": "x"}, format="json").status_code == 404
    submitted(item)
    assert client_for(documenter).patch(url, {"description": "late"}, format="json").status_code == 409
    item.refresh_from_db()
    assert item.description == "Market, north side"


def verified(item: MediaItem) -> MediaItem:
    from incidents.models import Incident

    MediaItem.objects.filter(pk=item.pk).update(status=Status.VERIFIED)
    Incident.objects.filter(pk=item.incident_id).update(status=Status.VERIFIED)
    item.refresh_from_db()
    return item


# What the JPEG's metadata holds (tests/evidence/conftest.py): GPS, device, serial, capture time.
METADATA_TRACES = ("SERIAL-424242", "CanaryCam", "35.93", "2020:01:15 12:34:56")


@pytest.mark.parametrize(
    ("actor", "sees_metadata"),
    [("documenter", True), ("second_documenter", False), ("reviewer", True), ("admin_user", True)],
)
def test_metadata_follows_the_originals_rule_in_detail_and_list(request, item, actor, sees_metadata):
    verified(item)
    assert item.metadata["device_serial"] == "SERIAL-424242"
    client = client_for(request.getfixturevalue(actor))
    detail = client.get(f"{URL}{item.pk}/")
    listed = client.get(URL).json()["results"]
    assert detail.status_code == 200 and [row["id"] for row in listed] == [item.pk]
    original = client.get(f"{URL}{item.pk}/original/").status_code
    assert (original == 200) is sees_metadata, "metadata and the original: one rule"
    for body, text in ((detail.json(), detail.content.decode()), (listed[0], str(listed[0]))):
        if sees_metadata:
            assert body["metadata"]["device_serial"] == "SERIAL-424242"
        else:
            assert "metadata" not in body, "absent, not blanked"
            assert not [trace for trace in METADATA_TRACES if trace in text]
            assert body["sha256"] == item.original.sha256, "the rest of the item is still there"


def test_pages_show_metadata_only_to_those_who_may_download_the_original(second_documenter, reviewer, item):
    from tests.conftest import web_client_for

    verified(item)
    pages = [f"/en/incidents/{item.incident_id}/", f"/en/evidence/incidents/{item.incident_id}/"]
    for path in pages:
        html = web_client_for(second_documenter).get(path).content.decode()
        assert f"/api/v1/media/{item.pk}/redacted/" in html, "the item itself is shown"
        assert not [trace for trace in METADATA_TRACES if trace in html], path
    review = web_client_for(reviewer).get(f"/en/review/media/{item.pk}/").content.decode()
    assert "CanaryCam" in review and "35.93" in review, "the positive control: a reviewer sees it"
