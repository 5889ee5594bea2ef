"""Count snapshots; a published snapshot is frozen by the database itself.

The trigger refuses any UPDATE of a row whose published_at was already set (and, on PostgreSQL,
any DELETE of one), whatever code path tries: a correction is a new snapshot that supersedes it.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

POSTGRESQL_FORWARD = """
CREATE FUNCTION incidents_countsnapshot_frozen() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'count snapshot % is published and cannot be changed', OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER countsnapshot_published_frozen
    BEFORE UPDATE OR DELETE ON incidents_countsnapshot
    FOR EACH ROW WHEN (OLD.published_at IS NOT NULL)
    EXECUTE FUNCTION incidents_countsnapshot_frozen();
"""
POSTGRESQL_BACKWARD = """
DROP TRIGGER IF EXISTS countsnapshot_published_frozen ON incidents_countsnapshot;
DROP FUNCTION IF EXISTS incidents_countsnapshot_frozen();
"""
# SQLite: updates only (Django's test flush deletes rows one by one there).
SQLITE_FORWARD = """
CREATE TRIGGER countsnapshot_published_frozen
BEFORE UPDATE ON incidents_countsnapshot
FOR EACH ROW WHEN OLD.published_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'count snapshot is published and cannot be changed');
END;
"""
SQLITE_BACKWARD = "DROP TRIGGER IF EXISTS countsnapshot_published_frozen;"


def freeze_published(apps, schema_editor):
    sql = {"postgresql": POSTGRESQL_FORWARD, "sqlite": SQLITE_FORWARD}.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql, params=None)


def unfreeze(apps, schema_editor):
    sql = {"postgresql": POSTGRESQL_BACKWARD, "sqlite": SQLITE_BACKWARD}.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0003_no_future_dates_on_postgresql'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CountSnapshot',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], db_index=True, default='pending', max_length=8, verbose_name='status')),
                ('date_from', models.DateField(verbose_name='from')),
                ('date_to', models.DateField(verbose_name='to')),
                ('locations', models.JSONField(blank=True, default=list, verbose_name='locations')),
                ('perpetrators', models.JSONField(blank=True, default=list, verbose_name='perpetrators')),
                ('massacre_threshold', models.PositiveSmallIntegerField(verbose_name='massacre threshold')),
                ('rule_version', models.CharField(blank=True, max_length=20, verbose_name='rule version')),
                ('result', models.JSONField(blank=True, null=True, verbose_name='result')),
                ('fingerprint', models.CharField(blank=True, max_length=64, verbose_name='fingerprint')),
                ('summary_en', models.TextField(blank=True, verbose_name='summary (English)')),
                ('summary_ar', models.TextField(blank=True, verbose_name='summary (Arabic)')),
                ('failure_reason', models.TextField(blank=True, verbose_name='failure reason')),
                ('attempts', models.PositiveSmallIntegerField(default=0, verbose_name='attempts')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('computed_at', models.DateTimeField(blank=True, null=True)),
                ('published_at', models.DateTimeField(blank=True, null=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('period', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='count_snapshots', to='incidents.reportingperiod', verbose_name='reporting period')),
                ('published_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('supersedes', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='superseded_by', to='incidents.countsnapshot', verbose_name='supersedes')),
            ],
            options={
                'verbose_name': 'count snapshot',
                'verbose_name_plural': 'count snapshots',
                'ordering': ['-created_at', '-id'],
                'constraints': [models.CheckConstraint(condition=models.Q(('date_to__gte', models.F('date_from'))), name='snapshot_window_ordered'), models.CheckConstraint(condition=models.Q(('published_at__isnull', True), ('status', 'done'), _connector='OR'), name='snapshot_published_only_when_done'), models.CheckConstraint(condition=models.Q(models.Q(('status', 'done'), _negated=True), models.Q(('result__isnull', False), models.Q(('fingerprint', ''), _negated=True)), _connector='OR'), name='snapshot_done_has_figures'), models.CheckConstraint(condition=models.Q(('supersedes', models.F('pk')), _negated=True), name='snapshot_not_own_correction')],
            },
        ),
        migrations.RunPython(freeze_published, unfreeze),
    ]
