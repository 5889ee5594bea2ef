"""Relay outbox messages to the broker: once, or in a loop (a sidecar process instead of beat)."""

from __future__ import annotations

import time
from datetime import timedelta

from django.core.management.base import BaseCommand

from outbox import services
from outbox.models import OutboxMessage


class Command(BaseCommand):
    help = "Send outbox messages that the broker has not taken yet (e.g. stored while Redis was down)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep relaying every --interval seconds.")
        parser.add_argument("--interval", type=float, default=10.0)
        parser.add_argument(
            "--resend-after-minutes", type=int, default=60, help="Resend messages sent this long ago but never done."
        )

    def handle(self, *args, **options) -> None:
        resend_after = timedelta(minutes=options["resend_after_minutes"])
        while True:
            sent = services.relay_pending(resend_after=resend_after)
            waiting = OutboxMessage.objects.unsent().count()
            self.stdout.write(f"relayed {sent}; {waiting} waiting")
            if not options["loop"]:
                return
            time.sleep(options["interval"])
