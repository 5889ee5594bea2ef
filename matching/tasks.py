"""Celery tasks for duplicate scans: the scan's id in, the service call, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from config.retries import RETRIED


@shared_task(name="matching.run_scan", **RETRIED)
def run_scan(scan_id: int) -> str:
    """Run one duplicate scan (matching.scans.run_scan: claimed by compare-and-set, one run at a time; a
    finished scan is left alone). Returns the scan's state, never personal data."""
    from . import scans

    return scans.run_scan(int(scan_id))
