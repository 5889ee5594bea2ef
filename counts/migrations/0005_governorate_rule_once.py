"""The rollup functions rebuilt from the one governorate rule (incidents.models GOVERNORATE_RULE).

The rule itself is unchanged (a place at governorate level or above is its own governorate, else its
nearest governorate ancestor, else itself); only its SQL text now comes from
`incidents.models.place_governorate_sql`, with the levels as constants instead of a cast array. The
functions are replaced (CREATE OR REPLACE) so the database runs the code's text; the tiers need no
recompute, since every place keeps its governorate. On other databases there is nothing to do.
"""

from django.db import migrations


def replace_functions(apps, schema_editor):
    """Nothing any more: 0007 installs the functions of counts/rollup.py as it is (they read tables
    0006 and 0007 create). A database migrated past 0005 before then got them here, which 0007 replaces."""


class Migration(migrations.Migration):
    dependencies = [("counts", "0004_window_tiers")]

    operations = [migrations.RunPython(replace_functions, migrations.RunPython.noop)]
