"""What may happen to imports: start one, run it, run a failed one again, carry out a dry run, read its errors.

Rules:
1. Documenters and admins import (the records are theirs: drafts, or sent for review with `submit`);
   each sees their own imports, admins every import. Nobody else sees one: an import holds personal data.
2. The uploaded file is checked by content (readers.inspect), stored once by SHA-256 under IMPORT_ROOT and
   referred to by the import row; the task gets only the import's id.
3. An import moves pending → running → done | failed, each step a compare-and-set. A task delivered twice
   (a worker died, the broker redelivered) claims the row again and resumes from its checkpoint; a second
   worker arriving while the first still runs finds the import's lock taken and leaves it alone.
4. With `submit`, each incident the import created is sent for review with its victims and its documented
   source through the review workflow (incidents.workflow.submit), never by writing a status.
5. Cell values are personal data: they are written only to the error report (importer and admins), never
   to logs, task messages or audit entries.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F
from django.db.models.functions import Coalesce, Now
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import record_event
from config.locks import session_lock
from counts.exports import neutralise
from incidents import roles, workflow
from incidents.models import Incident, Status
from incidents.validators import validate_name_text
from outbox import services as outbox

from . import readers
from .models import Import, RowError
from .pipeline import Progress, Run, empty_summary
from .rows import bilingual

logger = logging.getLogger(__name__)

State = Import.State
RUN_TASK = "intake.run_import"
LOCK_CLASS = 727_274_013  # the advisory-lock namespace of running imports (see audit.services for the chain's)
REPORT_HEADER = ["row", "column", "value", "message_en", "message_ar"]
EXTENSIONS = {Import.Format.CSV: "csv", Import.Format.XLSX: "xlsx"}
UNEXPECTED = gettext_lazy("The import stopped on an unexpected error; run it again, or tell the technical team.")


# --- Who may -----------------------------------------------------------------------------------------------


IMPORTERS_ONLY = gettext_lazy("Only documenters and admins may import lists.")


def may_import(user: Any) -> bool:
    """Documenters and admins: they record incidents, victims and documented sources."""
    return roles.can_document(user) and user.has_perm("evidence.add_source")


def may_read_imports(user: Any) -> bool:
    """The import pages and API: documenters (their own imports) and admins (every import); which
    imports each sees is `Import.objects.visible_to`."""
    return roles.can_document(user) or roles.can_manage_counts(user)


def require_importer(user: Any) -> None:
    if not may_import(user):
        raise PermissionDenied(IMPORTERS_ONLY)


def require_import_reader(user: Any) -> None:
    if not may_read_imports(user):
        raise PermissionDenied(IMPORTERS_ONLY)


def _require_visible(user: Any, record: Import) -> None:
    if not Import.objects.visible_to(user).filter(pk=record.pk).exists():
        from django.http import Http404

        raise Http404


# --- The stored file ------------------------------------------------------------------------------------------


def storage_dir() -> Path:
    """Where uploaded lists are kept (IMPORT_ROOT; by default `imports/` under MEDIA_ROOT): never served."""
    root = Path(settings.IMPORT_ROOT) if settings.IMPORT_ROOT else Path(settings.MEDIA_ROOT) / "imports"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


@dataclass(frozen=True)
class StoredFile:
    path: Path  # absolute
    name: str  # relative to storage_dir()
    sha256: str
    size: int
    kind: readers.FileKind


def store_upload(temp_path: Path, sha256: str, size: int) -> StoredFile:
    """Check an uploaded file (already on disk and hashed) by content, then keep it under its SHA-256."""
    try:
        kind = readers.inspect(temp_path)
    except Exception:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_path)
        raise
    name = f"{sha256}.{EXTENSIONS[kind.file_format]}"
    target = storage_dir() / name
    if target.exists():
        os.unlink(temp_path)  # the same bytes are already kept
    else:
        shutil.move(str(temp_path), str(target))
        os.chmod(target, 0o600)
    return StoredFile(target, name, sha256, size, kind)


def store_local_file(path: Path) -> StoredFile:
    """The command's file: copied (hashing as it goes) into the storage directory, then checked."""
    digest, size = hashlib.sha256(), 0
    descriptor, temp_name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=storage_dir())
    with os.fdopen(descriptor, "wb") as target, open(path, "rb") as source:
        while chunk := source.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
            target.write(chunk)
    if size > settings.IMPORT_MAX_UPLOAD_BYTES:
        os.unlink(temp_name)
        raise ValidationError(
            {
                "file": _("The file is larger than the upload limit of %(limit)s bytes.")
                % {"limit": f"{settings.IMPORT_MAX_UPLOAD_BYTES:,}"}
            }
        )
    return store_upload(Path(temp_name), digest.hexdigest(), size)


def stored_path(record: Import) -> Path:
    return storage_dir() / record.file_path


# --- Starting ----------------------------------------------------------------------------------------------------


def clean_source(source: str) -> str:
    name = " ".join((source or "").split())
    if not name:
        raise ValidationError({"source": _("Name the source list, e.g. “VDC export 2024-03”.")})
    if len(name) > 200:
        raise ValidationError({"source": _("At most %(limit)s characters.") % {"limit": 200}})
    try:
        validate_name_text(name)
    except ValidationError as exc:
        raise ValidationError({"source": exc.messages}) from None
    return name


@transaction.atomic
def start_import(
    *,
    actor: Any,
    stored: StoredFile,
    source: str,
    dry_run: bool = False,
    submit: bool = False,
    file_name: str = "",
    preview_of: Import | None = None,
    enqueue: bool = True,
) -> Import:
    """Record an import of a stored file and queue its run (after commit, through the outbox)."""
    require_importer(actor)
    source = clean_source(source)
    record = Import.objects.create(
        source=source,
        dry_run=dry_run,
        submit=submit and not dry_run,
        preview_of=preview_of,
        created_by=actor,
        file_name=(file_name or "")[:255],
        file_path=stored.name,
        file_size=stored.size,
        sha256=stored.sha256,
        file_format=stored.kind.file_format,
        encoding=stored.kind.encoding,
        delimiter=stored.kind.delimiter,
        summary=empty_summary(),
    )
    record_event(
        actor=actor,
        action="import.requested",
        target=record,
        to_state=State.PENDING,
        details={
            "source": source,
            "sha256": stored.sha256,
            "size": stored.size,
            "format": stored.kind.file_format,
            "encoding": stored.kind.encoding,
            "delimiter": stored.kind.delimiter,
            "dry_run": record.dry_run,
            "submit": record.submit,
            "preview_of": getattr(preview_of, "pk", None),
        },
    )
    if enqueue:
        outbox.enqueue(RUN_TASK, record.pk)
    return record


def carry_out(*, actor: Any, dry_run: Import, submit: bool = False, enqueue: bool = True) -> Import:
    """Import for real the file a finished dry run checked (no second upload)."""
    _require_visible(actor, dry_run)
    if dry_run.created_by_id != actor.pk:
        raise PermissionDenied(_("Only the person who checked this file may import it."))
    if not dry_run.dry_run or dry_run.status != State.DONE:
        raise workflow.IllegalTransition(_("Only a finished dry run can be carried out."))
    if not stored_path(dry_run).exists():
        raise workflow.IllegalTransition(_("The checked file is no longer kept; upload it again."))
    stored = StoredFile(
        stored_path(dry_run),
        dry_run.file_path,
        dry_run.sha256,
        dry_run.file_size,
        readers.FileKind(dry_run.file_format, dry_run.encoding, dry_run.delimiter),
    )
    return start_import(
        actor=actor,
        stored=stored,
        source=dry_run.source,
        submit=submit,
        file_name=dry_run.file_name,
        preview_of=dry_run,
        enqueue=enqueue,
    )


@transaction.atomic
def run_again(*, actor: Any, record: Import, enqueue: bool = True) -> Import:
    """A failed import goes back to pending and runs again from its checkpoint."""
    _require_visible(actor, record)
    if record.created_by_id != actor.pk and not roles.can_manage_counts(actor):
        raise PermissionDenied(_("Only the importer or an admin may run an import again."))
    moved = Import.objects.filter(pk=record.pk, status=State.FAILED).update(
        status=State.PENDING, finished_at=None, failure_reason=""
    )
    if not moved:
        raise workflow.IllegalTransition(_("Only a failed import can be run again."))
    record_event(actor=actor, action="import.run_again", target=record, from_state=State.FAILED, to_state=State.PENDING)
    if enqueue:
        outbox.enqueue(RUN_TASK, record.pk)
    record.refresh_from_db()
    return record


# --- Running (the task) ---------------------------------------------------------------------------------------------


def run_import(import_id: int, on_progress: Callable[[Progress], None] | None = None) -> str:
    """Run (or resume) one import; safe to call twice. Returns the import's state afterwards."""
    with session_lock(LOCK_CLASS, import_id) as acquired:
        if not acquired:
            return "busy"
        claimed = Import.objects.filter(pk=import_id, status__in=[State.PENDING, State.RUNNING]).update(
            status=State.RUNNING, attempts=F("attempts") + 1, started_at=Coalesce(F("started_at"), Now())
        )
        if not claimed:
            return Import.objects.filter(pk=import_id).values_list("status", flat=True).first() or "missing"
        record = Import.objects.select_related("created_by").get(pk=import_id)
        if not may_import(record.created_by):
            return _fail(record, gettext_lazy("The importer no longer holds a documenter's or an admin's role."))
        path = stored_path(record)
        if not path.exists():
            return _fail(record, gettext_lazy("The uploaded file is no longer kept; upload it again."))
        reader = readers.open_reader(path, readers.FileKind(record.file_format, record.encoding, record.delimiter))
        run = Run(record, reader, on_progress)
        try:
            if record.stage == Import.Stage.ROWS:
                if not run.read_rows():
                    return _fail(record, gettext_lazy("The header row has errors: see the error report (row 1)."))
                Import.objects.filter(pk=record.pk).update(stage=Import.Stage.SUBMIT)
            if record.submit and not record.dry_run:
                _submit_created(run, on_progress)
            run.analyze()
            return _finish(record, run)
        except (OperationalError, InterfaceError):
            raise  # the database went away: the task retries, and resumes from the checkpoint
        except (readers.UnreadableFile, readers.EmptyFile) as exc:
            return _fail(record, exc.args[0] if exc.args else gettext_lazy("The file could not be read."))
        except Exception as exc:
            # The exception's text may quote cell values (a constraint's detail): log its kind only.
            logger.error("import failed", extra={"import_id": import_id, "error": type(exc).__name__})
            return _fail(record, UNEXPECTED)
        finally:
            reader.close()


def _submit_created(run: Run, on_progress: Callable[[Progress], None] | None) -> None:
    """Send each incident this import created for review, with its victims and source (the workflow's submit)."""
    record = run.record
    Import.objects.filter(pk=record.pk).update(stage=Import.Stage.SUBMIT)
    ids = run.created_incident_ids()
    submitted = run.summary.get("submitted", 0)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        drafts = Incident.objects.filter(pk__in=chunk, status=Status.DRAFT, created_by=run.actor).order_by("pk")
        for incident in drafts:
            workflow.submit(run.actor, incident)
            submitted += 1
        run.summary["submitted"] = submitted
        Import.objects.filter(pk=record.pk).update(summary=run.summary)
        if on_progress is not None:
            on_progress(Progress(submitted, len(ids), Import.Stage.SUBMIT))


def _finish(record: Import, run: Run) -> str:
    with transaction.atomic():
        moved = Import.objects.filter(pk=record.pk, status=State.RUNNING).update(
            status=State.DONE,
            stage=Import.Stage.FINISHED,
            finished_at=timezone.now(),
            summary=run.summary,
            rows_total=F("rows_done") if record.rows_total is None else record.rows_total,
        )
        if moved:
            record_event(
                actor=record.created_by,
                action="import.finished",
                target=record,
                from_state=State.RUNNING,
                to_state=State.DONE,
                details={**run.summary, "dry_run": record.dry_run, "incidents_created_ids": run.created_incidents},
            )
    return State.DONE


def _fail(record: Import, reason: Any) -> str:
    english, arabic = bilingual(reason)
    with transaction.atomic():
        moved = Import.objects.filter(pk=record.pk, status=State.RUNNING).update(
            status=State.FAILED, finished_at=timezone.now(), failure_reason=english, failure_reason_ar=arabic
        )
        if moved:
            record_event(
                actor=record.created_by,
                action="import.failed",
                target=record,
                from_state=State.RUNNING,
                to_state=State.FAILED,
                comment=english,
            )
    return State.FAILED


# --- The error report -----------------------------------------------------------------------------------------------

REPORT_FORMATS = ("csv", "xlsx")
SUMMARY_KEYS_SHOWN = (
    "rows",
    "incidents_created",
    "victims_created",
    "updated",
    "unchanged",
    "errors",
    "rows_with_errors",
    "sources_created",
    "submitted",
)
REPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
XLSX_MAX_ROWS = 1_048_576  # a sheet's limit: a longer report goes on in another sheet, none left out


def report_rows(record: Import) -> Iterator[list[Any]]:
    errors = RowError.objects.filter(source_import=record).order_by("row", "id")
    for error in errors.values_list("row", "column", "value", "message_en", "message_ar").iterator(chunk_size=5000):
        yield [neutralise(cell) for cell in error]


def error_report(*, actor: Any, record: Import, report_format: str) -> tuple[Iterator[bytes], str, str]:
    """Every error of an import (none left out), as CSV or XLSX: (chunks, content type, file name)."""
    _require_visible(actor, record)
    if report_format not in REPORT_FORMATS:
        raise ValidationError({"format": _("Choose csv or xlsx.")})
    record_event(actor=actor, action="import.errors_downloaded", target=record, details={"format": report_format})
    name = f"import-{record.pk}-errors.{report_format}"
    if report_format == "csv":
        return _csv_report(record), REPORT_TYPES["csv"], name
    return _xlsx_report(record), REPORT_TYPES["xlsx"], name


def _csv_report(record: Import) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # Excel reads UTF-8 (Arabic) correctly only with a byte-order mark
    writer.writerow(REPORT_HEADER)
    for number, row in enumerate(report_rows(record), start=1):
        writer.writerow(row)
        if number % 2000 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def _xlsx_report(record: Import) -> Iterator[bytes]:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet, rows_in_sheet, sheets = None, XLSX_MAX_ROWS, 0
    for row in report_rows(record):
        if rows_in_sheet >= XLSX_MAX_ROWS:
            sheets += 1
            sheet = workbook.create_sheet(title="errors" if sheets == 1 else f"errors {sheets}")
            sheet.append(REPORT_HEADER)
            rows_in_sheet = 1
        sheet.append(row)
        rows_in_sheet += 1
    if sheet is None:
        workbook.create_sheet(title="errors").append(REPORT_HEADER)
    with tempfile.TemporaryFile() as output:
        workbook.save(output)
        output.seek(0)
        while chunk := output.read(256 * 1024):
            yield chunk


def first_errors(record: Import, limit: int = 20) -> list[RowError]:
    return list(RowError.objects.filter(source_import=record).order_by("row", "id")[:limit])
