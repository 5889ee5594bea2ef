"""An API token's look-up kept in the cache (API_TOKEN_CACHE_SECONDS): a kept token sends no statement for
its user, roles or second factor, and every change that could alter the answer is seen by the very next
request: a revoked token is refused at once, a demoted reviewer loses review at once, a deactivated user
is refused, a permission granted counts, a second factor removed is gone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.auth import LOOKUP_GENERATION_KEY
from accounts.models import SecondFactorToken
from incidents.models import Status
from tests.conftest import make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _kept(settings):
    settings.API_TOKEN_CACHE_SECONDS = 30
    cache.set(LOOKUP_GENERATION_KEY, 1, timeout=None)


def token_client(user, second_factor: bool = False, expiry: dt.timedelta | None = None) -> tuple[APIClient, AuthToken]:
    instance, token = AuthToken.objects.create(user, expiry=expiry)
    if second_factor:
        device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        SecondFactorToken.objects.create(token=instance, device_id=device.persistent_id)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client, instance


def kept(client: APIClient, path: str = "/api/v1/incidents/") -> tuple[int, list[str]]:
    """Two requests (the first keeps the look-up); the second's status and its token statements."""
    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        status = client.get(path).status_code
    return status, [query["sql"] for query in captured.captured_queries if "knox_authtoken" in query["sql"]]


def test_a_kept_token_sends_no_statement_for_its_user_roles_or_second_factor(reviewer, documenter):
    make_incident(documenter, status=Status.SUBMITTED)
    client, _token = token_client(reviewer, second_factor=True)

    status, lookups = kept(client, "/api/v1/review-queue/")

    assert status == 200
    assert lookups == []
    assert client.get("/api/v1/review-queue/").json()["count"] == 1


def test_without_the_setting_every_request_reads_the_token(documenter, settings):
    settings.API_TOKEN_CACHE_SECONDS = 0
    client, _token = token_client(documenter)

    status, lookups = kept(client)

    assert status == 200
    assert len(lookups) == 1


def test_a_revoked_token_is_refused_at_once(documenter):
    client, _token = token_client(documenter)
    assert kept(client) == (200, [])

    assert client.post("/api/v1/auth/logout/").status_code in (200, 204)

    assert client.get("/api/v1/incidents/").status_code == 401


def test_a_token_deleted_by_an_admin_is_refused_at_once(documenter):
    client, token = token_client(documenter)
    assert kept(client) == (200, [])

    AuthToken.objects.filter(pk=token.pk).delete()

    assert client.get("/api/v1/incidents/").status_code == 401


def test_a_demoted_reviewer_loses_review_at_once(reviewer, documenter):
    make_incident(documenter, status=Status.SUBMITTED)
    client, _token = token_client(reviewer, second_factor=True)
    assert kept(client, "/api/v1/review-queue/") == (200, [])

    reviewer.groups.remove(Group.objects.get(name="reviewer"))

    assert client.get("/api/v1/review-queue/").status_code == 403


def test_a_permission_taken_from_the_group_is_gone_at_once(reviewer, documenter):
    make_incident(documenter, status=Status.SUBMITTED)
    client, _token = token_client(reviewer, second_factor=True)
    assert kept(client, "/api/v1/review-queue/") == (200, [])

    Group.objects.get(name="reviewer").permissions.remove(Permission.objects.get(codename="review_record"))

    assert client.get("/api/v1/review-queue/").status_code == 403


def test_a_permission_granted_to_the_user_counts_at_once(outsider):
    client, _token = token_client(outsider)
    assert kept(client) == (403, [])

    outsider.user_permissions.add(Permission.objects.get(codename="add_incident"))

    assert client.get("/api/v1/incidents/").status_code == 200


def test_a_deactivated_user_is_refused_at_once(documenter):
    client, _token = token_client(documenter)
    assert kept(client) == (200, [])

    documenter.is_active = False
    documenter.save(update_fields=["is_active"])

    assert client.get("/api/v1/incidents/").status_code == 401


def test_a_removed_second_factor_is_gone_at_once(reviewer):
    client, token = token_client(reviewer, second_factor=True)
    assert kept(client, "/api/v1/victims/") == (200, [])

    TOTPDevice.objects.filter(user=reviewer).delete()
    SecondFactorToken.objects.filter(token=token).delete()

    response = client.get("/api/v1/victims/")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Your account needs a second factor")


def test_removing_a_device_makes_the_kept_look_ups_stale(reviewer):
    client, _token = token_client(reviewer, second_factor=True)
    assert kept(client, "/api/v1/victims/") == (200, [])

    TOTPDevice.objects.filter(user=reviewer).delete()

    with CaptureQueriesContext(connection) as captured:
        assert client.get("/api/v1/victims/").status_code == 200
    assert [query for query in captured.captured_queries if "knox_authtoken" in query["sql"]], "read afresh"


def test_a_sign_in_or_a_new_token_elsewhere_does_not_make_the_look_ups_stale(documenter, reviewer):
    client, _token = token_client(documenter)
    assert kept(client) == (200, [])

    from django.contrib.auth.models import update_last_login

    update_last_login(None, documenter)
    token_client(reviewer)

    with CaptureQueriesContext(connection) as captured:
        assert client.get("/api/v1/incidents/").status_code == 200
    assert not [query for query in captured.captured_queries if "knox_authtoken" in query["sql"]]


def test_the_cache_does_not_hold_the_password_hash(documenter):
    client, token = token_client(documenter)
    assert kept(client) == (200, [])
    from accounts.auth import _token_cache_key

    entry = cache.get(_token_cache_key(token.digest))

    assert entry is not None
    assert documenter.password not in repr(entry)
    # And the user a kept look-up gives back still reads its real password (deferred, from the database).
    from accounts.auth import _from_entry

    assert _from_entry(entry).user.password == documenter.password


def test_an_expired_kept_token_is_refused(documenter):
    client, token = token_client(documenter, expiry=dt.timedelta(hours=1))
    assert kept(client) == (200, [])
    from accounts.auth import _token_cache_key

    entry = cache.get(_token_cache_key(token.digest))
    names, values = entry["token"]
    values[names.index("expiry")] = values[names.index("expiry")] - dt.timedelta(hours=2)
    cache.set(_token_cache_key(token.digest), entry, 30)
    AuthToken.objects.filter(pk=token.pk).update(expiry=token.expiry - dt.timedelta(hours=2))

    assert client.get("/api/v1/incidents/").status_code == 401
