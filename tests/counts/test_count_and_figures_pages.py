"""The admin's count pages (run, progress, figures, publish, export) and the public figures page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from counts import services as count_services
from counts.models import CountSnapshot
from incidents.models import Status
from tests.conftest import location, make_incident, make_user, make_victim, web_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def eager_tasks():
    """The count task runs in-process here, also when REDIS_URL is set (the worker has its own tests)."""
    from config.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def chief(db):
    return make_user("chief", "admin")


@pytest.fixture
def verified_killings(documenter):
    incident = make_incident(documenter, status=Status.VERIFIED, location=location("Aleppo"))
    make_victim(documenter, incident, status=Status.VERIFIED, name="Child", sex="female", age_years=7)
    make_victim(documenter, incident, status=Status.VERIFIED, name="Mother", sex="female", age_years=35)
    make_victim(documenter, incident, status=Status.SUBMITTED, name="Unreviewed", sex="male", age_years=40)
    return incident


def run_count(client: Client, django_capture_on_commit_callbacks, **fields) -> tuple:
    form = {"mode": "window", "date_from": "2020-01-01", "date_to": "2020-01-31", **fields}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/en/counts/", form)
    return response, CountSnapshot.objects.order_by("-id").first()


def test_admin_runs_a_count_and_sees_its_figures(chief, verified_killings, django_capture_on_commit_callbacks):
    client = web_client_for(chief)
    response, snapshot = run_count(client, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert response["Location"] == f"/en/counts/{snapshot.pk}/"
    snapshot.refresh_from_db()
    assert snapshot.status == "done"
    assert snapshot.result["civilians"]["total"] == 2
    page = client.get(response["Location"]).content.decode()
    assert snapshot.summary_en in page and snapshot.summary_ar in page
    assert 'class="symbol"' in page  # Aleppo on the map
    assert "/publish/" in page


def test_count_with_places_and_parties_passes_them_to_the_service(
    chief, verified_killings, django_capture_on_commit_callbacks
):
    _response, snapshot = run_count(
        web_client_for(chief), django_capture_on_commit_callbacks, locations=[location("Idlib").pk]
    )
    snapshot.refresh_from_db()
    assert snapshot.locations == [location("Idlib").pk]
    assert snapshot.result["civilians"]["total"] == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"date_from": "2020-02-01", "date_to": "2020-01-01"}, "date_to"),
        ({"date_from": ""}, "date_from"),
        ({"mode": "period"}, "period"),
        ({"date_from": "2020-02-30"}, "date_from"),
    ],
)
def test_invalid_count_request_is_refused_on_the_field(chief, django_capture_on_commit_callbacks, fields, field):
    response, snapshot = run_count(web_client_for(chief), django_capture_on_commit_callbacks, **fields)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert snapshot is None


def test_a_running_count_shows_live_progress(chief):
    snapshot = count_services.request_count(
        actor=chief, date_from=dt.date(2020, 1, 1), date_to=dt.date(2020, 1, 31), enqueue=False
    )
    client = web_client_for(chief)
    page = client.get(f"/ar/counts/{snapshot.pk}/").content.decode()
    assert f'data-poll-url="/ar/counts/{snapshot.pk}/status/"' in page
    state = client.get(f"/ar/counts/{snapshot.pk}/status/").json()
    assert state == {"status": "pending", "label": "قيد الانتظار", "finished": False}


def test_publish_then_public_page_shows_the_figures_in_both_languages(
    chief, verified_killings, django_capture_on_commit_callbacks
):
    client = web_client_for(chief)
    _response, snapshot = run_count(client, django_capture_on_commit_callbacks)
    assert Client().get(f"/en/figures/{snapshot.pk}/").status_code == 404  # not yet published
    assert client.post(f"/en/counts/{snapshot.pk}/publish/", {"confirm": "yes"}).status_code == 302
    snapshot.refresh_from_db()
    assert snapshot.published_at is not None
    english = Client().get("/en/figures/").content.decode()
    assert snapshot.summary_en in english
    arabic = Client().get("/ar/figures/").content.decode()
    assert 'dir="rtl"' in arabic and snapshot.summary_ar in arabic
    assert "حلب" in arabic  # the governorate named in Arabic
    assert "Unreviewed" not in english and "Mother" not in english  # no personal data


def test_publishing_twice_is_a_409_page(chief, verified_killings, django_capture_on_commit_callbacks):
    client = web_client_for(chief)
    _response, snapshot = run_count(client, django_capture_on_commit_callbacks)
    client.post(f"/en/counts/{snapshot.pk}/publish/", {"confirm": "yes"})
    again = client.post(f"/en/counts/{snapshot.pk}/publish/", {"confirm": "yes"})
    assert again.status_code == 409
    assert "already published" in again.content.decode()


def test_export_downloads_the_figures_and_refuses_unknown_formats(
    chief, verified_killings, django_capture_on_commit_callbacks
):
    client = web_client_for(chief)
    _response, snapshot = run_count(client, django_capture_on_commit_callbacks)
    csv = client.get(f"/en/counts/{snapshot.pk}/export/csv/")
    assert csv.status_code == 200
    assert csv["Content-Disposition"].startswith("attachment;")
    assert client.get(f"/en/counts/{snapshot.pk}/export/exe/").status_code == 400


def test_counts_are_for_admins_only(documenter, reviewer):
    for user in (documenter, reviewer):
        response = web_client_for(user).get("/en/counts/")
        assert response.status_code == 403
        assert "Only admins may compute" in response.content.decode()
    assert Client().get("/en/counts/").status_code == 302


def test_public_page_without_published_counts_says_so(db):
    response = Client().get("/ar/figures/")
    assert response.status_code == 200
    assert "لم تُنشر أي أرقام بعد" in response.content.decode()
