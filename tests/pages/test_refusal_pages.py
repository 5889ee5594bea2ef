"""Refusals on the pages (config/pages.py): each service refusal becomes a page in the site's layout with
the status that matches and the reason in the reader's language, or stays on the form with the reason."""

from __future__ import annotations

import html
import json

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import ProtectedError
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import translation
from django.views import View

from config.pages import MESSAGE_AND_REDIRECT, RefusalsAsPagesMixin, back_to, refusals_as_pages
from incidents import workflow
from incidents.models import Incident, Status, Victim
from matching.models import CandidatePair
from tests.conftest import make_incident, make_user, make_victim, web_client_for
from tests.matching.review_helpers import fresh, pair_of, verified_victim

pytestmark = pytest.mark.django_db

ARABIC_LAYOUT = 'dir="rtl"'


@pytest.fixture(autouse=True)
def no_evidence_needed(settings):
    settings.REVIEW_MIN_EVIDENCE = 0
    yield
    translation.deactivate()  # the views called without middleware leave no language behind


def text(response) -> str:
    return html.unescape(response.content.decode())


def in_layout(page: str) -> bool:
    """The refusal is a page of the site (its header and navigation), not a bare error."""
    return "<html" in page and 'class="refusal"' in page and "<nav" in page


def verified_incident(author) -> Incident:
    return make_incident(author, status=Status.VERIFIED)


# --- 403: not allowed ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "reason", "title"),
    [
        ("en", "Only the author may change this record.", "Not allowed"),
        ("ar", "لا يعدّل هذا السجل إلا كاتبه.", "غير مسموح"),
    ],
)
def test_a_documenter_opening_anothers_victim_edit_page_is_refused_in_the_layout(
    documenter, second_documenter, language, reason, title
):
    incident = verified_incident(second_documenter)
    victim = make_victim(second_documenter, incident, status=Status.VERIFIED, name="Not yours")
    response = web_client_for(documenter).get(f"/{language}/victims/{victim.pk}/")
    page = text(response)
    assert response.status_code == 403
    assert in_layout(page) and reason in page and title in page
    assert (ARABIC_LAYOUT in page) == (language == "ar")


@pytest.mark.parametrize(
    ("language", "reason"),
    [("en", "Only the author may change this record."), ("ar", "لا يعدّل هذا السجل إلا كاتبه.")],
)
def test_a_documenter_saving_anothers_incident_is_refused_and_nothing_changes(
    documenter, second_documenter, language, reason
):
    incident = verified_incident(second_documenter)
    response = web_client_for(documenter).post(
        f"/{language}/incidents/{incident.pk}/", {"title": "Taken over", "occurred_on": "2024-01-02"}
    )
    assert response.status_code == 403
    assert reason in text(response)
    assert Incident.objects.get(pk=incident.pk).title == incident.title


def test_anothers_draft_is_not_even_shown_to_exist(documenter, second_documenter):
    draft = make_incident(second_documenter)
    client = web_client_for(documenter)
    for response in (
        client.get(f"/en/incidents/{draft.pk}/"),
        client.post(f"/en/incidents/{draft.pk}/submit/"),
        client.post(f"/en/incidents/{draft.pk}/delete/"),
    ):
        assert response.status_code == 404
        assert "There is nothing here, or it is not visible to you." in text(response)
    assert Incident.objects.get(pk=draft.pk).status == Status.DRAFT


@pytest.mark.parametrize(
    ("language", "reason"),
    [
        ("en", "Nobody reviews their own work: another reviewer must decide."),
        ("ar", "لا أحد يراجع عمله بنفسه: يجب أن يقرّر مراجع آخر."),
    ],
)
def test_a_reviewer_approving_their_own_work_is_told_why_and_nothing_is_decided(reviewer, language, reason):
    reviewer.groups.add(Group.objects.get(name="documenter"))  # a reviewer who also documents
    own = make_incident(reviewer, title="My own")
    workflow.submit(reviewer, own)
    response = web_client_for(reviewer).post(
        f"/{language}/review/incidents/{own.pk}/", {"decision": "approve", "comment": "Looks right."}
    )
    page = text(response)
    assert response.status_code == 403
    assert in_layout(page) and reason in page
    assert f"/{language}/review/incidents/{own.pk}/" in page  # the way back to the record
    assert Incident.objects.get(pk=own.pk).status == Status.SUBMITTED


def test_a_documenter_is_refused_the_review_pages_with_the_reason(documenter):
    response = web_client_for(documenter).post("/en/review/bulk/", {"ids": ["1"], "decision": "approve"})
    assert response.status_code == 403
    assert "Only reviewers and admins may review records." in text(response)


# --- 409: the record's state forbids it, or a concurrent change won ---------------------------------


@pytest.mark.parametrize(
    ("language", "reason", "title"),
    [
        ("en", "Cannot submit a record that is submitted.", "Not possible in the record's current state"),
        ("ar", "لا يُسمح بالإجراء (submit)", "غير ممكن في الحالة الحالية للسجل"),
    ],
)
def test_submitting_from_a_stale_page_is_a_409_with_the_reason(documenter, language, reason, title):
    incident = make_incident(documenter)
    client = web_client_for(documenter)
    assert client.post(f"/{language}/incidents/{incident.pk}/submit/").status_code == 302
    again = client.post(f"/{language}/incidents/{incident.pk}/submit/")  # the second tab, still showing a draft
    page = text(again)
    assert again.status_code == 409
    assert in_layout(page) and reason in page and title in page
    assert f"/{language}/incidents/{incident.pk}/" in page
    assert Incident.objects.get(pk=incident.pk).status == Status.SUBMITTED


@pytest.mark.parametrize(
    ("language", "reason"),
    [
        ("en", "Someone else changed this pair at the same moment; reload it."),
        ("ar", "غيّر شخص آخر هذا الزوج في اللحظة نفسها؛ أعد تحميله."),
    ],
)
def test_a_duplicate_decision_on_a_changed_pair_is_a_409(documenter, second_documenter, reviewer, language, reason):
    pair = pair_of(verified_victim(documenter, name="Ali"), verified_victim(second_documenter, name="Aly"))
    CandidatePair.objects.filter(pk=pair.pk).update(version=pair.version + 1)  # changed since the page was shown
    response = web_client_for(reviewer).post(
        f"/{language}/duplicates/{pair.pk}/decide/", {"decision": "dismiss", "version": pair.version}
    )
    assert response.status_code == 409
    assert reason in text(response)
    assert CandidatePair.objects.get(pk=pair.pk).status == CandidatePair.State.CANDIDATE


def test_deleting_a_submitted_victim_is_a_409(documenter):
    incident = make_incident(documenter)
    victim = make_victim(documenter, incident, status=Status.SUBMITTED)
    response = web_client_for(documenter).post(f"/en/victims/{victim.pk}/delete/")
    assert response.status_code == 409
    assert "Nothing was changed and nothing you entered was lost." in text(response)
    assert Victim.objects.filter(pk=victim.pk).exists()


# --- 404: a missing record --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "reason"),
    [("en", "There is nothing here, or it is not visible to you."), ("ar", "لا يوجد شيء هنا، أو أنه غير متاح لك.")],
)
def test_a_missing_record_is_a_404_in_the_layout(documenter, reviewer, language, reason):
    for user, path in (
        (documenter, f"/{language}/incidents/999999/"),
        (documenter, f"/{language}/victims/999999/"),
        (reviewer, f"/{language}/review/incidents/999999/"),
        (reviewer, f"/{language}/review/nonsense/1/"),
    ):
        response = web_client_for(user).get(path)
        page = text(response)
        assert response.status_code == 404, path
        assert reason in page and "<nav" in page
        assert (ARABIC_LAYOUT in page) == (language == "ar")


# --- 400: bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "reason", "title"),
    [
        ("en", "Choose approve, reject or request_changes.", "That could not be saved"),
        ("ar", "تعذّر الحفظ", "تعذّر الحفظ"),
    ],
)
def test_a_bulk_decision_the_service_refuses_is_a_400_with_the_reason(documenter, reviewer, language, reason, title):
    incident = make_incident(documenter)
    workflow.submit(documenter, incident)
    response = web_client_for(reviewer).post(
        f"/{language}/review/bulk/", {"kind": "incidents", "ids": [str(incident.pk)], "decision": "maybe"}
    )
    page = text(response)
    assert response.status_code == 400
    assert in_layout(page) and reason in page and title in page
    assert Incident.objects.get(pk=incident.pk).status == Status.SUBMITTED


def test_a_decision_the_service_refuses_field_by_field_stays_on_the_form(reviewer, documenter):
    pair = pair_of(verified_victim(documenter, name="Ali"), verified_victim(documenter, name="Aly"))
    response = web_client_for(reviewer).post(
        f"/en/duplicates/{pair.pk}/decide/", {"decision": "confirm", "version": pair.version}
    )
    page = text(response)
    assert response.status_code == 400
    assert "Choose which record is kept." in page and "<form" in page  # the form again, with the reason
    assert fresh(pair.victim_a).duplicate_of_id is None


@pytest.mark.parametrize(
    ("language", "reason"),
    [("en", "Give a reason for reopening this record."), ("ar", "اذكر سبب إعادة فتح هذا السجل.")],
)
def test_reopening_without_a_reason_is_a_400(documenter, reviewer, language, reason):
    incident = make_incident(documenter, status=Status.VERIFIED)
    response = web_client_for(reviewer).post(f"/{language}/review/incidents/{incident.pk}/reopen/", {"reason": ""})
    assert response.status_code == 400
    assert reason in text(response)
    assert Incident.objects.get(pk=incident.pk).status == Status.VERIFIED


def test_an_incident_form_with_bad_input_is_shown_again_with_the_reasons(documenter):
    response = web_client_for(documenter).post("/en/incidents/new/", {"title": "", "occurred_on": "not a date"})
    assert response.status_code == 400
    assert "<form" in text(response) and 'class="errorlist' in text(response)
    assert not Incident.objects.exists()


# --- anonymous -------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(documenter):
    incident = make_incident(documenter)
    client = Client()
    for method, path in (
        ("get", f"/en/incidents/{incident.pk}/"),
        ("post", f"/en/incidents/{incident.pk}/submit/"),
        ("get", f"/ar/review/incidents/{incident.pk}/"),
    ):
        response = getattr(client, method)(path)
        assert response.status_code == 302, path
        assert "login" in response["Location"] and "?next=" in response["Location"]
    assert Incident.objects.get(pk=incident.pk).status == Status.DRAFT


# --- the layer itself: the mixin for class-based views and the message-and-redirect choice -----------


class RefusingView(RefusalsAsPagesMixin, View):
    def post(self, request, *args, **kwargs):
        back_to(request, "/en/")
        raise PermissionDenied("Not for you.")


class RedirectingView(RefusingView):
    on_refusal = MESSAGE_AND_REDIRECT


def _request(user, path="/en/somewhere/"):
    request = RequestFactory().post(path)
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def test_a_class_based_view_gets_the_refusal_page(documenter):
    response = RefusingView.as_view()(_request(documenter))
    assert response.status_code == 403
    assert "Not for you." in response.content.decode()


def test_message_and_redirect_keeps_the_reason_as_a_message(documenter):
    request = _request(documenter)
    response = RedirectingView.as_view()(request)
    assert (response.status_code, response["Location"]) == (302, "/en/")
    assert [str(m) for m in get_messages(request)] == ["Not for you."]


def test_autosave_refusals_are_json_and_other_errors_are_not_swallowed(documenter):
    @refusals_as_pages
    def refusing(request):
        raise ValidationError({"title": "Too long."})

    request = RequestFactory().post("/en/x/", headers={"X-Autosave": "1"})
    request.user = documenter
    response = refusing(request)
    assert response.status_code == 400 and json.loads(response.content) == {"saved": False, "error": "Too long."}

    @refusals_as_pages
    def broken(request) -> HttpResponse:
        raise RuntimeError("a bug is a 500, never a refusal")

    with pytest.raises(RuntimeError):
        broken(request)


def test_a_refused_user_without_a_role_sees_the_layout_too():
    nobody = make_user("nobody")
    response = web_client_for(nobody).get("/ar/incidents/new/")
    assert response.status_code == 403
    assert ARABIC_LAYOUT in text(response)


def test_a_delete_that_other_records_prevent_is_a_409_with_the_reason_in_arabic(documenter):
    @refusals_as_pages
    def deleting(request) -> HttpResponse:
        raise ProtectedError("referred to", set())

    with translation.override("ar"):
        response = deleting(_request(documenter, "/ar/x/"))
    assert response.status_code == 409
    assert "تشير سجلات أخرى إلى هذا السجل؛ لا يمكن حذفه." in text(response)
