"""Print (or write) the last entry's sequence and hash; keep it elsewhere to detect truncation later."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.services import verify_chain


class Command(BaseCommand):
    help = "Export a checkpoint of the audit chain (last sequence and hash) after verifying it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", help="Write the checkpoint to this file instead of stdout.")

    def handle(self, *args, **options) -> None:
        report = verify_chain()
        if not report.ok:
            raise CommandError(f"audit log broken at entry #{report.first_broken}: {report.reason}")
        checkpoint = json.dumps({"sequence": report.last_sequence or 0, "hash": report.last_hash or ""})
        if options["output"]:
            Path(options["output"]).write_text(checkpoint + "\n")
        self.stdout.write(checkpoint)
