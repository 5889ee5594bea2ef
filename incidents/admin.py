"""Admin views. Reference data is written through reference.py, as the API writes it (same rules,
same audit entries); records under review are read-only here (they change through the services)."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from . import reference
from .models import Incident, Location, Perpetrator, ReportingPeriod, Victim


class ReferenceForm(forms.ModelForm):
    """Refuses what reference.py refuses, with its messages, before anything is saved."""

    def clean(self):
        cleaned = super().clean()
        model = self._meta.model
        changes = {name: cleaned[name] for name in reference.FIELDS[model] if name in cleaned}
        instance = self.instance if self.instance.pk else None
        for name, message in reference.problems(
            model, reference.values_after(model, instance, changes), instance
        ).items():
            self.add_error(name if name in self.fields else None, message)
        return cleaned


class ReferenceAdmin(admin.ModelAdmin):
    """Saves and deletes through reference.py: checked, and audited like the API's writes."""

    form = ReferenceForm

    def save_model(self, request, obj, form, change) -> None:
        fields = {name: form.cleaned_data[name] for name in reference.FIELDS[self.model] if name in form.cleaned_data}
        if change:
            changed = {name: fields[name] for name in form.changed_data if name in fields}
            saved = reference.change(actor=request.user, row=obj, **changed)
        else:
            saved = reference.create(actor=request.user, model=self.model, **fields)
        obj.pk = saved.pk

    def delete_model(self, request, obj) -> None:
        reference.delete(actor=request.user, row=obj)

    def delete_queryset(self, request, queryset) -> None:
        for row in queryset:
            reference.delete(actor=request.user, row=row)


@admin.register(Location)
class LocationAdmin(ReferenceAdmin):
    list_display = ["name", "name_ar", "level", "parent", "latitude", "longitude"]
    list_filter = ["level"]
    search_fields = ["name", "name_ar"]
    autocomplete_fields = ["parent"]


@admin.register(Perpetrator)
class PerpetratorAdmin(ReferenceAdmin):
    list_display = ["name", "name_ar", "parent"]
    search_fields = ["name", "name_ar"]


@admin.register(ReportingPeriod)
class ReportingPeriodAdmin(ReferenceAdmin):
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
