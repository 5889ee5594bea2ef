"""Scan for duplicates from the command line, as the API does, with its progress on the terminal.

manage.py find_duplicates --user reviewer1                # every victim
manage.py find_duplicates --user reviewer1 --incremental  # victims added or changed since the last scan

The scan runs in this process (no worker needed) and is recorded like one started from the API or the page.
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from matching import scans
from matching.models import DuplicateScan


class Command(BaseCommand):
    help = "Compare victims and store candidate duplicate pairs (a duplicate scan)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", required=True, help="the reviewer or admin who runs the scan")
        parser.add_argument("--incremental", action="store_true", help="only victims added or changed since")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"No user named {options['user']!r}.")
        try:
            scan = scans.start_scan(user, incremental=options["incremental"], enqueue=False)
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        except scans.ScanAlreadyRunning as exc:
            raise CommandError(f"{exc} (scan #{exc.scan.pk})") from None
        started = time.monotonic()
        interactive = self.stdout.isatty()
        last = {"stage": ""}

        def progress(stage: str, done: int, total: int) -> None:
            line = f"{stage}: {done:,}/{total:,}" if total else f"{stage}…"
            if interactive:
                self.stdout.write("\r" + line.ljust(60), ending="")
                self.stdout.flush()
            elif stage != last["stage"] or done == total:
                self.stdout.write(line)
            last["stage"] = stage

        state = scans.run_scan(scan.pk, on_progress=progress)
        if interactive:
            self.stdout.write("")
        scan = DuplicateScan.objects.get(pk=scan.pk)
        elapsed = time.monotonic() - started
        if state != DuplicateScan.State.DONE:
            raise CommandError(f"Scan #{scan.pk} {state}: {scan.error}")
        self.stdout.write(
            f"Scan #{scan.pk} done in {elapsed:.1f} s: {scan.victims:,} victims, "
            f"{scan.pairs_compared:,} pairs compared, {scan.candidates:,} new candidates."
        )
