"""The sign-in page's language switch: the language chosen there is the one the user lands in after signing
in, whether or not a page sent them to sign in."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "pw-documenter-long-enough"


def arabic_link(html: str) -> str:
    return re.search(r'<a href="([^"]*)" hreflang="ar"', html).group(1)


def test_switching_the_sign_in_page_to_arabic_leads_to_the_arabic_page_that_asked_for_it(documenter):
    client = Client()
    sign_in = client.get("/en/incidents/")["Location"]
    assert sign_in == "/en/accounts/login/?next=/en/incidents/"
    switched = arabic_link(client.get(sign_in).content.decode())
    page = client.get(switched).content.decode()
    assert 'lang="ar"' in page and 'name="next" value="/ar/incidents/"' in page
    signed_in = client.post(
        switched, {"username": "documenter", "password": PASSWORD, "next": "/ar/incidents/"}, REMOTE_ADDR="192.0.2.50"
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == "/ar/incidents/"
    assert 'dir="rtl"' in client.get(signed_in["Location"]).content.decode()


def test_signing_in_on_the_arabic_page_without_a_next_address_lands_on_the_arabic_start_page(documenter):
    signed_in = Client().post(
        "/ar/accounts/login/", {"username": "documenter", "password": PASSWORD}, REMOTE_ADDR="192.0.2.51"
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == "/ar/"
