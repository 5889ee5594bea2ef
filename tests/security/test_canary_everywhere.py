"""A canary witness through the pages, error pages, exports and cache: only where the permission allows.

And at rest: after each way of writing a witness (WITNESS_WRITERS), no table, session or cache entry
holds the identity in clear. (API responses, logs and task messages of the API are also covered in
tests/evidence/test_witnesses.py.)
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Callable

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.db import connection

from counts import services as count_services
from incidents import workflow
from incidents.models import Status
from tests.conftest import client_for, make_incident, make_victim, web_client_for
from tests.evidence.conftest import CANARY_CONTACT, CANARY_NAME, KEY_A

CANARY_NOTES = "Canary-notes-met-at-the-Vb3 clinic"
SECRETS = (CANARY_NAME, CANARY_CONTACT)
IDENTITY = {"name": CANARY_NAME, "contact": CANARY_CONTACT, "notes": CANARY_NOTES}


def _text(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] == b"PK":  # xlsx: search every part of the archive
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return "".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    return content.decode("utf-8", "replace")


def _cache_text() -> str:
    cache = caches["default"]
    if django_settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(django_settings.REDIS_URL)
        return "".join(repr(client.dump(key)) for key in client.scan_iter(count=500))
    return "".join(repr(value) for value in getattr(cache, "_cache", {}).values())


@pytest.fixture
def case(documenter, reviewer, admin_user, settings, tmp_path):
    settings.REVIEW_MIN_EVIDENCE = 1
    settings.WITNESS_KEYS = {"k1": KEY_A}
    settings.WITNESS_KEY_ID = "k1"
    settings.MEDIA_ROOT = tmp_path
    incident = make_incident(documenter, title="Airstrike with a protected witness")
    make_victim(documenter, incident)
    writer = client_for(documenter)
    witness = writer.post("/api/v1/witnesses/", {"name": CANARY_NAME, "contact": CANARY_CONTACT}, format="json")
    assert witness.status_code == 201
    testimony = writer.post(
        "/api/v1/testimonies/",
        {
            "incident": incident.pk,
            "witness": witness.json()["id"],
            "taken_on": "2020-01-16",
            "language": "ar",
            "statement": "The witness saw two aircraft.",
            "consent_to_publish": False,
        },
        format="json",
    )
    assert testimony.status_code == 201
    workflow.submit(documenter, incident)
    from evidence.models import Testimony

    record = Testimony.objects.get()
    workflow.review(reviewer, record, "approve", "Consistent with the report.")
    workflow.review(reviewer, incident, "approve", "Checked.")
    snapshot = count_services.request_count(
        actor=admin_user, date_from=incident.occurred_on, date_to=incident.occurred_on, enqueue=False
    )
    count_services.run_count(snapshot.pk)
    snapshot.refresh_from_db()
    count_services.publish(actor=admin_user, snapshot=snapshot)
    return {"incident": incident, "testimony": record, "witness": witness.json()["id"], "snapshot": snapshot}


def test_the_canary_is_reachable_where_the_permission_allows(case, documenter, admin_user):
    """The positive control: without it the absence checks below could pass for the wrong reason."""
    assert CANARY_NAME in _text(client_for(documenter).get(f"/api/v1/witnesses/{case['witness']}/"))
    assert CANARY_NAME in _text(client_for(admin_user).get(f"/api/v1/witnesses/{case['witness']}/"))


def test_the_canary_never_shows_on_pages_error_pages_exports_or_in_the_cache(
    case, reviewer, second_documenter, admin_user
):
    incident, testimony, snapshot = case["incident"], case["testimony"], case["snapshot"]
    assert incident.status == Status.VERIFIED or incident.refresh_from_db() is None
    pages = [
        "/en/",
        "/ar/",
        "/en/review/",
        f"/en/incidents/{incident.pk}/",
        f"/ar/incidents/{incident.pk}/",
        f"/en/review/incidents/{incident.pk}/",
        f"/en/review/testimonies/{testimony.pk}/",
        f"/ar/review/testimonies/{testimony.pk}/",
        f"/en/evidence/incidents/{incident.pk}/",
        "/en/counts/",
        f"/en/counts/{snapshot.pk}/",
        "/en/figures/",
        "/ar/figures/",
        f"/en/figures/{snapshot.pk}/",
        "/en/no-such-page/",  # the 404 page
        f"/en/review/testimonies/{testimony.pk + 999}/",
    ]
    seen = []
    for user in (reviewer, second_documenter, None):
        browser = web_client_for(user)
        seen += [(path, browser.get(path)) for path in pages]
    exports = [f"/api/v1/counts/{snapshot.pk}/export/?format={fmt}" for fmt in ("csv", "json", "xlsx", "pdf")]
    seen += [(path, client_for(admin_user).get(path)) for path in exports]
    seen.append(("victims.csv", client_for(admin_user).get(f"/api/v1/counts/{snapshot.pk}/victims.csv")))
    seen += [
        (f"public {fmt}", client_for(None).get(f"/api/v1/public/counts/{snapshot.pk}/export/?format={fmt}"))
        for fmt in ("csv", "json")
    ]
    statuses = {path: response.status_code for path, response in seen}
    assert statuses[f"/api/v1/counts/{snapshot.pk}/export/?format=xlsx"] == 200
    assert statuses["victims.csv"] == 200
    for path, response in seen:
        text = _text(response)
        for secret in SECRETS:
            assert secret not in text, (path, response.status_code)
    cached = _cache_text()
    for secret in SECRETS:
        assert secret not in cached


# --- At rest: every way of writing a witness --------------------------------------------------------

# Column types that can hold text (Django's names for what introspection reports).
TEXT_COLUMN_TYPES = {"CharField", "TextField", "JSONField", "BinaryField", "SlugField", "EmailField", "URLField"}


def stored_identity() -> list[str]:
    """Where a canary value sits in clear: `table.column`, `session`, or `cache` (empty when nowhere)."""
    found: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [
                column.name
                for column in connection.introspection.get_table_description(cursor, table)
                if connection.introspection.get_field_type(column.type_code, column) in TEXT_COLUMN_TYPES
            ]
            if not columns:
                continue
            quoted = ", ".join(connection.ops.quote_name(name) for name in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")  # noqa: S608 - introspected names
            for row in cursor.fetchall():
                for name, value in zip(columns, row, strict=True):
                    binary = isinstance(value, bytes | memoryview)
                    text = bytes(value).decode("utf-8", "replace") if binary else str(value)
                    found += [f"{table}.{name}" for secret in IDENTITY.values() if secret in text]
    from django.contrib.sessions.models import Session

    for session in Session.objects.all():  # base64 of signed (maybe compressed) JSON: decoded first
        decoded = json.dumps(session.get_decoded(), default=str)
        found += ["session" for secret in IDENTITY.values() if secret in decoded]
    cached = _cache_text()
    found += ["cache" for secret in IDENTITY.values() if secret in cached]
    return sorted(set(found))


def write_through_the_api(actors: dict) -> None:
    response = client_for(actors["documenter"]).post("/api/v1/witnesses/", IDENTITY, format="json")
    assert response.status_code == 201 and response.json()["name"] == CANARY_NAME


def write_through_the_api_with_an_idempotency_key(actors: dict) -> None:
    client = client_for(actors["documenter"])
    first = client.post("/api/v1/witnesses/", IDENTITY, format="json", HTTP_IDEMPOTENCY_KEY="witness-1")
    replay = client.post("/api/v1/witnesses/", IDENTITY, format="json", HTTP_IDEMPOTENCY_KEY="witness-1")
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json(), "the replay re-derives the identity the first answer showed"
    assert replay.json()["notes"] == CANARY_NOTES


def write_through_the_testimony_page(actors: dict) -> None:
    incident = make_incident(actors["documenter"], title="Shelling heard by a witness")
    page = web_client_for(actors["documenter"]).post(
        f"/en/incidents/{incident.pk}/testimony/",
        {
            "witness": "",
            "witness_name": CANARY_NAME,
            "witness_contact": CANARY_CONTACT,
            "witness_notes": CANARY_NOTES,
            "taken_on": "2020-01-16",
            "language": "ar",
            "statement": "The witness heard the shells.",
            "form_token": "abc123",
        },
    )
    assert page.status_code == 302, page.content.decode()[:500]
    from evidence.models import Witness

    assert Witness.objects.count() == 1


def write_through_the_django_admin(actors: dict) -> None:
    """The admin cannot write witnesses at all (identity goes only through the services): refused."""
    from evidence.models import Witness

    admin = web_client_for(actors["admin_user"])
    fields = {"code": "W-ADMIN", **IDENTITY, "name_encrypted": CANARY_NAME, "key_id": "k1"}
    assert admin.get("/en/admin/evidence/witness/").status_code == 200, "the admin itself is reachable"
    assert admin.post("/en/admin/evidence/witness/add/", fields).status_code == 403
    witness = services_register(actors["documenter"])
    assert admin.post(f"/en/admin/evidence/witness/{witness.pk}/change/", fields).status_code == 403
    assert Witness.objects.count() == 1


def services_register(author):
    from evidence import services

    return services.register_witness(author=author, **IDENTITY)


# Every way a witness's identity can be written. Adding a writer (an import of witness lists, a
# connector) = one function here that writes IDENTITY through the new path (or shows it is refused).
WITNESS_WRITERS: list[Callable[[dict], None]] = [
    write_through_the_api,
    write_through_the_api_with_an_idempotency_key,
    write_through_the_testimony_page,
    write_through_the_django_admin,
]


@pytest.fixture
def clean_cache():
    caches["default"].clear()
    yield
    caches["default"].clear()


@pytest.mark.parametrize("writer", WITNESS_WRITERS, ids=lambda writer: writer.__name__)
def test_no_table_session_or_cache_holds_the_identity_in_clear_after_writing_a_witness(
    writer, documenter, reviewer, admin_user, settings, clean_cache, caplog
):
    settings.WITNESS_KEYS, settings.WITNESS_KEY_ID = {"k1": KEY_A}, "k1"
    caplog.set_level(logging.DEBUG)
    writer({"documenter": documenter, "reviewer": reviewer, "admin_user": admin_user})
    from evidence.models import Witness

    witness = Witness.objects.order_by("pk").first()
    assert witness is not None and witness.name_encrypted.startswith("v1:k1:")
    # The positive control: the identity is readable where the permission allows, so the scan below
    # looks for values that really were written.
    shown = client_for(documenter).get(f"/api/v1/witnesses/{witness.pk}/").json()
    assert (shown["name"], shown["contact"], shown["notes"]) == (CANARY_NAME, CANARY_CONTACT, CANARY_NOTES)
    assert stored_identity() == []
    for secret in IDENTITY.values():
        assert secret not in caplog.text


def test_the_scan_finds_a_value_stored_in_clear(documenter, clean_cache):
    """The scanner itself can fail: a canary in an ordinary text column, a session and the cache is found."""
    from django.contrib.sessions.backends.db import SessionStore

    make_incident(documenter, title=CANARY_NAME)
    session = SessionStore()
    session["draft"] = {"contact": CANARY_CONTACT}
    session.save()
    caches["default"].set("draft", CANARY_NOTES)
    assert stored_identity() == ["cache", "incidents_incident.title", "session"]
