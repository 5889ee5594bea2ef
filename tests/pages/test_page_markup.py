"""Every page is ready for a Content-Security-Policy without 'unsafe-inline' and loads nothing from elsewhere."""

from __future__ import annotations

import re

import pytest

from incidents import workflow
from tests.conftest import make_incident, make_user, make_victim, web_client_for

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


@pytest.fixture
def pages(documenter, reviewer):
    admin = make_user("chief", "admin")
    draft = make_incident(documenter, title="Draft one")
    make_victim(documenter, draft)
    sent = make_incident(documenter, title="Sent one")
    workflow.submit(documenter, sent)
    return [
        (documenter, "/{lang}/"),
        (documenter, "/{lang}/incidents/new/"),
        (documenter, f"/{{lang}}/incidents/{draft.pk}/"),
        (documenter, f"/{{lang}}/incidents/{draft.pk}/testimony/"),
        (reviewer, "/{lang}/review/"),
        (reviewer, f"/{{lang}}/review/incidents/{sent.pk}/"),
        (admin, "/{lang}/counts/"),
        (None, "/{lang}/figures/"),
        (None, "/{lang}/accounts/login/"),
    ]


@pytest.mark.parametrize("language", ["en", "ar"])
def test_pages_have_no_inline_script_style_or_handlers_and_no_external_addresses(pages, language):
    for user, path in pages:
        client = web_client_for(user)
        url = path.format(lang=language)
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), url
        assert not INLINE_STYLE.search(html), url
        assert not EVENT_HANDLER.search(html), url
        assert not EXTERNAL.search(html), url
        assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in html, url
