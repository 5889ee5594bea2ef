"""Search (incidents/search.py): on PostgreSQL, pg_trgm, the arabic_fold() function and GIN indexes over it.

The indexes are expressions over the stored columns, so they stay right whoever writes the rows (the
services, bulk_create in imports, COPY in benchmarks). SQLite needs nothing here: the functions are
registered on each connection (incidents/apps.py) and searches scan the (small, embedded) tables.
"""

from django.db import migrations

from incidents.names import SQL_FUNCTION

DOCUMENT_FUNCTION = """
CREATE OR REPLACE FUNCTION incident_search_document(title text, description text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT to_tsvector('simple'::regconfig, arabic_fold(coalesce(title, '') || ' ' || coalesce(description, '')))
$$;
"""

INDEXES = [
    ("victim_name_fold_trgm", "incidents_victim", "arabic_fold(name) gin_trgm_ops"),
    ("victim_name_ar_fold_trgm", "incidents_victim", "arabic_fold(name_ar) gin_trgm_ops"),
    ("incident_title_fold_trgm", "incidents_incident", "arabic_fold(title) gin_trgm_ops"),
    ("incident_document_fts", "incidents_incident", "incident_search_document(title, description)"),
    ("location_name_fold_trgm", "incidents_location", "arabic_fold(name) gin_trgm_ops"),
    ("location_name_ar_fold_trgm", "incidents_location", "arabic_fold(name_ar) gin_trgm_ops"),
]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(SQL_FUNCTION)
    schema_editor.execute(DOCUMENT_FUNCTION)
    for name, table, expression in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression})")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _expression in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute("DROP FUNCTION IF EXISTS incident_search_document(text, text)")
    schema_editor.execute("DROP FUNCTION IF EXISTS arabic_fold(text)")


class Migration(migrations.Migration):
    dependencies = [("incidents", "0006_victim_identifying_fields")]

    operations = [migrations.RunPython(forwards, backwards)]
