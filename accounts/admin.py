from django.contrib import admin

from .models import SecondFactorToken


@admin.register(SecondFactorToken)
class SecondFactorTokenAdmin(admin.ModelAdmin):
    list_display = ["token", "device_id", "verified_at"]
    readonly_fields = ["token", "device_id", "verified_at"]
