"""Rollups of the counted victims for window counts, kept right by database triggers (counts/rollup.py).

The triggers and the fill are migration 0004's (counts/migrations/0004_window_tiers.py); on other
databases than PostgreSQL the tables stay empty: `rollup.window_count` counts the victims there.
"""

from django.db import migrations, models


def install(apps, schema_editor):
    """Nothing any more: the triggers read tables that later migrations create, so the latest rollup
    migration (0007) installs them (`rollup.install_in_migration`, the code of counts/rollup.py as it
    is) and fills every tier. A database migrated past 0003 before then got the first triggers here,
    which the later ones replaced."""


def uninstall(apps, schema_editor):
    from counts import rollup

    rollup.uninstall_in_migration(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("counts", "0002_countsnapshot_parameter_names"),
        ("incidents", "0009_search"),
    ]

    operations = [
        migrations.CreateModel(
            name='IncidentRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('incident_id', models.BigIntegerField()),
                ('occurred_on', models.DateField()),
                ('perpetrator_id', models.BigIntegerField()),
                ('location_id', models.BigIntegerField()),
                ('injured_count', models.IntegerField()),
                ('death_date', models.DateField()),
                ('place_id', models.BigIntegerField()),
                ('victims', models.IntegerField(default=0)),
            ],
            options={
                'db_table': 'counts_incident_rollup',
                'constraints': [models.UniqueConstraint(fields=('death_date', 'incident_id', 'place_id', 'occurred_on', 'perpetrator_id', 'location_id', 'injured_count'), name='incident_rollup_key')],
            },
        ),
        migrations.CreateModel(
            name='VictimRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('death_date', models.DateField()),
                ('place_id', models.BigIntegerField()),
                ('perpetrator_id', models.BigIntegerField()),
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
            ],
            options={
                'db_table': 'counts_victim_rollup',
                'constraints': [models.UniqueConstraint(fields=('death_date', 'place_id', 'perpetrator_id'), name='victim_rollup_key')],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
