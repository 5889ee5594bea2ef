"""The API's shapes for imports (API.md, "Imports of existing lists"). Rules live in services.py."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from .models import Import, RowError

SUMMARY_KEYS = ("rows", "incidents_created", "victims_created", "updated", "unchanged", "errors")
# Beyond API.md: rows with at least one error (`errors` counts every error), sources and submissions.
EXTRA_SUMMARY_KEYS = ("rows_with_errors", "sources_created", "submitted")


class ImportRequestSerializer(serializers.Serializer):
    """The multipart form's fields besides `file` (which streams to disk before this is read)."""

    file = serializers.FileField(
        required=False, help_text="The list: CSV (UTF-8, UTF-8 with BOM, Windows-1256) or XLSX."
    )
    source = serializers.CharField(max_length=200, help_text="The list's name, e.g. “VDC export 2024-03”.")
    dry_run = serializers.BooleanField(required=False, default=False)
    submit = serializers.BooleanField(required=False, default=False)


class ImportSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField()
    columns = serializers.SerializerMethodField()

    class Meta:
        model = Import
        fields = [
            "id",
            "status",
            "source",
            "dry_run",
            "submit",
            "progress",
            "summary",
            "created_at",
            "finished_at",
            "started_at",
            "stage",
            "created_by",
            "file_name",
            "file_format",
            "file_size",
            "sha256",
            "encoding",
            "delimiter",
            "columns",
            "failure_reason",
            "preview_of",
        ]
        read_only_fields = fields

    @extend_schema_field(
        inline_serializer(
            "ImportProgress",
            {"rows_done": serializers.IntegerField(), "rows_total": serializers.IntegerField(allow_null=True)},
        )
    )
    def get_progress(self, instance: Import) -> dict[str, Any]:
        return {"rows_done": instance.rows_done, "rows_total": instance.rows_total}

    @extend_schema_field(
        inline_serializer(
            "ImportSummary", {key: serializers.IntegerField() for key in (*SUMMARY_KEYS, *EXTRA_SUMMARY_KEYS)}
        )
    )
    def get_summary(self, instance: Import) -> dict[str, int]:
        summary = instance.summary or {}
        return {key: int(summary.get(key, 0)) for key in (*SUMMARY_KEYS, *EXTRA_SUMMARY_KEYS)}

    @extend_schema_field(
        inline_serializer(
            "ImportColumn",
            {"column": serializers.CharField(), "meaning": serializers.CharField()},
            many=True,
        )
    )
    def get_columns(self, instance: Import) -> list[dict[str, str]]:
        """Each column of the header and what it was understood as (in the request's language)."""
        from django.utils.translation import get_language

        key = "meaning_ar" if (get_language() or "").startswith("ar") else "meaning_en"
        return [{"column": item["column"], "meaning": item.get(key, "")} for item in instance.columns or []]


class RowErrorSerializer(serializers.ModelSerializer):
    class Meta:
        model = RowError
        fields = ["row", "column", "value", "message_en", "message_ar"]
        read_only_fields = fields
