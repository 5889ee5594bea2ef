"""The OpenAPI description of evidence shapes where the serializer alone would say it wrong."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension

# Present only for the viewers the original's rule admits (services.may_see_original).
OPTIONAL_MEDIA_FIELDS = ("metadata",)


class MediaItemSchema(OpenApiSerializerExtension):
    """A media item's `metadata` is read-only yet may be absent: never listed as required."""

    target_class = "evidence.serializers.MediaItemSerializer"

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_basic_serializer(self.target, direction)
        required = [name for name in schema.get("required", []) if name not in OPTIONAL_MEDIA_FIELDS]
        if required:
            schema["required"] = required
        else:
            schema.pop("required", None)
        if "metadata" in schema.get("properties", {}):
            schema["properties"]["metadata"]["description"] = (
                "Extracted EXIF etc. Present only for reviewers, admins and the uploader (those who may "
                "download the original); absent for everyone else."
            )
        return schema
