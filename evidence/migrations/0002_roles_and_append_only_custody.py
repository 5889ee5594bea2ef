"""Evidence permissions for the three role groups, and an append-only chain of custody on PostgreSQL.

documenter: add/change/view witnesses, testimony, media items and sources.
reviewer: view them. admin: everything, plus `view_witness_identity` (grantable to anyone else).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODELS = ["witness", "testimony", "mediaitem", "source"]
ROLE_PERMISSIONS = {
    "documenter": [f"{verb}_{model}" for model in MODELS for verb in ("add", "change", "view")],
    "reviewer": [f"view_{model}" for model in MODELS] + ["view_custodyevent"],
    "admin": [
        f"{verb}_{model}"
        for model in [*MODELS, "custodyevent", "sealedoriginal"]
        for verb in ("add", "change", "delete", "view")
    ]
    + ["view_witness_identity"],
}

APPEND_ONLY_SQL = """
CREATE OR REPLACE FUNCTION evidence_custody_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the chain of custody is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER evidence_custody_append_only
    BEFORE UPDATE OR DELETE ON evidence_custodyevent
    FOR EACH ROW EXECUTE FUNCTION evidence_custody_append_only();
"""
DROP_SQL = """
DROP TRIGGER IF EXISTS evidence_custody_append_only ON evidence_custodyevent;
DROP FUNCTION IF EXISTS evidence_custody_append_only();
"""


def grant(apps, schema_editor):
    app_config = apps.get_app_config("evidence")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="evidence", codename__in=codenames))


def append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY_SQL, params=None)


def drop_append_only(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0001_initial"),
        ("incidents", "0002_seed_reference_data_and_roles"),
    ]

    operations = [
        migrations.RunPython(grant, migrations.RunPython.noop),
        migrations.RunPython(append_only, drop_append_only),
    ]
