"""Search (incidents/search.py): pg_trgm and the arabic_fold() function on PostgreSQL; victims' names folded
into stored generated columns (the database computes them for every writer: services, bulk_create in
imports, COPY in benchmarks); GIN trigram indexes on them, and expression indexes over incidents' titles,
documents and place names. On SQLite the functions are registered on each connection (incidents/apps.py).
"""

from django.db import migrations, models


from incidents.names import SQL_FOLD, SQL_FUNCTION

# The folding written out (not a call of arabic_fold): pg_restore runs with an empty search_path.
DOCUMENT_FUNCTION = f"""
CREATE OR REPLACE FUNCTION incident_search_document(title text, description text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT to_tsvector('simple'::regconfig, {SQL_FOLD.format(value="coalesce(title, '') || ' ' || coalesce(description, '')")})
$$;
"""

INDEXES = [
    ("victim_name_fold_trgm", "incidents_victim", "name_folded gin_trgm_ops"),
    ("victim_name_ar_fold_trgm", "incidents_victim", "name_ar_folded gin_trgm_ops"),
    ("incident_title_fold_trgm", "incidents_incident", "arabic_fold(title) gin_trgm_ops"),
    ("incident_document_fts", "incidents_incident", "incident_search_document(title, description)"),
    ("location_name_fold_trgm", "incidents_location", "arabic_fold(name) gin_trgm_ops"),
    ("location_name_ar_fold_trgm", "incidents_location", "arabic_fold(name_ar) gin_trgm_ops"),
]


def functions(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: registered on each connection (incidents/apps.py)
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(SQL_FUNCTION)
    schema_editor.execute(DOCUMENT_FUNCTION)


def no_functions(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP FUNCTION IF EXISTS incident_search_document(text, text)")
    schema_editor.execute("DROP FUNCTION IF EXISTS arabic_fold(text)")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, expression in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression})")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _expression in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("incidents", "0008_incident_origin")]

    operations = [
        migrations.RunPython(functions, no_functions),
        migrations.AddField(
            model_name="victim",
            name="name_folded",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Func(models.F("name"), function="arabic_fold", output_field=models.TextField()),
                output_field=models.TextField(),
            ),
        ),
        migrations.AddField(
            model_name="victim",
            name="name_ar_folded",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Func(models.F("name_ar"), function="arabic_fold", output_field=models.TextField()),
                output_field=models.TextField(),
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
