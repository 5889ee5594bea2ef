"""Import a list from the command line, as the API does, with a progress bar on the terminal.

manage.py import_list victims.csv --source "VDC export 2024-03" --user documenter1
manage.py import_list victims.xlsx --source "MoH 2024-04-13" --dry-run --report errors.xlsx
manage.py import_list victims.csv --source "MoH 2024-04-13" --submit     # new incidents go to review

The import runs in this process (no worker needed) and is recorded like any other: it appears on the
imports page and in the API, its error report can be downloaded there too.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from intake import readers, services
from intake.models import Import
from intake.pipeline import Progress


class ProgressBar:
    """`[#########-----] 45% 450,000/1,000,000 rows, 2,100 rows/s` on one terminal line (a line per tenth
    elsewhere, e.g. in a log)."""

    def __init__(self, stream: Any, interactive: bool, width: int = 30) -> None:
        self.stream, self.interactive, self.width = stream, interactive, width
        self.started = time.monotonic()
        self.last_tenth = -1
        self.stage = ""

    def update(self, progress: Progress) -> None:
        total, done = progress.rows_total, progress.rows_done
        unit = "incidents sent for review" if progress.stage == Import.Stage.SUBMIT else "rows"
        if progress.stage != self.stage:
            if self.stage and self.interactive:
                self.stream.write("")
            self.stage, self.started, self.last_tenth = progress.stage, time.monotonic(), -1
        fraction = min(1.0, done / total) if total else 0.0
        filled = int(self.width * fraction)
        rate = done / max(time.monotonic() - self.started, 1e-6)
        counts = f"{done:,}/{total:,}" if total is not None else f"{done:,}"
        line = f"[{'#' * filled}{'-' * (self.width - filled)}] {fraction:4.0%} {counts} {unit}, {rate:,.0f}/s"
        if self.interactive:
            self.stream.write("\r" + line, ending="")
            self.stream.flush()
            return
        tenth = int(fraction * 10)
        if tenth != self.last_tenth:
            self.last_tenth = tenth
            self.stream.write(line)

    def close(self) -> None:
        if self.interactive and self.stage:
            self.stream.write("")


class Command(BaseCommand):
    help = "Import a CSV or XLSX list of victims (as POST /api/v1/imports/ does), showing its progress."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The list: CSV (UTF-8, UTF-8 with BOM, Windows-1256) or XLSX.")
        parser.add_argument("--source", required=True, help="The list's name, e.g. 'VDC export 2024-03'.")
        parser.add_argument("--dry-run", action="store_true", help="Read and check every row; write nothing.")
        parser.add_argument("--submit", action="store_true", help="Send each new incident for review.")
        parser.add_argument("--user", help="The importer (a documenter or admin); default: the only superuser.")
        parser.add_argument("--report", type=Path, help="Write the error report to this .csv or .xlsx file.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        report: Path | None = options["report"]
        if report is not None and report.suffix.lower().lstrip(".") not in services.REPORT_FORMATS:
            raise CommandError("--report must name a .csv or .xlsx file")
        user = self._importer(options["user"])
        try:
            stored = services.store_local_file(path)
            record = services.start_import(
                actor=user,
                stored=stored,
                source=options["source"],
                dry_run=options["dry_run"],
                submit=options["submit"],
                file_name=path.name,
                enqueue=False,
            )
        except readers.UnsupportedFile as exc:
            raise CommandError(f"not imported: {exc.args[0]}") from None
        except (readers.EmptyFile, readers.UnreadableFile) as exc:
            raise CommandError(f"not imported: {exc.args[0]}") from None
        except (PermissionDenied, ValidationError) as exc:
            raise CommandError(f"not imported: {' '.join(getattr(exc, 'messages', [str(exc)]))}") from None
        self.stdout.write(
            f"import #{record.pk}: {record.get_file_format_display()}"
            + (f", {record.encoding}, delimiter {record.delimiter!r}" if record.encoding else "")
            + f", SHA-256 {record.sha256}"
        )
        bar = None if options["no_progress"] else ProgressBar(self.stdout, interactive=self.stdout.isatty())
        state = services.run_import(record.pk, on_progress=bar.update if bar else None)
        if bar:
            bar.close()
        record.refresh_from_db()
        summary = record.summary or {}
        self.stdout.write(
            ("dry run: " if record.dry_run else "")
            + ", ".join(f"{key} {summary.get(key, 0):,}" for key in services.SUMMARY_KEYS_SHOWN)
        )
        if report is not None:
            chunks, _type, _name = services.error_report(
                actor=user, record=record, report_format=report.suffix.lower().lstrip(".")
            )
            with open(report, "wb") as output:
                for chunk in chunks:
                    output.write(chunk)
            self.stdout.write(f"error report: {report}")
        if state == Import.State.FAILED:
            raise CommandError(f"import #{record.pk} failed: {record.failure_reason}")

    def _importer(self, username: str | None) -> Any:
        users = get_user_model().objects.filter(is_active=True)
        if username:
            user = users.filter(username=username).first()
            if user is None:
                raise CommandError(f"no active user {username!r}")
        else:
            superusers = list(users.filter(is_superuser=True)[:2])
            if len(superusers) != 1:
                raise CommandError("name the importer with --user (the records are theirs)")
            user = superusers[0]
        if not services.may_import(user):
            raise CommandError(f"{user.get_username()} may not import lists (documenters and admins may)")
        return user
