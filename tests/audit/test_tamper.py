"""The audit chain detects edits, deletions, reorderings, insertions and truncation; writers never fork it.

The chain is keyed (audit/chain.py): a writer who recomputes every SHA-256 after changing entries is
caught by the entries' MACs, which need the key kept outside the database.
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.models import GENESIS_HASH, AuditEntry
from audit.services import record_event, verify_chain
from tests.conftest import skip_or_fail, transactional


@pytest.fixture
def chain(documenter):
    """Five entries, written through the service, then the table opened to raw SQL as an intruder would."""
    if connection.vendor == "postgresql":
        # The intruder owns the database: the append-only trigger is switched off (inside the test transaction).
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER USER")
    for number in range(1, 6):
        record_event(actor=documenter, action="test.event", comment=f"entry {number}", details={"n": number})
    assert verify_chain().ok
    return list(AuditEntry.objects.order_by("sequence"))


def execute(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def broken_entry() -> tuple[int | None, str]:
    report = verify_chain()
    assert not report.ok
    return report.first_broken, report.reason


def test_an_intact_chain_verifies_and_starts_from_the_genesis_hash(chain):
    report = verify_chain()
    assert report.ok and report.entries == 5 and report.last_sequence == 5
    assert chain[0].previous_hash == GENESIS_HASH
    assert all(later.previous_hash == earlier.entry_hash for earlier, later in itertools.pairwise(chain))


def test_an_edited_comment_is_detected_at_that_entry(chain):
    execute("UPDATE audit_auditentry SET comment = 'forged' WHERE sequence = 3")
    assert broken_entry() == (3, "content does not match its hash")


def test_an_edit_with_a_recomputed_hash_is_detected_at_that_entry_by_its_key(chain):
    forged = AuditEntry.objects.get(sequence=3)
    forged.comment = "forged"
    execute(
        "UPDATE audit_auditentry SET comment = %s, entry_hash = %s WHERE sequence = 3",
        ["forged", forged.compute_hash()],
    )
    assert broken_entry() == (3, "the entry's MAC does not verify: changed without the key")


def test_a_deleted_entry_is_detected(chain):
    execute("DELETE FROM audit_auditentry WHERE sequence = 3")
    first, reason = broken_entry()
    assert first == 4 and "sequence gap" in reason


def test_reordered_entries_are_detected(chain):
    execute("UPDATE audit_auditentry SET sequence = 1000 WHERE sequence = 2")
    execute("UPDATE audit_auditentry SET sequence = 2 WHERE sequence = 3")
    execute("UPDATE audit_auditentry SET sequence = 3 WHERE sequence = 1000")
    first, _reason = broken_entry()
    assert first == 2


def test_an_inserted_entry_is_detected(chain, documenter):
    # Make room after #3, then insert an entry that links correctly to #3 and carries a valid hash of its own.
    for sequence in (5, 4):
        execute("UPDATE audit_auditentry SET sequence = %s WHERE sequence = %s", [sequence + 1, sequence])
    third = AuditEntry.objects.get(sequence=3)
    forged = AuditEntry(
        sequence=4,
        occurred_at=third.occurred_at,
        actor=documenter,
        actor_name="documenter",
        action="test.event",
        comment="inserted",
        details={},
        previous_hash=third.entry_hash,
    )
    forged.entry_hash = forged.compute_hash()
    forged.save()
    assert broken_entry() == (4, "entry is not keyed (written without the audit key)")


def test_truncation_is_detected_against_a_checkpoint(chain, tmp_path: Path):
    checkpoint = tmp_path / "checkpoint.json"
    call_command("audit_checkpoint", "--output", str(checkpoint))
    execute("DELETE FROM audit_auditentry WHERE sequence >= 4")
    assert verify_chain().ok, "without a checkpoint a shortened chain still links up"
    with pytest.raises(CommandError, match=r"#5.*truncated"):
        call_command("verify_audit_log", "--checkpoint", str(checkpoint))


def test_emptying_the_whole_table_is_detected_against_a_checkpoint(chain, tmp_path: Path):
    checkpoint = tmp_path / "checkpoint.json"
    call_command("audit_checkpoint", "--output", str(checkpoint))
    execute("DELETE FROM audit_auditentry")
    with pytest.raises(CommandError, match="truncated"):
        call_command("verify_audit_log", "--checkpoint", str(checkpoint))


def test_the_verify_command_names_the_first_broken_entry(chain):
    execute("UPDATE audit_auditentry SET details = '{\"n\": 99}' WHERE sequence = 2")
    with pytest.raises(CommandError, match=r"entry #2: content does not match"):
        call_command("verify_audit_log")


def test_the_verify_command_accepts_an_intact_chain_with_its_checkpoint(chain, tmp_path: Path, capsys):
    checkpoint = tmp_path / "checkpoint.json"
    call_command("audit_checkpoint", "--output", str(checkpoint))
    call_command("verify_audit_log", "--checkpoint", str(checkpoint))
    assert "intact: 5 entries" in capsys.readouterr().out


@transactional
def test_concurrent_writers_never_fork_the_chain(documenter):
    if connection.vendor != "postgresql":
        skip_or_fail("concurrent writers need PostgreSQL (SQLite serialises every write)")
    from django.db import connections

    writers, per_writer = 6, 10
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(number: int) -> None:
        try:
            barrier.wait(timeout=10)
            for index in range(per_writer):
                record_event(action="test.concurrent", details={"writer": number, "index": index})
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(number,)) for number in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    entries = AuditEntry.objects.filter(action="test.concurrent")
    assert entries.count() == writers * per_writer
    report = verify_chain()
    assert report.ok, report
    previous = list(AuditEntry.objects.values_list("previous_hash", flat=True))
    assert len(previous) == len(set(previous)), "two entries claim the same predecessor: a fork"


def rechain_plainly(from_sequence: int, keep_keys: bool = True) -> None:
    """What a writer without the key can do: recompute every SHA-256 link from `from_sequence` on."""
    previous = AuditEntry.objects.get(sequence=from_sequence - 1).entry_hash if from_sequence > 1 else GENESIS_HASH
    for entry in AuditEntry.objects.filter(sequence__gte=from_sequence).order_by("sequence"):
        entry.previous_hash = previous
        if not keep_keys:
            entry.key_id, entry.mac = "", ""
        entry.entry_hash = entry.compute_hash()
        execute(
            "UPDATE audit_auditentry SET previous_hash = %s, entry_hash = %s, key_id = %s, mac = %s WHERE id = %s",
            [entry.previous_hash, entry.entry_hash, entry.key_id, entry.mac, entry.pk],
        )
        previous = entry.entry_hash


def test_a_writer_who_recomputes_the_whole_plain_chain_is_caught(chain):
    execute("UPDATE audit_auditentry SET comment = 'forged' WHERE sequence = 2")
    rechain_plainly(2)
    # Every SHA-256 link and content hash holds again; only the key tells.
    assert broken_entry() == (2, "the entry's MAC does not verify: changed without the key")


def test_a_writer_who_rewrites_the_chain_without_keys_is_caught(chain):
    execute("UPDATE audit_auditentry SET comment = 'forged' WHERE sequence = 4")
    rechain_plainly(1, keep_keys=False)
    assert broken_entry() == (1, "entry is not keyed (written without the audit key)")


def test_a_mac_copied_from_another_entry_does_not_verify(chain):
    second = AuditEntry.objects.get(sequence=2)
    execute("UPDATE audit_auditentry SET mac = %s WHERE sequence = 3", [second.mac])
    assert broken_entry() == (3, "the entry's MAC does not verify: changed without the key")


def test_a_deletion_renumbered_and_rechained_is_caught(chain):
    execute("DELETE FROM audit_auditentry WHERE sequence = 3")
    execute("UPDATE audit_auditentry SET sequence = sequence - 1 WHERE sequence > 3")
    rechain_plainly(3)
    assert broken_entry() == (3, "the entry's MAC does not verify: changed without the key")
