"""Count snapshots now belong to the `counts` app (counts/0001 takes the model over).

State only: the table `incidents_countsnapshot`, its rows, constraints and the trigger that freezes
published snapshots (0004) stay exactly where they are; counts/0001 declares the same table.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0006_victim_identifying_fields"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="CountSnapshot")],
            database_operations=[],
        ),
    ]
