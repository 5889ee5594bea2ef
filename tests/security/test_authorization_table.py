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

from incidents.models import Incident, Location, Perpetrator, ReportingPeriod, Status
from tests.conftest import client_for, make_incident, make_victim, web_client_for
from tests.security.authz_table import ROLES, STATES, TABLE, WITHOUT_SECOND_FACTOR_ROLES, without_second_factor

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
    """API patterns by name; pages (under a language prefix) as "page:<name>"; admin pages as one row."""
    if namespace.startswith("admin:"):
        return "admin:*"
    if route.startswith("en/"):
        return f"page:{name}"
    return f"{namespace}{name}" if name else (route or "/")


def implemented_methods(callback: Any) -> set[str] | None:
    """The HTTP methods an API view answers (None for pages: their rows list the methods used)."""
    actions = getattr(callback, "actions", None)
    if actions:
        allowed = set(getattr(getattr(callback, "cls", None), "http_method_names", actions))
        return {method.upper() for method in actions if method not in IGNORED_METHODS and method in allowed}
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

    def __init__(self, actors: dict[str, Any], state: str | None, key: str = "") -> None:
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
        if key.removeprefix("page:").partition("-")[0] in {"witness", "testimony", "source", "media", "record"}:
            self._evidence(documenter)
        if "count" in key or key.startswith("page:public"):
            self._count(actors["admin"])
        if "import" in key:
            self._import(documenter)
        if "duplicate" in key or "unmerge" in key:  # matching-review
            self._duplicates(documenter, merged="unmerge" in key)

    def _duplicates(self, documenter, merged: bool) -> None:
        """A candidate pair of the documenter's two victims in the row's state (merged: the second marked a
        duplicate of the first, the pair confirmed), and a finished scan."""
        from incidents.models import Victim
        from matching.models import CandidatePair, DuplicateScan

        self.victim2 = make_victim(documenter, self.incident, status=self.state)
        self.pair = CandidatePair.objects.create(
            victim_a=self.victim, victim_b=self.victim2, score=0.9, likely=True, reasons=[{"code": "sex_same"}]
        )
        if merged:
            Victim.objects.filter(pk=self.victim2.pk).update(duplicate_of=self.victim)
            CandidatePair.objects.filter(pk=self.pair.pk).update(status="confirmed", kept=self.victim)
        self.scan = DuplicateScan.objects.create(status="done")  # also the scan of the duplicate-scan rows

    def _evidence(self, documenter) -> None:
        """A witness, a testimony, a source and a media item on the incident, all in the row's state."""
        from evidence import services as evidence
        from evidence.models import MediaItem, Source, Testimony
        from tests.evidence.conftest import plain_png, upload

        incident_state = self.incident.status
        Incident.objects.filter(pk=self.incident.pk).update(status=Status.DRAFT)
        self.incident.refresh_from_db()
        self.witness = evidence.register_witness(author=documenter, name="Canary Witness", contact="+963 000")
        self.testimony = evidence.create_testimony(
            author=documenter,
            incident=self.incident,
            witness=self.witness,
            taken_on=dt.date(2020, 1, 16),
            language="ar",
            statement="The witness described the strike.",
        )
        self.source = evidence.create_source(
            author=documenter, incident=self.incident, url="https://example.org/report", title="Report"
        )
        response = client_for(documenter).post(
            "/api/v1/media/",
            {"file": upload(plain_png(), "p.png", "image/png"), "incident": self.incident.pk},
            format="multipart",
        )
        assert response.status_code == 201, response.content
        from outbox.services import relay_pending

        relay_pending()  # the test transaction never commits: relay (and so process) the upload by hand
        self.media = MediaItem.objects.get(pk=response.json()["id"])
        for model, record in ((Testimony, self.testimony), (Source, self.source), (MediaItem, self.media)):
            model.objects.filter(pk=record.pk).update(status=self.state)
        Incident.objects.filter(pk=self.incident.pk).update(status=incident_state)
        self.incident.refresh_from_db()

    COUNT_STATES = {  # the row's state, read for count snapshots
        "draft": ("pending", False),
        "submitted": ("running", False),
        "changes_requested": ("failed", False),
        "verified": ("done", True),  # done and published
        "rejected": ("done", False),  # done, not yet published
    }

    def _count(self, admin) -> None:
        from counts import services as count_services
        from counts.models import CountSnapshot

        snapshot = count_services.request_count(
            actor=admin, date_from=dt.date(2020, 1, 1), date_to=dt.date(2020, 12, 31), enqueue=False
        )
        count_state, published = self.COUNT_STATES[self.state]
        if count_state == "done":
            count_services.run_count(snapshot.pk)
            if published:
                count_services.publish(actor=admin, snapshot=CountSnapshot.objects.get(pk=snapshot.pk))
        else:
            CountSnapshot.objects.filter(pk=snapshot.pk).update(status=count_state)
        self.snapshot = CountSnapshot.objects.get(pk=snapshot.pk)

    IMPORT_STATES = {  # the row's state, read for imports (intake): the documenter's import of a small list
        "draft": ("done", True),  # a finished dry run (it may be carried out)
        "submitted": ("running", False),
        "changes_requested": ("failed", False),  # it may run again
        "verified": ("done", False),
        "rejected": ("pending", False),
    }
    IMPORT_LIST = b"record_id,occurred_on,location,perpetrator\r\n1,2020-01-15,Idlib,ISIS\r\n"

    def _import(self, documenter) -> None:
        import tempfile
        from pathlib import Path

        from intake import services as intake
        from intake.models import Import

        import_state, dry_run = self.IMPORT_STATES[self.state]
        with tempfile.NamedTemporaryFile(suffix=".csv") as handle:
            handle.write(self.IMPORT_LIST)
            handle.flush()
            stored = intake.store_local_file(Path(handle.name))
        record = intake.start_import(
            actor=documenter, stored=stored, source="Test list", dry_run=dry_run, enqueue=False
        )
        if import_state == "done":
            intake.run_import(record.pk)
        elif import_state != "pending":
            Import.objects.filter(pk=record.pk).update(status=import_state)
        self.list_import = Import.objects.get(pk=record.pk)

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

    LISTS = {
        "incident-list": "incidents",
        "victim-list": "victims",
        "testimony-list": "testimonies",
        "source-list": "sources",
        "media-list": "media",
        "witness-list": "witnesses",
        "count-list": "counts",
        "public-count-list": "public/counts",
        "import-list": "imports",
        "duplicate-list": "duplicates",
    }

    def list_ids(self, key: str, role: str, **filters: str) -> set[int]:
        if key in {"witness-list", "public-count-list"}:
            filters = {}  # no status filter on these lists
        if key == "count-list":
            filters = {"status": self.snapshot.status}
        if key == "import-list":
            filters = {"status": self.list_import.status}
        if key == "duplicate-list":
            filters = {"status": self.pair.status}
        user = self.actors.get(role)
        response = (client_for(user) if user else APIClient()).get(f"/api/v1/{self.LISTS[key]}/", filters)
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    def request(self, key: str, method: str, role: str, second_factor: bool = True) -> tuple[int, Any]:
        user = self.actors.get(role)
        api = client_for(user, second_factor=second_factor) if user is not None else APIClient()
        web = web_client_for(user, second_factor=second_factor) if user is not None else Client()
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
        if key == "review-bulk":
            body = {"kind": "incidents", "ids": [i], "decision": "approve"}
            return api.post("/api/v1/review/bulk/", body, format="json"), None
        if key in EVIDENCE_PAGE_ROUTES:
            template, body = EVIDENCE_PAGE_ROUTES[key]
            path = template.format(i=i, s=self.source.pk, t=self.testimony.pk, m=self.media.pk, w=self.witness.pk)
            return (web.get(path) if m == "get" else web.post(path, body)), None
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
        kind, _, action = key.partition("-")
        if kind in {"witness", "testimony", "source", "media"}:
            evidence = {
                "witness": ("witnesses", self.witness.pk, {"name": "Renamed Witness"}, None),
                "testimony": (
                    "testimonies",
                    self.testimony.pk,
                    {"statement": "Changed."},
                    {
                        "incident": i,
                        "witness": self.witness.pk,
                        "taken_on": "2020-01-17",
                        "language": "en",
                        "statement": "A second account.",
                    },
                ),
                "source": (
                    "sources",
                    self.source.pk,
                    {"title": "Changed"},
                    {
                        "incident": i,
                        "url": "https://example.org/other",
                        "title": "Other report",
                    },
                ),
                "media": ("media", self.media.pk, {"description": "Changed"}, "upload"),
            }
            plural, pk, patch_body, create_body = evidence[kind]
            if action == "list":
                if m == "post":
                    if create_body == "upload":
                        from tests.evidence.conftest import plain_png, upload

                        return api.post(
                            f"/api/v1/{plural}/",
                            {"file": upload(plain_png((9, 9)), "q.png", "image/png"), "incident": i},
                            format="multipart",
                        ), None
                    body = create_body or {"name": "Another Witness", "contact": "+963 111"}
                    return api.post(f"/api/v1/{plural}/", body, format="json"), None
                return api.get(f"/api/v1/{plural}/"), pk
            path = f"/api/v1/{plural}/{pk}/"
            if action == "detail":
                if m == "patch":
                    return api.patch(path, patch_body, format="json"), None
                return getattr(api, m)(path), None
            if action == "review":
                return api.post(path + "review/", {"decision": "approve"}, format="json"), None
            if action == "reopen":
                return api.post(path + "reopen/", {"reason": "New evidence came in."}, format="json"), None
            return getattr(api, m)(path + action + "/"), None
        if key in {
            "count-list",
            "count-detail",
            "count-publish",
            "count-export",
            "count-victims-csv",
            "public-count-list",
            "public-count-detail",
            "public-count-export",
        }:
            c = self.snapshot.pk
            if key == "count-list":
                if m == "post":
                    return api.post(
                        "/api/v1/counts/", {"date_from": "2020-01-01", "date_to": "2020-06-30"}, format="json"
                    ), None
                return api.get("/api/v1/counts/"), c
            if key == "public-count-list":
                return api.get("/api/v1/public/counts/"), c
            return {
                "count-detail": lambda: api.get(f"/api/v1/counts/{c}/"),
                "count-publish": lambda: api.post(f"/api/v1/counts/{c}/publish/"),
                "count-export": lambda: api.get(f"/api/v1/counts/{c}/export/", {"format": "csv"}),
                "count-victims-csv": lambda: api.get(f"/api/v1/counts/{c}/victims.csv"),
                "public-count-detail": lambda: api.get(f"/api/v1/public/counts/{c}/"),
                "public-count-export": lambda: api.get(f"/api/v1/public/counts/{c}/export/", {"format": "json"}),
            }[key](), None
        if key in {"import-list", "import-detail", "import-errors", "import-run-again"}:
            n = self.list_import.pk
            if key == "import-list":
                if m == "post":
                    from django.core.files.uploadedfile import SimpleUploadedFile

                    upload = SimpleUploadedFile("list.csv", self.IMPORT_LIST, content_type="text/csv")
                    return api.post(
                        "/api/v1/imports/", {"file": upload, "source": "Another list"}, format="multipart"
                    ), None
                return api.get("/api/v1/imports/"), n
            return {
                "import-detail": lambda: api.get(f"/api/v1/imports/{n}/"),
                "import-errors": lambda: api.get(f"/api/v1/imports/{n}/errors/", {"format": "csv"}),
                "import-run-again": lambda: api.post(f"/api/v1/imports/{n}/run-again/"),
            }[key](), None
        if key in {"duplicate-list", "duplicate-decide", "victim-unmerge"}:  # matching-review
            if key == "duplicate-list":
                return api.get("/api/v1/duplicates/"), self.pair.pk
            if key == "duplicate-decide":
                body = {"decision": "confirm", "keep": v}
                return api.post(f"/api/v1/duplicates/{self.pair.pk}/decide/", body, format="json"), None
            return api.post(
                f"/api/v1/victims/{self.victim2.pk}/unmerge/", {"reason": "Two people."}, format="json"
            ), None
        if key in DUPLICATE_PAGE_ROUTES:  # matching-review
            template, body = DUPLICATE_PAGE_ROUTES[key]
            path = template.format(
                p=self.pair.pk, v=v, v2=self.victim2.pk, s=getattr(getattr(self, "scan", None), "pk", 0)
            )
            return (web.get(path) if m == "get" else web.post(path, body)), None
        # --- duplicate scans (matching-engine) ---
        if key == "duplicate-scan-start":
            return api.post("/api/v1/duplicates/scan/", {}, format="json"), None
        if key == "duplicate-scan-detail":
            return api.get(f"/api/v1/duplicates/scans/{self.scan.pk}/"), None
        # --- end duplicate scans ---
        if key in PAGE_ROUTES:
            template, body = PAGE_ROUTES[key]
            path = template.format(
                i=i,
                v=v,
                c=getattr(getattr(self, "snapshot", None), "pk", 0),
                n=getattr(getattr(self, "list_import", None), "pk", 0),
                kind="incidents",
            )
            if key == "page:review-bulk":
                body = {**body, "ids": str(i)}
            return (web.get(path) if m == "get" else web.post(path, body)), None
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
            "otp-enrol-link": ("/en/account/two-factor/enrol/not-a-valid-link/", {}),
            "otp-verify": ("/en/account/two-factor/verify/", {"code": "000000"}),
        }
        if key.removeprefix("page:") in pages:
            path, body = pages[key.removeprefix("page:")]
            return (web.get(path) if m == "get" else web.post(path, body)), None
        if key == "admin:*":
            from django.contrib import admin

            for model in admin.site._registry:
                listing = web.get(f"/en/admin/{model._meta.app_label}/{model._meta.model_name}/")
                if role != "admin" or not second_factor:
                    assert listing.status_code == 302, (model, role, listing.status_code)
                else:  # the admin group reaches exactly the models it holds a permission on
                    app, name = model._meta.app_label, model._meta.model_name
                    may = user.has_perm(f"{app}.view_{name}") or user.has_perm(f"{app}.change_{name}")
                    assert listing.status_code == (200 if may else 403), (model, listing.status_code)
            return web.get("/en/admin/"), None
        raise AssertionError(f"no request written for {key} {method}")


# Record and evidence pages: the path, and the form sent with POST (invalid forms
# answer 200/400 with errors: access was granted; 403/404/302 mean it was not).
PAGE_ROUTES: dict[str, tuple[str, dict]] = {
    "page:incident-new": ("/en/incidents/new/", {"title": ""}),
    "page:incident-detail": ("/en/incidents/{i}/", {}),
    "page:incident-submit": ("/en/incidents/{i}/submit/", {}),
    "page:incident-delete": ("/en/incidents/{i}/delete/", {}),
    "page:victim-add": ("/en/incidents/{i}/victims/", {"name": ""}),
    "page:victim-edit": ("/en/victims/{v}/", {"name": ""}),
    "page:victim-delete": ("/en/victims/{v}/delete/", {}),
    "page:review-queue": ("/en/review/", {}),
    "page:review-record": ("/en/review/{kind}/{i}/", {"decision": "approve", "comment": ""}),
    "page:review-reopen": ("/en/review/{kind}/{i}/reopen/", {"reason": "New evidence came in."}),
    "page:counts": ("/en/counts/", {"date_from": "2020-01-01", "date_to": "2020-03-31"}),
    "page:count-detail": ("/en/counts/{c}/", {}),
    "page:count-status": ("/en/counts/{c}/status/", {}),
    "page:count-publish": ("/en/counts/{c}/publish/", {"confirm": "yes"}),
    "page:count-export": ("/en/counts/{c}/export/csv/", {}),
    "page:public": ("/en/figures/", {}),
    "page:public-count": ("/en/figures/{c}/", {}),
    "page:incident-evidence": ("/en/evidence/incidents/{i}/", {}),
    "page:testimony-new": ("/en/incidents/{i}/testimony/", {"statement": ""}),
    "page:media-upload": ("/en/incidents/{i}/media/", {}),
    "page:imports": ("/en/imports/", {"source": "No file attached"}),
    "page:import-page": ("/en/imports/{n}/", {}),
    "page:import-progress": ("/en/imports/{n}/progress/", {}),
    "page:import-carry-out": ("/en/imports/{n}/import/", {}),
    "page:import-run-again": ("/en/imports/{n}/run-again/", {}),
    "page:incident-list": ("/en/incidents/", {}),
    "page:victim-list": ("/en/victims/", {}),
    "page:evidence-list": ("/en/evidence/", {}),
    "page:notice-list": ("/en/notices/", {}),
    "page:review-bulk": ("/en/review/bulk/", {"kind": "incidents", "ids": "{i}", "decision": "approve"}),
    "page:source-new": ("/en/incidents/{i}/sources/new/", {"title": "", "url": ""}),
}

# matching-review: the duplicates pages (World._duplicates made the pair, the merge and the scan).
DUPLICATE_PAGE_ROUTES: dict[str, tuple[str, dict]] = {
    "page:duplicates-queue": ("/en/duplicates/?status=candidate", {}),
    "page:duplicates-pair": ("/en/duplicates/{p}/", {}),
    "page:duplicates-decide": ("/en/duplicates/{p}/decide/", {"decision": "dismiss", "version": "1"}),
    "page:duplicates-group": ("/en/duplicates/records/{v}/", {}),
    "page:duplicates-unmerge": ("/en/duplicates/records/{v2}/unmerge/", {"reason": "Two people."}),
    "page:duplicates-scan": ("/en/duplicates/scan/", {}),
    "page:duplicates-scan-progress": ("/en/duplicates/scans/{s}/", {}),
}

# Pages about one piece of evidence (World._evidence made them, in the row's state).
EVIDENCE_PAGE_ROUTES: dict[str, tuple[str, dict]] = {
    "page:source-edit": ("/en/sources/{s}/", {"title": "", "url": "", "kind": "web_page"}),
    "page:source-delete": ("/en/sources/{s}/delete/", {}),
    "page:testimony-edit": ("/en/testimonies/{t}/", {"statement": ""}),
    "page:media-edit": ("/en/media/{m}/", {"description": "x" * 2001}),
    "page:media-custody": ("/en/media/{m}/custody/", {}),
    "page:witness-edit": ("/en/witnesses/{w}/", {"name": ""}),
    "page:record-submit": ("/en/records/testimonies/{t}/submit/", {}),
}


class _Status:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


def expected(key: str, method: str, state: str | None) -> list[str]:
    value = TABLE[key][method]
    return (value[state] if state else value).split()


@pytest.fixture
def actors(documenter, second_documenter, reviewer, admin_user, settings, tmp_path):
    from tests.evidence.conftest import KEY_A

    settings.REVIEW_MIN_EVIDENCE = 0
    settings.WITNESS_KEYS = {"k1": KEY_A}
    settings.WITNESS_KEY_ID = "k1"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True  # media processing and counts run in-process here
    yield {"documenter": documenter, "second_documenter": second_documenter, "reviewer": reviewer, "admin": admin_user}
    app.conf.task_always_eager = previous


@pytest.mark.parametrize(("key", "method", "state"), cases(), ids=lambda value: str(value))
def test_authorization_table(actors, key, method, state):
    world = World(actors, state, key)
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
                    if key == "public-count-list":
                        filtered = ids
                    assert (record_id in ids) == (record_id in filtered), f"{key} ?status= differs for {role}"
                else:
                    visible.append("-")
            transaction.set_rollback(True)
    if RECORD:
        print(
            f"\nAUTHZ {key} {method} {state}: {' '.join(observed)}"
            + (f" visible {' '.join(visible)}" if visible else "")
        )
    # The second-factor dimension: the same requests by the same roles, signed in without one.
    weak = []
    for role in WITHOUT_SECOND_FACTOR_ROLES:
        with transaction.atomic():
            response, record_id = world.request(key, method, role, second_factor=False)
            weak.append(str(response.status_code))
            if record_id is not None and response.status_code == 200:
                ids = {row["id"] for row in response.json()["results"]}
                with_second_factor = dict(zip(ROLES, visible, strict=True))[role]
                assert ("y" if record_id in ids else "n") == with_second_factor, f"{key} visibility, {role}"
            transaction.set_rollback(True)
    if RECORD:
        print(f"\nAUTHZ-NO-2FA {key} {method} {state}: {' '.join(weak)}")
        return
    assert observed == expected(key, method, state), f"{key} {method} state={state} roles={ROLES}"
    if visible:
        assert visible == TABLE[key]["visible"][state].split(), f"{key} visibility state={state}"
    assert weak == without_second_factor(key, method, state), (
        f"{key} {method} state={state} without a second factor, roles={WITHOUT_SECOND_FACTOR_ROLES}"
    )
