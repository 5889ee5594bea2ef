"""A canary witness through the pages, error pages, exports and cache: only where the permission allows.

(API responses, logs, task messages and the database are covered in tests/evidence/test_witnesses.py.)
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches

from counts import services as count_services
from incidents import workflow
from incidents.models import Status
from tests.conftest import client_for, make_incident, make_victim, web_client_for
from tests.evidence.conftest import CANARY_CONTACT, CANARY_NAME, KEY_A

SECRETS = (CANARY_NAME, CANARY_CONTACT)


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
