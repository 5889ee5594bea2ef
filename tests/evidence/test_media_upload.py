"""Uploads: streamed and hashed, checked by content, sealed byte-identical, working copies stripped."""

from __future__ import annotations

import hashlib
import io
import time
import tracemalloc

import pytest
from PIL import Image
from rest_framework.test import APIRequestFactory, force_authenticate

from evidence.api import MediaItemViewSet
from evidence.models import CustodyEvent, DerivativeStatus, MediaItem, SealedOriginal
from tests.conftest import client_for
from tests.evidence.conftest import (
    EPS_BYTES,
    HTML_BYTES,
    PSD_BYTES,
    SVG_BYTES,
    jpeg_with_everything,
    media_files,
    pdf_with_metadata,
    plain_png,
    png_header_claiming,
    png_with_text,
    tiff_bytes,
    upload,
    wav_bytes,
)

URL = "/api/v1/media/"


def post_file(user, incident, content: bytes, name: str = "photo.jpg", **extra):
    return client_for(user).post(
        URL,
        {"file": upload(content, name), "incident": incident.pk, "description": "A photo", **extra},
        format="multipart",
    )


def processed(response, django_capture_on_commit_callbacks=None) -> MediaItem:
    return MediaItem.objects.select_related("original").get(pk=response.json()["id"])


def test_jpeg_original_is_sealed_byte_identical_and_working_copy_has_no_metadata(
    documenter, incident, media_root, django_capture_on_commit_callbacks
):
    content = jpeg_with_everything()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(documenter, incident, content)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["size"] == len(content)
    assert body["content_type"] == "image/jpeg"
    assert body["status"] == "draft"
    item = processed(response)
    sealed_path = media_root / item.original.path
    assert sealed_path.read_bytes() == content
    assert item.original.path == f"evidence/originals/{body['sha256'][:2]}/{body['sha256'][2:4]}/{body['sha256']}"

    # Metadata was extracted from the original...
    assert item.derivative_status == DerivativeStatus.DONE, item.derivative_note
    assert item.metadata["gps"] == {
        "latitude": pytest.approx(35.9306, abs=1e-4),
        "longitude": pytest.approx(36.6339, abs=1e-4),
    }
    assert item.metadata["device"] == "CanaryMaker CanaryCam 9"
    assert item.metadata["device_serial"] == "SERIAL-424242"
    assert item.metadata["captured_at"] == "2020:01:15 12:34:56"
    assert item.metadata["comment"] == "canary comment"

    # ...and the working copy carries none of it: rebuilt from pixels, orientation applied.
    working = client_for(documenter).get(f"{URL}{item.pk}/redacted/")
    assert working.status_code == 200
    data = b"".join(working.streaming_content)
    for marker in (b"CanaryMaker", b"CanaryCam", b"SERIAL-424242", b"canary comment", b"canary-xmp", b"Exif", b"GPS"):
        assert marker not in data, marker
    assert data.count(b"\xff\xd8") == 1, "no embedded thumbnail"
    copy = Image.open(io.BytesIO(data))
    assert copy.size == (48, 64), "EXIF orientation 6 applied before stripping"
    assert not copy.getexif()
    assert "comment" not in copy.info and "xmp" not in copy.info and "exif" not in copy.info
    # Left half was red before rotation → the top half is red after a 90° clockwise turn.
    top = copy.convert("RGB").getpixel((24, 10))
    assert top[0] > 150 and top[1] < 90
    # The original on disk is untouched by derivation.
    assert sealed_path.read_bytes() == content

    thumb = client_for(documenter).get(f"{URL}{item.pk}/redacted/?thumbnail=1")
    assert thumb.status_code == 200
    assert b"SERIAL" not in b"".join(thumb.streaming_content)


def test_png_text_chunks_are_extracted_then_stripped(documenter, incident, django_capture_on_commit_callbacks):
    content = png_with_text()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(documenter, incident, content, name="shot.png")
    assert response.status_code == 201, response.content
    item = processed(response)
    assert item.metadata["text"]["Author"] == "canary-author"
    assert item.metadata["text"]["Location"].endswith("canary-place")
    data = b"".join(client_for(documenter).get(f"{URL}{item.pk}/redacted/").streaming_content)
    for marker in (b"canary-author", b"canary png comment", b"canary-place", b"tEXt", b"iTXt", b"zTXt"):
        assert marker not in data
    copy = Image.open(io.BytesIO(data))
    assert copy.format == "PNG" and copy.mode == "RGBA" and copy.size == (40, 30)
    assert not getattr(copy, "text", {})


def test_pixel_flood_png_is_refused_in_under_a_second(documenter, incident, media_root):
    content = png_header_claiming(60000, 60000)
    started = time.monotonic()
    response = post_file(documenter, incident, content, name="bomb.png")
    elapsed = time.monotonic() - started
    assert response.status_code == 400
    assert "pixels" in response.json()["file"][0]
    assert elapsed < 1.0
    assert not MediaItem.objects.exists() and not SealedOriginal.objects.exists()
    assert media_files(media_root) == []


def test_pixel_limit_just_above_setting_is_refused(documenter, incident, settings):
    settings.MEDIA_MAX_IMAGE_PIXELS = 50
    response = post_file(documenter, incident, plain_png((8, 8)), name="small-but-over.png")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("content", "kind"),
    [(HTML_BYTES, "html"), (SVG_BYTES, "svg"), (tiff_bytes(), "tiff"), (EPS_BYTES, "eps"), (PSD_BYTES, "psd")],
)
def test_disguised_files_renamed_jpg_are_refused_with_415(documenter, incident, media_root, content, kind):
    response = post_file(documenter, incident, content, name=f"{kind}.jpg")
    assert response.status_code == 415, (kind, response.content)
    assert "not accepted" in response.json()["detail"]
    assert not MediaItem.objects.exists()
    assert media_files(media_root) == []


def _flip(content: bytes, at: int) -> bytes:
    data = bytearray(content)
    data[at] ^= 0xFF
    return bytes(data)


@pytest.mark.parametrize(
    "case",
    [
        "empty",
        "truncated_jpeg",
        "truncated_png",
        "bitflipped_png_data",
        "bitflipped_jpeg_header",
        "bitflipped_png_header",
    ],
)
def test_empty_truncated_and_bit_flipped_images_are_refused_with_400(documenter, incident, media_root, case):
    jpeg, png = jpeg_with_everything(), plain_png((64, 64))
    content = {
        "empty": b"",
        "truncated_jpeg": jpeg[: len(jpeg) // 2],
        "truncated_png": png[: len(png) - 30],
        "bitflipped_png_data": _flip(png, len(png) - 20),
        "bitflipped_jpeg_header": jpeg[:2] + _flip(jpeg[2:], 2)[:40] + b"\x00" * 30,
        "bitflipped_png_header": _flip(png, 30),
    }[case]
    response = post_file(documenter, incident, content, name="broken.jpg")
    assert response.status_code == 400, (case, response.status_code, response.content)
    assert not MediaItem.objects.exists()
    assert media_files(media_root) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../x.jpg", "x.jpg"),
        ("a.php.jpg", "a.php.jpg"),
        ("evil\x00.jpg", None),
        ("line\r\nX-Injected: 1.jpg", None),
        ("gpj.\u202eexe.jpg", None),
        ("صورة الضحية.jpg", "صورة الضحية.jpg"),
    ],
)
def test_hostile_file_names_are_kept_only_as_escaped_metadata(documenter, incident, media_root, name, expected):
    content = jpeg_with_everything()
    response = post_file(documenter, incident, content, name=name)
    assert response.status_code == 201, response.content
    item = processed(response)
    stored = item.original_name
    if expected is not None:
        assert stored == expected
    for raw in ("\x00", "\r", "\n", "\u202e", "/"):
        assert raw not in stored
    # The file lives only at its generated, content-addressed path.
    assert [p.relative_to(media_root).as_posix() for p in media_files(media_root)] == [item.original.path]
    download = client_for(documenter).get(f"{URL}{item.pk}/original/")
    assert download.status_code == 200
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment; filename")
    for raw in ("\x00", "\r", "\n", "\u202e", "/", ".."):
        assert raw not in disposition
    assert b"".join(download.streaming_content) == content


def test_escaped_names_show_control_and_bidi_characters_as_escapes():
    from evidence.media import download_name, escape_name

    assert escape_name("gpj.\u202eexe.jpg") == "gpj.\\u202eexe.jpg"
    assert escape_name("a\x00b\r\n.jpg") == "a\\u0000b\\u000d\\u000a.jpg"
    assert escape_name("نور\u200cجهان.jpg") == "نور\u200cجهان.jpg", "ZWNJ is part of Persian names"
    assert download_name(escape_name("../..\\x\u202e.php.jpg"), "ab" * 32, "jpg") == "_._x.php.jpg"


def test_upload_over_the_limit_is_413_and_leaves_nothing_behind(documenter, incident, media_root, settings):
    settings.MEDIA_MAX_UPLOAD_BYTES = 100_000
    content = wav_bytes(seconds=10)  # 160 kB of valid audio
    assert len(content) > settings.MEDIA_MAX_UPLOAD_BYTES
    response = post_file(documenter, incident, content, name="long.wav")
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert not MediaItem.objects.exists() and not SealedOriginal.objects.exists()
    assert not CustodyEvent.objects.exists()
    assert media_files(media_root) == []


def test_fifty_megabyte_upload_streams_with_flat_memory(documenter, incident, media_root):
    size = 50 * 1024 * 1024
    content = wav_bytes(seconds=size / 16000)
    request = APIRequestFactory().post(
        URL, {"file": upload(content, "long.wav", "audio/wav"), "incident": incident.pk}, format="multipart"
    )
    force_authenticate(request, user=documenter)
    view = MediaItemViewSet.as_view({"post": "create"})
    del content
    tracemalloc.start()
    try:
        response = view(request)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 201, response.data
    assert response.data["size"] > size
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB while receiving a 50 MB upload"
    item = MediaItem.objects.get()
    assert (media_root / item.original.path).stat().st_size == response.data["size"]


def test_same_file_twice_for_the_same_incident_is_one_item(documenter, incident, media_root):
    content = jpeg_with_everything()
    first = post_file(documenter, incident, content)
    again = post_file(documenter, incident, content)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert MediaItem.objects.count() == 1
    assert len(media_files(media_root)) == 1


def test_same_bytes_elsewhere_are_linked_to_one_sealed_original(
    documenter, second_documenter, incident, verified_incident, media_root
):
    content = jpeg_with_everything()
    first = post_file(documenter, incident, content)
    linked = post_file(second_documenter, verified_incident, content, name="copy.jpg")
    assert first.status_code == 201 and linked.status_code == 201
    assert SealedOriginal.objects.count() == 1
    assert len(media_files(media_root)) == 1
    items = MediaItem.objects.order_by("pk")
    assert items[1].original_id == items[0].original_id
    assert items[1].duplicate_of_id == items[0].pk
    # The second documenter may not see the first's draft item, so the link is not shown to them.
    assert linked.json()["duplicate_of"] is None
    uploaded = CustodyEvent.objects.get(item=items[1], action="uploaded")
    assert "already_sealed" not in uploaded.details, "the uploader's custody never tells of the other item"


def what_the_uploader_sees(user, item_id: int) -> dict:
    """The uploader's item and its custody, with what differs between any two uploads (ids, hashes,
    sizes, names, times, paths) replaced by placeholders: what remains must not depend on other records."""
    client = client_for(user)
    item = client.get(f"{URL}{item_id}/").json()
    custody = client.get(f"{URL}{item_id}/custody/").json()
    per_upload = {"id", "incident", "sha256", "expected_sha256", "size", "original_name", "path", "at"}
    per_upload |= {"created_by", "created_at", "updated_at"}

    def blank(value):
        if isinstance(value, dict):
            return {key: "<per upload>" if key in per_upload else blank(inner) for key, inner in value.items()}
        if isinstance(value, list):
            return [blank(inner) for inner in value]
        return value

    return {"item": blank(item), "custody": blank(custody)}


def test_an_upload_looks_the_same_whether_or_not_its_bytes_are_sealed_in_a_hidden_record(
    documenter, second_documenter, media_root
):
    from evidence import services
    from tests.conftest import make_incident

    already_sealed = plain_png((12, 12))
    hidden = make_incident(second_documenter, title="someone else's draft")
    assert post_file(second_documenter, hidden, already_sealed, name="a.png").status_code == 201
    services.check_fixity(SealedOriginal.objects.get().pk)  # the hidden item's original has been checked
    mine = make_incident(documenter, title="my incident")
    linked = post_file(documenter, mine, already_sealed, name="a.png")
    fresh = post_file(documenter, mine, plain_png((12, 13)), name="a.png")
    assert (linked.status_code, fresh.status_code) == (201, 201)
    assert MediaItem.objects.get(pk=linked.json()["id"]).original.items.count() == 2, "the bytes were linked"
    assert what_the_uploader_sees(documenter, linked.json()["id"]) == what_the_uploader_sees(
        documenter, fresh.json()["id"]
    )
    # And the earlier item's own custody does not change because somebody else uploaded its bytes.
    hidden_item = MediaItem.objects.filter(created_by=second_documenter).get()
    assert list(hidden_item.custody.values_list("action", flat=True)) == ["uploaded", "fixity_checked"]


def test_fixity_runs_per_item_so_a_linked_item_is_checked_on_its_own_schedule(
    documenter, second_documenter, media_root, settings
):
    from evidence import tasks
    from tests.conftest import make_incident

    content = plain_png((9, 9))
    post_file(second_documenter, make_incident(second_documenter), content, name="a.png")
    assert tasks.schedule_fixity_checks.delay().get() == 1
    linked = post_file(documenter, make_incident(documenter), content, name="a.png").json()
    assert tasks.schedule_fixity_checks.delay().get() == 1, "the new item is due although its original is not"
    events = CustodyEvent.objects.filter(action="fixity_checked").order_by("pk")
    assert [event.item_id for event in events] == [MediaItem.objects.get(created_by=second_documenter).pk, linked["id"]]
    shown = client_for(documenter).get(f"{URL}{linked['id']}/").json()
    assert shown["fixity"] == "ok" and shown["fixity_checked_at"] is not None
    assert tasks.schedule_fixity_checks.delay().get() == 0


def test_pdf_working_copy_drops_document_metadata(documenter, incident, django_capture_on_commit_callbacks):
    content = pdf_with_metadata()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(documenter, incident, content, name="report.pdf")
    assert response.status_code == 201, response.content
    item = processed(response)
    assert item.metadata["document"]["Author"] == "canary-pdf-author"
    assert item.derivative_status == DerivativeStatus.DONE
    data = b"".join(client_for(documenter).get(f"{URL}{item.pk}/redacted/").streaming_content)
    assert data.startswith(b"%PDF")
    assert b"canary-pdf-author" not in data and b"CanaryWriter" not in data


def test_two_files_in_one_request_are_refused(documenter, incident, media_root):
    response = client_for(documenter).post(
        URL,
        {"file": [upload(plain_png(), "a.png"), upload(plain_png((9, 9)), "b.png")], "incident": incident.pk},
        format="multipart",
    )
    assert response.status_code == 400
    assert not MediaItem.objects.exists()
    assert media_files(media_root) == []


def test_upload_without_a_file_or_to_a_hidden_incident_is_400(documenter, second_documenter, media_root):
    from tests.conftest import make_incident

    hidden = make_incident(second_documenter)
    no_file = client_for(documenter).post(URL, {"incident": hidden.pk}, format="multipart")
    assert no_file.status_code == 400
    hidden_incident = post_file(documenter, hidden, plain_png(), name="x.png")
    assert hidden_incident.status_code == 400
    assert "incident" in hidden_incident.json()
    assert not MediaItem.objects.exists()
    assert media_files(media_root) == []


def test_clients_cannot_set_server_owned_fields(documenter, incident):
    response = post_file(
        documenter, incident, plain_png(), name="x.png", status="verified", sha256="0" * 64, original_name="evil"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "draft" and body["sha256"] != "0" * 64 and body["original_name"] == "x.png"


def test_disk_full_while_streaming_is_507_and_leaves_nothing_behind(documenter, incident, media_root, monkeypatch):
    import errno

    from evidence import uploads

    real_fdopen = uploads.os.fdopen

    class FullDisk:
        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.handle, name)

    monkeypatch.setattr(uploads.os, "fdopen", lambda fd, mode: FullDisk(real_fdopen(fd, mode)))
    response = post_file(documenter, incident, jpeg_with_everything())
    assert response.status_code == 507
    assert "nothing was saved" in response.json()["detail"]
    assert not MediaItem.objects.exists()
    assert media_files(media_root) == []


def test_too_many_multipart_fields_is_400_and_leaves_nothing_behind(documenter, incident, media_root, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20
    fields = {f"extra{i}": "x" for i in range(50)}
    response = client_for(documenter).post(
        URL, {"file": upload(plain_png(), "a.png"), "incident": incident.pk, **fields}, format="multipart"
    )
    assert response.status_code == 400
    assert not MediaItem.objects.exists()
    assert media_files(media_root) == []


def test_upload_succeeds_when_the_broker_is_down_and_is_processed_later(
    documenter, incident, monkeypatch, django_capture_on_commit_callbacks
):
    import datetime as dt

    from kombu.exceptions import OperationalError

    from evidence import tasks
    from outbox.tasks import deliver

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    # The upload's work goes through the outbox, relayed after commit: the broker refuses it.
    with monkeypatch.context() as broker:
        broker.setattr(deliver, "apply_async", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            response = post_file(documenter, incident, jpeg_with_everything())
    assert response.status_code == 201
    item = MediaItem.objects.get(pk=response.json()["id"])
    assert item.derivative_status == DerivativeStatus.PENDING
    # The broker is back; the beat task hands over items left pending (the outbox sweep would too).
    assert tasks.process_pending_media.delay().get() == 0, "too recent to be considered lost"
    MediaItem.objects.filter(pk=item.pk).update(created_at=item.created_at - dt.timedelta(hours=1))
    assert tasks.process_pending_media.delay().get() == 1
    item.refresh_from_db()
    assert item.derivative_status == DerivativeStatus.DONE


def test_heic_is_accepted_and_its_working_copy_is_a_clean_jpeg(
    documenter, incident, django_capture_on_commit_callbacks
):
    from PIL import ExifTags

    from evidence import media

    if not media.HEIF_AVAILABLE:
        from tests.conftest import skip_or_fail

        skip_or_fail("pillow-heif is not installed")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "CanaryPhone"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (35.0, 55.0, 50.16), 3: "E", 4: (36.0, 38.0, 2.04)})
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 10, 10)).save(out, format="HEIF", exif=exif.tobytes())
    content = out.getvalue()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(documenter, incident, content, name="IMG_0001.HEIC")
    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == "image/heic"
    item = processed(response)
    assert item.metadata["device"] == "CanaryPhone" and "gps" in item.metadata
    data = b"".join(client_for(documenter).get(f"{URL}{item.pk}/redacted/").streaming_content)
    copy = Image.open(io.BytesIO(data))
    assert copy.format == "JPEG" and copy.size == (32, 24) and not copy.getexif()
    assert b"CanaryPhone" not in data


def test_reviewer_upload_is_refused_before_the_body_is_stored(reviewer, verified_incident, media_root, monkeypatch):
    from evidence import uploads

    started = []
    monkeypatch.setattr(uploads.HashingUploadHandler, "new_file", lambda *a, **k: started.append(1))
    response = post_file(reviewer, verified_incident, plain_png(), name="x.png")
    assert response.status_code == 403
    assert started == [], "the file was never streamed"
    assert media_files(media_root) == []


def test_hostile_metadata_is_stored_clean(documenter, incident, django_capture_on_commit_callbacks):
    """NUL (refused by PostgreSQL JSON), terminal escapes and 0/0 rationals (NaN) in EXIF."""
    from PIL import ExifTags, TiffImagePlugin

    exif = Image.Exif()
    exif[ExifTags.Base.ImageDescription] = "evil\x00desc\x1b[31m"
    exif[ExifTags.Base.XResolution] = TiffImagePlugin.IFDRational(1, 0)
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "JPEG", exif=exif)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(documenter, incident, out.getvalue())
    assert response.status_code == 201
    item = processed(response)
    assert item.derivative_status == DerivativeStatus.DONE
    assert item.metadata["exif"]["ImageDescription"] == "evildesc[31m"
    assert item.metadata["exif"]["XResolution"] is None
    assert client_for(documenter).get(f"{URL}{item.pk}/").status_code == 200


def test_sealing_works_where_hard_links_do_not(documenter, incident, media_root, monkeypatch):
    import errno

    from evidence import media

    def no_links(source, target):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(media.os, "link", no_links)
    content = jpeg_with_everything()
    response = post_file(documenter, incident, content)
    assert response.status_code == 201
    item = processed(response)
    assert (media_root / item.original.path).read_bytes() == content
    assert [p.relative_to(media_root).as_posix() for p in media_files(media_root)] == [item.original.path]


def test_pixel_limit_holds_even_when_warnings_are_silenced(documenter, incident, settings, monkeypatch):
    """Another thread may have changed the process-wide warnings filter: the size check stands alone."""
    import warnings

    from evidence import media

    settings.MEDIA_MAX_IMAGE_PIXELS = 50
    monkeypatch.setattr(media.warnings, "simplefilter", lambda *args, **kwargs: None)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore")
        response = post_file(documenter, incident, plain_png((8, 8)), name="over.png")
    assert response.status_code == 400
    assert "pixels" in response.json()["file"][0]
