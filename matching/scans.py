"""Running the matcher: start a scan (reviewers, admins), run it (the task or the command), store its pairs.

Rules:
1. Reviewers and admins start a scan; at most one is pending or running (`ScanAlreadyRunning` carries it;
   the database's `one_unfinished_scan` constraint is behind the check). Starting is audited
   (`duplicates.scan_requested`) and the run is queued after commit through the outbox with the scan's id.
2. A scan moves pending → running → done | failed, each a compare-and-set; a run delivered twice finds the
   scan's lock taken (PostgreSQL) or the scan finished, and leaves it alone. The end is audited
   (`duplicates.scan_finished` / `duplicates.scan_failed`) with figures only.
3. The victims compared: every victim not already marked `duplicate_of` another (a confirmed duplicate is
   settled: its kept record stands for it) and not rejected (a rejected record is not a person of the
   archive). Drafts and records under review are compared: a duplicate is best caught before it is verified.
4. A full scan compares every victim; an incremental scan (`incremental=True`) compares the victims added or
   changed since the last finished scan started against all victims.
5. Storing never touches a decided pair (confirmed or dismissed); an undecided pair found again with another
   score, likely flag or reasons gets the new ones and a new `version` (a decision on the old ones is a
   conflict); a new pair is added (lower id as `victim_a`), found by this scan.
6. Identity numbers and dates of birth are read into the matcher only; nothing personal goes to logs, task
   messages, audit entries or the scan's error.
7. Name features are computed once per victim version (`VictimFeatures`, the feature cache): before reading, a
   scan computes them for the victims that have none, changed since (`version`), whose names differ from the
   ones folded, or were folded by an older normaliser (`NAMES_VERSION`); the others are read as stored. A
   cached row is used only while all of these still match (a victim edited during the scan is folded again),
   and a victim folded again counts as changed. An incremental scan then blocks only the new and changed
   victims and the cached victims sharing one of their blocking keys.
8. Reading and writing in bulk: the victims are read in chunks by id, by `COPY (query) TO STDOUT` into Arrow
   on PostgreSQL (the ORM elsewhere, the same rows); the feature cache, new pairs and refreshed pairs are
   written by COPY on PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import BooleanField, Case, ExpressionWrapper, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import record_event
from config.locks import session_lock
from incidents import roles
from incidents.models import Status, Victim
from outbox import services as outbox

from .models import CandidatePair, DuplicateScan, VictimFeatures
from .names import NAME_FEATURES, NAMES_VERSION

if TYPE_CHECKING:  # the matcher (DuckDB, splink, pyarrow) loads only where a scan runs, never in a web worker
    import pyarrow as pa

    from .engine import ScoredPair

logger = logging.getLogger(__name__)

State = DuplicateScan.State
RUN_TASK = "matching.run_scan"
LOCK_CLASS = 727_274_014  # the advisory-lock namespace of running scans (intake's imports use ...013)
BATCH = 5000
FAILED = gettext_lazy("The scan stopped on an unexpected error; start it again, or tell the technical team.")

INTERRUPTED = gettext_lazy("The scan was interrupted before it finished; start it again.")

Progress = Callable[[str, int, int], None]


class ScanAlreadyRunning(Exception):
    """A scan is already pending or running: `scan` is that one (HTTP 409 with it)."""

    def __init__(self, scan: DuplicateScan) -> None:
        super().__init__(_("A duplicate scan is already waiting or running."))
        self.scan = scan


def may_scan(user: Any) -> bool:
    return roles.can_review(user) or roles.can_manage_counts(user)


def unfinished_scan() -> DuplicateScan | None:
    return DuplicateScan.objects.filter(status__in=[State.PENDING, State.RUNNING]).order_by("-id").first()


def start_scan(user: Any, *, incremental: bool = False, enqueue: bool = True) -> DuplicateScan:
    """Record a scan and queue its run (after commit). Raises PermissionDenied or ScanAlreadyRunning."""
    if not may_scan(user):
        raise PermissionDenied(_("Only reviewers and admins may scan for duplicates."))
    running = unfinished_scan()
    if running is not None and not _interrupted(running):
        raise ScanAlreadyRunning(running)
    try:
        with transaction.atomic():
            scan = DuplicateScan.objects.create(requested_by=user, incremental=incremental)
            record_event(
                actor=user,
                action="duplicates.scan_requested",
                target=scan,
                to_state=State.PENDING,
                details={"incremental": incremental},
            )
            if enqueue:
                outbox.enqueue(RUN_TASK, scan.pk)
    except IntegrityError:  # another request started one between our check and our insert
        running = unfinished_scan()
        if running is None:
            raise
        raise ScanAlreadyRunning(running) from None
    return scan


def _interrupted(scan: DuplicateScan) -> bool:
    """A scan `running` whose lock nobody holds was interrupted (its process died and no task will resume it
    — a killed command): it is marked failed so that it does not block every later scan. PostgreSQL only."""
    if scan.status != State.RUNNING or connection.vendor != "postgresql":
        return False
    with session_lock(LOCK_CLASS, scan.pk) as acquired:
        if not acquired:
            return False
        moved = DuplicateScan.objects.filter(pk=scan.pk, status=State.RUNNING).update(
            status=State.FAILED, finished_at=timezone.now(), error=str(INTERRUPTED)
        )
    if moved:
        record_event(action="duplicates.scan_failed", target=scan, from_state=State.RUNNING, to_state=State.FAILED)
    return bool(moved)


# --- Running ------------------------------------------------------------------------------------------------------


def considered_victims():
    """The victims a scan compares (rule 3)."""
    return Victim.objects.filter(duplicate_of__isnull=True).exclude(status=Status.REJECTED)


def run_scan(scan_id: int, on_progress: Progress | None = None) -> str:
    """Run one scan; safe to call twice (a finished scan is left as it is). Returns its state afterwards."""
    with session_lock(LOCK_CLASS, scan_id) as acquired:
        if not acquired:
            return "busy"
        claimed = DuplicateScan.objects.filter(pk=scan_id, status__in=[State.PENDING, State.RUNNING]).update(
            status=State.RUNNING, started_at=timezone.now(), stage="reading", progress_done=0, progress_total=0
        )
        if not claimed:
            return DuplicateScan.objects.filter(pk=scan_id).values_list("status", flat=True).first() or "missing"
        scan = DuplicateScan.objects.select_related("requested_by").get(pk=scan_id)
        try:
            return _run(scan, on_progress)
        except (OperationalError, InterfaceError):
            raise  # the database went away: the task retries and the scan runs again from the start
        except Exception as exc:
            logger.error("duplicate scan failed", extra={"scan_id": scan_id, "error": type(exc).__name__})
            return _fail(scan, FAILED)


def _report(scan: DuplicateScan, stage: str, done: int, total: int, on_progress: Progress | None) -> None:
    DuplicateScan.objects.filter(pk=scan.pk).update(stage=stage, progress_done=done, progress_total=total)
    if on_progress is not None:
        on_progress(stage, done, total)


def _since(scan: DuplicateScan) -> Any:
    """When the last finished scan started (None: none has finished, so the incremental scan is a full one)."""
    previous = DuplicateScan.objects.filter(status=State.DONE, pk__lt=scan.pk).order_by("-started_at").first()
    return previous.started_at if previous else None


def _run(scan: DuplicateScan, on_progress: Progress | None) -> str:
    since = _since(scan) if scan.incremental else None
    pairs, victims, compared = compute_pairs(
        considered_victims(), since, lambda stage, d, t: _report(scan, stage, d, t, on_progress)
    )
    stored = store_pairs(scan, pairs, lambda d, t: _report(scan, "storing", d, t, on_progress))
    return _finish(scan, victims=victims, compared=compared, candidates=stored)


def compute_pairs(victims, since: Any = None, report: Progress | None = None) -> tuple[list[ScoredPair], int, int]:
    """Read `victims` into the matcher and score them (only pairs with a victim changed at or after `since`
    when given). Returns (pairs at or above the candidate floor, victims read, pairs compared)."""
    from . import engine

    report = report or (lambda stage, done, total: None)
    total = victims.count()
    report("reading", 0, total)
    folded_from = timezone.now()
    refresh_features(victims)
    matcher = engine.Matcher()
    try:
        done = new = 0
        for table in read_victims(victims, since, folded_from=folded_from):
            new += matcher.add_table(table)
            done += table.num_rows
            report("reading", done, total)
        report("scoring", 0, 0)
        incremental = since is not None
        pairs = [] if incremental and not new else list(matcher.pairs(incremental=incremental))
        return pairs, done, matcher.pairs_compared
    finally:
        matcher.close()


def stale_features(victims):
    """The victims among `victims` whose cached name features are missing or out of date (rule 7)."""
    return victims.filter(
        Q(match_features__isnull=True)
        | ~Q(match_features__victim_version=F("version"))
        | ~Q(match_features__names_version=NAMES_VERSION)
        | ~Q(match_features__name=F("name"))
        | ~Q(match_features__name_ar=F("name_ar"))
    )


def refresh_features(victims) -> int:
    """Compute and store the name features of the victims whose cache is stale; returns how many."""
    from . import engine

    stale = stale_features(victims).order_by("id").values_list("id", "version", "name", "name_ar")
    refreshed = 0
    batch: list[tuple] = []
    for pk, version, name, name_ar in stale.iterator(chunk_size=BATCH):
        features = engine.name_features(name, name_ar)
        batch.append((pk, version, NAMES_VERSION, name, name_ar, *(features[key] for key in NAME_FEATURES)))
        if len(batch) >= BATCH:
            _write_features(batch)
            refreshed += len(batch)
            batch = []
    if batch:
        _write_features(batch)
        refreshed += len(batch)
    return refreshed


FEATURE_COLUMNS = ("victim_id", "victim_version", "names_version", "name", "name_ar", *NAME_FEATURES)


def _write_features(rows: list[tuple]) -> None:
    """Replace the cached rows of these victims: COPY on PostgreSQL, bulk_create elsewhere (one transaction)."""
    ids = [row[0] for row in rows]
    with transaction.atomic():
        VictimFeatures.objects.filter(victim_id__in=ids).delete()
        if connection.vendor != "postgresql":
            VictimFeatures.objects.bulk_create(
                [VictimFeatures(**dict(zip(FEATURE_COLUMNS, row, strict=True))) for row in rows], batch_size=BATCH
            )
            return
        now = timezone.now()
        sql = f"COPY {VictimFeatures._meta.db_table} ({', '.join((*FEATURE_COLUMNS, 'computed_at'))}) FROM STDIN"
        with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row((*row, now))


# What the scan reads of each victim, in this order (engine.READ_SCHEMA): its id and source list, the cached
# name features with whether they are current (`cached`), the names (to fold them when they are not), and
# the fields compared. Date and place of death are the victim's own (when recorded): an incident's date and
# place say when and where it was documented as a whole (a list imported as one incident has one date for
# everybody), and the incident itself is compared as such.
READ_FIELDS = (
    "id",
    "origin_source",
    *(f"match_features__{name}" for name in NAME_FEATURES),
    "cached",
    "name",
    "name_ar",
    "sex",
    "age_years",
    "date_of_birth",
    "identity_number",
    "date_of_death",
    "place_of_death_id",
    "place_of_death__latitude",
    "place_of_death__longitude",
    "incident_id",
    "is_new",
)
READ_CHUNK = 100_000  # victims per read (one COPY on PostgreSQL): bounds the text held at once


def _read_query(victims, since: Any, folded_from: Any = None):
    """The considered victims' matcher input as one query (values_list in READ_FIELDS order, by id). New: the
    victims changed at or after `since`, and those whose names were folded again at or after `folded_from`
    (this scan's refresh: names changed by a write that did not touch `updated_at`)."""
    current = Q(
        match_features__victim_version=F("version"),
        match_features__names_version=NAMES_VERSION,
        match_features__name=F("name"),
        match_features__name_ar=F("name_ar"),
    )
    changed = Q(updated_at__gte=since)
    if folded_from is not None:
        changed |= Q(match_features__computed_at__gte=folded_from)
    is_new = Value(True) if since is None else Case(When(changed, then=Value(True)), default=Value(False))
    return (
        victims.annotate(
            cached=Case(When(current, then=Value(True)), default=Value(False), output_field=BooleanField()),
            is_new=ExpressionWrapper(is_new, output_field=BooleanField()),
        )
        .order_by("id")
        .values_list(*READ_FIELDS)
    )


def read_victims(victims, since: Any, *, folded_from: Any = None, copy: bool | None = None) -> Iterator[pa.Table]:
    """The considered victims' matcher input as Arrow tables of engine.READ_SCHEMA, READ_CHUNK victims each,
    by id. On PostgreSQL by `COPY (query) TO STDOUT` read by pyarrow's CSV reader; elsewhere (or `copy=False`)
    through the ORM. Full and incremental scans read this way; both transports give the same rows."""
    if copy is None:
        copy = connection.vendor == "postgresql"
    query = _read_query(victims, since, folded_from)
    last = 0
    while True:
        chunk = query.filter(id__gt=last)[:READ_CHUNK]
        table = _copy_chunk(chunk) if copy else _orm_chunk(chunk)
        if not table.num_rows:
            return
        yield table
        last = table.column("id")[-1].as_py()
        if table.num_rows < READ_CHUNK:
            return


def _orm_chunk(chunk) -> pa.Table:
    import pyarrow as pa

    from .engine import READ_SCHEMA

    columns: list[list[Any]] = [[] for _ in READ_FIELDS]
    for row in chunk.iterator(chunk_size=BATCH):
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    for index in (READ_FIELDS.index("place_of_death__latitude"), READ_FIELDS.index("place_of_death__longitude")):
        columns[index] = [float(value) if value is not None else None for value in columns[index]]
    return pa.Table.from_arrays(
        [pa.array(column, type=field.type) for column, field in zip(columns, READ_SCHEMA, strict=True)],
        schema=READ_SCHEMA,
    )


def _copy_chunk(chunk) -> pa.Table:
    import io

    from pyarrow import csv

    from .engine import READ_SCHEMA

    sql, params = chunk.query.get_compiler(connection=connection).as_sql()
    buffer = io.BytesIO()
    statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(statement, params) as copy:
        for data in copy:
            buffer.write(data)
    if not buffer.tell():  # no rows (the previous chunk ended on the last victim): pyarrow wants a line
        return READ_SCHEMA.empty_table()
    buffer.seek(0)
    return csv.read_csv(
        buffer,
        read_options=csv.ReadOptions(column_names=READ_SCHEMA.names),
        parse_options=csv.ParseOptions(newlines_in_values=True),
        convert_options=csv.ConvertOptions(
            column_types=READ_SCHEMA,
            strings_can_be_null=True,  # NULL is an unquoted empty field; an empty string is quoted ("")
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        ),
    )


def store_pairs(scan: DuplicateScan, pairs: list[ScoredPair], report: Callable[[int, int], None]) -> int:
    """Add new candidates, refresh undecided ones, leave decided ones alone; returns how many were added."""
    total = len(pairs)
    report(0, total)
    # The pairs already stored, once (id and state by the two victims): a few bytes per pair.
    existing = {
        (a, b): (pk, state)
        for pk, a, b, state in CandidatePair.objects.values_list("pk", "victim_a_id", "victim_b_id", "status")
        .order_by()
        .iterator(chunk_size=20_000)
    }
    added = 0
    for start in range(0, total, BATCH):
        chunk = pairs[start : start + BATCH]
        new, refreshed = [], {}
        for pair in chunk:
            found = existing.get((pair.a, pair.b))
            if found is None:
                new.append(
                    CandidatePair(
                        victim_a_id=pair.a,
                        victim_b_id=pair.b,
                        score=pair.score,
                        likely=pair.likely,
                        reasons=pair.reasons,
                        found_by=scan,
                    )
                )
            elif found[1] == CandidatePair.State.CANDIDATE:
                refreshed[found[0]] = pair
        with transaction.atomic():
            _insert(new)
            if refreshed:
                _refresh(refreshed)
        added += len(new)
        report(min(start + BATCH, total), total)
    return added


COPY_COLUMNS = (
    "victim_a_id",
    "victim_b_id",
    "score",
    "likely",
    "reasons",
    "status",
    "comment",
    "version",
    "found_by_id",
    "created_at",
    "updated_at",
)


def _insert(new: list[CandidatePair]) -> None:
    """New pairs: COPY on PostgreSQL (one scan runs at a time and `existing` said they are new), else bulk."""
    if not new:
        return
    if connection.vendor != "postgresql":
        CandidatePair.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
        return
    import json

    now = timezone.now()
    table = CandidatePair._meta.db_table
    sql = f"COPY {table} ({', '.join(COPY_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for pair in new:
            reasons = json.dumps(pair.reasons, ensure_ascii=False)
            state = CandidatePair.State.CANDIDATE
            copy.write_row((pair.victim_a_id, pair.victim_b_id, pair.score, pair.likely, reasons, state, "", 1,
                            pair.found_by_id, now, now))  # fmt: skip


def _refresh(refreshed: dict[int, ScoredPair]) -> None:
    """Undecided pairs found again with another score, likely flag or reasons get the new ones and a new
    `version` (a reviewer who read the old ones is refused, 409, and looks again); a pair found again unchanged
    is left as it is. Only pairs still undecided are refreshed: a decision taken meanwhile wins (PostgreSQL:
    COPY into a temporary table, then one UPDATE whose conditions are checked again on each locked row;
    elsewhere: locked, re-read, bulk_update)."""
    now = timezone.now()
    if connection.vendor != "postgresql":
        still_open = (
            CandidatePair.objects.select_for_update()
            .filter(pk__in=list(refreshed), status=CandidatePair.State.CANDIDATE)
            .only("pk", "score", "likely", "reasons", "version")
        )
        rows = []
        for row in still_open:
            pair = refreshed[row.pk]
            if (row.score, row.likely, row.reasons) == (pair.score, pair.likely, pair.reasons):
                continue
            row.score, row.likely, row.reasons, row.updated_at = pair.score, pair.likely, pair.reasons, now
            row.version += 1
            rows.append(row)
        fields = ["score", "likely", "reasons", "updated_at", "version"]
        CandidatePair.objects.bulk_update(rows, fields, batch_size=500)
        return
    import json

    table = CandidatePair._meta.db_table
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS scan_refreshed (id bigint, score double precision, likely boolean, "
            "reasons jsonb) ON COMMIT DELETE ROWS"
        )
        with cursor.cursor.copy("COPY scan_refreshed (id, score, likely, reasons) FROM STDIN") as copy:
            for pk, pair in refreshed.items():
                copy.write_row((pk, pair.score, pair.likely, json.dumps(pair.reasons, ensure_ascii=False)))
        cursor.execute(
            f"UPDATE {table} p SET score = r.score, likely = r.likely, reasons = r.reasons, updated_at = %s, "  # noqa: S608
            "version = p.version + 1 FROM scan_refreshed r WHERE p.id = r.id AND p.status = %s "
            "AND (p.score, p.likely, p.reasons) IS DISTINCT FROM (r.score, r.likely, r.reasons)",
            [now, CandidatePair.State.CANDIDATE],
        )


def _finish(scan: DuplicateScan, *, victims: int, compared: int, candidates: int) -> str:
    from . import engine

    with transaction.atomic():
        moved = DuplicateScan.objects.filter(pk=scan.pk, status=State.RUNNING).update(
            status=State.DONE,
            stage="finished",
            finished_at=timezone.now(),
            victims=victims,
            pairs_compared=compared,
            candidates=candidates,
            threshold=engine.THRESHOLD,
            engine=engine.engine_name()[:100],
        )
        if moved:
            record_event(
                actor=scan.requested_by,
                action="duplicates.scan_finished",
                target=scan,
                from_state=State.RUNNING,
                to_state=State.DONE,
                details={"victims": victims, "pairs_compared": compared, "candidates": candidates},
            )
    return State.DONE


def _fail(scan: DuplicateScan, reason: Any) -> str:
    with transaction.atomic():
        moved = DuplicateScan.objects.filter(pk=scan.pk, status=State.RUNNING).update(
            status=State.FAILED, finished_at=timezone.now(), error=str(reason)
        )
        if moved:
            record_event(
                actor=scan.requested_by,
                action="duplicates.scan_failed",
                target=scan,
                from_state=State.RUNNING,
                to_state=State.FAILED,
            )
    return State.FAILED
