"""`manage.py check --deploy` refuses a production configuration without witness keys."""

from __future__ import annotations

from django.conf import settings
from django.core import checks


def witness_keys_configured(app_configs, **kwargs) -> list[checks.CheckMessage]:
    from . import crypto

    try:
        crypto.current_key_id()
    except Exception as exc:  # ImproperlyConfigured with the reason
        return [
            checks.Error(
                str(exc),
                hint="Set WITNESS_KEYS=kid:base64key (32 random bytes: `openssl rand -base64 32`) and WITNESS_KEY_ID.",
                id="evidence.E001",
            )
        ]
    if not settings.DEBUG and "dev" in settings.WITNESS_KEYS and settings.WITNESS_KEY_ID == "dev":
        return [checks.Warning("The development witness key is in use.", id="evidence.W001")]
    return []


def register() -> None:
    checks.register(witness_keys_configured, checks.Tags.security, deploy=True)
