"""DEBUG off without HTTPS is never silent: a system check and a log line at start.

We do not turn secure cookies and HSTS on by ourselves when HTTPS is unset: a site reached over plain
HTTP would then lose its sign-in cookies without saying why, and HSTS cannot be taken back from the
browsers that saw it. So the deployment states it (`HTTPS=1` behind TLS), and until it does every
management command shows `accounts.W001` (which makes `check --deploy --fail-level WARNING` fail) and
the web application logs a WARNING when it starts (config/wsgi.py).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

PLAIN_HTTP = (
    "DEBUG is off and HTTPS is not set: session and CSRF cookies go out without the Secure flag, no HSTS "
    "header is sent and plain HTTP is not redirected, so passwords, codes and sessions can be read on the "
    "wire. Set HTTPS=1 when the site is served over TLS (and SECURE_PROXY_SSL_HEADER=1 behind a "
    "TLS-terminating proxy), or DEBUG=1 on a development machine."
)


def plain_http_in_production() -> bool:
    return not settings.DEBUG and not getattr(settings, "HTTPS", False)


@checks.register(checks.Tags.security)
def check_https(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if plain_http_in_production():
        return [checks.Warning(PLAIN_HTTP, hint="Set HTTPS=1 (see docs/security-auth.md).", id="accounts.W001")]
    return []
