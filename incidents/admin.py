from django.contrib import admin

from .models import Incident, Location, Perpetrator, ReportingPeriod, Victim


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


class VisibleOnlyAdmin(ReadOnlyAdmin):
    """Shows only the records the signed-in user may see (`visible_to`), as the API and pages do."""

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=self.model.objects.visible_to(request.user).values("pk"))


@admin.register(Incident)
class IncidentAdmin(VisibleOnlyAdmin):
    list_display = ["title", "occurred_on", "location", "perpetrator", "status", "created_by"]
    list_filter = ["status", "weapon"]
    search_fields = ["title"]


@admin.register(Victim)
class VictimAdmin(VisibleOnlyAdmin):
    list_display = ["__str__", "incident", "sex", "age_years", "category", "civilian_status", "status"]
    list_filter = ["status", "category", "civilian_status"]
