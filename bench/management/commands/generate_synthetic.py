"""`manage.py generate_synthetic --victims N --incidents M --seed S`: bulk synthetic records for benchmarks."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bench import synthetic


class Command(BaseCommand):
    help = (
        "Write realistic synthetic incidents and victims in bulk (COPY on PostgreSQL, batched inserts on "
        "SQLite) for benchmarks. Names, ages and sexes are sampled from the Gaza Ministry of Health list. "
        "Refuses to run on a database holding records by real users."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--victims", type=int, required=True, help="number of victims to write")
        parser.add_argument("--incidents", type=int, required=True, help="number of incidents to write")
        parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
        parser.add_argument(
            "--people-file",
            type=Path,
            default=synthetic.DEFAULT_PEOPLE_FILE,
            help="CSV with id,name,en_name,age,sex (default: data/gaza-moh-2024-04-13.csv)",
        )
        parser.add_argument("--batch-size", type=int, default=5000, help="rows per INSERT on SQLite")
        parser.add_argument(
            "--replace", action="store_true", help="first delete records written earlier by synthetic users"
        )
        parser.add_argument(
            "--allow-real-records", action="store_true", help="run even if the database holds real records"
        )

    def handle(self, *args, **options) -> None:
        if options["victims"] < 0 or options["incidents"] < 1 or options["batch_size"] < 1:
            raise CommandError("--incidents and --batch-size must be positive and --victims not negative.")
        started = time.monotonic()
        if options["replace"]:
            removed = synthetic.delete_synthetic()
            self.stdout.write(f"removed {removed} synthetic victims")
        try:
            report = synthetic.generate(
                victims=options["victims"],
                incidents=options["incidents"],
                seed=options["seed"],
                people_file=options["people_file"],
                batch_size=options["batch_size"],
                allow_real_records=options["allow_real_records"],
                progress=lambda message: self.stdout.write(f"  {message}") if options["verbosity"] > 0 else None,
            )
        except synthetic.SyntheticDataError as error:
            raise CommandError(str(error))
        self.stdout.write(
            self.style.SUCCESS(
                f"wrote {report.incidents} incidents and {report.victims} victims on {report.backend} "
                f"({report.locations_added} places added) in {time.monotonic() - started:.1f} s"
            )
        )
