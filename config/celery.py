"""The Celery application: `celery -A config worker`."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["config"], related_name="health")
app.autodiscover_tasks(["accounts"], related_name="idempotency")
app.autodiscover_tasks(["accounts"], related_name="auth")
