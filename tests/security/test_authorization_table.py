"""Every URL pattern × method × role × record state answers as `authz_table.TABLE` says.

The patterns are read from the URLconf, so a new endpoint (or a new method on one) without a row
fails `test_every_url_pattern_and_method_has_a_row`. Set AUTHZ_RECORD=1 to print the observed table.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from incidents.models import Location, Perpetrator, ReportingPeriod, Status
from tests.conftest import client_for, make_incident, make_victim, web_client_for
from tests.security.authz_table import ROLES, STATES, TABLE

IGNORED_METHODS = {"options", "head", "trace"}
RECORD = os.environ.get("AUTHZ_RECORD") == "1"


def walk(patterns, prefix: str = "", namespace: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield namespace, pattern.name or "", prefix + str(pattern.pattern), pattern.callback


def row_key(namespace: str, name: str, route: str) -> str:
    if namespace.startswith("admin:"):
        return "admin:*"
    return f"{namespace}{name}" if name else (route or "/")


def implemented_methods(callback: Any) -> set[str] | None:
    """The HTTP methods an API view answers (None for pages: their rows list the methods used)."""
    actions = getattr(callback, "actions", None)
    if actions:
        return {method.upper() for method in actions if method not in IGNORED_METHODS}
    view_class = getattr(callback, "cls", None)  # DRF views only
    if view_class is None:
        return None
    return {
        method.upper()
        for method in view_class.http_method_names
        if method not in IGNORED_METHODS and hasattr(view_class, method)
    }


def url_patterns() -> dict[str, set[str] | None]:
    found: dict[str, set[str] | None] = {}
    for namespace, name, route, callback in walk(get_resolver().url_patterns):
        key = row_key(namespace, name, route)
        methods = implemented_methods(callback)
        if key == "admin:*":
            methods = None
        if key in found and found[key] is not None and methods is not None:
            found[key] |= methods
        else:
            found.setdefault(key, methods)
    return found


def test_every_url_pattern_and_method_has_a_row():
    missing, wrong_methods = [], []
    for key, methods in url_patterns().items():
        row = TABLE.get(key)
        if row is None:
            missing.append(key)
            continue
        declared = {method for method in row if method != "visible"}
        if methods is not None and methods != declared:
            wrong_methods.append((key, sorted(methods), sorted(declared)))
    assert not missing, f"URL patterns without a row in tests/security/authz_table.py: {missing}"
    assert not wrong_methods, f"methods answered vs methods in the table: {wrong_methods}"


def test_the_table_has_no_rows_for_patterns_that_do_not_exist():
    assert set(TABLE) - set(url_patterns()) == set()


# --- Running the table ---------------------------------------------------------------------------


def cases() -> list[tuple[str, str, str | None]]:
    result = []
    for key, row in TABLE.items():
        for method, expectation in row.items():
            if method == "visible":
                continue
            if isinstance(expectation, dict):
                result.extend((key, method, state) for state in STATES)
            else:
                result.append((key, method, None))
    return result


class World:
    """The records a row acts on, all authored by the documenter, in the row's state."""

    def __init__(self, actors: dict[str, Any], state: str | None) -> None:
        self.actors = actors
        documenter = actors["documenter"]
        self.state = state or Status.DRAFT
        self.incident = make_incident(documenter, status=self.state)
        self.victim = make_victim(documenter, self.incident, status=self.state)
        idlib = Location.objects.get(name="Idlib", level="governorate")
        self.location = Location.objects.create(name="Test village", name_ar="قرية", level="community", parent=idlib)
        self.perpetrator = Perpetrator.objects.create(name="Test party", name_ar="طرف")
        self.period = ReportingPeriod.objects.create(
            name="Test period", name_ar="فترة", start=dt.date(2019, 1, 1), end=dt.date(2019, 12, 31)
        )

    def incident_body(self) -> dict:
        return {
            "title": "Changed title",
            "description": "Changed description.",
            "occurred_on": "2020-01-15",
            "location": self.incident.location_id,
            "perpetrator": self.incident.perpetrator_id,
            "weapon": "artillery",
            "injured_count": 1,
        }

    def victim_body(self) -> dict:
        return {"incident": self.incident.pk, "name": "Omar", "name_ar": "عمر", "sex": "male", "age_years": 40}

    def list_ids(self, key: str, role: str, **filters: str) -> set[int]:
        plural = "incidents" if key == "incident-list" else "victims"
        response = client_for(self.actors[role]).get(f"/api/v1/{plural}/", filters)
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    def request(self, key: str, method: str, role: str) -> tuple[int, Any]:
        user = self.actors.get(role)
        api = client_for(user) if user is not None else APIClient()
        web = web_client_for(user) if user is not None else Client()
        api.raise_request_exception = False
        web.raise_request_exception = False
        i, v = self.incident.pk, self.victim.pk
        m = method.lower()
        simple = {
            "api-logout": "/api/v1/auth/logout/",
            "api-schema": "/api/v1/schema/",
            "api-docs": "/api/v1/docs/",
            "api-root": "/api/v1/",
            "review-queue": "/api/v1/review-queue/",
            "incident-history": f"/api/v1/incidents/{i}/history/",
            "victim-history": f"/api/v1/victims/{v}/history/",
            "incident-submit": f"/api/v1/incidents/{i}/submit/",
            "victim-submit": f"/api/v1/victims/{v}/submit/",
        }
        if key == "api-token":
            username = user.username if user is not None else "documenter"
            return api.post(
                "/api/v1/auth/token/", {"username": username, "password": f"pw-{username}-long-enough"}
            ), None
        if key in simple:
            return getattr(api, m)(simple[key]), None
        if key in {"location-list", "perpetrator-list", "period-list"}:
            path = (
                "/api/v1/"
                + {"location-list": "locations", "perpetrator-list": "perpetrators"}.get(key, "periods")
                + "/"
            )
            body = {
                "location-list": {
                    "name": "New village",
                    "name_ar": "قرية جديدة",
                    "level": "community",
                    "parent": self.location.parent_id,
                },
                "perpetrator-list": {"name": "New party", "name_ar": "طرف جديد"},
                "period-list": {"name": "2018", "name_ar": "٢٠١٨", "start": "2018-01-01", "end": "2018-12-31"},
            }[key]
            return (api.get(path) if m == "get" else api.post(path, body, format="json")), None
        if key in {"location-detail", "perpetrator-detail", "period-detail"}:
            target, plural = {
                "location-detail": (self.location, "locations"),
                "perpetrator-detail": (self.perpetrator, "perpetrators"),
                "period-detail": (self.period, "periods"),
            }[key]
            path = f"/api/v1/{plural}/{target.pk}/"
            body = {
                "location-detail": {
                    "name": "Renamed",
                    "name_ar": "قرية",
                    "level": "community",
                    "parent": self.location.parent_id,
                },
                "perpetrator-detail": {"name": "Renamed", "name_ar": "طرف"},
                "period-detail": {"name": "Renamed", "name_ar": "فترة", "start": "2019-01-01", "end": "2019-12-31"},
            }[key]
            if m in {"put", "patch"}:
                return getattr(api, m)(path, body, format="json"), None
            return getattr(api, m)(path), None
        if key == "incident-list":
            if m == "post":
                return api.post("/api/v1/incidents/", self.incident_body(), format="json"), None
            return api.get("/api/v1/incidents/"), self.incident.pk
        if key == "victim-list":
            if m == "post":
                return api.post("/api/v1/victims/", self.victim_body(), format="json"), None
            return api.get("/api/v1/victims/"), self.victim.pk
        if key in {"incident-detail", "victim-detail"}:
            plural, pk = ("incidents", i) if key == "incident-detail" else ("victims", v)
            body = self.incident_body() if plural == "incidents" else self.victim_body()
            path = f"/api/v1/{plural}/{pk}/"
            if m == "patch":
                body = {"title": "Patched"} if plural == "incidents" else {"name": "Patched"}
            if m in {"put", "patch"}:
                return getattr(api, m)(path, body, format="json"), None
            return getattr(api, m)(path), None
        if key in {"incident-review", "victim-review"}:
            plural, pk = ("incidents", i) if key == "incident-review" else ("victims", v)
            return api.post(f"/api/v1/{plural}/{pk}/review/", {"decision": "approve"}, format="json"), None
        if key in {"incident-reopen", "victim-reopen"}:
            plural, pk = ("incidents", i) if key == "incident-reopen" else ("victims", v)
            return api.post(f"/api/v1/{plural}/{pk}/reopen/", {"reason": "New evidence came in."}, format="json"), None
        pages = {
            "healthz": ("/healthz", {}),
            "set_language": ("/i18n/setlang/", {"language": "ar", "next": "/ar/"}),
            "/": ("/", {}),
            "home": ("/en/", {}),
            "login": ("/en/accounts/login/", {"username": "documenter", "password": "not-the-password"}),
            "logout": ("/en/accounts/logout/", {}),
            "password_change": (
                "/en/accounts/password_change/",
                {"old_password": "wrong", "new_password1": "x", "new_password2": "x"},
            ),
            "password_change_done": ("/en/accounts/password_change/done/", {}),
            "password_reset": ("/en/accounts/password_reset/", {"email": "nobody@example.org"}),
            "password_reset_done": ("/en/accounts/password_reset/done/", {}),
            "password_reset_confirm": ("/en/accounts/reset/MQ/set-password/", {}),
            "password_reset_complete": ("/en/accounts/reset/done/", {}),
            "otp-enrol": ("/en/account/two-factor/enrol/", {"code": "000000"}),
            "otp-verify": ("/en/account/two-factor/verify/", {"code": "000000"}),
        }
        if key in pages:
            path, body = pages[key]
            return (web.get(path) if m == "get" else web.post(path, body)), None
        if key == "admin:*":
            from django.contrib import admin

            for model in admin.site._registry:
                listing = web.get(f"/en/admin/{model._meta.app_label}/{model._meta.model_name}/")
                if role != "admin":
                    assert listing.status_code == 302, (model, role, listing.status_code)
                else:
                    assert listing.status_code in (200, 403), (model, listing.status_code)  # by model permission
            return web.get("/en/admin/"), None
        raise AssertionError(f"no request written for {key} {method}")


class _Status:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


def expected(key: str, method: str, state: str | None) -> list[str]:
    value = TABLE[key][method]
    return (value[state] if state else value).split()


@pytest.fixture
def actors(documenter, second_documenter, reviewer, admin_user, settings):
    settings.REVIEW_MIN_EVIDENCE = 0
    return {"documenter": documenter, "second_documenter": second_documenter, "reviewer": reviewer, "admin": admin_user}


@pytest.mark.parametrize(("key", "method", "state"), cases(), ids=lambda value: str(value))
def test_authorization_table(actors, key, method, state):
    world = World(actors, state)
    observed, visible = [], []
    for role in ROLES:
        with transaction.atomic():
            response, record_id = world.request(key, method, role)
            observed.append(str(response.status_code))
            if record_id is not None:
                if response.status_code == 200:
                    ids = {row["id"] for row in response.json()["results"]}
                    visible.append("y" if record_id in ids else "n")
                    filtered = world.list_ids(key, role, status=world.state)
                    assert (record_id in ids) == (record_id in filtered), f"{key} ?status= differs for {role}"
                else:
                    visible.append("-")
            transaction.set_rollback(True)
    if RECORD:
        print(
            f"\nAUTHZ {key} {method} {state}: {' '.join(observed)}"
            + (f" visible {' '.join(visible)}" if visible else "")
        )
        return
    assert observed == expected(key, method, state), f"{key} {method} state={state} roles={ROLES}"
    if visible:
        assert visible == TABLE[key]["visible"][state].split(), f"{key} visibility state={state}"
