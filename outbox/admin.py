from django.contrib import admin

from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "task_name", "args", "created_at", "sent_at", "completed_at", "attempts"]
    list_filter = ["task_name"]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
