"""Dates of incidents and deaths cannot lie in the future: a CHECK on PostgreSQL.

SQLite refuses non-deterministic functions in CHECK constraints, so there the API's validation
alone holds the line (the embedded default is for trying the system out, not for production).
"""

from django.db import migrations

CONSTRAINTS = [
    ("incidents_incident", "incident_date_not_future", "occurred_on <= CURRENT_DATE"),
    ("incidents_victim", "victim_death_not_future", "date_of_death IS NULL OR date_of_death <= CURRENT_DATE"),
]


def add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, condition in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({condition})")


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, _ in CONSTRAINTS:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("incidents", "0002_seed_reference_data_and_roles")]
    operations = [migrations.RunPython(add, remove)]
