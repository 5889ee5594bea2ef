"""Compute a count snapshot from the command line, with the API's parameters.

manage.py compute_count --from 2020-01-12 --to 2020-01-27 --location 8 --perpetrator 1
manage.py compute_count --period 3 --as admin
manage.py compute_count --snapshot 42          # (re)run a stored pending/running snapshot
manage.py compute_count --from ... --to ... --dry-run   # figures only, nothing stored
manage.py compute_count --from ... --to ... --window    # a window count from the rollups (no fingerprint)
"""

from __future__ import annotations

import datetime as dt
import json

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from counts import counting, rollup, services
from counts.models import CountSnapshot
from incidents.models import Location, Perpetrator, ReportingPeriod


def iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a YYYY-MM-DD date: {value!r}")


class Command(BaseCommand):
    help = "Compute a verified casualty count snapshot (the same parameters as POST /api/v1/counts/)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="date_from", type=iso_date, help="First day of the window (YYYY-MM-DD).")
        parser.add_argument("--to", dest="date_to", type=iso_date, help="Last day of the window (YYYY-MM-DD).")
        parser.add_argument("--period", type=int, help="A reporting period id instead of the two dates.")
        parser.add_argument("--location", type=int, action="append", default=[], help="Location id (repeatable).")
        parser.add_argument("--perpetrator", type=int, action="append", default=[], help="Perpetrator id (repeatable).")
        parser.add_argument("--supersedes", type=int, help="The published snapshot this one corrects.")
        parser.add_argument("--as", dest="username", help="Record the snapshot as requested by this admin.")
        parser.add_argument("--snapshot", type=int, help="Compute this stored pending or running snapshot.")
        parser.add_argument(
            "--pending", action="store_true", help="Compute every stored snapshot still pending or running."
        )
        parser.add_argument("--dry-run", action="store_true", help="Print the figures; store nothing.")
        parser.add_argument(
            "--window",
            action="store_true",
            help="With --dry-run implied: the window count from the rollups (what dashboards read), no fingerprint.",
        )

    def handle(self, *args, **options) -> None:
        if options["pending"]:
            for snapshot_id in CountSnapshot.objects.unfinished().order_by("id").values_list("pk", flat=True):
                self._report(services.run_count(snapshot_id))
            return
        if options["snapshot"]:
            snapshot = services.run_count(options["snapshot"])
            if snapshot is None:
                raise CommandError(f"no count snapshot {options['snapshot']}")
            self._report(snapshot)
            return
        try:
            period = ReportingPeriod.objects.get(pk=options["period"]) if options["period"] else None
            supersedes = CountSnapshot.objects.get(pk=options["supersedes"]) if options["supersedes"] else None
        except (ReportingPeriod.DoesNotExist, CountSnapshot.DoesNotExist) as exc:
            raise CommandError(str(exc))
        if options["dry_run"] or options["window"]:
            self._dry_run(options, period)
            return
        actor = None
        if options["username"]:
            actor = get_user_model().objects.filter(username=options["username"]).first()
            if actor is None:
                raise CommandError(f"no user {options['username']!r}")
        try:
            snapshot = services.request_count(
                actor=actor,
                date_from=options["date_from"],
                date_to=options["date_to"],
                period=period,
                locations=options["location"],
                perpetrators=options["perpetrator"],
                supersedes=supersedes,
                enqueue=False,
            )
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(_message(exc))
        self.stdout.write(f"snapshot {snapshot.pk}: computing…")
        self._report(services.run_count(snapshot.pk))

    def _dry_run(self, options: dict, period: ReportingPeriod | None) -> None:
        date_from, date_to = (period.start, period.end) if period else (options["date_from"], options["date_to"])
        if date_from is None or date_to is None:
            raise CommandError("give --from and --to, or --period")
        for model, ids, name in (
            (Location, options["location"], "location"),
            (Perpetrator, options["perpetrator"], "perpetrator"),
        ):
            missing = set(ids) - set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
            if missing:
                raise CommandError(f"unknown {name} ids: {sorted(missing)}")
        parameters = counting.CountParameters(
            date_from, date_to, tuple(options["location"]), tuple(options["perpetrator"])
        )
        if options["window"]:
            result = rollup.window_count(parameters)
            self.stdout.write(json.dumps({"result": result}, ensure_ascii=False, indent=2))
            return
        figures = counting.compute(parameters)
        self.stdout.write(
            json.dumps({"fingerprint": figures.fingerprint, "result": figures.result}, ensure_ascii=False, indent=2)
        )

    def _report(self, snapshot: CountSnapshot) -> None:
        if snapshot.status == CountSnapshot.State.DONE:
            self.stdout.write(self.style.SUCCESS(f"snapshot {snapshot.pk}: done, fingerprint {snapshot.fingerprint}"))
            self.stdout.write(snapshot.summary_en)
            self.stdout.write(snapshot.summary_ar)
        elif snapshot.status == CountSnapshot.State.FAILED:
            raise CommandError(f"snapshot {snapshot.pk} failed: {snapshot.failure_reason}")
        else:
            self.stdout.write(f"snapshot {snapshot.pk}: {snapshot.status}")


def _message(exc: ValidationError | PermissionDenied) -> str:
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items())
    return " ".join(getattr(exc, "messages", [str(exc)]))
