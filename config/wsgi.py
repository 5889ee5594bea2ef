from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()


def _warn_about_plain_http() -> None:
    import logging

    from accounts.checks import PLAIN_HTTP, plain_http_in_production

    if plain_http_in_production():
        logging.getLogger("config.wsgi").warning(PLAIN_HTTP)


_warn_about_plain_http()
