"""Verify the chains, then print (or write) a signed checkpoint: each chain's last sequence and hash.

Keep checkpoints away from the database (another machine, the organisation's archive, an e-mail to
the board): `verify_audit_log --checkpoint FILE` then detects any entry removed from the end of a
chain, and anyone holding the public key (`--public-key` prints it) can check that the checkpoint
was made by this system.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit import chain, keys
from audit.services import verify_chains


class Command(BaseCommand):
    help = "Export a signed checkpoint of the audit chains (last sequence and hash of each) after verifying them."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--output", help="Write the checkpoint to this file instead of stdout.")
        parser.add_argument("--public-key", action="store_true", help="Print the checkpoint signing public key only.")

    def handle(self, *args, **options) -> None:
        if options["public_key"]:
            self.stdout.write(keys.public_key_text(keys.current_key_id()))
            return
        reports = verify_chains()
        for report in reports:
            if not report.ok:
                label = chain.get(report.chain).label
                raise CommandError(f"{label} broken at entry #{report.first_broken}: {report.reason}")
        checkpoint = json.dumps(chain.make_checkpoint(reports), sort_keys=True)
        if options["output"]:
            Path(options["output"]).write_text(checkpoint + "\n")
        self.stdout.write(checkpoint)
