"""The duplicates pages (Django test client): queue, pair page, decisions, unmerge, scan button."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEntry
from matching import services
from matching.models import CandidatePair, DuplicateScan
from tests.conftest import make_incident, make_victim, web_client_for
from tests.matching.review_helpers import fresh, pair_of, verified_victim

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(documenter, second_documenter):
    first = verified_victim(documenter, name="Mohammad Ali", name_ar="محمد علي", age_years=34)
    second = verified_victim(second_documenter, name="Mohamed Aly", name_ar="محمد على", age_years=35)
    return pair_of(first, second, score=0.93)


def test_the_queue_lists_undecided_pairs_highest_score_first(reviewer, documenter, pair):
    low = pair_of(
        verified_victim(documenter, name="Low"), verified_victim(documenter, name="Low"), score=0.41, likely=False
    )
    response = web_client_for(reviewer).get("/en/duplicates/?status=candidate")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(f"/en/duplicates/{pair.pk}/") < html.index(f"/en/duplicates/{low.pk}/")
    assert "<li>same Arabic name after normalisation</li><li>ages 34 and 35</li>" in html


def test_the_queue_shows_undecided_pairs_unless_another_decision_is_asked_for(reviewer, pair):
    response = web_client_for(reviewer).get("/en/duplicates/")
    assert response.status_code == 302
    assert response["Location"] == "/en/duplicates/?status=candidate"


def test_the_queue_filters_likely_pairs_only_from_the_address(reviewer, documenter, pair):
    unlikely = pair_of(verified_victim(documenter), verified_victim(documenter), score=0.5, likely=False)
    html = web_client_for(reviewer).get("/en/duplicates/?status=candidate&likely=true").content.decode()
    assert f"/en/duplicates/{pair.pk}/" in html and f"/en/duplicates/{unlikely.pk}/" not in html


def test_the_queue_filters_by_source_list(reviewer, documenter, pair):
    listed = verified_victim(documenter)
    type(listed).objects.filter(pk=listed.pk).update(origin_source="MoH 2024-08", origin_record_id="7")
    from_list = pair_of(listed, verified_victim(documenter))
    html = web_client_for(reviewer).get("/en/duplicates/?status=candidate&source=MoH+2024-08").content.decode()
    assert f"/en/duplicates/{from_list.pk}/" in html and f'/en/duplicates/{pair.pk}/"' not in html


def test_the_queue_in_arabic_reads_right_to_left_with_reasons_in_arabic(reviewer, pair):
    response = web_client_for(reviewer).get("/ar/duplicates/?status=candidate")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'dir="rtl"' in html
    assert "الاسم العربي نفسه بعد التوحيد" in html


def test_the_queue_never_lists_a_pair_with_a_record_the_reviewer_cannot_see(reviewer, documenter, pair):
    hidden = pair_of(verified_victim(documenter), make_victim(documenter, make_incident(documenter)))
    html = web_client_for(reviewer).get("/en/duplicates/?status=").content.decode()
    assert f"/en/duplicates/{hidden.pk}/" not in html
    assert web_client_for(reviewer).get(f"/en/duplicates/{hidden.pk}/").status_code == 404


def test_documenters_do_not_reach_the_duplicates_pages(documenter, pair):
    client = web_client_for(documenter)
    for url in ("/en/duplicates/?status=candidate", f"/en/duplicates/{pair.pk}/"):
        response = client.get(url)
        assert response.status_code == 403
        assert "Only reviewers and admins may review duplicates." in response.content.decode(), url
    # The service refuses the decision itself with the same reason.
    with pytest.raises(PermissionDenied, match=re.escape("Only reviewers and admins may review duplicates.")):
        services.decide(pair, documenter, "dismiss")


def test_the_pair_page_shows_both_records_side_by_side_with_the_differences_marked(reviewer, pair):
    html = web_client_for(reviewer).get(f"/en/duplicates/{pair.pk}/").content.decode()
    assert "محمد علي" in html and "محمد على" in html
    age_row = re.search(r'<tr class="differs">\s*<th scope="row">.*?Age</th>', html, re.S)
    assert age_row is not None
    assert "Airstrike on a market" in html  # the incidents


def test_a_reviewer_confirms_a_pair_on_its_page_keeping_the_chosen_record(reviewer, pair):
    response = web_client_for(reviewer).post(
        f"/en/duplicates/{pair.pk}/decide/",
        {"decision": "confirm", "keep": pair.victim_b_id, "comment": "One man.", "version": pair.version},
    )
    assert response.status_code == 302
    assert fresh(pair.victim_a).duplicate_of_id == pair.victim_b_id
    assert CandidatePair.objects.get(pk=pair.pk).status == "confirmed"


def test_confirming_on_the_page_without_choosing_the_record_kept_is_a_400_and_changes_nothing(reviewer, pair):
    response = web_client_for(reviewer).post(
        f"/en/duplicates/{pair.pk}/decide/", {"decision": "confirm", "version": pair.version}
    )
    assert response.status_code == 400
    assert "Choose which record is kept." in response.content.decode()
    assert CandidatePair.objects.get(pk=pair.pk).status == "candidate"


def test_a_second_decision_on_the_page_is_a_409(reviewer, second_reviewer, pair):
    services.decide(pair, reviewer, "dismiss")
    response = web_client_for(second_reviewer).post(
        f"/en/duplicates/{pair.pk}/decide/", {"decision": "confirm", "keep": pair.victim_a_id, "version": pair.version}
    )
    assert response.status_code == 409
    assert fresh(pair.victim_b).duplicate_of_id is None


def test_the_pair_page_tells_an_author_of_both_records_that_another_reviewer_must_decide(admin_user):
    own = pair_of(verified_victim(admin_user), verified_victim(admin_user))
    client = web_client_for(admin_user)
    assert "another reviewer must decide" in client.get(f"/en/duplicates/{own.pk}/").content.decode()
    response = client.post(f"/en/duplicates/{own.pk}/decide/", {"decision": "dismiss", "version": own.version})
    assert response.status_code == 403


def test_a_reviewer_unmerges_a_record_from_the_pair_page_with_a_reason(reviewer, second_reviewer, pair):
    services.decide(pair, reviewer, "confirm", keep=pair.victim_a_id)
    client = web_client_for(second_reviewer)
    page = client.get(f"/en/duplicates/{pair.pk}/").content.decode()
    assert f"/en/duplicates/records/{pair.victim_b_id}/unmerge/" in page
    response = client.post(
        f"/en/duplicates/records/{pair.victim_b_id}/unmerge/",
        {"reason": "Different fathers.", "back": f"/en/duplicates/{pair.pk}/"},
    )
    assert response.status_code == 302 and response["Location"] == f"/en/duplicates/{pair.pk}/"
    assert fresh(pair.victim_b).duplicate_of_id is None
    assert AuditEntry.objects.filter(action="victim.unmerge").count() == 1


def test_unmerging_on_a_page_without_a_reason_is_a_400(reviewer, second_reviewer, pair):
    services.decide(pair, reviewer, "confirm", keep=pair.victim_a_id)
    response = web_client_for(second_reviewer).post(f"/en/duplicates/records/{pair.victim_b_id}/unmerge/", {})
    assert response.status_code == 400
    assert fresh(pair.victim_b).duplicate_of_id == pair.victim_a_id


def test_a_records_group_page_lists_its_duplicates_with_an_unmerge_form(reviewer, pair):
    services.decide(pair, reviewer, "confirm", keep=pair.victim_a_id)
    html = web_client_for(reviewer).get(f"/en/duplicates/records/{pair.victim_a_id}/").content.decode()
    assert f"/en/duplicates/records/{pair.victim_b_id}/unmerge/" in html


def test_the_scan_progress_page_shows_a_scans_figures(reviewer):
    scan = DuplicateScan.objects.create(status="done", victims=120, pairs_compared=3400, candidates=7)
    html = web_client_for(reviewer).get(f"/en/duplicates/scans/{scan.pk}/").content.decode()
    assert "3400" in html and "120" in html


def test_the_scan_button_starts_a_scan_and_links_to_its_progress(reviewer):
    response = web_client_for(reviewer).post("/en/duplicates/scan/")
    assert response.status_code == 302
    scan = DuplicateScan.objects.get()
    assert response["Location"] == f"/en/duplicates/scans/{scan.pk}/"


def test_reviewers_and_admins_see_the_duplicates_link_and_documenters_do_not(reviewer, admin_user, documenter):
    assert "/en/duplicates/" in web_client_for(reviewer).get("/en/").content.decode()
    assert "/en/duplicates/" in web_client_for(admin_user).get("/en/").content.decode()
    assert "/en/duplicates/" not in web_client_for(documenter).get("/en/").content.decode()


def test_the_pages_hold_no_inline_script_or_style(reviewer, pair):
    client = web_client_for(reviewer)
    for path in ("/en/duplicates/?status=candidate", f"/en/duplicates/{pair.pk}/", f"/ar/duplicates/{pair.pk}/"):
        html = client.get(path).content.decode()
        assert "<script>" not in html and "style=" not in html and "<style" not in html, path
        assert not re.search(r"\son[a-z]+=", html), path


@pytest.mark.parametrize("back", ["https://evil.example/", "//evil.example/", "/\\evil.example/"])
def test_unmerging_on_a_page_never_sends_the_reviewer_to_another_site(reviewer, second_reviewer, pair, back):
    services.decide(pair, reviewer, "confirm", keep=pair.victim_a_id)
    response = web_client_for(second_reviewer).post(
        f"/en/duplicates/records/{pair.victim_b_id}/unmerge/", {"reason": "Two men.", "back": back}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/en/duplicates/records/{pair.victim_b_id}/"


def test_the_scan_button_while_a_scan_waits_links_to_that_scan(reviewer):
    # A pending scan always blocks; a `running` one whose lock nobody holds is dead (tests/matching/test_scans.py).
    running = DuplicateScan.objects.create(status="pending")
    response = web_client_for(reviewer).post("/en/duplicates/scan/")
    assert response.status_code == 302
    assert response["Location"] == f"/en/duplicates/scans/{running.pk}/"
    assert DuplicateScan.objects.count() == 1


def test_the_pair_page_lists_the_sources_of_each_records_incident(reviewer, documenter, pair):
    from evidence import services as evidence
    from evidence.models import Source

    source = evidence.create_source(
        author=documenter, incident=pair.victim_a.incident, url="https://example.org/moh-list", title="MoH list, April"
    )
    Source.objects.filter(pk=source.pk).update(status="verified")
    html = web_client_for(reviewer).get(f"/en/duplicates/{pair.pk}/").content.decode()
    assert "MoH list, April" in html and 'href="https://example.org/moh-list"' in html
