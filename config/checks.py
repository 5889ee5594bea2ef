"""`manage.py check --deploy` warns about proxy settings that look right but are not."""

from __future__ import annotations

from django.conf import settings
from django.core import checks


def proxy_settings(app_configs, **kwargs) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    if getattr(settings, "AXES_IPWARE_PROXY_COUNT_ALIAS", 0):
        messages.append(
            checks.Warning(
                "AXES_IPWARE_PROXY_COUNT is deprecated: it is read as TRUSTED_PROXY_COUNT with a proxy on this "
                "host (loopback) only.",
                hint="Set TRUSTED_PROXIES to your proxy's address(es), e.g. TRUSTED_PROXIES=127.0.0.1, and remove "
                "AXES_IPWARE_PROXY_COUNT (docs/deploy-behind-a-proxy.md).",
                id="config.W001",
            )
        )
    trusts_a_proxy = getattr(settings, "TRUSTED_PROXIES", None) or getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None) and not trusts_a_proxy:
        messages.append(
            checks.Warning(
                "SECURE_PROXY_SSL_HEADER is on but no proxy is trusted: every client has the proxy's address "
                "(one lockout for all), and X-Forwarded-Proto is believed from any peer.",
                hint="Set TRUSTED_PROXIES to the address(es) of the proxy in front (docs/deploy-behind-a-proxy.md).",
                id="config.W002",
            )
        )
    return messages


def register() -> None:
    checks.register(proxy_settings, checks.Tags.security, deploy=True)
