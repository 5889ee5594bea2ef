"""Pages and the API refuse the same input (the services' validation), and a refused or rolled-back
upload leaves no file behind."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from django.db import DatabaseError, transaction

from evidence import media, models, services, tasks
from evidence.models import CustodyEvent, MediaItem, SealedOriginal, Witness
from tests.conftest import client_for, make_incident, web_client_for
from tests.evidence.conftest import plain_png, upload

BAD_IDENTITY = [
    pytest.param({"name": "Ahmad\u202eSaleh"}, "name", id="bidi override in the name"),
    pytest.param({"name": "Ahmad\x07"}, "name", id="control character in the name"),
    pytest.param({"name": "Ahmad", "contact": "+963\x00 1234"}, "contact", id="NUL in the contact"),
    pytest.param({"name": "Ahmad", "contact": "\u2066+963 1234"}, "contact", id="bidi isolate in the contact"),
    pytest.param({"name": "Ahmad", "notes": "met \u202d at the clinic"}, "notes", id="bidi override in the notes"),
    pytest.param({"name": "Ahmad", "contact": "9" * 501}, "contact", id="contact over 500 characters"),
    pytest.param({"name": "A" * 301}, "name", id="name over 300 characters"),
]


def filled_form(identity: dict) -> dict:
    return {
        "witness": "",
        "witness_name": identity.get("name", ""),
        "witness_contact": identity.get("contact", ""),
        "witness_notes": identity.get("notes", ""),
        "taken_on": "2020-01-16",
        "language": "ar",
        "statement": "The witness saw the strike.",
    }


@pytest.mark.parametrize(("identity", "field"), BAD_IDENTITY)
def test_the_testimony_page_refuses_the_witness_values_the_api_refuses(documenter, identity, field):
    incident = make_incident(documenter)
    api = client_for(documenter).post("/api/v1/witnesses/", identity, format="json")
    assert api.status_code == 400 and field in api.json()
    page = web_client_for(documenter).post(f"/en/incidents/{incident.pk}/testimony/", filled_form(identity))
    assert page.status_code == 400
    assert page.context["form"].errors.get(f"witness_{field}"), page.context["form"].errors
    assert not Witness.objects.exists() and not models.Testimony.objects.exists()


@pytest.mark.parametrize(("identity", "field"), BAD_IDENTITY)
def test_the_service_itself_refuses_them_whoever_calls_it(documenter, identity, field):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        services.register_witness(author=documenter, **identity)
    assert field in refused.value.message_dict
    witness = services.register_witness(author=documenter, name="Ahmad")
    with pytest.raises(ValidationError):
        services.update_witness(actor=documenter, witness=witness, **{**identity, "name": identity["name"]})
    assert services.witness_identity(actor=documenter, witness=Witness.objects.get())["name"] == "Ahmad"


def test_arabic_and_persian_identity_still_passes_on_both_paths(documenter):
    incident = make_incident(documenter)
    identity = {"name": "محمّد نورِ\u200cجهان", "contact": "واتساب +963 11 222", "notes": "التقينا\nفي العيادة"}
    page = web_client_for(documenter).post(f"/en/incidents/{incident.pk}/testimony/", filled_form(identity))
    assert page.status_code == 302
    assert services.witness_identity(actor=documenter, witness=Witness.objects.get()) == identity


def originals(media_root: Path) -> list[Path]:
    return sorted(path for path in media_root.rglob("*") if path.is_file())


BAD_DESCRIPTIONS = [
    pytest.param("Market \u202egpj.exe", id="bidi override"),
    pytest.param("x" * 50_000, id="50,000 characters"),
    pytest.param("Market\x00", id="NUL"),
    pytest.param("Market\x1b[31m", id="terminal escape"),
]


@pytest.mark.parametrize("description", BAD_DESCRIPTIONS)
def test_the_upload_page_refuses_the_descriptions_the_api_refuses_and_leaves_no_file(
    documenter, media_root, description
):
    incident = make_incident(documenter)
    api = client_for(documenter).post(
        "/api/v1/media/",
        {"file": upload(plain_png((5, 5)), "a.png", "image/png"), "incident": incident.pk, "description": description},
        format="multipart",
    )
    assert api.status_code == 400 and "description" in api.json()
    page = web_client_for(documenter).post(
        f"/en/incidents/{incident.pk}/media/",
        {"file": upload(plain_png((5, 6)), "b.png", "image/png"), "description": description},
    )
    assert page.status_code == 400
    assert "description" in page.content.decode().lower()
    assert not MediaItem.objects.exists() and not SealedOriginal.objects.exists()
    assert originals(media_root) == [], "no sealed file and no temporary file is left"


def test_a_valid_description_from_the_page_is_stored_verbatim(documenter, media_root):
    incident = make_incident(documenter)
    description = "سوق المدينة <script>alert(1)</script>\nالصورة الثانية"
    page = web_client_for(documenter).post(
        f"/en/incidents/{incident.pk}/media/", {"file": upload(plain_png((5, 7)), "c.png"), "description": description}
    )
    assert page.status_code == 302
    assert MediaItem.objects.get().description == description


def test_a_page_upload_whose_request_then_fails_leaves_no_sealed_file(documenter, media_root):
    """The request's transaction rolls back after the original was sealed: the file goes with it."""
    incident = make_incident(documenter)
    client = web_client_for(documenter)
    with mock.patch("evidence.services.outbox.enqueue", side_effect=DatabaseError("connection lost")):
        page = client.post(f"/en/incidents/{incident.pk}/media/", {"file": upload(plain_png((6, 6)), "d.png")})
    assert page.status_code == 503
    assert not MediaItem.objects.exists() and not SealedOriginal.objects.exists()
    assert originals(media_root) == []


def test_an_api_upload_whose_request_then_fails_leaves_no_sealed_file(documenter, media_root):
    incident = make_incident(documenter)
    with mock.patch("evidence.services.outbox.enqueue", side_effect=DatabaseError("connection lost")):
        response = client_for(documenter).post(
            "/api/v1/media/", {"file": upload(plain_png((6, 7)), "e.png"), "incident": incident.pk}, format="multipart"
        )
    assert response.status_code == 503
    assert not MediaItem.objects.exists() and not SealedOriginal.objects.exists()
    assert originals(media_root) == []


def test_a_file_sealed_in_a_rolled_back_caller_transaction_is_removed_after_it(documenter, media_root):
    """A caller's own transaction (a command, an import) rolls back after upload_media returned."""
    from evidence.uploads import StreamedUpload

    incident = make_incident(documenter)
    content = plain_png((7, 7))
    temp = media_root / "incoming.part"
    temp.write_bytes(content)
    streamed = StreamedUpload(
        temp_path=temp, name="f.png", sha256=media.sha256_of(temp), size=len(content), content_type="image/png"
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        services.upload_media(author=documenter, incident=incident, upload=streamed)
        assert len(originals(media_root)) == 1
        raise RuntimeError("the caller fails after the upload")
    assert not SealedOriginal.objects.exists()
    media.discard_unrecorded_originals()  # what the end of a request or task runs
    assert originals(media_root) == []


def test_the_scheduled_sweep_removes_sealed_files_no_row_records(documenter, media_root, settings):
    """The safety net for a process killed between sealing and commit: files older than the grace time."""
    import os
    import time

    assert "evidence.tasks.remove_unrecorded_originals" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}
    incident = make_incident(documenter)
    kept = client_for(documenter).post(
        "/api/v1/media/", {"file": upload(plain_png((8, 8)), "g.png"), "incident": incident.pk}, format="multipart"
    )
    assert kept.status_code == 201
    orphan_sha = "ab" * 32
    orphan = media.absolute(media.original_relpath(orphan_sha))
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"left by a crashed process")
    young_sha = "cd" * 32
    young = media.absolute(media.original_relpath(young_sha))
    young.parent.mkdir(parents=True, exist_ok=True)
    young.write_bytes(b"an upload still in its transaction")
    old = time.time() - 2 * 3600
    os.utime(orphan, (old, old))
    os.utime(media.absolute(SealedOriginal.objects.get().path), (old, old))
    assert tasks.remove_unrecorded_originals.delay().get() == 1
    assert not orphan.exists() and young.exists()
    assert media.absolute(SealedOriginal.objects.get().path).exists(), "recorded originals are never touched"
    assert CustodyEvent.objects.count() == 1
