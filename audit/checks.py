"""`manage.py check --deploy`: the audit chain's key."""

from __future__ import annotations

from django.conf import settings
from django.core import checks


def audit_keys_configured(app_configs, **kwargs) -> list[checks.CheckMessage]:
    from . import keys

    try:
        keys.current_key_id()
    except Exception as exc:  # ImproperlyConfigured with the reason
        return [checks.Error(str(exc), hint="AUDIT_KEYS=kid:base64key (openssl rand -base64 32)", id="audit.E001")]
    if keys.uses_derived_key():
        return [
            checks.Warning(
                "AUDIT_KEYS is not set: the audit chains are keyed with a key derived from SECRET_KEY.",
                hint="Set AUDIT_KEYS=kid:base64key (openssl rand -base64 32) and AUDIT_KEY_ID, and keep a copy "
                "away from the web servers; see docs/security-data.md.",
                id="audit.W001",
            )
        ]
    if not settings.DEBUG and "dev" in settings.AUDIT_KEYS and settings.AUDIT_KEY_ID == "dev":
        return [checks.Warning("The development audit key is in use.", id="audit.W002")]
    return []


def register() -> None:
    checks.register(audit_keys_configured, checks.Tags.security, deploy=True)
