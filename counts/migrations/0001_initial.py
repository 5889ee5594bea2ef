"""Count snapshots, taken over from the incidents app (incidents/0007 lets go of the model).

State only: the table keeps its name, `incidents_countsnapshot`, so no row moves and the trigger that
freezes published snapshots (incidents/0004) keeps guarding it. A database migrated with the old code
just changes hands; a fresh one gets the table from incidents/0004 as before.

The content type follows the model (incidents.countsnapshot -> counts.countsnapshot), so the
model's permissions and any admin log entries keep pointing at it. Audit entries are append-only and
keep the label they were written with: entries older than this move name their target
`incidents.countsnapshot`, newer ones `counts.countsnapshot`, with the same ids.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def content_type_follows(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType")
    if not content_types.objects.filter(app_label="counts", model="countsnapshot").exists():
        content_types.objects.filter(app_label="incidents", model="countsnapshot").update(app_label="counts")


def content_type_goes_back(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType")
    if not content_types.objects.filter(app_label="incidents", model="countsnapshot").exists():
        content_types.objects.filter(app_label="counts", model="countsnapshot").update(app_label="incidents")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("incidents", "0007_countsnapshot_moves_to_counts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="CountSnapshot",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("status", models.CharField(choices=[("pending", "Pending"), ("running", "Running"), ("done", "Done"), ("failed", "Failed")], db_index=True, default="pending", max_length=8, verbose_name="status")),
                        ("date_from", models.DateField(verbose_name="from")),
                        ("date_to", models.DateField(verbose_name="to")),
                        ("locations", models.JSONField(blank=True, default=list, verbose_name="locations")),
                        ("perpetrators", models.JSONField(blank=True, default=list, verbose_name="perpetrators")),
                        ("massacre_threshold", models.PositiveSmallIntegerField(verbose_name="massacre threshold")),
                        ("rule_version", models.CharField(blank=True, max_length=20, verbose_name="rule version")),
                        ("result", models.JSONField(blank=True, null=True, verbose_name="result")),
                        ("fingerprint", models.CharField(blank=True, max_length=64, verbose_name="fingerprint")),
                        ("summary_en", models.TextField(blank=True, verbose_name="summary (English)")),
                        ("summary_ar", models.TextField(blank=True, verbose_name="summary (Arabic)")),
                        ("failure_reason", models.TextField(blank=True, verbose_name="failure reason")),
                        ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="attempts")),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("computed_at", models.DateTimeField(blank=True, null=True)),
                        ("published_at", models.DateTimeField(blank=True, null=True)),
                        ("created_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("period", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="count_snapshots", to="incidents.reportingperiod", verbose_name="reporting period")),
                        ("published_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
                        ("supersedes", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="superseded_by", to="counts.countsnapshot", verbose_name="supersedes")),
                    ],
                    options={
                        "verbose_name": "count snapshot",
                        "verbose_name_plural": "count snapshots",
                        "db_table": "incidents_countsnapshot",
                        "ordering": ["-created_at", "-id"],
                        "constraints": [
                            models.CheckConstraint(condition=models.Q(("date_to__gte", models.F("date_from"))), name="snapshot_window_ordered"),
                            models.CheckConstraint(condition=models.Q(("published_at__isnull", True), ("status", "done"), _connector="OR"), name="snapshot_published_only_when_done"),
                            models.CheckConstraint(condition=models.Q(models.Q(("status", "done"), _negated=True), models.Q(("result__isnull", False), models.Q(("fingerprint", ""), _negated=True)), _connector="OR"), name="snapshot_done_has_figures"),
                            models.CheckConstraint(condition=models.Q(("supersedes", models.F("pk")), _negated=True), name="snapshot_not_own_correction"),
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_type_follows, content_type_goes_back),
    ]
