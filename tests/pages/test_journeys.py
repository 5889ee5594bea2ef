"""Journeys that can always be finished, on pages: sources, sent back and resubmitted, the case review with
its evidence, bulk decisions, notices, Back + Save, refusal pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail

from audit.models import AuditEntry
from evidence import services as evidence
from evidence.models import MediaItem, Source, Witness
from evidence.models import Testimony as TestimonyRecord
from incidents import workflow
from incidents.models import Incident, Status, Victim
from notices.models import Notice
from tests.conftest import make_incident, make_victim, web_client_for
from tests.pages.test_documenter_pages import incident_form

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _evidence_settings(settings, tmp_path):
    from tests.evidence.conftest import KEY_A

    settings.WITNESS_KEYS = {"k1": KEY_A}
    settings.WITNESS_KEY_ID = "k1"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    settings.REVIEW_MIN_EVIDENCE = 1


def make_testimony(author, incident, statement="I saw it.") -> TestimonyRecord:
    witness = evidence.register_witness(author=author, name="Witness Canary-Page", contact="+963 1")
    return evidence.create_testimony(
        author=author,
        incident=incident,
        witness=witness,
        taken_on=dt.date(2020, 1, 16),
        language="ar",
        statement=statement,
    )


SOURCE = {
    "kind": "news_article",
    "url": "https://example.org/a",
    "archive_url": "",
    "title": "Report",
    "published_on": "2020-01-16",
    "note": "",
}


# --- Documented sources ---------------------------------------------------------------------------


def test_a_documenter_adds_a_source_on_the_page_and_it_is_audited(documenter):
    incident = make_incident(documenter)
    response = web_client_for(documenter).post(f"/en/incidents/{incident.pk}/sources/new/", SOURCE)
    assert response.status_code == 302
    source = Source.objects.get()
    assert (source.incident, source.title, source.status) == (incident, "Report", Status.DRAFT)
    assert AuditEntry.objects.filter(action="sources.created").count() == 1
    page = web_client_for(documenter).get(f"/en/incidents/{incident.pk}/").content.decode()
    assert 'id="sources"' in page and "Report" in page


def test_a_source_without_url_archive_or_title_is_a_400_and_nothing_is_saved(documenter):
    incident = make_incident(documenter)
    response = web_client_for(documenter).post(
        f"/en/incidents/{incident.pk}/sources/new/", {**SOURCE, "url": "", "title": ""}
    )
    assert response.status_code == 400
    assert "Give the source" in response.content.decode()
    assert Source.objects.count() == 0


def test_a_source_with_a_non_web_address_is_a_400(documenter):
    incident = make_incident(documenter)
    response = web_client_for(documenter).post(
        f"/en/incidents/{incident.pk}/sources/new/", {**SOURCE, "url": "javascript:alert(1)"}
    )
    assert response.status_code == 400
    assert Source.objects.count() == 0


def test_the_author_edits_and_deletes_a_draft_source(documenter):
    incident = make_incident(documenter)
    source = evidence.create_source(author=documenter, incident=incident, url="https://example.org/a", title="Old")
    client = web_client_for(documenter)
    assert client.post(f"/en/sources/{source.pk}/", {**SOURCE, "title": "New"}).status_code == 302
    assert Source.objects.get(pk=source.pk).title == "New"
    assert client.post(f"/en/sources/{source.pk}/delete/").status_code == 302
    assert not Source.objects.filter(pk=source.pk).exists()
    assert AuditEntry.objects.filter(action__in=["sources.changed", "sources.deleted"]).count() == 2


def test_another_documenter_cannot_change_a_source(documenter, second_documenter):
    incident = make_incident(documenter, status=Status.VERIFIED)
    source = evidence.create_source(author=documenter, incident=incident, url="https://example.org/a", title="Old")
    Source.objects.filter(pk=source.pk).update(status=Status.VERIFIED)
    response = web_client_for(second_documenter).post(f"/en/sources/{source.pk}/", {**SOURCE, "title": "Hijack"})
    assert response.status_code == 403
    assert Source.objects.get(pk=source.pk).title == "Old"


def test_an_approved_source_counts_as_evidence_for_approving_the_incident(documenter, reviewer):
    incident = make_incident(documenter)
    source = evidence.create_source(author=documenter, incident=incident, url="https://example.org/a", title="Report")
    workflow.submit(documenter, incident)
    response = web_client_for(reviewer).post(
        f"/en/review/incidents/{incident.pk}/",
        {"decision": "approve", "comment": "", f"evidence_sources_{source.pk}": "approve"},
    )
    assert response.status_code == 302
    assert Incident.objects.get(pk=incident.pk).status == Status.VERIFIED
    assert Source.objects.get(pk=source.pk).status == Status.VERIFIED


# --- Sent back for changes ------------------------------------------------------------------------


def test_a_sent_back_testimony_is_edited_and_submitted_again(documenter, reviewer):
    incident = make_incident(documenter, status=Status.VERIFIED)
    testimony = make_testimony(documenter, incident, "Unclear.")
    workflow.submit(documenter, testimony)
    workflow.review(reviewer, TestimonyRecord.objects.get(pk=testimony.pk), "request_changes", "Say when it happened.")
    client = web_client_for(documenter)
    home = client.get("/en/").content.decode()
    assert "Say when it happened." in home
    page = client.get(f"/en/testimonies/{testimony.pk}/").content.decode()
    assert "Say when it happened." in page and "Canary-Page" not in page
    form = {"witness": testimony.witness_id, "taken_on": "2020-01-16", "language": "ar", "statement": "At noon."}
    assert client.post(f"/en/testimonies/{testimony.pk}/", form).status_code == 302
    assert client.post(f"/en/records/testimonies/{testimony.pk}/submit/").status_code == 302
    testimony.refresh_from_db()
    assert (testimony.statement, testimony.status) == ("At noon.", Status.SUBMITTED)


def test_a_submitted_testimony_cannot_be_edited_on_the_page(documenter):
    incident = make_incident(documenter, status=Status.VERIFIED)
    testimony = make_testimony(documenter, incident)
    TestimonyRecord.objects.filter(pk=testimony.pk).update(status=Status.SUBMITTED)
    response = web_client_for(documenter).post(f"/en/testimonies/{testimony.pk}/", {"statement": "Changed"})
    assert response.status_code == 409
    assert TestimonyRecord.objects.get(pk=testimony.pk).statement == "I saw it."


def test_a_testimony_with_a_bad_date_is_a_400_with_every_error(documenter):
    incident = make_incident(documenter)
    testimony = make_testimony(documenter, incident)
    response = web_client_for(documenter).post(
        f"/en/testimonies/{testimony.pk}/", {"witness": "", "taken_on": "not a date", "language": "xx", "statement": ""}
    )
    assert response.status_code == 400
    assert response.content.decode().count('aria-invalid="true"') >= 3  # all errors in one round


def test_a_media_items_description_is_changed_but_not_its_file(documenter, settings):
    from tests.conftest import client_for
    from tests.evidence.conftest import plain_png, upload

    incident = make_incident(documenter)
    created = client_for(documenter).post(
        "/api/v1/media/",
        {"file": upload(plain_png(), "p.png", "image/png"), "incident": incident.pk},
        format="multipart",
    )
    item = MediaItem.objects.get(pk=created.json()["id"])
    sha = item.original.sha256
    response = web_client_for(documenter).post(f"/en/media/{item.pk}/", {"description": "The market, north side"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.description, item.original.sha256) == ("The market, north side", sha)


def test_the_registering_documenter_corrects_a_witness_identity_and_each_showing_is_audited(documenter):
    witness = evidence.register_witness(author=documenter, name="Canary Name", contact="+963 2")
    client = web_client_for(documenter)
    page = client.get(f"/en/witnesses/{witness.pk}/")
    assert page.status_code == 200 and page["Cache-Control"] == "private, no-store"
    assert AuditEntry.objects.filter(action="witness.identity_viewed").count() == 1
    assert (
        client.post(f"/en/witnesses/{witness.pk}/", {"name": "Corrected", "contact": "", "notes": ""}).status_code
        == 302
    )
    assert (
        evidence.witness_identity(actor=documenter, witness=Witness.objects.get(pk=witness.pk))["name"] == "Corrected"
    )


def test_another_documenter_cannot_open_a_witness_identity(documenter, second_documenter):
    witness = evidence.register_witness(author=documenter, name="Canary Name")
    response = web_client_for(second_documenter).get(f"/en/witnesses/{witness.pk}/")
    assert response.status_code == 404
    assert "Canary Name" not in response.content.decode()


def test_the_custody_log_is_a_page(documenter, reviewer):
    from tests.conftest import client_for
    from tests.evidence.conftest import plain_png, upload

    incident = make_incident(documenter)
    created = client_for(documenter).post(
        "/api/v1/media/",
        {"file": upload(plain_png(), "p.png", "image/png"), "incident": incident.pk},
        format="multipart",
    )
    html = web_client_for(documenter).get(f"/ar/media/{created.json()['id']}/custody/").content.decode()
    assert 'dir="rtl"' in html and "<table" in html and 'class="hash"' in html


def test_the_evidence_list_refuses_an_unknown_kind_with_a_reason(documenter):
    response = web_client_for(documenter).get("/en/evidence/?kind=rumours")
    assert response.status_code == 400
    assert "Choose testimony, media or sources." in response.content.decode()


# --- The case review and bulk decisions on pages ------------------------------------------------------


def case_with_evidence(author):
    incident = make_incident(author)
    testimony = make_testimony(author, incident)
    source = evidence.create_source(author=author, incident=incident, url="https://example.org/s", title="Source")
    victim = make_victim(author, incident)
    workflow.submit(author, incident)
    return incident, testimony, source, victim


def test_the_queue_has_one_row_per_case_with_its_pending_counts(documenter, reviewer):
    incident, *_rest = case_with_evidence(documenter)
    html = web_client_for(reviewer).get("/en/review/").content.decode()
    assert html.count(f'href="/en/review/incidents/{incident.pk}/"') == 1
    row = html[html.index(f'value="{incident.pk}"') :]
    assert re.search(r'class="num">1</td>\s*<td class="num">2</td>', row)  # 1 victim, 2 pieces of evidence


def test_the_case_is_decided_with_its_evidence_in_one_step_on_the_page(documenter, reviewer):
    incident, testimony, source, victim = case_with_evidence(documenter)
    client = web_client_for(reviewer)
    page = client.get(f"/en/review/incidents/{incident.pk}/").content.decode()
    assert f'name="evidence_testimonies_{testimony.pk}"' in page and f'name="evidence_sources_{source.pk}"' in page
    response = client.post(
        f"/en/review/incidents/{incident.pk}/",
        {
            "decision": "approve",
            "comment": "",
            f"evidence_testimonies_{testimony.pk}": "approve",
            f"evidence_sources_{source.pk}": "reject",
            f"victim_{victim.pk}": "approve",
        },
    )
    assert response.status_code == 302
    states = [
        m.objects.get(pk=r.pk).status
        for m, r in ((Incident, incident), (TestimonyRecord, testimony), (Source, source), (Victim, victim))
    ]
    assert states == [Status.VERIFIED, Status.VERIFIED, Status.REJECTED, Status.VERIFIED]


def test_approving_a_case_without_approving_evidence_is_refused_and_changes_nothing(documenter, reviewer):
    incident, testimony, *_rest = case_with_evidence(documenter)
    response = web_client_for(reviewer).post(
        f"/en/review/incidents/{incident.pk}/", {"decision": "approve", "comment": ""}
    )
    assert response.status_code == 409
    assert Incident.objects.get(pk=incident.pk).status == Status.SUBMITTED
    assert TestimonyRecord.objects.get(pk=testimony.pk).status == Status.SUBMITTED


def test_new_evidence_of_a_verified_case_is_decided_without_the_incident(documenter, reviewer):
    incident = make_incident(documenter, status=Status.VERIFIED)
    source = evidence.create_source(author=documenter, incident=incident, url="https://example.org/s", title="Late")
    workflow.submit(documenter, source)
    client = web_client_for(reviewer)
    assert f'href="/en/review/incidents/{incident.pk}/"' in client.get("/en/review/").content.decode()
    response = client.post(
        f"/en/review/incidents/{incident.pk}/", {"comment": "", f"evidence_sources_{source.pk}": "approve"}
    )
    assert response.status_code == 302
    assert Source.objects.get(pk=source.pk).status == Status.VERIFIED
    assert Incident.objects.get(pk=incident.pk).status == Status.VERIFIED


def test_bulk_decisions_on_the_page_record_one_transition_each_and_report_refusals(documenter, reviewer, settings):
    settings.REVIEW_MIN_EVIDENCE = 0
    first, second = make_incident(documenter), make_incident(documenter)
    for incident in (first, second):
        workflow.submit(documenter, incident)
    draft = make_incident(documenter)
    client = web_client_for(reviewer)
    response = client.post(
        "/en/review/bulk/",
        {
            "kind": "incidents",
            "ids": [first.pk, second.pk, draft.pk],
            "decision": "request_changes",
            "comment": "Add sources.",
            "next": "/en/review/",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert {Incident.objects.get(pk=i.pk).status for i in (first, second)} == {Status.CHANGES_REQUESTED}
    assert AuditEntry.objects.filter(action="incidents.request_changes").count() == 2
    assert f"#{draft.pk} not decided" in response.content.decode()


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "incidents", "decision": "approve"},
        {"kind": "incidents", "ids": ["x"], "decision": "approve"},
        {"kind": "incidents", "ids": ["1"], "decision": "publish"},
        {"kind": "rumours", "ids": ["1"], "decision": "approve"},
        {"kind": "incidents", "ids": ["1"], "decision": "reject", "comment": ""},
    ],
)
def test_bad_bulk_decisions_on_the_page_are_a_400_with_a_reason(reviewer, body):
    response = web_client_for(reviewer).post("/en/review/bulk/", body)
    assert response.status_code == 400
    assert 'class="refusal-message"' in response.content.decode()


def test_the_bulk_page_never_sends_back_to_another_site(documenter, reviewer, settings):
    settings.REVIEW_MIN_EVIDENCE = 0
    incident = make_incident(documenter)
    workflow.submit(documenter, incident)
    response = web_client_for(reviewer).post(
        "/en/review/bulk/",
        {"kind": "incidents", "ids": [incident.pk], "decision": "approve", "next": "https://evil.example/"},
    )
    assert response["Location"] == "/en/review/"


# --- Notices ------------------------------------------------------------------------------------------


def test_a_decision_leaves_a_notice_for_the_author_with_an_unread_count(documenter, reviewer, settings):
    settings.REVIEW_MIN_EVIDENCE = 0
    incident = make_incident(documenter, title="Noticed")
    workflow.submit(documenter, incident)
    workflow.review(reviewer, Incident.objects.get(pk=incident.pk), "reject", "Duplicate of another case.")
    notice = Notice.objects.get()
    assert (notice.recipient, notice.decision, notice.record_id) == (documenter, "reject", incident.pk)
    client = web_client_for(documenter)
    header = client.get("/en/").content.decode()
    assert re.search(r'class="badge">1<span class="visually-hidden"> unread', header)
    listing = client.get("/en/notices/").content.decode()
    assert "Rejected" in listing and "Noticed" in listing
    assert Notice.objects.unread_for(documenter).count() == 0
    assert AuditEntry.objects.filter(action="notices.read").count() == 1


def test_nobody_gets_a_notice_of_their_own_move(documenter):
    incident = make_incident(documenter)
    workflow.submit(documenter, incident)
    assert Notice.objects.count() == 0


def test_a_refused_decision_leaves_no_notice(documenter, reviewer):
    incident = make_incident(documenter)
    workflow.submit(documenter, incident)
    with pytest.raises(workflow.IllegalTransition):
        workflow.review(reviewer, Incident.objects.get(pk=incident.pk), "approve")  # no evidence
    assert Notice.objects.count() == 0


def test_notices_are_emailed_when_a_mail_server_is_configured_without_the_comment(documenter, reviewer, settings):
    settings.REVIEW_MIN_EVIDENCE = 0
    settings.EMAIL_NOTICES = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    documenter.email = "documenter@example.org"
    documenter.save(update_fields=["email"])
    from django.db import transaction

    from config.celery import app

    app.conf.task_always_eager = True
    incident = make_incident(documenter)
    witness_testimony = make_testimony(documenter, incident)
    TestimonyRecord.objects.filter(pk=witness_testimony.pk).update(status=Status.SUBMITTED)
    with transaction.atomic():
        workflow.review(
            reviewer,
            TestimonyRecord.objects.get(pk=witness_testimony.pk),
            "request_changes",
            "Witness Canary-Page said more",
        )
    from outbox.services import relay_pending

    relay_pending()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["documenter@example.org"]
    assert "Canary-Page" not in message.body + message.subject
    assert str(witness_testimony.pk) in message.body


def test_email_url_is_parsed_for_smtp_smtps_and_console():
    import dj_email_url

    assert dj_email_url.parse("smtp://u:p@mail.example.org:587")["EMAIL_HOST"] == "mail.example.org"
    assert dj_email_url.parse("console://")["EMAIL_BACKEND"].endswith("console.EmailBackend")


# --- No lost work -------------------------------------------------------------------------------------


def test_back_and_save_after_a_background_save_opens_the_record_instead_of_creating_another(documenter):
    client = web_client_for(documenter)
    token = re.search(r'name="form_token" value="([0-9a-f]{32})"', client.get("/en/incidents/new/").content.decode())[1]
    autosaved = client.post("/en/incidents/new/", {**incident_form(), "form_token": token}, HTTP_X_AUTOSAVE="1")
    assert autosaved.status_code == 200
    again = client.post("/en/incidents/new/", {**incident_form(), "form_token": token})
    incident = Incident.objects.get()
    assert again.status_code == 302 and again["Location"] == f"/en/incidents/{incident.pk}/"
    assert Incident.objects.count() == 1


def test_every_form_page_loads_the_script_that_keeps_drafts(documenter):
    html = web_client_for(documenter).get("/en/incidents/new/").content.decode()
    assert 'src="/static/js/app.js"' in html and "data-i18n-draft-restored" in html


# --- Refusal pages and sign-in -----------------------------------------------------------------------


def test_the_lockout_page_uses_the_site_layout_and_says_how_long_to_wait(rf, settings):
    import datetime

    from django.template.loader import render_to_string
    from django.utils import translation

    request = rf.get("/ar/accounts/login/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    with translation.override("ar"):
        html = render_to_string("lockout.html", {"cooloff_timedelta": datetime.timedelta(minutes=15)}, request=request)
    assert 'dir="rtl"' in html and "15" in html and 'class="site-header"' in html


def test_a_wrong_password_keeps_the_username(client, documenter):
    response = client.post("/en/accounts/login/", {"username": "documenter", "password": "wrong-password"})
    assert response.status_code == 200
    assert 'value="documenter"' in response.content.decode()


def test_the_sign_in_page_leads_on_in_the_language_chosen_on_it(client):
    html = client.get("/ar/accounts/login/?next=/en/incidents/").content.decode()
    assert 'name="next" value="/ar/incidents/"' in html


def test_the_sign_in_page_drops_a_next_address_on_another_site(client):
    html = client.get("/ar/accounts/login/?next=https://evil.example/").content.decode()
    assert 'name="next" value=""' in html


def test_reviewers_see_a_pdfs_document_metadata_and_the_hash_in_its_own_block(documenter, reviewer):
    from outbox.services import relay_pending
    from tests.conftest import client_for
    from tests.evidence.conftest import pdf_with_metadata, upload

    incident = make_incident(documenter)
    client_for(documenter).post(
        "/api/v1/media/",
        {"file": upload(pdf_with_metadata(), "report.pdf", "application/pdf"), "incident": incident.pk},
        format="multipart",
    )
    relay_pending()
    workflow.submit(documenter, incident)
    html = web_client_for(reviewer).get(f"/ar/review/incidents/{incident.pk}/").content.decode()
    assert "Canary report" in html and "canary-pdf-author" in html and "CanaryWriter" in html
    assert 'class="hash" dir="ltr"' in html and "data-copy=" in html
    documenter_view = web_client_for(documenter).get(f"/en/incidents/{incident.pk}/").content.decode()
    assert "canary-pdf-author" not in documenter_view  # metadata is for reviewers only


def test_a_case_approved_with_its_victims_leaves_one_notice_not_one_per_victim(documenter, reviewer, settings):
    settings.REVIEW_MIN_EVIDENCE = 0
    incident = make_incident(documenter)
    for n in range(3):
        make_victim(documenter, incident, name=f"Victim {n}")
    workflow.submit(documenter, incident)
    workflow.review(reviewer, Incident.objects.get(pk=incident.pk), "approve")
    assert list(Notice.objects.values_list("kind", "decision")) == [("incidents", "approve")]
