"""Which API tokens were issued after a verified second factor."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _


class SecondFactorToken(models.Model):
    """An API token obtained with a password *and* a fresh TOTP code: it may review, publish and export."""

    token = models.OneToOneField("knox.AuthToken", on_delete=models.CASCADE, related_name="second_factor")
    device_id = models.CharField(max_length=255)
    verified_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("token with a second factor")
        verbose_name_plural = _("tokens with a second factor")

    def __str__(self) -> str:
        return f"{self.token_id} verified at {self.verified_at:%Y-%m-%d %H:%M}"


class IdempotentRequest(models.Model):
    """A create request sent with an `Idempotency-Key` header, and the answer it got.

    A retry or a double click with the same key gets the first answer again instead of creating a
    second record. Keys are per user, so one user's key never replays another user's answer.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of method, path and body
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
