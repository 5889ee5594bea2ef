"""In-app notices: a documenter hears of reviewers' decisions on their records.

A notice names the record by kind and id and says what happened (approved, rejected, sent back for
changes, reopened); it never copies the record's content, and the email sent for it carries no comment
(a comment is free text that could name a witness): the reader signs in to see it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class NoticeQuerySet(models.QuerySet):
    def for_user(self, user) -> NoticeQuerySet:
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(recipient=user)

    def unread_for(self, user) -> NoticeQuerySet:
        return self.for_user(user).filter(read_at__isnull=True)


class Notice(models.Model):
    class Decision(models.TextChoices):
        APPROVED = "approve", _("Approved")
        REJECTED = "reject", _("Rejected")
        CHANGES_REQUESTED = "request_changes", _("Sent back for changes")
        REOPENED = "reopen", _("Reopened for review")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decision = models.CharField(max_length=16, choices=Decision.choices)
    kind = models.CharField(max_length=20)  # the workflow's kind name: incidents, victims, testimonies, ...
    record_id = models.BigIntegerField()
    incident_id = models.BigIntegerField()
    label = models.CharField(max_length=300, blank=True)  # the record as its author named it (no witness data)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notice_recipient_unread")]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")

    def __str__(self) -> str:
        return f"{self.kind} #{self.record_id}: {self.decision}"
