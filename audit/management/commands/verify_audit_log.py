"""Check the keyed chains (the audit log, the chain of custody); exit 1 naming the first broken entry.

`--checkpoint FILE` (from `audit_checkpoint`) also detects truncation and checks the checkpoint's
Ed25519 signature. A verifier who holds no audit key passes `--public-key` (printed by
`audit_checkpoint --public-key`) and `--without-key`: the signature and every plain SHA-256 link up
to the checkpoint are checked, the entries' MACs are not.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit import chain
from audit.services import verify_chains


class Command(BaseCommand):
    help = "Verify the keyed hash chains (audit log, chain of custody), and with --checkpoint that none was truncated."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--checkpoint", help="A file written earlier by `audit_checkpoint`.")
        parser.add_argument("--public-key", help="The checkpoint key's Ed25519 public key (base64).")
        parser.add_argument(
            "--without-key",
            action="store_true",
            help="Do not check MACs (a verifier without AUDIT_KEYS; needs --checkpoint and --public-key).",
        )

    def handle(self, *args, **options) -> None:
        checkpoint = json.loads(Path(options["checkpoint"]).read_text()) if options["checkpoint"] else None
        if options["without_key"] and not (checkpoint and options["public_key"] and "signature" in checkpoint):
            raise CommandError("--without-key needs a signed --checkpoint and its --public-key")
        reports = verify_chains(checkpoint, public_key=options["public_key"], check_macs=not options["without_key"])
        for report in reports:
            if not report.ok:
                if report.chain == "checkpoint":
                    raise CommandError(f"checkpoint refused: {report.reason}")
                raise CommandError(
                    f"{chain.get(report.chain).label} broken at entry #{report.first_broken}: {report.reason}"
                )
        for report in reports:
            label = chain.get(report.chain).label
            unkeyed = (
                f" ({report.unkeyed_entries} from before keying, sealed by the keyed marker)"
                if report.unkeyed_entries
                else ""
            )
            self.stdout.write(self.style.SUCCESS(f"{label} intact: {report.entries} entries{unkeyed}"))
        if checkpoint:
            signed = "signed" if "signature" in checkpoint else "unsigned (older form)"
            self.stdout.write(f"checkpoint reached ({signed})")
        if options["without_key"]:
            self.stdout.write("MACs not checked (no key): links and contents verified up to the signed checkpoint")
