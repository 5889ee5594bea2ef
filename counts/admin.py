from django.contrib import admin

from incidents.admin import ReadOnlyAdmin

from .models import CountSnapshot


@admin.register(CountSnapshot)
class CountSnapshotAdmin(ReadOnlyAdmin):
    """Snapshots are requested, computed and published through counts.services only."""

    list_display = ["id", "date_from", "date_to", "status", "computed_at", "published_at", "supersedes"]
    list_filter = ["status"]
