"""`linked` leaves the custody actions: no code ever wrote it (the same bytes uploaded again are recorded
as `uploaded`), so no row holds it. Choices only: no SQL runs."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('evidence', '0005_keyed_custody_chain'),
    ]

    operations = [
        migrations.AlterField(
            model_name='custodyevent',
            name='action',
            field=models.CharField(choices=[('uploaded', 'Uploaded and sealed'), ('derived', 'Working copies derived'), ('derivation_failed', 'Working copy failed'), ('downloaded', 'Original downloaded'), ('exported', 'Exported'), ('fixity_checked', 'Fixity checked')], editable=False, max_length=20),
        ),
    ]
