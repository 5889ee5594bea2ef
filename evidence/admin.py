"""Admin views: codes, hashes and states only. Witness identity never appears here (the API's
identity view is the one audited way to see it); the chain of custody is read-only."""

from __future__ import annotations

from django.contrib import admin

from incidents.admin import ReadOnlyAdmin, VisibleOnlyAdmin

from .models import CustodyEvent, MediaItem, SealedOriginal, Source, Testimony, Witness


@admin.register(Witness)
class WitnessAdmin(ReadOnlyAdmin):
    list_display = ["code", "created_by", "created_at", "key_id"]
    fields = ["code", "created_by", "created_at", "key_id"]
    readonly_fields = fields
    search_fields = ["code"]


@admin.register(Testimony)
class TestimonyAdmin(VisibleOnlyAdmin):
    list_display = ["id", "incident", "witness", "taken_on", "language", "status"]
    list_filter = ["status", "language"]
    exclude = ["statement"]


@admin.register(Source)
class SourceAdmin(VisibleOnlyAdmin):
    list_display = ["id", "incident", "kind", "title", "status"]
    list_filter = ["status", "kind"]


@admin.register(SealedOriginal)
class SealedOriginalAdmin(ReadOnlyAdmin):
    list_display = ["sha256", "size", "content_type", "fixity_status", "fixity_checked_at"]
    list_filter = ["fixity_status", "kind"]


@admin.register(MediaItem)
class MediaItemAdmin(VisibleOnlyAdmin):
    list_display = ["id", "incident", "status", "derivative_status", "created_by", "created_at"]
    list_filter = ["status", "derivative_status"]
    exclude = ["metadata"]


@admin.register(CustodyEvent)
class CustodyEventAdmin(ReadOnlyAdmin):
    def get_queryset(self, request):
        visible = MediaItem.objects.visible_to(request.user).values("pk")
        return super().get_queryset(request).filter(item__in=visible)

    list_display = ["item", "action", "actor", "at", "sha256"]
    list_filter = ["action"]
