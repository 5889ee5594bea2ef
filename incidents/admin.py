from django.contrib import admin

from .models import CountSnapshot, Incident, Location, Perpetrator, ReportingPeriod, Victim


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "name_ar", "level", "parent", "latitude", "longitude"]
    list_filter = ["level"]
    search_fields = ["name", "name_ar"]
    autocomplete_fields = ["parent"]


@admin.register(Perpetrator)
class PerpetratorAdmin(admin.ModelAdmin):
    list_display = ["name", "name_ar", "parent"]
    search_fields = ["name", "name_ar"]


@admin.register(ReportingPeriod)
class ReportingPeriodAdmin(admin.ModelAdmin):
    list_display = ["name", "name_ar", "start", "end"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records under review change only through the workflow services, never the admin."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    list_display = ["title", "occurred_on", "location", "perpetrator", "status", "created_by"]
    list_filter = ["status", "weapon"]
    search_fields = ["title"]


@admin.register(Victim)
class VictimAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "incident", "sex", "age_years", "category", "civilian_status", "status"]
    list_filter = ["status", "category", "civilian_status"]


@admin.register(CountSnapshot)
class CountSnapshotAdmin(ReadOnlyAdmin):
    """Snapshots are requested, computed and published through incidents.snapshots only."""

    list_display = ["id", "date_from", "date_to", "status", "computed_at", "published_at", "supersedes"]
    list_filter = ["status"]
