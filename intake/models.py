"""What an import is: one uploaded list, the state of its run, and every error it found.

Rules about what may happen to imports live in services.py; reading files in readers.py; turning a
row into records in rows.py; the run itself in pipeline.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from incidents import roles


class ImportQuerySet(models.QuerySet):
    def visible_to(self, user: roles.UserLike) -> ImportQuerySet:
        """Admins see every import; documenters their own; nobody else any (an import holds personal data)."""
        if roles.can_manage_counts(user):
            return self.all()
        if roles.can_document(user):
            return self.filter(created_by=user)
        return self.none()

    def unfinished(self) -> ImportQuerySet:
        return self.filter(status__in=[Import.State.PENDING, Import.State.RUNNING])


class Import(models.Model):
    """One uploaded list (CSV or XLSX) and its run: `pending` → `running` → `done` or `failed`.

    The file is stored under IMPORT_ROOT (never in a task message); `checkpoint` is written in the same
    transaction as each batch of rows, so a run interrupted at any point resumes where it stopped.
    """

    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("import", "Waiting")
        RUNNING = "running", pgettext_lazy("import", "Running")
        DONE = "done", pgettext_lazy("import", "Done")
        FAILED = "failed", pgettext_lazy("import", "Failed")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    class Stage(models.TextChoices):
        ROWS = "rows", _("Reading rows")
        SUBMIT = "submit", _("Sending for review")
        FINISHED = "finished", _("Finished")

    status = models.CharField(_("status"), max_length=8, choices=State.choices, default=State.PENDING, db_index=True)
    stage = models.CharField(max_length=8, choices=Stage.choices, default=Stage.ROWS)
    source = models.CharField(_("source list"), max_length=200)
    dry_run = models.BooleanField(_("dry run"), default=False)
    submit = models.BooleanField(_("send for review"), default=False)
    # The dry run this import carries out for real (same stored file), if it started from one.
    preview_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="carried_out_by", editable=False
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # The file: kept as uploaded, by content (SHA-256), under IMPORT_ROOT.
    file_name = models.CharField(_("file name"), max_length=255, blank=True)  # as the client named it; metadata only
    file_path = models.CharField(max_length=300, editable=False)  # relative to IMPORT_ROOT
    file_size = models.PositiveBigIntegerField(default=0, editable=False)
    sha256 = models.CharField(max_length=64, editable=False)
    file_format = models.CharField(max_length=4, choices=Format.choices, editable=False)
    encoding = models.CharField(max_length=12, blank=True, editable=False)  # CSV only: utf-8, utf-8-sig, cp1256
    delimiter = models.CharField(max_length=1, blank=True, editable=False)  # CSV only

    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    # The header's columns and what each was understood as; the first rows, for the preview.
    columns = models.JSONField(default=list, blank=True)
    preview = models.JSONField(default=list, blank=True)
    checkpoint = models.JSONField(default=dict, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Why a run failed, in both languages; never cell values (they are personal data).
    failure_reason = models.TextField(blank=True)
    failure_reason_ar = models.TextField(blank=True)

    objects = ImportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        constraints = [
            models.CheckConstraint(condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="import_sha256_hex"),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(status__in=["done", "failed"]),
                name="import_finished_only_when_over",
            ),
        ]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="import_by_user")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.source} ({self.status})"

    @property
    def is_over(self) -> bool:
        return self.status in (self.State.DONE, self.State.FAILED)


class RowError(models.Model):
    """One problem found in one cell (or a whole row, or the header: row 1), in both languages.

    `value` is the cell as read: personal data, shown only to the importer and admins in the error report.
    """

    source_import = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="errors", editable=False)
    row = models.PositiveIntegerField()  # as a spreadsheet numbers it: the header is row 1
    column = models.CharField(max_length=100, blank=True)
    value = models.TextField(blank=True)
    code = models.CharField(max_length=40)
    message_en = models.TextField()
    message_ar = models.TextField()

    class Meta:
        ordering = ["source_import_id", "row", "id"]
        verbose_name = _("import error")
        verbose_name_plural = _("import errors")
        indexes = [models.Index(fields=["source_import", "row", "id"], name="import_error_order")]

    def __str__(self) -> str:
        return f"row {self.row} {self.column}: {self.code}"
