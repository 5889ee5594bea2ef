"""Massacres kept as figures (counts/rollup.py, docs/design.md "Window counts from rollups"): a
`massacres` figure on the span tier (incidents wholly inside a window: total, by party, by date) and a
tier by (month of first death, month of last death, governorate, party) for massacres by governorate
of a window's whole months, both at MASSACRE_FLOOR; an index of massacres by last date of death for
the partial months at a window's end. At ten million victims the massacres of a window were the one
read that grew with the incidents (bench/README.md).

On PostgreSQL this migration replaced the functions and triggers and recomputed every tier; 0007
does that now (`install` below). Going back drops the rollup functions and triggers (their text is
this code's; 0005's is not kept): migrate forward again to have them. On other databases the tables
stay empty: `rollup.window_count` counts the victims there.
"""

from django.db import migrations, models


def install(apps, schema_editor):
    """Nothing any more: the triggers and the backfill write a table that 0007 creates, so 0007 installs
    them (with the code of counts/rollup.py as it is) and fills every tier. A database migrated past
    0006 before then got the triggers here, which 0007 replaces."""


def uninstall(apps, schema_editor):
    from counts import rollup

    rollup.uninstall_in_migration(schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('counts', '0005_governorate_rule_once'),
    ]

    operations = [
        migrations.CreateModel(
            name='MassacreMonth',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('first_month', models.DateField()),
                ('last_month', models.DateField()),
                ('governorate_id', models.BigIntegerField()),
                ('perpetrator_id', models.BigIntegerField()),
                ('massacres', models.IntegerField(default=0)),
            ],
            options={
                'db_table': 'counts_massacre_month',
            },
        ),
        migrations.AddField(
            model_name='incidentspan',
            name='massacres',
            field=models.IntegerField(default=0),
        ),
        migrations.AddIndex(
            model_name='incidenttotal',
            index=models.Index(condition=models.Q(('victims__gte', 5)), fields=['last_death', 'first_death'], include=('governorate_id', 'perpetrator_id'), name='incident_total_massacre_last'),
        ),
        migrations.AddConstraint(
            model_name='massacremonth',
            constraint=models.UniqueConstraint(fields=('first_month', 'last_month', 'governorate_id', 'perpetrator_id'), name='massacre_month_key'),
        ),
        migrations.RunPython(install, uninstall),
    ]
