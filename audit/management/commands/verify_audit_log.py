"""Check the audit chain; exit 1 naming the first broken entry. `--checkpoint FILE` also detects truncation."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.services import verify_chain


class Command(BaseCommand):
    help = "Verify the hash-chained audit log (and, with --checkpoint, that it was not truncated)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--checkpoint", help="A file written earlier by `audit_checkpoint`.")

    def handle(self, *args, **options) -> None:
        checkpoint = json.loads(Path(options["checkpoint"]).read_text()) if options["checkpoint"] else None
        report = verify_chain(checkpoint)
        if not report.ok:
            raise CommandError(f"audit log broken at entry #{report.first_broken}: {report.reason}")
        self.stdout.write(self.style.SUCCESS(f"audit log intact: {report.entries} entries"))
