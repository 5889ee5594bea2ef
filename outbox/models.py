"""Work a request asked for, stored in the request's own transaction until a worker has done it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class OutboxQuerySet(models.QuerySet):
    def unsent(self) -> OutboxQuerySet:
        return self.filter(sent_at__isnull=True, completed_at__isnull=True)

    def sent_but_not_done(self) -> OutboxQuerySet:
        return self.filter(sent_at__isnull=False, completed_at__isnull=True)


class OutboxMessage(models.Model):
    """One task to run: its registered name and integer ids (never objects or personal data)."""

    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Relayed to the broker (None: still waiting, e.g. while Redis is down).
    sent_at = models.DateTimeField(null=True, blank=True)
    # Done by a worker: later deliveries of the same message are ignored.
    completed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(fields=["id"], condition=Q(completed_at__isnull=True), name="outbox_pending"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.task_name}{tuple(self.args)}"
