"""Keyed chains beyond the audit log's own tamper tests: the chain of custody, key rotation, entries
from before the chains were keyed, and signed checkpoints a verifier without the key can check."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit import chain, keys
from audit.models import AuditEntry
from audit.services import record_event, verify_chain, verify_chains
from evidence.models import CustodyEvent
from tests.conftest import client_for, make_incident

KEY_OLD = base64.b64encode(b"o" * 32).decode()
KEY_NEW = base64.b64encode(b"n" * 32).decode()


def execute(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def open_to_raw_sql() -> None:
    """The intruder owns the database: the append-only triggers are off (inside the test transaction)."""
    if connection.vendor == "postgresql":
        execute("SET CONSTRAINTS ALL IMMEDIATE")
        execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
        execute("ALTER TABLE evidence_custodyevent DISABLE TRIGGER USER")


def report_of(name: str, reports) -> chain.ChainReport:
    return next(report for report in reports if report.chain == name)


# --- The chain of custody -----------------------------------------------------------------------------


@pytest.fixture
def custody(documenter, settings, tmp_path):
    """Three media items uploaded through the API, each with an `uploaded` custody event."""
    from tests.evidence.conftest import plain_png, upload

    settings.MEDIA_ROOT = tmp_path / "media"
    incident = make_incident(documenter)
    for side in (5, 6, 7):
        response = client_for(documenter).post(
            "/api/v1/media/", {"file": upload(plain_png((side, side))), "incident": incident.pk}, format="multipart"
        )
        assert response.status_code == 201
    assert report_of("custody", verify_chains()).ok
    open_to_raw_sql()
    return list(CustodyEvent.objects.order_by("sequence"))


def broken_custody() -> tuple[int | None, str]:
    report = report_of("custody", verify_chains())
    assert not report.ok
    return report.first_broken, report.reason


def test_custody_events_form_a_keyed_chain(custody):
    assert [event.sequence for event in custody] == [1, 2, 3]
    assert all(event.key_id == keys.current_key_id() and len(event.mac) == 64 for event in custody)
    assert custody[1].previous_hash == custody[0].entry_hash


def test_an_edited_custody_event_is_detected(custody):
    execute("UPDATE evidence_custodyevent SET sha256 = %s WHERE sequence = 2", ["0" * 64])
    assert broken_custody() == (2, "content does not match its hash")


def test_an_edited_custody_event_with_recomputed_hashes_is_detected(custody):
    event = CustodyEvent.objects.get(sequence=2)
    event.details = {**event.details, "original_name": "forged.png"}
    forged_hash = chain.entry_hash(chain.get("custody"), event)
    execute(
        "UPDATE evidence_custodyevent SET details = %s, entry_hash = %s WHERE sequence = 2",
        [json.dumps(event.details), forged_hash],
    )
    assert broken_custody() == (2, "the entry's MAC does not verify: changed without the key")


def test_a_deleted_custody_event_is_detected(custody):
    execute("DELETE FROM evidence_custodyevent WHERE sequence = 2")
    first, reason = broken_custody()
    assert first == 3 and "sequence gap" in reason


def test_an_inserted_custody_event_is_detected(custody):
    last = custody[-1]
    forged = CustodyEvent(
        item_id=last.item_id, action="downloaded", at=last.at, sequence=4, previous_hash=last.entry_hash
    )
    forged.entry_hash = chain.entry_hash(chain.get("custody"), forged)
    forged.save()
    assert broken_custody() == (4, "entry is not keyed (written without the audit key)")


def test_the_verify_command_names_the_broken_custody_event(custody):
    execute("UPDATE evidence_custodyevent SET action = 'exported' WHERE sequence = 1")
    with pytest.raises(CommandError, match=r"chain of custody broken at entry #1: content does not match"):
        call_command("verify_audit_log")


# --- Keys ---------------------------------------------------------------------------------------------


def test_entries_under_an_old_key_still_verify_after_rotation(documenter, settings):
    settings.AUDIT_KEYS, settings.AUDIT_KEY_ID = {"2025": KEY_OLD}, "2025"
    record_event(actor=documenter, action="test.before_rotation")
    settings.AUDIT_KEYS, settings.AUDIT_KEY_ID = {"2025": KEY_OLD, "2026": KEY_NEW}, "2026"
    record_event(actor=documenter, action="test.after_rotation")
    assert list(AuditEntry.objects.values_list("key_id", flat=True)) == ["2025", "2026"]
    assert verify_chain().ok
    settings.AUDIT_KEYS = {"2026": KEY_NEW}  # the old key dropped too early
    report = verify_chain()
    assert (report.ok, report.first_broken, report.reason) == (False, 1, "no audit key with id '2025' is configured")


def test_without_audit_keys_the_chain_is_keyed_from_the_secret_key(documenter, settings):
    settings.AUDIT_KEYS = {}
    entry = record_event(actor=documenter, action="test.derived")
    assert entry.key_id.startswith("sk-") and verify_chain().ok
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-after-rotation-" + "x" * 40
    record_event(actor=documenter, action="test.after_secret_rotation")
    assert verify_chain().ok, "the old SECRET_KEY in SECRET_KEY_FALLBACKS still verifies older entries"


def test_audit_keys_are_read_from_the_environment(monkeypatch, tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    from config import settings as project_settings

    monkeypatch.setenv("AUDIT_KEYS", f"old:{KEY_OLD}, new:{KEY_NEW}")
    monkeypatch.delenv("AUDIT_KEY_ID", raising=False)
    assert project_settings.load_audit_keys() == ({"old": KEY_OLD, "new": KEY_NEW}, "new")
    monkeypatch.setenv("AUDIT_KEY_ID", "gone")
    with pytest.raises(ImproperlyConfigured):
        project_settings.load_audit_keys()
    monkeypatch.delenv("AUDIT_KEYS")
    monkeypatch.delenv("AUDIT_KEY_ID")
    monkeypatch.setattr(project_settings, "DEBUG", True)
    monkeypatch.setattr(project_settings, "VAR_DIR", tmp_path)
    first = project_settings.load_audit_keys()
    assert first[1] == "dev" and len(base64.b64decode(first[0]["dev"])) == 32
    assert project_settings.load_audit_keys() == first
    assert (tmp_path / "dev_audit_key").stat().st_mode & 0o077 == 0


def test_deploy_check_warns_when_the_key_is_derived(settings):
    from django.core import checks

    settings.AUDIT_KEYS = {}
    assert "audit.W001" in {m.id for m in checks.run_checks(include_deployment_checks=True)}
    settings.AUDIT_KEYS, settings.AUDIT_KEY_ID = {"k": KEY_NEW}, "k"
    assert not {m.id for m in checks.run_checks(include_deployment_checks=True)} & {"audit.W001", "audit.E001"}


# --- Entries from before the chains were keyed ----------------------------------------------------------


def unkeyed_entries(count: int) -> None:
    """As the code before keying wrote them: plain SHA-256 links, no key id, no MAC."""
    previous = chain.GENESIS_HASH
    for number in range(1, count + 1):
        from django.utils import timezone

        entry = AuditEntry(
            sequence=number, occurred_at=timezone.now(), action="legacy.event", details={"n": number},
            previous_hash=previous,
        )  # fmt: skip
        entry.entry_hash = entry.compute_hash()
        entry.save()
        previous = entry.entry_hash


def test_entries_from_before_keying_verify_once_sealed_by_the_keyed_marker(documenter):
    unkeyed_entries(3)
    report = verify_chain()
    assert (report.ok, report.first_broken) == (False, 1), "unkeyed entries with no keyed marker are refused"
    record_event(actor=documenter, action="test.first_keyed")
    marker = AuditEntry.objects.get(sequence=4)
    assert marker.action == chain.MARKER_ACTION and marker.key_id
    assert marker.details["chains"]["audit"]["legacy_entries"] == 3
    report = verify_chain()
    assert report.ok and report.entries == 5 and report.unkeyed_entries == 3


def test_post_migrate_seals_unkeyed_entries_before_any_request(documenter):
    from audit.apps import seal_after_migrate

    unkeyed_entries(2)
    seal_after_migrate()
    seal_after_migrate()  # once only
    assert AuditEntry.objects.filter(action=chain.MARKER_ACTION).count() == 1
    assert verify_chain().ok


def test_rewriting_sealed_unkeyed_entries_is_detected(documenter):
    unkeyed_entries(3)
    record_event(actor=documenter, action="test.first_keyed")
    open_to_raw_sql()
    # Rewrite entry 2 and re-chain the unkeyed part plainly: everything the old code would check holds.
    previous = AuditEntry.objects.get(sequence=1).entry_hash
    for entry in AuditEntry.objects.filter(sequence__in=[2, 3]).order_by("sequence"):
        entry.comment = "forged" if entry.sequence == 2 else entry.comment
        entry.previous_hash = previous
        entry.entry_hash = entry.compute_hash()
        execute(
            "UPDATE audit_auditentry SET comment = %s, previous_hash = %s, entry_hash = %s WHERE id = %s",
            [entry.comment, entry.previous_hash, entry.entry_hash, entry.pk],
        )
        previous = entry.entry_hash
    report = verify_chain()
    assert (report.ok, report.first_broken) == (False, 3)
    assert report.reason == "unkeyed entries differ from what the keyed marker recorded"


def test_custody_events_from_before_keying_are_sealed_by_the_same_marker(documenter, settings, tmp_path):
    """What migration evidence 0005 leaves: custody events with plain links, then the first keyed write."""
    import importlib

    from django.utils import timezone

    from evidence.models import MediaItem
    from tests.evidence.conftest import plain_png, upload

    settings.MEDIA_ROOT = tmp_path / "media"
    incident = make_incident(documenter)
    response = client_for(documenter).post(
        "/api/v1/media/", {"file": upload(plain_png((4, 4))), "incident": incident.pk}, format="multipart"
    )
    item = MediaItem.objects.get(pk=response.json()["id"])
    open_to_raw_sql()
    execute("DELETE FROM evidence_custodyevent")
    execute("DELETE FROM audit_auditentry")
    migration = importlib.import_module("evidence.migrations.0005_keyed_custody_chain")
    for number in (1, 2):  # placeholders, as the migration finds them before it links them
        CustodyEvent(
            item=item, action="downloaded", at=timezone.now(), sequence=1000 + number, entry_hash=f"x{number}"
        ).save()
    from types import SimpleNamespace

    from django.apps import apps

    schema_editor = SimpleNamespace(connection=connection, execute=lambda sql, params=None: execute(sql))
    migration.chain_existing_events(apps, schema_editor)
    assert list(CustodyEvent.objects.values_list("key_id", flat=True)) == ["", ""]
    assert not report_of("custody", verify_chains()).ok, "unsealed unkeyed events are refused"
    client_for(documenter).get(f"/api/v1/media/{item.pk}/original/")  # the first keyed custody event
    marker = AuditEntry.objects.get(action=chain.MARKER_ACTION)
    assert marker.details["chains"]["custody"]["legacy_entries"] == 2
    reports = verify_chains()
    assert all(report.ok for report in reports), reports
    assert report_of("custody", reports).unkeyed_entries == 2


# --- Signed checkpoints -----------------------------------------------------------------------------------


@pytest.fixture
def checkpointed(documenter, tmp_path) -> Path:
    for number in range(3):
        record_event(actor=documenter, action="test.event", details={"n": number})
    path = tmp_path / "checkpoint.json"
    call_command("audit_checkpoint", "--output", str(path))
    return path


def test_a_checkpoint_is_signed_and_names_every_chain(checkpointed):
    checkpoint = json.loads(checkpointed.read_text())
    assert checkpoint["algorithm"] == "ed25519" and checkpoint["signature"]
    assert checkpoint["chains"]["audit"]["sequence"] == 3 and "custody" in checkpoint["chains"]
    assert checkpoint["public_key"] == keys.public_key_text(checkpoint["key_id"])


def test_an_altered_checkpoint_is_refused(checkpointed):
    checkpoint = json.loads(checkpointed.read_text())
    checkpoint["chains"]["audit"]["sequence"] = 2  # to hide a truncation of the last entry
    checkpointed.write_text(json.dumps(checkpoint))
    with pytest.raises(CommandError, match="checkpoint refused: the checkpoint's signature does not verify"):
        call_command("verify_audit_log", "--checkpoint", str(checkpointed))


def test_a_verifier_with_only_the_public_key_checks_checkpoint_and_links(checkpointed, settings, capsys):
    public_key = keys.public_key_text(keys.current_key_id())
    settings.SECRET_KEY = "another-system-entirely-" + "y" * 50  # this verifier holds no audit key
    args = ["--checkpoint", str(checkpointed), "--public-key", public_key, "--without-key"]
    call_command("verify_audit_log", *args)
    out = capsys.readouterr().out
    assert "audit log intact: 3 entries" in out and "MACs not checked" in out
    open_to_raw_sql()
    execute("UPDATE audit_auditentry SET comment = 'forged' WHERE sequence = 2")
    with pytest.raises(CommandError, match="#2: content does not match"):
        call_command("verify_audit_log", *args)


def test_a_checkpoint_signed_by_another_key_is_refused(checkpointed):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    raw = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    other = base64.b64encode(raw).decode()
    with pytest.raises(CommandError, match="checkpoint refused"):
        call_command("verify_audit_log", "--checkpoint", str(checkpointed), "--public-key", other)


def test_the_public_key_is_printed_for_verifiers(capsys):
    call_command("audit_checkpoint", "--public-key")
    assert capsys.readouterr().out.strip() == keys.public_key_text(keys.current_key_id())
