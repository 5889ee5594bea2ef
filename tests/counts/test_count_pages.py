"""The count pages: admins follow and publish counts; anyone reads the published figures, in both languages."""

from __future__ import annotations

import pytest

from config.celery import app as celery_app
from counts import services as count_services
from counts.models import CountSnapshot
from tests.conftest import web_client_for
from tests.counts import scenario as sc


@pytest.fixture
def world(documenter):
    return sc.build(documenter)


def done_snapshot(admin):
    pending = count_services.request_count(actor=admin, date_from=sc.WINDOW[0], date_to=sc.WINDOW[1], enqueue=False)
    return count_services.run_count(pending.pk)


def test_admin_requests_a_count_from_the_page_and_follows_it(world, admin_user, django_capture_on_commit_callbacks):
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = web_client_for(admin_user).post(
                "/en/counts/",
                {"date_from": "2020-01-12", "date_to": "2020-01-27", "locations": [world.places["idlib"].pk]},
            )
    finally:
        celery_app.conf.task_always_eager = previous
    assert response.status_code == 302
    snapshot = CountSnapshot.objects.get()
    assert (snapshot.status, snapshot.locations) == ("done", [world.places["idlib"].pk])
    html = web_client_for(admin_user).get("/en/counts/").content.decode()
    assert snapshot.summary_en.split(" between ")[0] in html
    assert f"/api/v1/counts/{snapshot.pk}/export/?format=pdf" in html
    assert 'http-equiv="refresh"' not in html  # nothing in progress


def test_the_page_refreshes_while_a_count_is_in_progress(world, admin_user):
    count_services.request_count(actor=admin_user, date_from=sc.WINDOW[0], date_to=sc.WINDOW[1], enqueue=False)
    html = web_client_for(admin_user).get("/ar/counts/").content.decode()
    assert 'http-equiv="refresh"' in html
    assert 'dir="rtl"' in html and "قيد الانتظار" in html


def test_a_bad_window_is_shown_on_the_form(world, admin_user):
    response = web_client_for(admin_user).post("/en/counts/", {"date_from": "2020-01-27", "date_to": "2020-01-12"})
    assert response.status_code == 400  # the form is shown again, with the message on the field
    assert "The end must not be before the start." in response.content.decode()
    assert not CountSnapshot.objects.exists()


def test_admin_publishes_from_the_page(world, admin_user):
    snapshot = done_snapshot(admin_user)
    response = web_client_for(admin_user).post(f"/en/counts/{snapshot.pk}/publish/", {"confirm": "yes"})
    assert response.status_code == 302
    snapshot.refresh_from_db()
    assert snapshot.published_at is not None


@pytest.mark.parametrize("actor", ["documenter", "reviewer", "outsider"])
def test_non_admins_cannot_use_the_count_pages(world, admin_user, actor, request):
    snapshot = done_snapshot(admin_user)
    client = web_client_for(request.getfixturevalue(actor))
    assert client.get("/en/counts/").status_code == 403
    assert client.post("/en/counts/", {"date_from": "2020-01-12", "date_to": "2020-01-27"}).status_code == 403
    assert client.get(f"/en/counts/{snapshot.pk}/publish/").status_code == 403
    assert client.post(f"/en/counts/{snapshot.pk}/publish/", {"confirm": "yes"}).status_code == 403
    assert CountSnapshot.objects.count() == 1
    assert CountSnapshot.objects.get().published_at is None


def test_anonymous_visitors_are_sent_to_sign_in_for_the_admin_page(world):
    response = web_client_for().get("/en/counts/")
    assert response.status_code == 302
    assert "/en/accounts/login/" in response["Location"]


@pytest.mark.parametrize(("prefix", "direction"), [("en", "ltr"), ("ar", "rtl")])
def test_anyone_reads_published_figures_in_their_language(world, admin_user, prefix, direction):
    published = count_services.publish(actor=admin_user, snapshot=done_snapshot(admin_user))
    hidden = done_snapshot(admin_user)
    html = web_client_for().get(f"/{prefix}/figures/").content.decode()
    assert f'lang="{prefix}" dir="{direction}"' in html
    summary = published.summary_ar if prefix == "ar" else published.summary_en
    assert summary.split(". ")[0] in html
    assert published.fingerprint in html
    assert f"count-{hidden.pk}" not in html
    assert f"/api/v1/public/counts/{published.pk}/export/?format=pdf" in html


def test_the_navigation_links_the_count_pages_by_role(world, admin_user, documenter):
    assert "/en/counts/" in web_client_for(admin_user).get("/en/").content.decode()
    documenter_home = web_client_for(documenter).get("/en/").content.decode()
    assert "/en/figures/" in documenter_home and "/en/counts/" not in documenter_home


# --- Publishing with care: a confirmation step that works without JavaScript --------------------------


def test_the_count_page_leads_to_a_confirmation_step_instead_of_publishing(world, admin_user):
    snapshot = done_snapshot(admin_user)
    html = web_client_for(admin_user).get(f"/en/counts/{snapshot.pk}/").content.decode()
    assert f'href="/en/counts/{snapshot.pk}/publish/"' in html
    assert f'<form method="post" action="/en/counts/{snapshot.pk}/publish/"' not in html


@pytest.mark.parametrize(
    ("language", "warning"),
    [("en", "Publishing cannot be undone"), ("ar", "لا يمكن التراجع عن النشر")],
)
def test_the_confirmation_page_says_publishing_cannot_be_undone_and_publishes_nothing(
    world, admin_user, language, warning
):
    snapshot = done_snapshot(admin_user)
    response = web_client_for(admin_user).get(f"/{language}/counts/{snapshot.pk}/publish/")
    html = response.content.decode()
    assert response.status_code == 200
    assert warning in html
    assert snapshot.summary_en in html and snapshot.summary_ar in html
    assert 'name="confirm" value="yes"' in html
    snapshot.refresh_from_db()
    assert snapshot.published_at is None


def test_a_publish_request_without_the_confirmation_is_a_400_and_publishes_nothing(world, admin_user):
    from audit.models import AuditEntry

    snapshot = done_snapshot(admin_user)
    response = web_client_for(admin_user).post(f"/en/counts/{snapshot.pk}/publish/")
    assert response.status_code == 400
    assert "Nothing was published" in response.content.decode()
    snapshot.refresh_from_db()
    assert snapshot.published_at is None
    assert not AuditEntry.objects.filter(action="count.published").exists()


def test_the_confirmed_publish_is_audited_once(world, admin_user):
    from audit.models import AuditEntry

    snapshot = done_snapshot(admin_user)
    web_client_for(admin_user).post(f"/en/counts/{snapshot.pk}/publish/", {"confirm": "yes"})
    assert AuditEntry.objects.filter(action="count.published", target_id=snapshot.pk).count() == 1


def test_the_confirmation_page_of_a_published_count_is_a_409_that_points_to_a_correction(world, admin_user):
    snapshot = done_snapshot(admin_user)
    count_services.publish(actor=admin_user, snapshot=snapshot)
    response = web_client_for(admin_user).get(f"/en/counts/{snapshot.pk}/publish/")
    assert response.status_code == 409
    assert "publish a correction instead" in response.content.decode()
