"""Re-hash sealed originals now (the scheduled task does this every MEDIA_FIXITY_INTERVAL_HOURS).

Exit status 1 when any original changed or is missing, so it can run from cron or monitoring.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from evidence import services
from evidence.models import FixityStatus, SealedOriginal


class Command(BaseCommand):
    help = "Re-hash sealed media originals and flag any that changed or vanished."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--all", action="store_true", help="Check every original, not only those due.")

    def handle(self, *args, **options) -> None:
        ids = (
            list(SealedOriginal.objects.order_by("pk").values_list("pk", flat=True))
            if options["all"]
            else list(dict.fromkeys(services.fixity_due_ids()))
        )
        bad = []
        for sealed_id in ids:
            outcome = services.check_fixity(sealed_id, every_item=options["all"])
            if outcome not in (None, FixityStatus.OK):
                bad.append((sealed_id, outcome))
                self.stderr.write(f"sealed original {sealed_id}: {outcome}")
        self.stdout.write(f"Checked {len(ids)} original(s); {len(bad)} changed or missing.")
        if bad:
            raise CommandError(f"{len(bad)} sealed original(s) failed the fixity check")
