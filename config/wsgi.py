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


# The garbage collector in a web worker (WEB_GC_TUNING=0 leaves Python's defaults).


def _tune_garbage_collection() -> None:
    """What is loaded now (Django, every app, the URLconf and the views it imports) lives as long as the
    worker: frozen out of the collector's view (`gc.freeze`), so a full collection no longer walks it. At
    about 130,000 objects a full collection took 48 ms (a pause of every thread of the worker, now and then
    on a list page), frozen 0.7 ms (bench/README.md, issue 16 §2). Thresholds stay Python's: collecting the
    youngest generation less often gained nothing measurable."""
    import gc

    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports the URLconf and its views now, before freezing)
    gc.collect()
    gc.freeze()


if os.environ.get("WEB_GC_TUNING", "1").strip().lower() not in {"0", "false", "no", "off"}:
    _tune_garbage_collection()
