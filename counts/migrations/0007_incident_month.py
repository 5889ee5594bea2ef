"""The span tier by month (counts/rollup.py, docs/design.md "Window counts from rollups"): incidents,
injured and massacres per (month of the first and of the last counted death, incident date, party),
what a window reads for the incidents whose deaths all fall in its whole months; those whose first or
last death falls in a partial month at an edge are read from `counts_incident_span` by day (an index
on the last date of death for the end). At ten million victims the span tier's 140,102 rows were the
largest read of an all-time window (bench/README.md).

On PostgreSQL the functions and triggers are replaced by the new ones and every tier is recomputed
from the victims in this migration's transaction (writers wait: the victims, incidents and places are
locked first). Going back drops the rollup functions and triggers (their text is this code's; 0006's
is not kept): migrate forward again to have them. On other databases the tables stay empty:
`rollup.window_count` counts the victims there.
"""

from django.db import migrations, models


def install(apps, schema_editor):
    from counts import rollup

    rollup.install_in_migration(schema_editor)


def uninstall(apps, schema_editor):
    from counts import rollup

    rollup.uninstall_in_migration(schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('counts', '0006_massacre_tiers'),
    ]

    operations = [
        migrations.CreateModel(
            name='IncidentMonth',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('first_month', models.DateField()),
                ('last_month', models.DateField()),
                ('occurred_on', models.DateField()),
                ('perpetrator_id', models.BigIntegerField()),
                ('incidents', models.IntegerField(default=0)),
                ('injured', models.IntegerField(default=0)),
                ('massacres', models.IntegerField(default=0)),
            ],
            options={
                'db_table': 'counts_incident_month',
            },
        ),
        migrations.AddIndex(
            model_name='incidentspan',
            index=models.Index(fields=['last_death', 'first_death'], name='incident_span_last'),
        ),
        migrations.AddConstraint(
            model_name='incidentmonth',
            constraint=models.UniqueConstraint(fields=('first_month', 'last_month', 'occurred_on', 'perpetrator_id'), name='incident_month_key'),
        ),
        migrations.RunPython(install, uninstall),
    ]
