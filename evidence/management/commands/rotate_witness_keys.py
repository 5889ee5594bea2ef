"""Re-encrypt witness identity under the current key (WITNESS_KEY_ID).

Rotation: add the new key to WITNESS_KEYS, point WITNESS_KEY_ID at it, deploy, run this command,
and remove the old key from WITNESS_KEYS once it reports nothing remaining.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from evidence import crypto, services


class Command(BaseCommand):
    help = "Re-encrypt every witness identity still under an old key with the current WITNESS_KEY_ID."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only count the witnesses under old keys.")
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, *args, dry_run: bool = False, batch_size: int = 200, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            current = crypto.current_key_id()
            done, remaining = services.rotate_witness_keys(batch_size=batch_size, dry_run=dry_run)
        except crypto.UndecryptableValue as exc:
            raise CommandError(f"a witness could not be decrypted: {exc}. Is every old key still in WITNESS_KEYS?")
        if dry_run:
            self.stdout.write(f"{remaining} witness(es) to re-encrypt under key {current!r}.")
            return
        self.stdout.write(f"Re-encrypted {done} witness(es) under key {current!r}; {remaining} remaining.")
        if remaining:
            raise CommandError(f"{remaining} witness(es) are still under an old key")
