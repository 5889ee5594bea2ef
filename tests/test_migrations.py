"""Every change to a model has its migration, written and committed (state-only moves included)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_is_missing_its_migration():
    report = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=report, stderr=report)
    except SystemExit:
        pytest.fail("models and migrations disagree; run manage.py makemigrations:\n" + report.getvalue())
