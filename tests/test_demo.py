"""`load_demo` builds a small demo case file through the real services; idempotent, never in production."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count

from counts.models import CountSnapshot
from evidence.models import Source
from incidents.models import Incident, Victim


def test_demo_case_file_has_every_stage_and_a_published_count(db, settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert out.getvalue().count("(shown once)") == 3
    assert dict(Incident.objects.values_list("status").order_by().annotate(n=Count("id"))) == {
        "verified": 2,
        "submitted": 1,
        "draft": 1,
    }
    assert Source.objects.filter(status="verified").count() == 2
    snapshot = CountSnapshot.objects.get()
    assert snapshot.published_at is not None
    # Hand-counted from the demo cases: 5 + 2 verified civilians; the 5-victim airstrike is a massacre.
    assert snapshot.result["civilians"] == {"total": 7, "children": 3, "women": 2, "men": 2, "unknown": 0}
    assert snapshot.result["massacres"] == 1
    assert Victim.objects.count() == 9

    again = io.StringIO()
    call_command("load_demo", stdout=again)
    assert "already present" in again.getvalue()
    assert "(shown once)" not in again.getvalue()
    assert Incident.objects.count() == 4
    assert CountSnapshot.objects.count() == 1


def test_demo_data_refuses_to_load_in_production(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("load_demo", stdout=io.StringIO())
    assert Incident.objects.count() == 0


def test_the_demo_passwords_can_be_had_again(db, settings):
    """They are printed once, when the users are created; `--reset-passwords` prints new ones."""
    settings.DEBUG = True
    call_command("load_demo", stdout=io.StringIO())
    out = io.StringIO()

    call_command("load_demo", "--reset-passwords", stdout=out)

    printed = dict(re.findall(r"demo user '(\w+)' new password: (\S+)", out.getvalue()))
    assert set(printed) == {"documenter", "reviewer", "admin"}
    for username, password in printed.items():
        assert get_user_model().objects.get(username=username).check_password(password)
    assert Incident.objects.count() == 4 and CountSnapshot.objects.count() == 1  # the case file untouched


def test_resetting_demo_passwords_refuses_in_production(db, settings):
    settings.DEBUG = True
    call_command("load_demo", stdout=io.StringIO())
    before = dict(get_user_model().objects.values_list("username", "password"))
    settings.DEBUG = False

    with pytest.raises(CommandError):
        call_command("load_demo", "--reset-passwords", stdout=io.StringIO())

    assert dict(get_user_model().objects.values_list("username", "password")) == before
