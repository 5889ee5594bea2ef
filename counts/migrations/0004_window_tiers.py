"""Coarser window-count tiers (counts/rollup.py, docs/design.md "Window counts from rollups"): a
day tier, a month tier by governorate, per-incident totals and spans, and a `duplicates` figure.

On PostgreSQL this migration replaced the functions and triggers and recomputed every tier; 0006
does that now (`install` below). On other databases the tables stay empty: `rollup.window_count`
counts the victims there.
"""

from django.db import migrations, models

# Which incidents straddle a window's edge: the span of those whose victims died on several days.
SPAN_INDEX = (
    "CREATE INDEX incident_total_span ON counts_incident_total "
    "USING gist (daterange(first_death, last_death, '[]')) WHERE first_death < last_death"
)


def install(apps, schema_editor):
    """The index only, now: the triggers read tables that later migrations create, so the latest rollup
    migration (0007) installs them (`rollup.install_in_migration`) and fills every tier. A database
    migrated past 0004 before then got the triggers here, which the later ones replaced."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(SPAN_INDEX)


def uninstall(apps, schema_editor):
    from counts import rollup

    rollup.uninstall_in_migration(schema_editor)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS incident_total_span")


class Migration(migrations.Migration):

    dependencies = [
        ('counts', '0003_rollups'),
    ]

    operations = [
        migrations.CreateModel(
            name='DayRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('total', models.IntegerField(default=0)),
                ('children', models.IntegerField(default=0)),
                ('women', models.IntegerField(default=0)),
                ('men', models.IntegerField(default=0)),
                ('unknown', models.IntegerField(default=0)),
                ('role_civil_defense', models.IntegerField(default=0)),
                ('role_medical', models.IntegerField(default=0)),
                ('role_media', models.IntegerField(default=0)),
                ('role_humanitarian', models.IntegerField(default=0)),
                ('role_education', models.IntegerField(default=0)),
                ('role_other', models.IntegerField(default=0)),
                ('duplicates', models.IntegerField(default=0)),
                ('death_date', models.DateField()),
                ('perpetrator_id', models.BigIntegerField()),
            ],
            options={
                'db_table': 'counts_day_rollup',
            },
        ),
        migrations.CreateModel(
            name='IncidentSpan',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('first_death', models.DateField()),
                ('last_death', models.DateField()),
                ('occurred_on', models.DateField()),
                ('perpetrator_id', models.BigIntegerField()),
                ('incidents', models.IntegerField(default=0)),
                ('injured', models.IntegerField(default=0)),
            ],
            options={
                'db_table': 'counts_incident_span',
            },
        ),
        migrations.CreateModel(
            name='IncidentTotal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('incident_id', models.BigIntegerField(unique=True)),
                ('victims', models.IntegerField()),
                ('first_death', models.DateField()),
                ('last_death', models.DateField()),
                ('occurred_on', models.DateField()),
                ('perpetrator_id', models.BigIntegerField()),
                ('location_id', models.BigIntegerField()),
                ('governorate_id', models.BigIntegerField()),
                ('injured_count', models.IntegerField()),
            ],
            options={
                'db_table': 'counts_incident_total',
            },
        ),
        migrations.CreateModel(
            name='MonthRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('total', models.IntegerField(default=0)),
                ('children', models.IntegerField(default=0)),
                ('women', models.IntegerField(default=0)),
                ('men', models.IntegerField(default=0)),
                ('unknown', models.IntegerField(default=0)),
                ('role_civil_defense', models.IntegerField(default=0)),
                ('role_medical', models.IntegerField(default=0)),
                ('role_media', models.IntegerField(default=0)),
                ('role_humanitarian', models.IntegerField(default=0)),
                ('role_education', models.IntegerField(default=0)),
                ('role_other', models.IntegerField(default=0)),
                ('duplicates', models.IntegerField(default=0)),
                ('month', models.DateField()),
                ('governorate_id', models.BigIntegerField()),
                ('perpetrator_id', models.BigIntegerField()),
            ],
            options={
                'db_table': 'counts_month_rollup',
            },
        ),
        migrations.AddField(
            model_name='victimrollup',
            name='duplicates',
            field=models.IntegerField(default=0),
        ),
        migrations.AddIndex(
            model_name='incidentrollup',
            index=models.Index(fields=['incident_id', 'death_date'], name='incident_rollup_incident'),
        ),
        migrations.AddConstraint(
            model_name='dayrollup',
            constraint=models.UniqueConstraint(fields=('death_date', 'perpetrator_id'), name='day_rollup_key'),
        ),
        migrations.AddConstraint(
            model_name='incidentspan',
            constraint=models.UniqueConstraint(fields=('first_death', 'last_death', 'occurred_on', 'perpetrator_id'), name='incident_span_key'),
        ),
        migrations.AddIndex(
            model_name='incidenttotal',
            index=models.Index(condition=models.Q(('victims__gte', 5)), fields=['first_death', 'last_death', 'victims'], include=['occurred_on', 'perpetrator_id', 'governorate_id'], name='incident_total_massacre'),
        ),
        migrations.AddConstraint(
            model_name='monthrollup',
            constraint=models.UniqueConstraint(fields=('month', 'governorate_id', 'perpetrator_id'), name='month_rollup_key'),
        ),
        migrations.RunPython(install, uninstall),
    ]
