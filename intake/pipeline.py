"""The run of one import: rows in batches, each batch written whole with its checkpoint — the last stage
of the import (reader → row → record).

1. Each batch (IMPORT_BATCH_ROWS rows) is one transaction: its new incidents, their documented sources and
   its victims are inserted in bulk; changed rows are updated one by one under a compare-and-set (only the
   importer's drafts or records sent back); its errors, one audit entry, and the import's checkpoint and
   progress are written with them. A worker killed at any point loses at most the batch in flight, which
   the re-run does again: nothing twice, nothing half.
2. Before writing, a batch asks the database twice, whatever its size: which (source, record_id) already
   exist (id, fingerprint, state, author, incident key), and which incident keys. Places and parties
   were loaded into memory once. No query per row, no ORM save per row.
3. A row is written whole or not at all: a row with any error writes nothing. Should a bulk insert still
   be refused by the database (a concurrent import of the same list), the batch is retried row by row,
   each row in its own savepoint, and the refused rows become errors.
4. Rows with the same incident_key are one incident, defined by the first valid row of the key; a later
   row may repeat the incident's values or leave them empty, and any other value is an error.
5. A re-run (after a crash, or of a failed import) first re-reads the rows its checkpoint covers without
   writing (to rebuild which record ids and incident keys were seen, and which rows failed), then goes on.
6. A dry run does the same reading, checking and counting, and writes only its errors and progress.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.services import record_event
from evidence.models import Source, SourceKind
from incidents.models import EDITABLE_STATES, Incident, Location, Perpetrator, Status, Victim
from incidents.services import may_attach_to

from .models import Import, RowError
from .readers import Reader, batched, read_ahead
from .rows import (
    INCIDENT_FIELDS,
    Identity,
    ParsedRow,
    Problem,
    ReferenceIndex,
    RowReader,
    bilingual,
    missing_problem,
    printable,
    read_header,
    stored_fingerprint,
)

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 5
CREATED, UPDATED, UNCHANGED, FAILED = "created", "updated", "unchanged", "failed"


def empty_summary() -> dict[str, int]:
    return {
        "rows": 0,
        "incidents_created": 0,
        "victims_created": 0,
        "updated": 0,
        "unchanged": 0,
        "errors": 0,
        "rows_with_errors": 0,
        "sources_created": 0,
        "submitted": 0,
    }


def ranges(ids: Iterable[int]) -> list[list[int]]:
    """[[first, last], ...] of consecutive ids: how an audit entry names thousands of records."""
    result: list[list[int]] = []
    for pk in sorted(ids):
        if result and pk == result[-1][1] + 1:
            result[-1][1] = pk
        else:
            result.append([pk, pk])
    return result


def ids_in(spans: Iterable[Iterable[int]]) -> Iterable[int]:
    for first, last in spans:
        yield from range(first, last + 1)


# A row as the batches hand it on: (row number, cells, identity, the row read ahead or None).
Prepared = tuple[int, list[Any] | None, Identity | None, ParsedRow | None]


@dataclass(slots=True)
class Group:
    """One incident key of this source, as far as this run knows it."""

    first_row: int
    values: tuple | None  # the incident's values; None until read from `cells` (see Run._values)
    cells: list[Any] | None = None  # the defining row's incident cells, when it was not read
    incident_id: int | None = None
    status: str = ""
    created_by: int | None = None
    own_new: bool = False  # created by this import (for a dry run: would be)
    resolved: bool = False  # incident_id/status known (created, or looked up)


@dataclass(slots=True)
class Decision:
    row: ParsedRow
    outcome: str
    group: Group | None = None
    create_incident: bool = False
    update_incident: int | None = None
    create_victim: bool = False
    update_victim: int | None = None


@dataclass
class Progress:
    """What a run calls back with (the command's terminal progress bar)."""

    rows_done: int
    rows_total: int | None
    stage: str


class Run:
    def __init__(self, record: Import, reader: Reader, on_progress: Callable[[Progress], None] | None = None) -> None:
        self.record = record
        self.reader = reader
        self.actor = record.created_by
        self.source = record.source
        self.dry_run = record.dry_run
        self.on_progress = on_progress
        self.batch_size = max(1, int(settings.IMPORT_BATCH_ROWS))
        checkpoint = record.checkpoint or {}
        self.last_row = int(checkpoint.get("last_row", 1))  # rows up to here are done (the header is row 1)
        self.summary = {**empty_summary(), **checkpoint.get("summary", {})}
        self.created_incidents: list[list[int]] = [list(span) for span in checkpoint.get("created_incidents", [])]
        self.seen: dict[str, int] = {}
        self.groups: dict[str, Group] = {}
        self.failed_rows: set[int] = set()
        self.rows_reader: RowReader | None = None
        # Whether the read-ahead also reads each row whole (not only its identity): yes while batches bring
        # new or changed rows; no on a re-import of unchanged rows, which need only their digest.
        self.parse_ahead = True

    # --- the run ---------------------------------------------------------------------------------------

    def read_rows(self) -> bool:
        """Read and write every row. False when the header makes the file unusable (errors of row 1)."""
        places, parties = ReferenceIndex.of(Location), ReferenceIndex.of(Perpetrator)
        records = iter(self.reader.records())
        try:
            _number, header = next(records)
        except StopIteration:
            header = None
        columns, header_problems = read_header(header)
        if header_problems:
            self._record_header(header_problems)
            return False
        self.rows_reader = RowReader(
            columns, self.source, places, parties, strict_width=self.record.file_format == Import.Format.CSV
        )
        self._start(columns)
        if self.last_row > 1:
            self.failed_rows = set(
                RowError.objects.filter(source_import=self.record, row__lte=self.last_row).values_list("row", flat=True)
            )
        for batch in self._batches(records):
            replay = [item[:2] for item in batch if item[0] <= self.last_row]
            fresh = [item for item in batch if item[0] > self.last_row]
            if replay:
                self._replay(replay)
            if fresh:
                self._process(fresh)
        return True

    def _batches(self, records: Iterable[tuple[int, list[Any] | None]]) -> Iterable[list[Prepared]]:
        """The file's rows in batches, each row with its identity and (read ahead) its reading.

        With IMPORT_READ_AHEAD a thread prepares the next batch while this one is written (the database's
        time and the rows' Python overlap); without it each batch is prepared when it is reached. Either
        way the rows are read by the same code from the same cells: the results are the same.
        """
        resume = self.last_row
        chunks = batched(records, self.batch_size)
        if not settings.IMPORT_READ_AHEAD:
            return (self._prepare(batch, resume, parse=False) for batch in chunks)
        return read_ahead(self._prepare(batch, resume, parse=self.parse_ahead) for batch in chunks)

    def _prepare(self, batch: list[tuple[int, list[Any] | None]], resume: int, parse: bool) -> list[Prepared]:
        rows_reader = self.rows_reader
        prepared: list[Prepared] = []
        for number, cells in batch:
            if number <= resume or _blank(cells):
                prepared.append((number, cells, None, None))
                continue
            identity = rows_reader.identify(cells)
            row = None
            if parse:
                row = rows_reader.read(number, cells)
                if row.ok:  # the digests the decision compares and the insert stores, computed here too
                    row.victim_fingerprint()
                    if row.given:
                        row.incident_fingerprint()
            prepared.append((number, cells, identity, row))
        return prepared

    def _start(self, columns: list[str | None]) -> None:
        from .rows import COLUMNS

        changes: dict[str, Any] = {}
        if self.record.rows_total is None:
            changes["rows_total"] = self.reader.count()
        if not self.record.columns:
            understood = []
            for name in columns:
                if name:
                    english, arabic = bilingual(COLUMNS[name].meaning)
                    understood.append({"column": name, "meaning_en": english, "meaning_ar": arabic})
            changes["columns"] = understood
        if not self.record.preview:
            changes["preview"] = self._preview(columns)
        if changes:
            Import.objects.filter(pk=self.record.pk).update(**changes)
            for name, value in changes.items():
                setattr(self.record, name, value)
        self._report_progress()

    def _preview(self, columns: list[str | None]) -> list[dict[str, Any]]:
        from .readers import first_records
        from .rows import as_text

        rows = []
        for number, cells in first_records(self.reader, PREVIEW_ROWS + 1)[1:]:
            if cells is None:
                continue
            values = {name: as_text(cells[index]) for index, name in enumerate(columns) if name and index < len(cells)}
            rows.append({"row": number, "cells": values})
        return rows

    def _record_header(self, problems: list[Problem]) -> None:
        with transaction.atomic():
            RowError.objects.filter(source_import=self.record, row=1).delete()  # a re-run reports them once
            RowError.objects.bulk_create(self._errors(problems))
            self.summary["errors"] = len(problems)
            self.summary["rows_with_errors"] = 1
            Import.objects.filter(pk=self.record.pk).update(summary=self.summary)

    # --- rows already done by an earlier attempt --------------------------------------------------------

    def _replay(self, items: list[tuple[int, list[Any] | None]]) -> None:
        """Rebuild what the done rows taught (record ids seen, incident keys defined), reading no row."""
        for number, cells in items:
            if _blank(cells):
                continue
            identity = self.rows_reader.identify(cells)
            if identity is None:
                continue  # a malformed row: it failed then, and defines nothing
            self.seen.setdefault(identity.record_id, number)
            if number not in self.failed_rows and identity.origin_key not in self.groups:
                self.groups[identity.origin_key] = self._lazy_group(number, cells)

    def _lazy_group(self, number: int, cells: list[Any]) -> Group:
        return Group(first_row=number, values=None, cells=self.rows_reader.incident_cells(cells))

    def _values(self, group: Group) -> tuple:
        """A group's incident values, reading its defining row's cells the first time they are needed."""
        if group.values is None:
            group.values = self.rows_reader.read(group.first_row, group.cells).incident_values()
            group.cells = None
        return group.values

    # --- a batch ------------------------------------------------------------------------------------------

    def _process(self, items: list[Prepared]) -> None:
        """One batch: which rows are unchanged (by their cells' digest), read the others, decide, write."""
        rows_reader = self.rows_reader
        batch = [item for item in items if not _blank(item[1])]
        victims = self._existing_victims({identity.record_id for _n, _c, identity, _r in batch if identity})
        parsed: dict[int, ParsedRow] = {}
        for number, cells, identity, ready in batch:
            existing = victims.get(identity.record_id) if identity else None
            if not (existing and self._same_cells(existing, identity)):
                row = parsed[number] = ready if ready is not None else rows_reader.read(number, cells)
                if identity is not None:
                    row.raw_fingerprint = identity.raw_fingerprint
        incidents = self._existing_incidents([(identity, parsed.get(number)) for number, _c, identity, _r in batch])
        decisions = []
        for number, cells, identity, ready in batch:
            row = parsed.get(number)
            if row is None and identity.record_id in self.seen:
                # unchanged, yet repeated in this file: say so
                row = ready if ready is not None else rows_reader.read(number, cells)
                row.raw_fingerprint = identity.raw_fingerprint
            if row is None:
                decisions.append(self._unchanged(number, cells, identity))
            else:
                decisions.append(self._decide(row, victims, incidents))
        last_row = items[-1][0]
        unchanged = sum(1 for decision in decisions if decision.outcome == UNCHANGED)
        self.parse_ahead = unchanged * 2 < len(decisions)
        if self.dry_run:
            with transaction.atomic():
                _commit_without_waiting()
                self._finish_batch(decisions, last_row, created={}, updated={})
        else:
            self._write(decisions, last_row)
        self.last_row = last_row
        self._report_progress()

    def _same_cells(self, existing: dict[str, Any], identity: Identity) -> bool:
        return (
            existing["origin_fingerprint"][:16] == identity.raw_fingerprint[:16]
            and existing["incident__origin_key"] == identity.origin_key
        )

    def _unchanged(self, number: int, cells: list[Any], identity: Identity) -> Decision:
        """A row written exactly as when it was imported: unchanged, without reading it again."""
        self.seen[identity.record_id] = number
        if identity.origin_key not in self.groups:
            self.groups[identity.origin_key] = self._lazy_group(number, cells)
        return Decision(ParsedRow(number, record_id=identity.record_id, origin_key=identity.origin_key), UNCHANGED)

    def _existing_victims(self, record_ids: set[str]) -> dict[str, dict[str, Any]]:
        """(source, record_id) → id, fingerprint, state, author, incident key: one query for the batch."""
        if not record_ids:
            return {}
        names = ["id", "origin_record_id", "origin_fingerprint", "status", "created_by_id", "incident__origin_key"]
        if connection.vendor == "postgresql":
            victim, incident = Victim._meta.db_table, Incident._meta.db_table
            # One array parameter instead of a thousand placeholders (the lookup runs for every batch).
            sql = (
                f"SELECT v.id, v.origin_record_id, v.origin_fingerprint, v.status, v.created_by_id, i.origin_key "  # noqa: S608
                f"FROM {victim} v JOIN {incident} i ON i.id = v.incident_id "
                "WHERE v.origin_source = %s AND v.origin_record_id = ANY(%s)"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, [self.source, sorted(record_ids)])
                found = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        else:
            found = Victim.objects.filter(origin_source=self.source, origin_record_id__in=sorted(record_ids)).values(
                *names
            )
        return {row["origin_record_id"]: row for row in found}

    def _existing_incidents(self, rows: list[tuple[Identity | None, ParsedRow | None]]) -> dict[str, dict[str, Any]]:
        """Incident keys this batch needs (those of rows read, whose incident is not yet known): one query."""
        keys = set()
        for identity, row in rows:
            if row is None:
                continue
            key = row.origin_key or (identity.origin_key if identity else "")
            group = self.groups.get(key)
            if key and (group is None or not group.resolved):
                keys.add(key)
        if not keys:
            return {}
        found = Incident.objects.filter(origin_source=self.source, origin_key__in=sorted(keys)).values(
            "id", "origin_key", "origin_fingerprint", "status", "created_by_id"
        )
        return {row["origin_key"]: row for row in found}

    def _resolve(self, group: Group, incidents: dict[str, dict[str, Any]], key: str) -> None:
        """A group known from the replayed rows: find its incident (created by the earlier attempt)."""
        if group.resolved:
            return
        existing = incidents.get(key)
        if existing is not None:
            group.incident_id, group.status = existing["id"], existing["status"]
            group.created_by = existing["created_by_id"]
        elif self.dry_run:
            group.own_new = True  # the incident a dry run would have created
        group.resolved = True  # (a real run finding nothing: the incident is gone, see _decide)

    def _decide(self, row: ParsedRow, victims: dict, incidents: dict) -> Decision:
        problems = row.problems
        if row.record_id:
            first = self.seen.get(row.record_id)
            if first is None:
                self.seen[row.record_id] = row.number
            else:
                problems.append(
                    self._problem(
                        row,
                        "record_id",
                        row.record_id,
                        "repeated_record",
                        _("The record_id %(id)s appears again: it was first in row %(row)s."),
                        {"id": row.record_id, "row": first},
                    )
                )
        key = row.origin_key
        group = self.groups.get(key)
        defines = group is None
        if defines:
            problems.extend(missing_problem(row, column) for column in row.missing)
        else:
            self._compare(row, group)
        if problems:
            return Decision(row, FAILED)

        decision = Decision(row, UNCHANGED, group=group)
        existing_incident = incidents.get(key) if defines else None
        if defines:
            if existing_incident is None:
                decision.create_incident = True
            elif existing_incident["origin_fingerprint"] != row.incident_fingerprint():
                if self._editable_by_importer(existing_incident):
                    decision.update_incident = existing_incident["id"]
                else:
                    self._locked(row, "incident_key", row.incident_key or row.record_id, existing_incident)
        else:
            self._resolve(group, incidents, key)
            if group.incident_id is None and not group.own_new and not self.dry_run:
                problems.append(
                    self._problem(
                        row,
                        "incident_key",
                        row.incident_key,
                        "incident_gone",
                        _("The incident of this row (first in row %(row)s) no longer exists."),
                        {"row": group.first_row},
                    )
                )
        existing_victim = victims.get(row.record_id)
        if existing_victim is not None:
            if existing_victim["incident__origin_key"] != key:
                problems.append(
                    self._problem(
                        row,
                        "incident_key",
                        row.incident_key,
                        "moved",
                        _(
                            "This record was imported into another incident; a victim cannot be moved to another "
                            "incident (record it there anew)."
                        ),
                    )
                )
            elif existing_victim["origin_fingerprint"][16:] != row.victim_fingerprint():
                if self._editable_by_importer(existing_victim):
                    decision.update_victim = existing_victim["id"]
                else:
                    self._locked(row, "record_id", row.record_id, existing_victim)
        else:
            decision.create_victim = True
            target = existing_incident if defines else None
            if target is not None:
                status, author = target["status"], target["created_by_id"]
            elif group is not None and not group.own_new:
                status, author = group.status, group.created_by
            else:
                status = author = None  # a new incident of this import: the importer's own draft
            if status is not None and not may_attach_to(self.actor, _Incidentish(status, author)):
                problems.append(
                    self._problem(
                        row,
                        "incident_key",
                        row.incident_key or row.record_id,
                        "incident_closed",
                        _(
                            "Victims can be added only to your own editable incidents or to verified incidents; "
                            "this row's incident is neither."
                        ),
                    )
                )
        if problems:
            return Decision(row, FAILED)

        if defines:
            group = Group(first_row=row.number, values=row.incident_values(), resolved=True)
            if decision.create_incident:
                group.own_new = True
            else:
                group.incident_id = existing_incident["id"]
                group.status, group.created_by = existing_incident["status"], existing_incident["created_by_id"]
            self.groups[key] = group
            decision.group = group
        if decision.create_victim:
            decision.outcome = CREATED
        elif decision.update_incident or decision.update_victim:
            decision.outcome = UPDATED
        return decision

    def _compare(self, row: ParsedRow, group: Group) -> None:
        values = dict(zip(INCIDENT_FIELDS, self._values(group), strict=True))
        for name, value in row.given.items():
            if name == "date_precision":
                continue
            if values.get(name) != value or (
                name == "occurred_on" and row.given["date_precision"] != values["date_precision"]
            ):
                row.problems.append(
                    self._problem(
                        row,
                        name,
                        row.cells.get(name),
                        "incident_conflict",
                        _(
                            "This differs from the incident's %(column)s in row %(row)s: rows with the same "
                            "incident_key are one incident (leave the cell empty or repeat the value)."
                        ),
                        {"column": name, "row": group.first_row},
                    )
                )

    def _editable_by_importer(self, existing: dict[str, Any]) -> bool:
        return existing["created_by_id"] == self.actor.pk and existing["status"] in EDITABLE_STATES

    def _locked(self, row: ParsedRow, column: str, value: Any, existing: dict[str, Any]) -> None:
        if existing["created_by_id"] != self.actor.pk:
            row.problems.append(
                self._problem(
                    row,
                    column,
                    value,
                    "not_yours",
                    _("This record was imported by another user; only they can change it through an import."),
                )
            )
        else:
            row.problems.append(
                self._problem(
                    row,
                    column,
                    value,
                    "locked",
                    _("This row changed, but its record is under review or verified: reopen it first."),
                )
            )

    def _problem(self, row: ParsedRow, column: str, value: Any, code: str, message: Any, params: dict | None = None):
        from .rows import report_value

        english, arabic = bilingual(message, params)
        return Problem(row.number, column, report_value(value), code, english, arabic)

    # --- writing a batch -----------------------------------------------------------------------------------

    def _write(self, decisions: list[Decision], last_row: int) -> None:
        with transaction.atomic():
            _commit_without_waiting()
            updated = self._updates(decisions)
            creating = [d for d in decisions if d.outcome == CREATED or d.create_incident]
            try:
                with transaction.atomic():
                    created = self._inserts(creating)
            except (IntegrityError, DataError):
                created = self._inserts_one_by_one(creating)
            self._finish_batch(decisions, last_row, created, updated)

    def _updates(self, decisions: list[Decision]) -> dict[str, list[int]]:
        """Changed rows, each in a savepoint, each record under a compare-and-set (still the importer's
        editable record, or the row becomes an error)."""
        updated: dict[str, list[int]] = {"incidents": [], "victims": []}
        for decision in decisions:
            if decision.outcome == FAILED or not (decision.update_incident or decision.update_victim):
                continue
            row = decision.row
            try:
                with transaction.atomic():
                    if decision.update_incident and not self._update_incident(decision.update_incident, row):
                        raise _Conflict
                    if decision.update_victim and not self._update_victim(decision.update_victim, row):
                        raise _Conflict
            except _Conflict:
                self._fail(decision, self._problem(row, "record_id", row.record_id, "locked", _LOCKED))
                continue
            if decision.update_incident:
                updated["incidents"].append(decision.update_incident)
            if decision.update_victim:
                updated["victims"].append(decision.update_victim)
        return updated

    def _editable_filter(self, model: type, pk: int) -> Any:
        return model.objects.filter(pk=pk, created_by=self.actor, status__in=EDITABLE_STATES)

    def _update_incident(self, pk: int, row: ParsedRow) -> bool:
        values = _incident_columns(row)
        return bool(
            self._editable_filter(Incident, pk).update(
                **values,
                origin_fingerprint=row.incident_fingerprint(),
                version=F("version") + 1,
                updated_at=timezone.now(),
            )
        )

    def _update_victim(self, pk: int, row: ParsedRow) -> bool:
        return bool(
            self._editable_filter(Victim, pk).update(
                **_victim_columns(row),
                origin_fingerprint=stored_fingerprint(row.raw_fingerprint, row.victim_fingerprint()),
                version=F("version") + 1,
                updated_at=timezone.now(),
            )
        )

    def _incident_values(self, row: ParsedRow) -> dict[str, Any]:
        return {
            **_incident_columns(row),
            "latitude": None,
            "longitude": None,
            "created_by_id": self.actor.pk,
            "status": Status.DRAFT,
            "version": 1,
            "origin_source": self.source,
            "origin_key": row.origin_key,
            "origin_fingerprint": row.incident_fingerprint(),
        }

    def _source_values(self, incident_id: int) -> dict[str, Any]:
        return {
            "incident_id": incident_id,
            "created_by_id": self.actor.pk,
            "status": Status.DRAFT,
            "version": 1,
            "kind": SourceKind.OTHER,
            "url": "",
            "archive_url": "",
            "title": self.source[:500],
            "published_on": None,
            "note": _source_note(self.record),
        }

    def _victim_values(self, row: ParsedRow, incident_id: int) -> dict[str, Any]:
        return {
            **_victim_columns(row),
            "incident_id": incident_id,
            "created_by_id": self.actor.pk,
            "status": Status.DRAFT,
            "version": 1,
            "origin_source": self.source,
            "origin_record_id": row.record_id,
            "origin_fingerprint": stored_fingerprint(row.raw_fingerprint, row.victim_fingerprint()),
            "duplicate_of_id": None,
        }

    def _new_incident(self, row: ParsedRow) -> Incident:
        return Incident(**self._incident_values(row))

    def _new_source(self, incident: Incident) -> Source:
        return Source(**self._source_values(incident.pk))

    def _new_victim(self, row: ParsedRow, incident_id: int) -> Victim:
        return Victim(**self._victim_values(row, incident_id))

    def _inserts(self, creating: list[Decision]) -> dict[str, list[int]]:
        """Bulk inserts: the batch's new incidents, one documented source each, then its new victims.

        On PostgreSQL by COPY, with ids drawn from each table's sequence first (one query per table),
        so the victims can name their new incidents; elsewhere with bulk_create.
        """
        defining = [decision for decision in creating if decision.create_incident]
        adding = [decision for decision in creating if decision.create_victim]
        writer = BulkWriter.for_connection()
        incident_ids = writer.write(Incident, [self._incident_values(d.row) for d in defining])
        for decision, pk in zip(defining, incident_ids, strict=True):
            decision.group.incident_id = pk
        source_ids = writer.write(Source, [self._source_values(pk) for pk in incident_ids])
        victim_ids = writer.write(Victim, [self._victim_values(d.row, d.group.incident_id) for d in adding])
        return {"incidents": incident_ids, "sources": source_ids, "victims": victim_ids}

    def _inserts_one_by_one(self, creating: list[Decision]) -> dict[str, list[int]]:
        """The database refused the batch's inserts: each row on its own, the refused ones as errors."""
        created: dict[str, list[int]] = {"incidents": [], "sources": [], "victims": []}
        for decision in creating:
            row, group = decision.row, decision.group
            if decision.create_incident:
                group.incident_id = None  # whatever the refused bulk insert assigned
        for decision in creating:
            row, group = decision.row, decision.group
            if not decision.create_incident and group.own_new and group.incident_id is None:
                self._fail(
                    decision,
                    self._problem(
                        row,
                        "incident_key",
                        row.incident_key,
                        "incident_refused",
                        _("The incident of this row (first in row %(row)s) could not be saved."),
                        {"row": group.first_row},
                    ),
                )
                continue
            try:
                with transaction.atomic():
                    incident = source = victim = None
                    if decision.create_incident:
                        incident = self._new_incident(row)
                        incident.save(force_insert=True)
                        source = self._new_source(incident)
                        source.save(force_insert=True)
                    if decision.create_victim:
                        victim = self._new_victim(row, incident.pk if incident else group.incident_id)
                        victim.save(force_insert=True)
            except (IntegrityError, DataError):
                self._fail(
                    decision,
                    self._problem(
                        row,
                        "record_id",
                        row.record_id,
                        "refused",
                        _("The database refused this row (another import of the same list may be running)."),
                    ),
                )
                if decision.create_incident:
                    self.groups.pop(row.origin_key, None)
                continue
            if incident is not None:
                group.incident_id = incident.pk
                created["incidents"].append(incident.pk)
                created["sources"].append(source.pk)
            if victim is not None:
                created["victims"].append(victim.pk)
        return created

    def _fail(self, decision: Decision, problem: Problem) -> None:
        decision.row.problems.append(problem)
        decision.outcome = FAILED

    def _finish_batch(self, decisions: list[Decision], last_row: int, created: dict, updated: dict) -> None:
        """Errors, counts, the audit entry and the checkpoint, in the batch's transaction."""
        problems = [problem for decision in decisions for problem in decision.row.problems]
        if problems:
            RowError.objects.bulk_create(self._errors(problems), batch_size=1000)
        summary = self.summary
        for decision in decisions:
            summary["rows"] += 1
            if decision.outcome == FAILED:
                summary["rows_with_errors"] += 1
            elif decision.outcome == CREATED:
                summary["victims_created"] += 1
            elif decision.outcome == UPDATED:
                summary["updated"] += 1
            else:
                summary["unchanged"] += 1
            if decision.outcome != FAILED and decision.create_incident:
                summary["incidents_created"] += 1
                if self.dry_run:
                    summary["sources_created"] += 1  # the one documented source each new incident gets
        summary["errors"] += len(problems)
        if not self.dry_run:
            summary["sources_created"] += len(created.get("sources", []))
            for first, last in ranges(created.get("incidents", [])):
                if self.created_incidents and self.created_incidents[-1][1] + 1 == first:
                    self.created_incidents[-1][1] = last
                else:
                    self.created_incidents.append([first, last])
            if any(created.values()) or any(updated.values()):
                # One entry per batch names every record the import created or changed (id ranges): an
                # entry per record would cost as much as the rows themselves (see docs/imports.md).
                record_event(
                    actor=self.actor,
                    action="import.batch",
                    target=self.record,
                    details={
                        "rows": [decisions[0].row.number, last_row] if decisions else [last_row, last_row],
                        "incidents_created": ranges(created.get("incidents", [])),
                        "sources_created": ranges(created.get("sources", [])),
                        "victims_created": ranges(created.get("victims", [])),
                        "incidents_updated": ranges(updated.get("incidents", [])),
                        "victims_updated": ranges(updated.get("victims", [])),
                    },
                )
        Import.objects.filter(pk=self.record.pk).update(
            rows_done=max(0, last_row - 1),
            summary=summary,
            checkpoint={"last_row": last_row, "summary": summary, "created_incidents": self.created_incidents},
        )

    def _errors(self, problems: list[Problem]) -> list[RowError]:
        return [
            RowError(
                source_import=self.record,
                row=problem.row,
                column=printable(problem.column[:100]),
                value=printable(problem.value),
                code=problem.code,
                message_en=printable(problem.message_en),
                message_ar=printable(problem.message_ar),
            )
            for problem in problems
        ]

    def _report_progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress(Progress(max(0, self.last_row - 1), self.record.rows_total, Import.Stage.ROWS))

    # --- after the rows ------------------------------------------------------------------------------------

    def created_incident_ids(self) -> list[int]:
        return list(ids_in(self.created_incidents))

    def analyze(self) -> None:
        """After a large import, fresh planner statistics (PostgreSQL), so estimates stay sane.

        Large: at least `IMPORT_ANALYZE_AFTER_ROWS` rows, or a tenth of what the statistics last knew
        of the table (autovacuum's own scale), or any rows at all into a table never analysed: a first
        import into a fresh database would otherwise leave the lists' estimated counts far off.
        """
        written = self.summary["victims_created"] + self.summary["updated"]
        if connection.vendor != "postgresql" or not written:
            return
        tables = (Incident._meta.db_table, Victim._meta.db_table, Source._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [Victim._meta.db_table])
            row = cursor.fetchone()
            known = row[0] if row else -1  # -1: never analysed
            if written < settings.IMPORT_ANALYZE_AFTER_ROWS and known >= 0 and written < known / 10:
                return
            for table in tables:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


class BulkWriter:
    """Inserts many rows of a model at once and returns their ids, in order."""

    @staticmethod
    def for_connection() -> BulkWriter:
        return CopyWriter() if connection.vendor == "postgresql" else BulkWriter()

    def write(self, model: type, rows: list[dict[str, Any]]) -> list[int]:
        if not rows:
            return []
        objects = model.objects.bulk_create([model(**row) for row in rows], batch_size=1000)
        return [item.pk for item in objects]


class CopyWriter(BulkWriter):
    """PostgreSQL: ids from the table's sequence, then one COPY of every row (no SQL compiled per row).

    The rows must give every column of the model (a field added to the model that this import does not
    fill makes it fall back to bulk_create, slower but correct).
    """

    _columns: dict[type, tuple[list[str], list[str]]] = {}

    def _layout(self, model: type) -> tuple[list[str], list[str]]:
        if model not in self._columns:
            fields = [f for f in model._meta.concrete_fields if not f.generated]
            self._columns[model] = ([f.attname for f in fields], [f.column for f in fields])
        return self._columns[model]

    def write(self, model: type, rows: list[dict[str, Any]]) -> list[int]:
        if not rows:
            return []
        attnames, columns = self._layout(model)
        expected = set(attnames) - {"id", "created_at", "updated_at"}
        if set(rows[0]) != expected:
            return super().write(model, rows)
        table = connection.ops.quote_name(model._meta.db_table)
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [model._meta.db_table, len(rows)],
            )
            ids = [pk for (pk,) in cursor.fetchall()]
            quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
            # psycopg's COPY bypasses Django's cursor wrapper: its errors (a unique or foreign key violation,
            # a value too long) become Django's IntegrityError / DataError here, so the batch is retried row
            # by row and the refused rows become row errors, as with any other insert.
            with connection.wrap_database_errors, cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for pk, row in zip(ids, rows, strict=True):
                    row = {**row, "id": pk, "created_at": now, "updated_at": now}
                    copy.write_row([row[name] for name in attnames])
        return ids


class _Conflict(Exception):
    """A compare-and-set update found the record no longer the importer's editable record."""


_LOCKED = _("This row changed, but its record is under review or verified: reopen it first.")


@dataclass(frozen=True)
class _Incidentish:
    """The two facts `may_attach_to` reads, from a looked-up row."""

    status: str
    created_by_id: int | None
    pk: int = field(default=0)

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATES


def _commit_without_waiting() -> None:
    """PostgreSQL: this batch's commit does not wait for its WAL to reach the disk. Should the database
    crash within that moment, the batch and its checkpoint are lost together, and the re-run does the batch
    again; the records never disagree with the checkpoint."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _blank(cells: list[Any] | None) -> bool:
    return cells is not None and all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _incident_columns(row: ParsedRow) -> dict[str, Any]:
    values = row.incident
    return {
        "occurred_on": values["occurred_on"],
        "date_precision": values["date_precision"],
        "location_id": values["location"],
        "perpetrator_id": values["perpetrator"],
        "weapon": values["weapon"],
        "title": values["title"],
        "description": values["description"],
        "injured_count": values["injured_count"],
    }


def _victim_columns(row: ParsedRow) -> dict[str, Any]:
    values = row.victim
    columns = {
        "name": values["name"],
        "name_ar": values["name_ar"],
        "sex": values["sex"],
        "age_years": values["age_years"],
        "age_group": values["age_group"],
        "date_of_birth": values["date_of_birth"],
        "identity_number": values["identity_number"],
        "civilian_status": values["civilian_status"],
        "date_of_death": values["date_of_death"],
        "place_of_death_id": values["place_of_death"],
    }
    for role, column in Victim.ROLE_FIELDS.items():
        columns[column] = role in values["roles"]
    return columns


def _source_note(record: Import) -> str:
    return f"Imported from the list by import #{record.pk} (file SHA-256 {record.sha256})."
