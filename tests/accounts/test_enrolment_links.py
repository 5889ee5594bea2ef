"""First enrolment needs an admin's one-time link: a password alone cannot enrol a device."""

from __future__ import annotations

import io
import re
import time

from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEntry
from tests.accounts.test_second_factor import current_code, sign_in
from tests.conftest import make_user, web_client_for


def issue(username: str) -> str:
    out = io.StringIO()
    call_command("issue_enrolment_link", username, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def test_a_reviewer_password_alone_cannot_enrol_a_device(reviewer):
    client = sign_in(reviewer)
    page = client.get("/en/account/two-factor/enrol/")
    assert page.status_code == 403
    assert "enrolment link" in page.content.decode()
    assert 'src="data:image/svg+xml' not in page.content.decode() and "<code" not in page.content.decode()
    attempt = client.post("/en/account/two-factor/enrol/", {"code": "123456"})
    assert attempt.status_code == 403
    assert not TOTPDevice.objects.filter(user=reviewer).exists()
    assert client.get("/api/v1/incidents/").status_code == 403


def test_an_admins_link_lets_the_user_enrol_once(reviewer):
    link = issue("reviewer")
    assert link.startswith("/en/account/two-factor/enrol/")
    client = sign_in(reviewer)
    opened = client.get(link)
    assert opened.status_code == 302 and opened["Location"] == "/en/account/two-factor/enrol/"
    page = client.get("/en/account/two-factor/enrol/")
    assert page.status_code == 200
    key = re.search(r'<code dir="ltr">([A-Z2-7=]+)</code>', page.content.decode()).group(1)
    device = TOTPDevice.objects.get(user=reviewer, confirmed=False)
    assert len(key) >= 32
    assert client.post("/en/account/two-factor/enrol/", {"code": current_code(device)}).status_code == 302
    assert TOTPDevice.objects.filter(user=reviewer, confirmed=True).count() == 1
    assert client.get("/en/").status_code == 200
    # Used: the same link enrols nothing more, for this session or another one.
    other = sign_in(reviewer)
    assert other.get(link).status_code == 302  # an enrolled user is sent to verify a code instead
    TOTPDevice.objects.filter(user=reviewer).delete()  # even after an admin removes the device
    assert other.get(link).status_code == 403


def test_opening_the_link_twice_spends_it(reviewer):
    link = issue("reviewer")
    assert sign_in(reviewer).get(link).status_code == 302
    assert sign_in(reviewer).get(link).status_code == 403
    assert TOTPDevice.objects.filter(user=reviewer).count() == 1


def test_a_link_works_only_for_the_account_it_names(reviewer, second_reviewer):
    link = issue("reviewer")
    assert sign_in(second_reviewer).get(link).status_code == 403
    assert not TOTPDevice.objects.filter(user=second_reviewer).exists()
    assert AuditEntry.objects.filter(action="auth.enrolment_link_refused", actor=second_reviewer).count() == 1


def test_an_expired_link_is_refused(reviewer, settings, monkeypatch):
    link = issue("reviewer")
    later = time.time() + settings.OTP_ENROLMENT_LINK_HOURS * 3600 + 5
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    assert sign_in(reviewer).get(link).status_code == 403


def test_the_admin_user_list_issues_a_link(reviewer):
    root = web_client_for(make_user("root", is_staff=True, is_superuser=True))
    response = root.post(
        "/en/admin/auth/user/",
        {"action": "issue_enrolment_link", "_selected_action": [reviewer.pk]},
        follow=True,
    )
    link = re.search(r"(http://testserver/en/account/two-factor/enrol/[^/\s<]+/)", response.content.decode()).group(1)
    assert sign_in(reviewer).get(link.removeprefix("http://testserver")).status_code == 302
    assert AuditEntry.objects.filter(action="auth.enrolment_link_issued").count() == 1


def test_the_demo_prints_a_link_for_the_reviewer_and_the_admin(db, settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    links = re.findall(r"'(reviewer|admin)' enrolment link .*?: http://127\.0\.0\.1:\d+(/\S+)", out.getvalue())
    assert [who for who, _path in links] == ["reviewer", "admin"]
    passwords = dict(re.findall(r"demo user '(\w+)' password: (\S+)", out.getvalue()))
    client = Client()
    client.post("/en/accounts/login/", {"username": "reviewer", "password": passwords["reviewer"]})
    assert client.get(links[0][1]).status_code == 302
    assert client.get("/en/account/two-factor/enrol/").status_code == 200
