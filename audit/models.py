"""The audit log: append-only, keyed hash-chained entries (who, what, when, from, to, comment).

Each entry carries the hash of the entry before it over a canonical form and an HMAC of its own
hash under a key kept outside the database (audit/chain.py, audit/keys.py), so editing, deleting,
reordering or inserting entries is detected by `verify_audit_log`, also when whoever did it
recomputed the hashes. The ORM refuses updates and deletes; on PostgreSQL triggers refuse them
(and TRUNCATE), and the run-time database role is not allowed them at all (docs/security-data.md).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AppendOnlyError(Exception):
    """Audit entries are never changed or deleted."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit entries cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit entries cannot be deleted.")

    def _raw_delete(self, using: str) -> int:
        raise AppendOnlyError("Audit entries cannot be deleted.")

    def for_target(self, target: models.Model) -> AuditQuerySet:
        return self.filter(target_type=target._meta.label_lower, target_id=target.pk)


class AuditEntry(models.Model):
    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    occurred_at = models.DateTimeField(editable=False, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    actor_name = models.CharField(max_length=150, blank=True, editable=False)
    action = models.CharField(max_length=64, db_index=True, editable=False)
    target_type = models.CharField(max_length=64, blank=True, editable=False)
    target_id = models.BigIntegerField(null=True, blank=True, editable=False)
    from_state = models.CharField(max_length=32, blank=True, editable=False)
    to_state = models.CharField(max_length=32, blank=True, editable=False)
    comment = models.TextField(blank=True, editable=False)
    details = models.JSONField(default=dict, blank=True, editable=False)
    previous_hash = models.CharField(max_length=64, editable=False)
    entry_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The key that keyed this entry (empty: written before the chain was keyed) and its HMAC-SHA256.
    key_id = models.CharField(max_length=64, blank=True, default="", editable=False)
    mac = models.CharField(max_length=64, blank=True, default="", editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["sequence"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["target_type", "target_id", "sequence"], name="audit_target")]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} by {self.actor_name or 'system'}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None or not self._state.adding:
            raise AppendOnlyError("Audit entries cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit entries cannot be deleted.")

    def chain_content(self) -> dict[str, Any]:
        """What the entry's hash covers, besides its place in the chain (sequence, previous hash, key id)."""
        return {
            "occurred_at": self.occurred_at.isoformat(timespec="microseconds"),
            "actor": self.actor_id,
            "actor_name": self.actor_name,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "comment": self.comment,
            "details": self.details,
        }

    def canonical(self) -> str:
        """The entry's content in one fixed text form: what its hash covers."""
        from . import chain

        return chain.canonical(chain.get("audit"), self)

    def compute_hash(self) -> str:
        from . import chain

        return chain.entry_hash(chain.get("audit"), self)
