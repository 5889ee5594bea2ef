"""The OpenAPI schema, its offline docs, and the bilingual pages."""

from __future__ import annotations

import re

import pytest
import yaml
from django.test import Client
from drf_spectacular.validation import validate_schema

from tests.conftest import make_incident


def test_schema_is_valid_openapi_and_lists_the_contract_paths(db):
    response = Client().get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    validate_schema(schema)
    for path in [
        "/api/v1/auth/token/",
        "/api/v1/locations/",
        "/api/v1/perpetrators/",
        "/api/v1/periods/",
        "/api/v1/incidents/",
        "/api/v1/incidents/{id}/",
        "/api/v1/victims/",
    ]:
        assert path in schema["paths"], path
    victim = schema["components"]["schemas"]["Victim"]["properties"]
    for field in ["category", "roles", "age_group", "civilian_status", "duplicate_of", "status"]:
        assert field in victim


def test_docs_are_served_from_local_files_only(db):
    response = Client().get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, "the docs page loads its scripts"
    assert all(not s.startswith(("http://", "https://", "//")) for s in sources), sources


def test_root_redirects_to_the_home_page(db):
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].endswith("/en/") or "/en/" in response["Location"]


def test_anonymous_home_asks_to_sign_in(db):
    response = Client().get("/en/")
    assert response.status_code == 302
    assert "/en/accounts/login/" in response["Location"]


@pytest.mark.parametrize(("prefix", "direction", "sign_in"), [("en", "ltr", "Sign in"), ("ar", "rtl", "تسجيل الدخول")])
def test_login_page_in_both_languages(db, prefix, direction, sign_in):
    response = Client().get(f"/{prefix}/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'lang="{prefix}" dir="{direction}"' in html
    assert sign_in in html


def test_documenter_home_lists_their_incidents_in_arabic(documenter):
    make_incident(documenter, title="غارة على السوق")
    client = Client()
    client.force_login(documenter)
    response = client.get("/ar/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'dir="rtl"' in html
    assert "غارة على السوق" in html
    assert "إدلب" in html  # the place in Arabic
    assert "قضاياي" in html  # "My cases"


def test_user_text_is_escaped_on_pages(documenter):
    make_incident(documenter, title="<script>alert(1)</script>")
    client = Client()
    client.force_login(documenter)
    html = client.get("/en/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_duplicates_routes_resolve_as_before_and_are_tried_first():
    """config/urls.py tries the router's duplicates patterns first: the same views answer the same paths
    (every router route still resolves to its own view), with few patterns tried before the list's."""
    from django.urls import resolve, reverse

    from config.api import router

    expected = {
        "/api/v1/duplicates/": "duplicate-list",
        "/api/v1/duplicates/7/decide/": "duplicate-decide",
        "/api/v1/duplicates/scans/3/": "duplicate-scan-detail",
        "/api/v1/duplicates/scan/": "duplicate-scan-start",
        "/api/v1/incidents/": "incident-list",
        "/api/v1/victims/5/": "victim-detail",
        "/api/v1/public/counts/": "public-count-list",
        "/api/v1/counts/": "count-list",
        "/api/v1/": "api-root",
    }
    assert {path: resolve(path).url_name for path in expected} == expected
    assert len(resolve("/api/v1/duplicates/").tried) < 15  # it was the router's last (over 100 tried)
    for pattern in router.urls:  # every named route reverses and resolves back to its own name
        if pattern.name and "format" not in str(pattern.pattern) and "<pk>" not in str(pattern.pattern):
            assert resolve(reverse(pattern.name)).url_name == pattern.name
