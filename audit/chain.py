"""Keyed hash chains: the audit log and the chain of custody, written and verified the same way.

Each entry of a chain holds its `sequence` (1, 2, 3, ... without gaps), the `previous_hash` of the
entry before it, its own `entry_hash` (SHA-256 over its content, its sequence and that previous hash)
and `mac`: HMAC-SHA256 of the entry hash under the key named by `key_id` (audit/keys.py).

What that detects, and for whom:
- Anyone can recompute the SHA-256 links; they alone catch only careless edits, since a writer can
  recompute them after changing, inserting or deleting entries.
- The MAC needs the key, which is outside the database: an entry changed, inserted, deleted (every
  later sequence would have to change) or reordered by someone without the key no longer verifies.
- Truncation (deleting the newest entries) leaves a shorter, valid chain: it is caught against a
  checkpoint kept elsewhere (`manage.py audit_checkpoint`), signed with Ed25519 so that anyone holding
  only the public key can check it, and recompute the plain links up to it, without any secret.

Entries written before the chains were keyed (upgrades) carry no key id. They are accepted only as
the chain's first entries, and only as far as a keyed marker entry in the audit log says
(`audit.chains_keyed`, written once by the application the first time it runs with a key, recording
each chain's count and last hash of unkeyed entries). From then on they cannot be rewritten without
breaking the marker. What was done to them before the marker cannot be detected this way; an older
checkpoint, if one was kept, still detects it. Any other unkeyed entry is a failure: a writer without
the key who rewrites the whole chain unkeyed is caught too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, models, transaction
from django.utils import timezone

from . import keys

GENESIS_HASH = "0" * 64
MARKER_ACTION = "audit.chains_keyed"


@dataclass(frozen=True)
class Chain:
    """One hash-chained table. `content(row)` is what the entry hash covers besides the chain fields."""

    name: str  # "audit", "custody": the name checkpoints and the marker use
    label: str  # shown by the commands
    model: type[models.Model]
    lock_key: int
    content: Callable[[Any], dict[str, Any]]


_CHAINS: dict[str, Chain] = {}


def register(chain: Chain) -> None:
    _CHAINS[chain.name] = chain


def chains() -> list[Chain]:
    return list(_CHAINS.values())


def get(name: str) -> Chain:
    return _CHAINS[name]


def canonical(chain: Chain, row: Any) -> str:
    """The entry's content in one fixed text form. Unkeyed (older) entries keep their old form."""
    document = {**chain.content(row), "sequence": row.sequence, "previous_hash": row.previous_hash}
    if row.key_id:
        document["key_id"] = row.key_id
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def entry_hash(chain: Chain, row: Any) -> str:
    return hashlib.sha256(canonical(chain, row).encode("utf-8")).hexdigest()


def lock(chain: Chain, using: str = "default") -> None:
    """Serialise the chain's writers until the current transaction ends (no forks under concurrency).

    SQLite already serialises writing transactions (they begin IMMEDIATE)."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [chain.lock_key])


def lock_through(chain: Chain) -> None:
    """Lock the chains in one order (the audit log first, then the others as registered) up to `chain`:
    a transaction writing to several chains can never deadlock with another."""
    for other in chains():
        lock(other)
        if other.name == chain.name:
            return


def _last(chain: Chain) -> Any:
    return chain.model.objects.order_by("-sequence").only("sequence", "entry_hash", "key_id").first()


def append(chain: Chain, row: Any) -> Any:
    """Give an unsaved row its place in the chain, key it, and save it (in one transaction)."""
    with transaction.atomic():
        last = _last(chain)
        if last is not None and not last.key_id:
            seal_unkeyed_entries()  # the first keyed entry after an upgrade: mark what came before
        lock_through(chain)
        _link_and_key(chain, row, _last(chain))
        row.save()
        return row


def _link_and_key(chain: Chain, row: Any, last: Any) -> None:
    row.sequence = (last.sequence + 1) if last else 1
    row.previous_hash = last.entry_hash if last else GENESIS_HASH
    row.key_id = keys.current_key_id()
    row.entry_hash = entry_hash(chain, row)
    row.mac = keys.mac(row.key_id, chain.name, row.entry_hash)


def _unkeyed_prefix(chain: Chain, using: str = "default") -> dict[str, Any] | None:
    """The chain's unkeyed entries before its first keyed one: their count and last hash."""
    manager = chain.model.objects.using(using)
    first_keyed = manager.exclude(key_id="").order_by("sequence").values_list("sequence", flat=True).first()
    unkeyed = manager.filter(key_id="")
    if first_keyed is not None:
        unkeyed = unkeyed.filter(sequence__lt=first_keyed)
    last = unkeyed.order_by("-sequence").values("sequence", "entry_hash").first()
    if last is None:
        return None
    return {"legacy_entries": last["sequence"], "legacy_last_hash": last["entry_hash"]}


def seal_unkeyed_entries() -> Any:
    """Write the marker that fixes each chain's unkeyed entries, once. Returns it (or None: nothing to mark)."""
    from .models import AuditEntry

    audit = get("audit")
    with transaction.atomic():
        for chain in chains():
            lock(chain)
        if AuditEntry.objects.filter(action=MARKER_ACTION).exists():
            return None
        unkeyed = {chain.name: prefix for chain in chains() if (prefix := _unkeyed_prefix(chain))}
        if not unkeyed:
            return None
        last = AuditEntry.objects.order_by("-sequence").only("sequence", "entry_hash", "key_id").first()
        marker = AuditEntry(
            occurred_at=timezone.now(),
            action=MARKER_ACTION,
            comment="Entries before this one were written before the chains were keyed.",
            details={"chains": unkeyed},
        )
        _link_and_key(audit, marker, last)
        marker.save()
        return marker


# --- Verification -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_broken: int | None = None
    reason: str = ""
    last_sequence: int | None = None
    last_hash: str | None = None
    chain: str = "audit"
    unkeyed_entries: int = 0
    notes: list[str] = field(default_factory=list)


def _marker_prefix(chain: Chain, using: str) -> dict[str, Any] | None:
    """What the keyed marker (if any) says of this chain's unkeyed entries; verified with the audit chain."""
    from .models import AuditEntry

    marker = AuditEntry.objects.using(using).filter(action=MARKER_ACTION).order_by("sequence").first()
    if marker is None:
        return None
    return (marker.details or {}).get("chains", {}).get(chain.name, {"legacy_entries": 0, "legacy_last_hash": ""})


def _rows(chain: Chain, using: str) -> Iterator[Any]:
    return chain.model.objects.using(using).order_by("sequence").iterator(chunk_size=2000)


def verify(
    chain: Chain, checkpoint: dict[str, Any] | None = None, using: str = "default", check_macs: bool = True
) -> ChainReport:
    """Walk the chain in order; name the first entry whose position, link, content or key is wrong.

    With a checkpoint entry for this chain ({"sequence", "hash"}), the entry at that sequence must
    still be there with the same hash (truncation). `check_macs=False` is for a verifier holding
    only the checkpoint's public key: the plain links up to a signed checkpoint still prove a lot.
    """
    marker = _marker_prefix(chain, using)
    allowed_unkeyed = int(marker["legacy_entries"]) if marker else 0
    previous_hash, expected_sequence, count, last, unkeyed = GENESIS_HASH, 1, 0, None, 0

    def broken(sequence: int, reason: str) -> ChainReport:
        return ChainReport(False, count, sequence, reason, chain=chain.name, unkeyed_entries=unkeyed)

    for row in _rows(chain, using):
        count += 1
        if row.sequence != expected_sequence:
            return broken(row.sequence, f"sequence gap: expected {expected_sequence}")
        if row.previous_hash != previous_hash:
            return broken(row.sequence, "link to the previous entry is broken")
        if entry_hash(chain, row) != row.entry_hash:
            return broken(row.sequence, "content does not match its hash")
        if not row.key_id:
            unkeyed += 1
            if row.sequence > allowed_unkeyed:
                return broken(row.sequence, "entry is not keyed (written without the audit key)")
            if row.sequence == allowed_unkeyed and row.entry_hash != marker["legacy_last_hash"]:
                return broken(row.sequence, "unkeyed entries differ from what the keyed marker recorded")
        elif check_macs:
            try:
                if not keys.mac_matches(row.key_id, chain.name, row.entry_hash, row.mac):
                    return broken(row.sequence, "the entry's MAC does not verify: changed without the key")
            except keys.UnknownKey as exc:
                return broken(row.sequence, str(exc))
        previous_hash = row.entry_hash
        expected_sequence += 1
        last = row
    if unkeyed < allowed_unkeyed:
        return broken(unkeyed + 1, "unkeyed entries the keyed marker recorded are missing")
    if checkpoint and int(checkpoint.get("sequence", 0)) > 0:
        sequence, expected = int(checkpoint["sequence"]), checkpoint["hash"]
        kept = chain.model.objects.using(using).filter(sequence=sequence).values_list("entry_hash", flat=True).first()
        if kept is None:
            return broken(sequence, "entries up to the checkpoint are missing (truncated)")
        if kept != expected:
            return broken(sequence, "the checkpointed entry was altered")
    return ChainReport(
        True,
        count,
        last_sequence=last.sequence if last else None,
        last_hash=last.entry_hash if last else None,
        chain=chain.name,
        unkeyed_entries=unkeyed,
    )


# --- Checkpoints ------------------------------------------------------------------------------------------

CHECKPOINT_VERSION = 2


def _signed_part(checkpoint: dict[str, Any]) -> bytes:
    document = {key: checkpoint[key] for key in ("version", "created_at", "key_id", "chains")}
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


def make_checkpoint(reports: list[ChainReport]) -> dict[str, Any]:
    """A checkpoint of verified chains: each chain's last sequence and hash, signed (Ed25519)."""
    import base64

    kid = keys.current_key_id()
    checkpoint: dict[str, Any] = {
        "version": CHECKPOINT_VERSION,
        "created_at": timezone.now().isoformat(timespec="seconds"),
        "key_id": kid,
        "chains": {r.chain: {"sequence": r.last_sequence or 0, "hash": r.last_hash or ""} for r in reports},
    }
    checkpoint["algorithm"] = "ed25519"
    checkpoint["public_key"] = keys.public_key_text(kid)
    checkpoint["signature"] = base64.b64encode(keys.signing_key(kid).sign(_signed_part(checkpoint))).decode()
    # The first form (one chain, unsigned), still read by older tools and `verify_chain`.
    audit = checkpoint["chains"].get("audit", {})
    checkpoint["sequence"], checkpoint["hash"] = audit.get("sequence", 0), audit.get("hash", "")
    return checkpoint


def checkpoint_problem(checkpoint: dict[str, Any], public_key: str | None = None) -> str | None:
    """Why a checkpoint's signature does not hold (None when it does, or when it is an old unsigned one).

    The public key comes from `public_key` (a verifier without the secret) or is derived from the
    configured key of the checkpoint's key id; the one written inside the file is never trusted alone.
    """
    import base64

    from cryptography.exceptions import InvalidSignature

    if "signature" not in checkpoint:
        return None
    try:
        if public_key is None:
            public_key = keys.public_key_text(checkpoint.get("key_id", ""))
        verifier = keys.public_key_from_text(public_key)
        verifier.verify(base64.b64decode(checkpoint["signature"]), _signed_part(checkpoint))
    except keys.UnknownKey as exc:
        return f"the checkpoint's key is not configured ({exc}); pass its public key"
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return "the checkpoint's signature does not verify: it was altered or signed with another key"
    return None


def checkpoint_entries(checkpoint: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Each chain's {"sequence", "hash"} in a checkpoint of either form."""
    if not checkpoint:
        return {}
    if "chains" in checkpoint:
        return dict(checkpoint["chains"])
    return {"audit": {"sequence": checkpoint.get("sequence", 0), "hash": checkpoint.get("hash", "")}}


def verify_all(
    checkpoint: dict[str, Any] | None = None,
    using: str = "default",
    public_key: str | None = None,
    check_macs: bool = True,
) -> list[ChainReport]:
    """Every registered chain (the audit log first), against the checkpoint when given."""
    if checkpoint:
        problem = checkpoint_problem(checkpoint, public_key)
        if problem:
            return [ChainReport(False, 0, None, problem, chain="checkpoint")]
    entries = checkpoint_entries(checkpoint)
    return [verify(chain, entries.get(chain.name), using=using, check_macs=check_macs) for chain in chains()]
