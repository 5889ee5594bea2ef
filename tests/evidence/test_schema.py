"""The OpenAPI document describes the evidence endpoints of the contract."""

from __future__ import annotations

import yaml
from django.test import Client


def test_schema_lists_evidence_paths_and_optional_identity(db):
    schema = yaml.safe_load(Client().get("/api/v1/schema/").content)
    for path in [
        "/api/v1/witnesses/",
        "/api/v1/witnesses/{id}/",
        "/api/v1/testimonies/",
        "/api/v1/testimonies/{id}/submit/",
        "/api/v1/testimonies/{id}/review/",
        "/api/v1/media/",
        "/api/v1/media/{id}/original/",
        "/api/v1/media/{id}/redacted/",
        "/api/v1/media/{id}/custody/",
        "/api/v1/media/{id}/reopen/",
        "/api/v1/sources/",
    ]:
        assert path in schema["paths"], path
    assert "multipart/form-data" in schema["paths"]["/api/v1/media/"]["post"]["requestBody"]["content"]
    witness = schema["components"]["schemas"]["WitnessResponse"]
    assert {"name", "contact", "notes"} <= set(witness["properties"])
    assert not {"name", "contact", "notes"} & set(witness.get("required", [])), "identity may be absent"
    media = schema["components"]["schemas"]["MediaItem"]["properties"]
    for field in ["id", "status", "sha256", "size", "content_type", "original_name", "metadata", "created_at"]:
        assert field in media, field
    assert "metadata" not in schema["components"]["schemas"]["MediaItem"].get("required", []), "may be absent"
    assert "sha256" in schema["components"]["schemas"]["MediaItem"]["required"]
    testimony = schema["components"]["schemas"]["Testimony"]["properties"]
    for field in ["incident", "witness", "taken_on", "language", "statement", "consent_to_publish", "status"]:
        assert field in testimony, field
