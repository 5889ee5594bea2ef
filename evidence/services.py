"""What may happen to evidence: every write, who may do it, the audit and custody entries it leaves.

Views, serializers, tasks and commands call these functions and hold no rules of their own.

Rules:
1. Documenters record witnesses, testimony, sources and media; reviewers and admins read them.
2. Evidence is attached to the documenter's own editable incident, or to a verified incident
   (`incidents.services.may_attach_to`, the one statement of the rule).
3. Only the author edits a draft or a record sent back for changes (review moves status); evidence
   stays with its incident; only drafts are deleted (incidents/services.py, rules 3-4).
4. A witness's identity (name, contact, notes) is shown only to holders of
   `evidence.view_witness_identity` and to the documenter who registered the witness; each showing
   writes an audit entry naming the witness by its code only.
5. A media original is sealed at upload (content-addressed, read-only, hash and size recorded in the
   chain of custody), never modified, and downloaded only by reviewers, admins and the uploader;
   each download, derivation, export and fixity check adds a custody event. What was read from the
   original (its metadata: GPS, device serials, capture time, document author) follows the same
   rule, `may_see_original`, in the API, on pages and at download.
6. Every create, change and delete writes one audit entry naming the fields written, never their
   values (`incidents.services.audit_write`): a witness's identity never reaches the log.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError, IntegrityError, transaction
from django.db.models import F, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record_event
from incidents import roles
from incidents.models import Incident, Status
from incidents.services import (
    apply_changes,
    audit_write,
    delete_attached_draft,
    locked,
    open_attached,
    require_may_attach,
    save_attached,
    set_fields,
)
from incidents.validators import validate_free_text, validate_name_text
from outbox import services as outbox

from . import crypto, media
from .models import (
    IDENTITY_PERMISSION,
    CustodyAction,
    CustodyEvent,
    DerivativeStatus,
    FixityStatus,
    MediaItem,
    SealedOriginal,
    Source,
    Testimony,
    Witness,
)
from .uploads import StreamedUpload

logger = logging.getLogger(__name__)

IDENTITY_FIELDS = ("name", "contact", "notes")
# What a witness's identity may hold: the one rule, for the API, the pages and every other caller.
IDENTITY_LIMITS = {"name": 300, "contact": 500, "notes": 5000}
IDENTITY_VALIDATORS = {"name": validate_name_text, "contact": validate_free_text, "notes": validate_free_text}
DESCRIPTION_MAX_LENGTH = 10_000
TESTIMONY_FIELDS = {"incident", "witness", "taken_on", "language", "statement", "consent_to_publish"}
SOURCE_FIELDS = {"incident", "kind", "url", "archive_url", "title", "published_on", "note"}
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and copied by hand


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def _require_perm(user: Any, permission: str, message: str) -> None:
    if not (_active(user) and user.has_perm(permission)):
        raise PermissionDenied(message)


def require_may_add_evidence(user: Any, incident: Incident) -> None:
    """Evidence goes to the documenter's own editable incident, or to any verified incident
    (PermissionDenied with the reason otherwise): the services and the evidence pages ask this."""
    require_may_attach(
        user, incident, _("Evidence can be added only to your own editable incidents or to verified incidents.")
    )


def _require_incident_open_to(user: Any, incident: Incident) -> None:
    if not Incident.objects.visible_to(user).filter(pk=incident.pk).exists():
        raise ValidationError({"incident": _("This incident does not exist.")})
    require_may_add_evidence(user, incident)


# --- Witnesses ------------------------------------------------------------------------------------


def may_see_identity(user: Any, witness: Witness) -> bool:
    if not _active(user):
        return False
    if user.has_perm(IDENTITY_PERMISSION):
        return True
    return witness.created_by_id == user.pk and roles.can_document(user)


def _new_code() -> str:
    return "W-" + "".join(secrets.choice(CODE_ALPHABET) for _i in range(8))


def validate_witness_identity(identity: dict[str, Any]) -> dict[str, str]:
    """The identity as it may be stored, or ValidationError naming each bad field (name, contact, notes).

    Names: no control characters, no bidirectional overrides or isolates; contact and notes: the
    same, but newlines and tabs are allowed. Arabic, Persian (ZWNJ) and combining marks pass.
    """
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, str] = {}
    for name in IDENTITY_FIELDS:
        value = identity.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[name] = [_("Give text.")]
            continue
        if len(value) > IDENTITY_LIMITS[name]:
            errors[name] = [
                _("At most %(limit)s characters (this has %(length)s).")
                % {"limit": IDENTITY_LIMITS[name], "length": len(value)}
            ]
            continue
        try:
            IDENTITY_VALIDATORS[name](value)
        except ValidationError as exc:
            errors[name] = list(exc.messages)
            continue
        cleaned[name] = value
    if "name" not in errors and not cleaned.get("name", "").strip():
        errors["name"] = [_("Give the witness's name.")]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _seal_identity(witness: Witness, identity: dict[str, str]) -> None:
    kid = crypto.current_key_id()
    for name in IDENTITY_FIELDS:
        setattr(witness, f"{name}_encrypted", crypto.encrypt(identity.get(name, ""), code=witness.code, field=name))
    witness.key_id = kid


def _open_identity(witness: Witness) -> dict[str, str]:
    return {
        name: crypto.decrypt(getattr(witness, f"{name}_encrypted"), code=witness.code, field=name)
        for name in IDENTITY_FIELDS
    }


@transaction.atomic
def register_witness(*, author: Any, name: str, contact: str = "", notes: str = "") -> Witness:
    _require_perm(author, "evidence.add_witness", _("Only documenters may register witnesses."))
    identity = validate_witness_identity({"name": name, "contact": contact, "notes": notes})
    for _attempt in range(5):
        witness = Witness(code=_new_code(), created_by=author)
        _seal_identity(witness, identity)
        try:
            with transaction.atomic():
                witness.save()
        except IntegrityError:
            continue  # a code collision: draw again
        # The names of the identity fields given, never their values.
        audit_write(author, "witness.registered", witness, set_fields(identity), code=witness.code)
        return witness
    raise RuntimeError("could not draw a unique witness code")


@transaction.atomic
def update_witness(*, actor: Any, witness: Witness, **changes: str) -> Witness:
    witness = locked(witness)
    if not (may_see_identity(actor, witness) and actor.has_perm("evidence.change_witness")):
        raise PermissionDenied(_("Only the documenter who registered this witness may change the identity."))
    unknown = set(changes) - set(IDENTITY_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in sorted(unknown)})
    identity = _open_identity(witness)
    identity.update(changes)
    identity = validate_witness_identity(identity)
    _seal_identity(witness, identity)
    witness.save(update_fields=[*(f"{n}_encrypted" for n in IDENTITY_FIELDS), "key_id", "updated_at"])
    record_event(
        actor=actor,
        action="witness.identity_changed",
        target=witness,
        details={"code": witness.code, "fields": sorted(changes)},
    )
    return witness


def witness_identity(*, actor: Any, witness: Witness) -> dict[str, str] | None:
    """The identity for a user allowed to see it (None for everybody else); each showing is audited."""
    if not may_see_identity(actor, witness):
        return None
    identity = _open_identity(witness)
    record_event(actor=actor, action="witness.identity_viewed", target=witness, details={"code": witness.code})
    return identity


def rotate_witness_keys(*, batch_size: int = 200, dry_run: bool = False) -> tuple[int, int]:
    """Re-encrypt every witness still under an old key with the current key.

    Returns (re-encrypted, remaining). Each row is re-read under a lock and rewritten in its own
    transaction, so the command can be interrupted and run again.
    """
    current = crypto.current_key_id()
    pending = list(Witness.objects.not_under_key(current).values_list("pk", flat=True))
    if dry_run:
        return 0, len(pending)
    done = 0
    for start in range(0, len(pending), batch_size):
        for pk in pending[start : start + batch_size]:
            with transaction.atomic():
                witness = Witness.objects.select_for_update().filter(pk=pk).exclude(key_id=current).first()
                if witness is None:
                    continue
                _seal_identity(witness, _open_identity(witness))
                witness.save(update_fields=[*(f"{n}_encrypted" for n in IDENTITY_FIELDS), "key_id"])
                done += 1
    remaining = Witness.objects.not_under_key(current).count()
    if done:
        record_event(actor=None, action="witness.keys_rotated", details={"rows": done, "key_id": current})
    return done, remaining


# --- Testimony ------------------------------------------------------------------------------------


def _require_witness_usable(user: Any, witness: Witness) -> None:
    if not Witness.objects.visible_to(user).filter(pk=witness.pk).exists():
        raise ValidationError({"witness": _("This witness does not exist.")})


@transaction.atomic
def create_testimony(*, author: Any, incident: Incident, witness: Witness, **fields: Any) -> Testimony:
    _require_perm(author, "evidence.add_testimony", _("Only documenters may record testimony."))
    _require_incident_open_to(author, incident)
    _require_witness_usable(author, witness)
    testimony = Testimony(created_by=author, interviewer=author, incident=incident, witness=witness)
    apply_changes(testimony, fields, TESTIMONY_FIELDS - {"incident", "witness"})
    testimony.full_clean(exclude=["created_by", "interviewer", "incident", "witness"])
    testimony.save()
    audit_write(
        author, "testimony.created", testimony, ["incident", "witness", *set_fields(fields)], incident=incident.pk
    )
    return testimony


@transaction.atomic
def update_testimony(*, actor: Any, testimony: Testimony, **changes: Any) -> Testimony:
    testimony, changes = open_attached(actor, testimony, changes)
    if "witness" in changes:
        _require_witness_usable(actor, changes["witness"])
    changed = apply_changes(testimony, changes, TESTIMONY_FIELDS - {"incident"})
    save_attached(actor, testimony, changed, "testimony.changed")
    return testimony


@transaction.atomic
def delete_testimony(*, actor: Any, testimony: Testimony) -> None:
    delete_attached_draft(actor, testimony, "testimony.deleted")


# --- Documented sources -----------------------------------------------------------------------------


def _require_reference(source: Source) -> None:
    """A source names where it is: its URL, its archived copy, or a report's title."""
    if not (source.url or source.archive_url or source.title):
        raise ValidationError({"url": _("Give the source's URL, its archived copy, or a report title.")})


@transaction.atomic
def create_source(*, author: Any, incident: Incident, **fields: Any) -> Source:
    _require_perm(author, "evidence.add_source", _("Only documenters may record sources."))
    _require_incident_open_to(author, incident)
    source = Source(created_by=author, incident=incident)
    apply_changes(source, fields, SOURCE_FIELDS - {"incident"})
    _require_reference(source)
    source.save()
    audit_write(author, "sources.created", source, ["incident", *set_fields(fields)], incident=incident.pk)
    return source


@transaction.atomic
def update_source(*, actor: Any, source: Source, **changes: Any) -> Source:
    source, changes = open_attached(actor, source, changes)
    changed = apply_changes(source, changes, SOURCE_FIELDS - {"incident"})
    _require_reference(source)
    save_attached(actor, source, changed, "sources.changed")
    return source


@transaction.atomic
def delete_source(*, actor: Any, source: Source) -> None:
    delete_attached_draft(actor, source, "sources.deleted")


# --- Media ------------------------------------------------------------------------------------------


def lock_chains() -> None:
    """Take the audit and custody chain locks, in their one order, before locking any row."""
    from audit import chain

    chain.lock_through(chain.get("custody"))


def _custody(
    item: MediaItem, action: str, actor: Any = None, details: dict[str, Any] | None = None, **fields: Any
) -> CustodyEvent:
    """Append one event to the keyed chain of custody (audit/chain.py)."""
    from audit import chain

    event = CustodyEvent(
        item=item, action=action, actor=actor if _active(actor) else None, details=details or {}, **fields
    )
    return chain.append(chain.get("custody"), event)


def upload_media(
    *, author: Any, incident: Incident, upload: StreamedUpload, description: str = ""
) -> tuple[MediaItem, bool]:
    """Check the streamed upload's content, seal it, and record the item. Returns (item, created).

    The same bytes sent again by the same author for the same incident (a retry, a double click)
    return the existing item. The same bytes in any other item are linked to the one sealed original
    (not stored twice) and marked as a duplicate of the earliest item holding them.
    Raises ValidationError, media.UnsupportedType (415) or media.BadFile (400); the streamed file is
    removed on refusal. Everything is checked before anything is sealed; a file sealed in a
    transaction that then rolls back (here or in the caller's) is removed once it ends
    (`media.discard_unrecorded_originals`).
    """
    try:
        _require_perm(author, "evidence.add_mediaitem", _("Only documenters may upload media."))
        _require_incident_open_to(author, incident)
        validate_description(description)
        allowed = media.identify(upload.temp_path, upload.size)
    except (PermissionDenied, ValidationError, media.UnsupportedType, media.BadFile):
        upload.discard()
        raise
    outermost = not transaction.get_connection().in_atomic_block
    try:
        item, created = _record_upload(author, incident, upload, allowed, description)
    finally:
        if outermost:  # our own transaction is over, committed or not: nothing unrecorded may stay
            media.discard_unrecorded_originals()
    if created:
        # The outbox keeps the work with the upload's transaction; Redis being down never loses it.
        outbox.enqueue("evidence.tasks.process_media_item", item.pk)
    return item, created


def validate_description(description: str) -> None:
    """A media item's description: free text (no controls but newlines and tabs, no bidi overrides), bounded."""
    if len(description or "") > DESCRIPTION_MAX_LENGTH:
        raise ValidationError(
            {
                "description": [
                    _("At most %(limit)s characters (this has %(length)s).")
                    % {"limit": f"{DESCRIPTION_MAX_LENGTH:,}", "length": f"{len(description):,}"}
                ]
            }
        )
    try:
        validate_free_text(description or "")
    except ValidationError as exc:
        raise ValidationError({"description": exc.messages}) from None


@transaction.atomic
def _record_upload(
    author: Any, incident: Incident, upload: StreamedUpload, allowed: media.AllowedType, description: str
) -> tuple[MediaItem, bool]:
    """Seal and record one checked upload in one transaction. Returns (item, created)."""
    # Uploads of the same bytes, and the removal of unrecorded files, take turns (media.lock_original).
    media.lock_original(upload.sha256)
    existing = (
        MediaItem.objects.filter(original__sha256=upload.sha256, incident=incident, created_by=author)
        .select_related("original")
        .first()
    )
    if existing is not None:
        upload.discard()
        return existing, False
    already_sealed = SealedOriginal.objects.filter(sha256=upload.sha256).first()
    if already_sealed is None:
        relpath = media.seal(upload.temp_path, upload.sha256)  # removed again if this transaction rolls back
    else:
        upload.discard()
        relpath = already_sealed.path
    original, _created = SealedOriginal.objects.get_or_create(
        sha256=upload.sha256,
        defaults={"size": upload.size, "content_type": allowed.content_type, "kind": allowed.kind, "path": relpath},
    )
    first = MediaItem.objects.filter(original=original).order_by("pk").first()
    item = MediaItem.objects.create(
        incident=incident,
        original=original,
        created_by=author,
        description=description,
        original_name=media.escape_name(upload.name),
        duplicate_of=first,
    )
    _custody(
        item,
        CustodyAction.UPLOADED,
        author,
        sha256=original.sha256,
        size=original.size,
        # Nothing here may tell whether the bytes were already sealed for another item: the
        # uploader may not see that item, and their view must not depend on it.
        details={"content_type": original.content_type, "original_name": item.original_name, "path": original.path},
    )
    audit_write(
        author,
        "media.created",
        item,
        ["incident", "file", *set_fields({"description": description})],
        incident=incident.pk,
    )
    return item, True


def pending_media_ids(older_than_minutes: int = 10, limit: int = 500) -> list[int]:
    """Items whose working copies were never built (a lost task, a broker outage), oldest first."""
    cutoff = timezone.now() - dt.timedelta(minutes=older_than_minutes)
    return list(
        MediaItem.objects.filter(derivative_status=DerivativeStatus.PENDING, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def update_media(*, actor: Any, item: MediaItem, **changes: Any) -> MediaItem:
    item, changes = open_attached(actor, item, changes)
    if "description" in changes:
        validate_description(changes["description"])
    changed = apply_changes(item, changes, {"description"})
    save_attached(actor, item, changed, "media.changed")
    return item


def process_media_item(item_id: int) -> str | None:
    """Extract metadata and build working copies for one item; safe to run twice (or at once).

    Returns the item's derivative status, or None when the item is gone. A failure is recorded on
    the item and in its chain of custody; the sealed original is only ever read.
    """
    item = MediaItem.objects.select_related("original").filter(pk=item_id).first()
    if item is None:
        return None
    if item.derivative_status != DerivativeStatus.PENDING:
        return item.derivative_status
    original = item.original
    source = media.absolute(original.path)
    allowed = media.allowed_for(original.content_type)
    out_dir = media.absolute(media.working_dir_relpath(item.pk))
    notes: list[str] = []
    try:
        metadata = media.extract_metadata(source, allowed)
    except Exception as exc:  # a metadata reader choking must not stop the working copies
        logger.warning("metadata extraction failed for media item %s: %s", item.pk, type(exc).__name__)
        metadata = {}
        notes.append(f"metadata could not be read: {type(exc).__name__}")
    fields: dict[str, Any] = {"metadata": metadata, "processed_at": timezone.now()}
    try:
        copies = media.build_working_copies(source, allowed, out_dir)
    except Exception as exc:
        logger.warning("working copy failed for media item %s: %s", item.pk, type(exc).__name__)
        fields.update(
            derivative_status=DerivativeStatus.FAILED,
            derivative_note="; ".join([*notes, f"working copy failed: {type(exc).__name__}: {str(exc)[:300]}"]),
        )
        action, details = CustodyAction.DERIVATION_FAILED, {"error": type(exc).__name__}
    else:
        rel = lambda path: str(Path(path).relative_to(media.media_root().resolve())) if path else ""  # noqa: E731
        if copies.working is None:
            fields.update(derivative_status=DerivativeStatus.UNAVAILABLE, derivative_note=copies.unavailable)
            action, details = CustodyAction.DERIVED, {"working_copy": None, "reason": copies.unavailable}
        else:
            fields.update(
                derivative_status=DerivativeStatus.DONE,
                derivative_note="; ".join([*notes, *copies.notes]),
                working_path=rel(copies.working),
                working_content_type=copies.working_content_type,
                thumbnail_path=rel(copies.thumbnail),
            )
            details = {
                "working_copy": {
                    "content_type": copies.working_content_type,
                    "sha256": media.sha256_of(copies.working),
                },
                "thumbnail": bool(copies.thumbnail),
            }
            action = CustodyAction.DERIVED
    try:
        with transaction.atomic():
            lock_chains()  # before the row is locked by the update: the one lock order
            claimed = MediaItem.objects.filter(pk=item.pk, derivative_status=DerivativeStatus.PENDING).update(**fields)
            if claimed:
                _custody(item, action, None, sha256=original.sha256, size=original.size, details=details)
    except DataError as exc:  # something in the extracted metadata the database refuses: keep the rest
        logger.warning("media item %s: metadata refused by the database (%s)", item.pk, type(exc).__name__)
        fields["metadata"] = {}
        fields["derivative_note"] = "; ".join(filter(None, [fields.get("derivative_note", ""), "metadata dropped"]))
        with transaction.atomic():
            lock_chains()
            claimed = MediaItem.objects.filter(pk=item.pk, derivative_status=DerivativeStatus.PENDING).update(**fields)
            if claimed:
                _custody(item, action, None, sha256=original.sha256, size=original.size, details=details)
    item.refresh_from_db()
    return item.derivative_status


def may_see_original(user: Any, item: MediaItem) -> bool:
    """Who may download the sealed original and see the metadata extracted from it (the one rule):
    reviewers, admins and the uploader. Everybody else works from the stripped working copy."""
    if not _active(user):
        return False
    return roles.can_review(user) or roles.can_manage_counts(user) or item.created_by_id == user.pk


def open_original(*, actor: Any, item: MediaItem) -> Path:
    """The sealed original's path for an allowed user; the download goes into the chain of custody."""
    if not may_see_original(actor, item):
        raise PermissionDenied(_("Only reviewers, admins and the uploader may download the original."))
    path = media.absolute(item.original.path)
    if not path.exists():
        raise FileNotFoundError(item.original.path)
    _custody(item, CustodyAction.DOWNLOADED, actor, sha256=item.original.sha256, size=item.original.size)
    return path


def working_copy_path(item: MediaItem, which: str = "working") -> Path | None:
    relpath = item.working_path if which == "working" else item.thumbnail_path
    if item.derivative_status != DerivativeStatus.DONE or not relpath:
        return None
    path = media.absolute(relpath)
    return path if path.exists() else None


def record_export(*, actor: Any, items: Iterable[MediaItem], export: str) -> int:
    """Called by exports that include media: one custody event per item."""
    count = 0
    for item in items:
        _custody(item, CustodyAction.EXPORTED, actor, sha256=item.original.sha256, details={"export": export[:200]})
        count += 1
    return count


def _fixity_cutoff() -> dt.datetime:
    from django.conf import settings

    return timezone.now() - dt.timedelta(hours=settings.MEDIA_FIXITY_INTERVAL_HOURS) * 0.9


def _items_due(cutoff: dt.datetime):
    return MediaItem.objects.filter(Q(fixity_checked_at__isnull=True) | Q(fixity_checked_at__lt=cutoff))


def fixity_due_ids(limit: int = 1000) -> list[int]:
    """Sealed originals with an item never checked, or not within the fixity interval, oldest check first.

    Each item runs on its own schedule from its own upload: an item linked to an original that an
    earlier (maybe hidden) item brought is checked as soon as a fresh one would be.
    """
    due = (
        _items_due(_fixity_cutoff())
        .values("original_id")
        .annotate(oldest=Min("fixity_checked_at"))
        .order_by(F("oldest").asc(nulls_first=True), "original_id")
    )
    return [row["original_id"] for row in due[:limit]]


def check_fixity(sealed_id: int, *, every_item: bool = False) -> str | None:
    """Re-hash one sealed original; flag it when the bytes changed or vanished. Safe to repeat.

    The outcome goes into the chain of custody of each of its items that is due (or of every item,
    when `every_item`): an item's chain never gains an event because another item shares its bytes.
    """
    original = SealedOriginal.objects.filter(pk=sealed_id).first()
    if original is None:
        return None
    path = media.absolute(original.path)
    try:
        digest = media.sha256_of(path)
        size = path.stat().st_size
    except FileNotFoundError:
        digest, size, outcome = "", None, FixityStatus.MISSING
    else:
        outcome = FixityStatus.OK if digest == original.sha256 and size == original.size else FixityStatus.CHANGED
    with transaction.atomic():
        lock_chains()  # before any row lock: the one lock order
        now = timezone.now()
        SealedOriginal.objects.filter(pk=original.pk).update(fixity_status=outcome, fixity_checked_at=now)
        items = original.items.all() if every_item else _items_due(_fixity_cutoff()).filter(original=original)
        for item in items.select_for_update().order_by("pk"):
            _custody(
                item,
                CustodyAction.FIXITY_CHECKED,
                None,
                sha256=digest,
                size=size,
                details={"outcome": outcome, "expected_sha256": original.sha256},
            )
            MediaItem.objects.filter(pk=item.pk).update(fixity_status=outcome, fixity_checked_at=now)
        if outcome != FixityStatus.OK:
            record_event(
                actor=None,
                action="media.fixity_failed",
                target=original,
                details={"sha256": original.sha256, "outcome": outcome},
            )
    if outcome != FixityStatus.OK:
        logger.error("fixity check failed: sealed original %s is %s", original.pk, outcome)
    return outcome


# --- The evidence behind an incident ---------------------------------------------------------------


def approved_evidence_count(incident: Incident) -> int:
    """Approved testimony, media items and documented sources of an incident (the workflow's counter)."""
    return sum(
        model.objects.filter(incident=incident, status=Status.VERIFIED).count()
        for model in (Testimony, MediaItem, Source)
    )
