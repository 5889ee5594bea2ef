"""Recompute the window-count rollups from the victims (PostgreSQL), and say whether they had drifted.

manage.py rebuild_rollups           # after a TRUNCATE or a partial restore (the triggers follow every other write)
manage.py rebuild_rollups --check   # compare only: exit 1 if the stored rollups differ from a full recompute
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from counts import rollup


class Command(BaseCommand):
    help = "Recompute the rollups that window counts read (counts/rollup.py) from the victims."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="Compare with a full recompute; change nothing.")

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("the rollups are kept on PostgreSQL only; elsewhere window counts read the victims")
        stored, recomputed = rollup.stored_rows(), rollup.recomputed_rows()
        differing = {table: len(set(stored[table].items()) ^ set(recomputed[table].items())) for table in recomputed}
        for table, count in differing.items():
            self.stdout.write(f"{table}: {len(stored[table])} rows stored, {count} differing from a full recompute")
        if options["check"]:
            if any(differing.values()):
                raise CommandError("the rollups differ from a full recompute: run manage.py rebuild_rollups")
            return
        rollup.rebuild()
        self.stdout.write(self.style.SUCCESS("rollups recomputed from the victims"))
