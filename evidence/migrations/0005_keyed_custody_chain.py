"""The chain of custody becomes a keyed hash chain (audit/chain.py), like the audit log.

Events recorded before this migration get their place in the chain (a sequence in the order they
were written) and a plain SHA-256 link, but no key id and no MAC: the migration cannot know the key,
and keying them would vouch for whatever they hold now. The application then seals them, once, in
its keyed marker entry (`audit.chains_keyed`), and verifies every later event by its MAC. On
PostgreSQL the append-only trigger is lifted for this one rewrite by the migrating (owner) role.
"""

import hashlib
import json

import django.utils.timezone
from django.db import migrations, models

GENESIS_HASH = "0" * 64

def canonical(event, sequence: int, previous_hash: str) -> str:
    """As audit.chain.canonical writes an unkeyed custody event (frozen here: migrations must not change)."""
    document = {
        "item": event.item_id,
        "action": event.action,
        "actor": event.actor_id,
        "at": event.at.isoformat(timespec="microseconds"),
        "sha256": event.sha256,
        "size": event.size,
        "details": event.details,
        "sequence": sequence,
        "previous_hash": previous_hash,
    }
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_existing_events(apps, schema_editor):
    CustodyEvent = apps.get_model("evidence", "CustodyEvent")
    postgresql = schema_editor.connection.vendor == "postgresql"
    if postgresql:
        schema_editor.execute("ALTER TABLE evidence_custodyevent DISABLE TRIGGER evidence_custody_append_only")
    previous_hash, sequence = GENESIS_HASH, 0
    for event in CustodyEvent.objects.order_by("id").iterator(chunk_size=2000):
        sequence += 1
        entry_hash = hashlib.sha256(canonical(event, sequence, previous_hash).encode("utf-8")).hexdigest()
        CustodyEvent.objects.filter(pk=event.pk).update(
            sequence=sequence, previous_hash=previous_hash, entry_hash=entry_hash
        )
        previous_hash = entry_hash
    if postgresql:
        schema_editor.execute("ALTER TABLE evidence_custodyevent ENABLE TRIGGER evidence_custody_append_only")


class Migration(migrations.Migration):
    dependencies = [("evidence", "0004_item_fixity")]

    operations = [
        migrations.AlterField(
            model_name="custodyevent",
            name="at",
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False),
        ),
        migrations.AddField(
            model_name="custodyevent",
            name="sequence",
            field=models.PositiveBigIntegerField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="custodyevent",
            name="previous_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="custodyevent",
            name="entry_hash",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="custodyevent",
            name="key_id",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="custodyevent",
            name="mac",
            field=models.CharField(blank=True, default="", editable=False, max_length=64),
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="custodyevent",
            name="sequence",
            field=models.PositiveBigIntegerField(editable=False, unique=True),
        ),
        migrations.AlterField(
            model_name="custodyevent",
            name="entry_hash",
            field=models.CharField(editable=False, max_length=64, unique=True),
        ),
    ]
