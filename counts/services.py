"""What may happen to count snapshots: request, compute, publish, export.

The lifecycle, one compare-and-set per step so that a retried, redelivered or concurrent task
leaves one result:

1. `request_count` (admin) stores a `pending` snapshot and enqueues the task after commit.
2. `run_count` (the task) claims it `running` (pending or running → running: a redelivered task
   after a worker died takes it up again), computes the figures in one consistent read
   (counting.py), then stores them with `running → done` — only one run can win that update; the
   others find nothing to do. With the figures it stores the names (English, Arabic) of the period,
   places and parties as they are then, so a published snapshot never shows a later rename. A
   computation that raises is `failed` with a reason; a lost database connection is left `running`
   and retried by the task.
3. `publish` (admin) sets `published_at` on a `done`, unpublished snapshot; from then on the
   database refuses any change to the row. A correction is a new snapshot naming the one it supersedes.
4. `export` renders a done snapshot's stored figures and writes an audit entry. A published
   snapshot never changes, so its files are rendered once and then served from Django's cache
   (`COUNT_EXPORT_CACHE_SECONDS`); an anonymous download writes at most one audit entry per
   snapshot, format and language in that time, so the public cannot fill the log. Signed-in users'
   exports are audited every time. `export_counted_victims` streams every counted victim (admins).

Who manages counts is decided in one place: `may_manage` (the predicate, for the API's permission
class) and `require_manager` (the refusal, for everything else).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from audit.services import record_event
from incidents import roles
from incidents.models import Location, Perpetrator, ReportingPeriod
from incidents.workflow import IllegalTransition
from outbox import services as outbox

from . import counting, exports, summaries
from .models import CountSnapshot

logger = logging.getLogger(__name__)

State = CountSnapshot.State
MAX_FILTER_IDS = 200
EXPORT_FORMATS = tuple(exports.CONTENT_TYPES)  # csv, json, xlsx, pdf

MANAGERS_ONLY = gettext_lazy("Only admins may compute, publish and export counts.")


def may_manage(user: Any) -> bool:
    """Computing, publishing and exporting counts (beyond the published figures) is for admins."""
    return roles.can_manage_counts(user)


def require_manager(user: Any) -> None:
    if not may_manage(user):
        raise PermissionDenied(MANAGERS_ONLY)


def parameters_of(snapshot: CountSnapshot) -> counting.CountParameters:
    return counting.CountParameters(
        date_from=snapshot.date_from,
        date_to=snapshot.date_to,
        locations=tuple(snapshot.locations),
        perpetrators=tuple(snapshot.perpetrators),
        massacre_threshold=snapshot.massacre_threshold,
    )


# --- 1. Request ----------------------------------------------------------------------------------


def _ids(model: type[Location] | type[Perpetrator], values: Iterable[Any], field: str) -> list[int]:
    ids = sorted({getattr(value, "pk", value) for value in values})
    if len(ids) > MAX_FILTER_IDS:
        raise ValidationError({field: _("Choose at most %(n)s.") % {"n": MAX_FILTER_IDS}})
    found = set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        raise ValidationError({field: _("Unknown ids: %(ids)s.") % {"ids": ", ".join(missing)}})
    return ids


@transaction.atomic
def request_count(
    *,
    actor: Any,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    period: ReportingPeriod | None = None,
    locations: Iterable[Any] = (),
    perpetrators: Iterable[Any] = (),
    supersedes: CountSnapshot | None = None,
    enqueue: bool = True,
) -> CountSnapshot:
    """Store a pending snapshot for these parameters and compute it in a task after commit.

    A window is two dates or a reporting period. A correction names the published snapshot it
    supersedes and, given no window of its own, repeats that snapshot's parameters.
    """
    if actor is not None:
        require_manager(actor)
    locations, perpetrators = list(locations), list(perpetrators)
    if supersedes is not None:
        if not supersedes.is_published:
            raise ValidationError({"supersedes": _("Only a published count can be corrected.")})
        if period is None and date_from is None and date_to is None:
            if supersedes.period is not None:
                period = supersedes.period
            else:
                date_from, date_to = supersedes.date_from, supersedes.date_to
            locations = locations or list(supersedes.locations)
            perpetrators = perpetrators or list(supersedes.perpetrators)
    if period is not None:
        if date_from is not None or date_to is not None:
            raise ValidationError({"period": _("Give either a reporting period or two dates, not both.")})
        date_from, date_to = period.start, period.end
    if date_from is None or date_to is None:
        given = {"date_from": date_from, "date_to": date_to}
        raise ValidationError({name: _("This field is required.") for name, value in given.items() if value is None})
    if date_to < date_from:
        raise ValidationError({"date_to": _("The end must not be before the start.")})
    snapshot = CountSnapshot.objects.create(
        status=State.PENDING,
        date_from=date_from,
        date_to=date_to,
        period=period,
        locations=_ids(Location, locations, "locations"),
        perpetrators=_ids(Perpetrator, perpetrators, "perpetrators"),
        massacre_threshold=settings.MASSACRE_THRESHOLD,
        rule_version=counting.RULE_VERSION,
        supersedes=supersedes,
        created_by=actor,
    )
    record_event(
        actor=actor,
        action="count.requested",
        target=snapshot,
        to_state=State.PENDING,
        details={"parameters": parameters_of(snapshot).canonical(), "supersedes": getattr(supersedes, "pk", None)},
    )
    if enqueue:
        # Stored in this transaction (the outbox), relayed to the broker after commit: with Redis down
        # the request still succeeds at once, and the count runs when Redis returns.
        outbox.enqueue("counts.compute_count_snapshot", snapshot.pk)
    return snapshot


# --- 2. Compute ----------------------------------------------------------------------------------


def run_count(snapshot_id: int) -> CountSnapshot | None:
    """Compute a snapshot; safe to run twice, concurrently, or again after a crash (see the docstring)."""
    claimed = (
        CountSnapshot.objects.unfinished()
        .filter(pk=snapshot_id)
        .update(
            status=State.RUNNING,
            started_at=Coalesce(F("started_at"), Value(timezone.now())),
            attempts=F("attempts") + 1,
        )
    )
    snapshot = CountSnapshot.objects.filter(pk=snapshot_id).first()
    if not claimed:
        return snapshot  # already done or failed (or gone): nothing to do
    parameters = parameters_of(snapshot)
    try:
        figures = counting.compute(parameters)
        summary_en, summary_ar = summarise(figures.result, parameters, figures)
        names = _names_now(snapshot)
    except (OperationalError, InterfaceError):
        raise  # the database went away: stay running, the task retries
    except Exception as exc:
        logger.exception("count snapshot %s failed", snapshot_id)
        reason = f"{type(exc).__name__}: {exc}"[:2000]
        failed = CountSnapshot.objects.filter(pk=snapshot_id, status=State.RUNNING).update(
            status=State.FAILED, failure_reason=reason
        )
        if failed:
            record_event(
                actor=None, action="count.failed", target=snapshot, from_state=State.RUNNING, to_state=State.FAILED
            )
        snapshot.refresh_from_db()
        return snapshot
    with transaction.atomic():
        finished = CountSnapshot.objects.filter(pk=snapshot_id, status=State.RUNNING).update(
            status=State.DONE,
            result=figures.result,
            parameter_names=names,
            fingerprint=figures.fingerprint,
            summary_en=summary_en,
            summary_ar=summary_ar,
            rule_version=counting.RULE_VERSION,
            failure_reason="",
            computed_at=timezone.now(),
        )
        if finished:
            record_event(
                actor=None,
                action="count.computed",
                target=snapshot,
                from_state=State.RUNNING,
                to_state=State.DONE,
                details={"fingerprint": figures.fingerprint},
            )
    snapshot.refresh_from_db()
    return snapshot


def _named(model: type[Location] | type[Perpetrator] | type[ReportingPeriod], ids: Iterable[int]) -> list[dict]:
    return list(model.objects.filter(pk__in=list(ids)).order_by("id").values("id", "name", "name_ar"))


def _names_now(snapshot: CountSnapshot) -> dict[str, Any]:
    """The snapshot's period, places and parties by their names in the tables now."""
    periods = _named(ReportingPeriod, [snapshot.period_id] if snapshot.period_id else [])
    return {
        "period": periods[0] if periods else None,
        "locations": _named(Location, snapshot.locations),
        "perpetrators": _named(Perpetrator, snapshot.perpetrators),
    }


def parameter_names(snapshot: CountSnapshot) -> dict[str, Any]:
    """The names a snapshot shows for its period, places and parties: frozen when it was computed.

    Snapshots computed before the names were frozen (migration counts/0002) have none stored; a
    published one cannot be changed any more, so those are named from the tables as they are now."""
    return snapshot.parameter_names if snapshot.parameter_names is not None else _names_now(snapshot)


def location_rows(snapshot: CountSnapshot) -> list[dict[str, Any]]:
    """The snapshot's rows by governorate, each place with its coordinates as stored in the result.

    Results stored before coordinates were frozen with them lack the keys; their places are located
    from the tables as they are now (a published snapshot cannot be changed to add them)."""
    rows = (snapshot.result or {}).get("by_location", [])
    legacy = [row["location"]["id"] for row in rows if row.get("location") and "latitude" not in row["location"]]
    if not legacy:
        return rows
    located = {
        item["id"]: counting.coordinates(item)
        for item in Location.objects.filter(pk__in=legacy).values("id", "latitude", "longitude")
    }
    return [
        {**row, "location": {**row["location"], **located.get(row["location"]["id"], {})}}
        if row.get("location") and row["location"]["id"] in located
        else row
        for row in rows
    ]


def summarise(
    result: dict[str, Any], parameters: counting.CountParameters, figures: counting.CountFigures
) -> tuple[str, str]:
    english = summaries.english_summary(
        result,
        parameters.date_from,
        parameters.date_to,
        perpetrators=[item.name for item in figures.perpetrators],
        places=[item.name for item in figures.locations],
    )
    arabic = summaries.arabic_summary(
        result,
        parameters.date_from,
        parameters.date_to,
        perpetrators=[item.name_ar or item.name for item in figures.perpetrators],
        places=[item.name_ar or item.name for item in figures.locations],
    )
    return english, arabic


# --- 3. Publish ----------------------------------------------------------------------------------


@transaction.atomic
def publish(*, actor: Any, snapshot: CountSnapshot) -> CountSnapshot:
    require_manager(actor)
    published = CountSnapshot.objects.filter(pk=snapshot.pk, status=State.DONE, published_at__isnull=True).update(
        published_at=timezone.now(), published_by=actor
    )
    if not published:
        current = CountSnapshot.objects.get(pk=snapshot.pk)
        if current.is_published:
            raise IllegalTransition(_("This count is already published; publish a correction instead."))
        raise IllegalTransition(_("Only a finished count can be published."))
    snapshot.refresh_from_db()
    record_event(
        actor=actor,
        action="count.published",
        target=snapshot,
        from_state=State.DONE,
        to_state="published",
        details={"fingerprint": snapshot.fingerprint, "supersedes": snapshot.supersedes_id},
    )
    return snapshot


# --- 4. Export -----------------------------------------------------------------------------------


def _require_finished(snapshot: CountSnapshot) -> None:
    if snapshot.status != State.DONE:
        raise IllegalTransition(_("Only a finished count can be exported."))


def _file_name(snapshot: CountSnapshot, suffix: str) -> str:
    return f"count-{snapshot.pk}-{snapshot.date_from}-{snapshot.date_to}{suffix}"


def _export_cache_key(snapshot: CountSnapshot, export_format: str, language: str) -> str:
    # The publication time makes the key unique to this publication even where ids are reused (tests).
    published = snapshot.published_at.isoformat() if snapshot.published_at else ""
    return f"counts:export:{snapshot.pk}:{published}:{export_format}:{language}"


def export(*, actor: Any, snapshot: CountSnapshot, export_format: str) -> tuple[bytes, str, str]:
    """A done snapshot's figures as (content, content type, file name); writes an audit entry.

    Admins export any done snapshot; anyone may export a published one (rendered once, then cached)."""
    if not snapshot.is_published:
        require_manager(actor)  # published figures are public; anything else is for admins
    if export_format not in EXPORT_FORMATS:
        raise ValidationError({"format": _("Choose one of: %(formats)s.") % {"formats": ", ".join(EXPORT_FORMATS)}})
    _require_finished(snapshot)
    audited = True
    if snapshot.is_published:
        key = _export_cache_key(snapshot, export_format, get_language() or settings.LANGUAGE_CODE)
        rendered = cache.get(key)
        if rendered is None:
            rendered = exports.render(snapshot, export_format)
            cache.set(key, rendered, settings.COUNT_EXPORT_CACHE_SECONDS)
        signed_in = bool(getattr(actor, "is_authenticated", False))
        # `add` succeeds once per key and lifetime, even for concurrent requests (atomic on Redis).
        audited = signed_in or cache.add(f"{key}:audited", True, settings.COUNT_EXPORT_CACHE_SECONDS)
    else:
        rendered = exports.render(snapshot, export_format)
    content, content_type = rendered
    if audited:
        record_event(
            actor=actor,
            action="count.exported",
            target=snapshot,
            details={"format": export_format, "fingerprint": snapshot.fingerprint},
        )
    return content, content_type, _file_name(snapshot, f".{export_format}")


def export_counted_victims(*, actor: Any, snapshot: CountSnapshot) -> tuple[Iterator[bytes], str]:
    """Admins, done snapshots: every victim counted under the snapshot's parameters *now*, as CSV
    chunks, and a file name; writes an audit entry. (Names are personal data: never public.)"""
    require_manager(actor)
    _require_finished(snapshot)
    counted = counting.counted_victims(parameters_of(snapshot))
    record_event(
        actor=actor,
        action="count.victims_exported",
        target=snapshot,
        details={"format": "csv", "fingerprint": snapshot.fingerprint},
    )
    return exports.counted_victims_csv(counted), _file_name(snapshot, "-victims.csv")
