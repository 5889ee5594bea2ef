"""Each snapshot keeps the names (English and Arabic) of its period, places and parties as they were
when it was computed, so a later rename never changes what a published snapshot shows.

Nullable with no default on purpose: SQLite then adds the column in place (ALTER TABLE ADD COLUMN);
a field it had to rebuild the table for would silently drop the trigger that freezes published
snapshots (incidents/0004). Snapshots computed earlier keep null and are named from the live tables.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("counts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="countsnapshot",
            name="parameter_names",
            field=models.JSONField(blank=True, editable=False, null=True, verbose_name="names of the parameters"),
        ),
    ]
