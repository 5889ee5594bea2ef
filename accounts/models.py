"""Which API tokens were issued after a verified second factor."""

from __future__ import annotations

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
