"""The audit chain becomes keyed: each entry records its key id and an HMAC of its hash.

Existing entries are left exactly as they are (no key id, no MAC): this migration cannot know the
key, and keying them now would vouch for whatever they hold. The application seals them once it
runs with a key (audit/chain.py, `audit.chains_keyed`).

TRUNCATE is not refused by a trigger (Django's own `flush`, which tests use, truncates); the
run-time database role simply holds no TRUNCATE privilege (docs/security-data.md), and a truncated
chain is caught against a checkpoint.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger")]

    operations = [
        migrations.AddField(
            model_name="auditentry",
            name="key_id",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="mac",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
    ]
