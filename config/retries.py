"""The delivery options every idempotent task shares (imports, scans, counts, the outbox).

Acknowledged only when done, handed back when its worker dies, and tried again with backoff when the
database goes away under it: safe because each task is an id in and a compare-and-set service call.
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError

RETRIED = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 8,
}
