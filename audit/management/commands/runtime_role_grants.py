"""The privileges of the application's run-time database role (PostgreSQL), as SQL (or applied).

Production runs with two roles: the owner of the tables, used only to migrate, and a run-time role
the web processes and workers connect as. The run-time role may read and write the application's
tables, but on the append-only chains (the audit log, the chain of custody: every table registered
in audit/chain.py) only SELECT and INSERT: it cannot UPDATE, DELETE or TRUNCATE them, and since it
owns nothing it can neither ALTER TABLE ... DISABLE TRIGGER nor drop the append-only triggers.

Run it as the owner after every `migrate` (new tables need their grants); it is idempotent:

    manage.py runtime_role_grants app_runtime            # print the SQL
    manage.py runtime_role_grants app_runtime --execute  # apply it with this connection (the owner)
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from audit import chain


def grants_sql(role: str, schema: str = "public") -> list[str]:
    quote = connection.ops.quote_name
    database = quote(connection.settings_dict["NAME"])
    append_only = ", ".join(quote(c.model._meta.db_table) for c in chain.chains())
    return [
        f"GRANT CONNECT ON DATABASE {database} TO {quote(role)}",
        f"GRANT USAGE ON SCHEMA {quote(schema)} TO {quote(role)}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {quote(schema)} TO {quote(role)}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {quote(schema)} TO {quote(role)}",
        # The chains: read and append only.
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {append_only} FROM {quote(role)}",
    ]


class Command(BaseCommand):
    help = "Print (or apply) the grants of the run-time database role: append-only on the audit and custody chains."

    def add_arguments(self, parser) -> None:
        parser.add_argument("role", help="The run-time role (it must exist and must own no table).")
        parser.add_argument("--schema", default="public")
        parser.add_argument("--execute", action="store_true", help="Apply the grants now (connected as the owner).")

    def handle(self, *args, role: str, schema: str, execute: bool, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("database roles and grants are PostgreSQL's; SQLite has none")
        statements = grants_sql(role, schema)
        if execute:
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
        for statement in statements:
            self.stdout.write(statement + ";")
