"""Back up, restore into a scratch database, and prove the copy is whole. Run it on a schedule.

1. `pg_dump --format=custom` of the live database, and a copy of MEDIA_ROOT (or use existing
   ones: `--dump FILE --media-backup DIR`).
2. `pg_restore --exit-on-error` into a new scratch database.
3. Checks: every table holds the same number of rows; the keyed chains (audit log, chain of custody)
   verify in the restored copy (and against `--checkpoint` when given); every sealed original in the
   media copy hashes to the SHA-256 the restored database recorded at upload.
4. The scratch database is dropped (`--keep` leaves it for inspection). Exit 1 on any mismatch.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections

from audit import chain
from audit.services import verify_chains

DRILL_ALIAS = "restore_drill"


def _pg_env_and_args(settings_dict: dict) -> tuple[dict[str, str], list[str]]:
    env = {**os.environ}
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    args = ["-h", str(settings_dict.get("HOST") or "127.0.0.1"), "-p", str(settings_dict.get("PORT") or 5432)]
    if settings_dict.get("USER"):
        args += ["-U", str(settings_dict["USER"])]
    return env, args


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600, check=False)
    if result.returncode != 0:
        raise CommandError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


class Command(BaseCommand):
    help = "Back up (pg_dump + media copy), restore into a scratch database, and verify rows, audit chain and media."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dump", help="Restore this pg_dump custom-format file instead of dumping now.")
        parser.add_argument("--media-backup", help="A copy of MEDIA_ROOT to verify (default: copy it now).")
        parser.add_argument("--checkpoint", help="An audit checkpoint (audit_checkpoint) the restore must reach.")
        parser.add_argument("--keep", action="store_true", help="Keep the scratch database.")

    def handle(self, *args, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("The restore drill needs PostgreSQL (pg_dump / pg_restore).")
        source = connection.settings_dict
        env, conn_args = _pg_env_and_args(source)
        scratch = f"restore_drill_{uuid.uuid4().hex[:10]}"
        workdir = Path(tempfile.mkdtemp(prefix="restore-drill-"))
        problems: list[str] = []
        try:
            dump = Path(options["dump"]) if options["dump"] else workdir / "backup.dump"
            if not options["dump"]:
                _run(["pg_dump", *conn_args, "--format=custom", "--file", str(dump), source["NAME"]], env)
            media_copy = Path(options["media_backup"]) if options["media_backup"] else workdir / "media"
            if not options["media_backup"]:
                if Path(settings.MEDIA_ROOT).exists():
                    shutil.copytree(settings.MEDIA_ROOT, media_copy, symlinks=False)
                else:
                    media_copy.mkdir()
            self.stdout.write(f"backup: {dump} ({dump.stat().st_size} bytes), media copy: {media_copy}")

            _run(["createdb", *conn_args, scratch], env)
            _run(["pg_restore", *conn_args, "--exit-on-error", "--no-owner", "--dbname", scratch, str(dump)], env)
            connections.databases[DRILL_ALIAS] = {**source, "NAME": scratch, "TEST": {}}
            self.stdout.write(f"restored into {scratch}")

            problems += self._compare_rows()
            checkpoint = json.loads(Path(options["checkpoint"]).read_text()) if options["checkpoint"] else None
            for report in verify_chains(checkpoint, using=DRILL_ALIAS):
                label = "checkpoint" if report.chain == "checkpoint" else chain.get(report.chain).label
                if report.ok and report.chain == "audit":
                    self.stdout.write(f"audit chain intact in the restored copy: {report.entries} entries")
                elif report.ok:
                    self.stdout.write(f"{label} intact in the restored copy: {report.entries} entries")
                else:
                    problems.append(f"{label} broken at entry #{report.first_broken}: {report.reason}")
            problems += self._verify_media(media_copy)
        finally:
            if DRILL_ALIAS in connections.databases:
                connections[DRILL_ALIAS].close()
                del connections.databases[DRILL_ALIAS]
            if not options["keep"]:
                subprocess.run(
                    ["dropdb", *conn_args, "--if-exists", scratch], env=env, capture_output=True, check=False
                )
            shutil.rmtree(workdir, ignore_errors=True)
        if problems:
            raise CommandError("restore drill FAILED:\n  " + "\n  ".join(problems))
        self.stdout.write(self.style.SUCCESS("restore drill passed"))

    def _compare_rows(self) -> list[str]:
        problems, tables = [], 0
        for model in apps.get_models(include_auto_created=True):
            if model._meta.proxy or not model._meta.managed:
                continue
            table = connection.ops.quote_name(model._meta.db_table)
            counts = []
            for alias in ("default", DRILL_ALIAS):
                with connections[alias].cursor() as cursor:
                    cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - a quoted model table name
                    counts.append(cursor.fetchone()[0])
            tables += 1
            if counts[0] != counts[1]:
                problems.append(f"{model._meta.db_table}: {counts[0]} rows live, {counts[1]} restored")
        self.stdout.write(f"row counts compared for {tables} tables")
        return problems

    def _verify_media(self, media_copy: Path) -> list[str]:
        if not apps.is_installed("evidence"):
            return []
        sealed = apps.get_model("evidence", "SealedOriginal")
        problems, checked = [], 0
        for path, sha256 in sealed.objects.using(DRILL_ALIAS).values_list("path", "sha256").iterator():
            copy = media_copy / path
            checked += 1
            if not copy.is_file():
                problems.append(f"media original missing from the backup: {path}")
            elif _sha256(copy) != sha256:
                problems.append(f"media original changed in the backup: {path}")
        self.stdout.write(f"media originals verified against their recorded SHA-256: {checked}")
        return problems
