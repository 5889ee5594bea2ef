"""An API token is looked up with its user, second factor and permissions in one statement: a revoked or
expired token is refused at once, a role taken away is gone on the next request, and a list page costs
the same number of statements at any page size. Here with nothing kept (API_TOKEN_CACHE_SECONDS=0, the
statement itself); the same with look-ups kept: tests/accounts/test_token_cache.py."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.auth import purge_expired_tokens
from accounts.models import SecondFactorToken
from incidents.models import Status
from tests.conftest import make_incident, make_victim

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _read_every_time(settings):
    settings.API_TOKEN_CACHE_SECONDS = 0


def token_client(user, second_factor: bool = False, expiry: dt.timedelta | None = None) -> tuple[APIClient, AuthToken]:
    instance, token = AuthToken.objects.create(user, expiry=expiry)
    if second_factor:
        SecondFactorToken.objects.create(token=instance, device_id="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client, instance


def test_removing_a_documenter_from_their_group_refuses_their_next_request(documenter):
    client, _token = token_client(documenter)
    assert client.get("/api/v1/incidents/").status_code == 200

    documenter.groups.clear()

    assert client.get("/api/v1/incidents/").status_code == 403


def test_removing_a_reviewer_from_their_group_closes_the_review_queue_on_the_next_request(reviewer):
    client, _token = token_client(reviewer, second_factor=True)
    assert client.get("/api/v1/review-queue/").status_code == 200

    reviewer.groups.remove(Group.objects.get(name="reviewer"))

    assert client.get("/api/v1/review-queue/").status_code == 403


def test_a_permission_taken_from_a_group_is_gone_on_the_next_request(reviewer, documenter):
    incident = make_incident(documenter, status=Status.SUBMITTED)
    client, _token = token_client(reviewer, second_factor=True)
    assert client.get("/api/v1/review-queue/").json()["count"] == 1

    Group.objects.get(name="reviewer").permissions.remove(Permission.objects.get(codename="review_record"))

    assert client.get("/api/v1/review-queue/").status_code == 403
    assert client.get(f"/api/v1/incidents/{incident.pk}/").status_code in (403, 404)


def test_a_permission_granted_to_the_user_directly_counts_on_the_next_request(outsider):
    client, _token = token_client(outsider)
    assert client.get("/api/v1/incidents/").status_code == 403

    outsider.user_permissions.add(Permission.objects.get(codename="add_incident"))

    assert client.get("/api/v1/incidents/").status_code == 200


def test_a_revoked_token_is_refused_at_once(documenter):
    client, _token = token_client(documenter)
    assert client.get("/api/v1/incidents/").status_code == 200

    assert client.post("/api/v1/auth/logout/").status_code in (200, 204)

    assert client.get("/api/v1/incidents/").status_code == 401


def test_a_deactivated_users_token_is_refused_on_the_next_request(documenter):
    client, _token = token_client(documenter)
    assert client.get("/api/v1/incidents/").status_code == 200

    documenter.is_active = False
    documenter.save(update_fields=["is_active"])

    assert client.get("/api/v1/incidents/").status_code == 401


def test_an_expired_token_is_refused(documenter):
    client, token = token_client(documenter)
    AuthToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - dt.timedelta(seconds=1))

    assert client.get("/api/v1/incidents/").status_code == 401


def test_a_token_obtained_without_a_second_factor_still_cannot_act_for_a_reviewer(reviewer):
    client, _token = token_client(reviewer, second_factor=False)

    response = client.get("/api/v1/victims/")

    assert response.status_code == 403
    assert response.json()["detail"].startswith("Your account needs a second factor")


def test_the_purge_deletes_expired_tokens_only(documenter, reviewer):
    _client, expired = token_client(documenter)
    AuthToken.objects.filter(pk=expired.pk).update(expiry=timezone.now() - dt.timedelta(minutes=1))
    _client, current = token_client(reviewer)

    assert purge_expired_tokens() == 1

    assert list(AuthToken.objects.values_list("pk", flat=True)) == [current.pk]


@pytest.mark.parametrize("path", ["/api/v1/incidents/", "/api/v1/victims/", "/api/v1/review-queue/"])
def test_a_list_page_costs_the_same_statements_at_page_sizes_5_and_60(reviewer, documenter, path):
    for _n in range(61):
        incident = make_incident(documenter, status=Status.SUBMITTED)
        make_victim(documenter, incident, status=Status.SUBMITTED)
    client, _token = token_client(reviewer, second_factor=True)
    counts = {}
    for size in (5, 60):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, {"page_size": size})
        assert response.status_code == 200
        assert len(response.json()["results"]) == size
        counts[size] = [query["sql"] for query in captured.captured_queries]
    assert len(counts[5]) == len(counts[60]), counts
    token_lookups = [sql for sql in counts[60] if "knox_authtoken" in sql]
    assert len(token_lookups) == 1  # the token, its user, second factor and permissions together
    assert not [sql for sql in counts[60] if "auth_permission" in sql and "knox_authtoken" not in sql]
