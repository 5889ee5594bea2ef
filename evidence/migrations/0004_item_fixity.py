"""Each media item keeps its own fixity state (was: the shared sealed original's).

What an uploader sees of their item must not depend on other items that share its bytes and that
they may not see. Existing items take the outcome of the latest fixity check in their own chain of
custody (unchecked when it holds none).
"""

from django.db import migrations, models


def from_own_custody(apps, schema_editor):
    MediaItem = apps.get_model("evidence", "MediaItem")
    CustodyEvent = apps.get_model("evidence", "CustodyEvent")
    for item in MediaItem.objects.only("pk").iterator():
        latest = CustodyEvent.objects.filter(item=item, action="fixity_checked").order_by("-at", "-pk").first()
        if latest is not None:
            MediaItem.objects.filter(pk=item.pk).update(
                fixity_status=(latest.details or {}).get("outcome") or "unchecked", fixity_checked_at=latest.at
            )


class Migration(migrations.Migration):
    dependencies = [("evidence", "0003_idempotency_records_without_identity")]

    operations = [
        migrations.AddField(
            model_name="mediaitem",
            name="fixity_checked_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="mediaitem",
            name="fixity_status",
            field=models.CharField(
                choices=[
                    ("unchecked", "Not yet checked"),
                    ("ok", "Unchanged"),
                    ("changed", "Changed"),
                    ("missing", "Missing"),
                ],
                default="unchecked",
                editable=False,
                max_length=9,
            ),
        ),
        migrations.RunPython(from_own_custody, migrations.RunPython.noop),
    ]
