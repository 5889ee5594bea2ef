"""The API's shapes and field validation for evidence. Business rules live in services.py."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from config import protected
from incidents.serializers import not_in_future, plausible_date
from incidents.validators import validate_free_text, validate_name_text

from . import crypto, services
from .models import HTTP_URL, CustodyEvent, MediaItem, Source, Testimony, Witness

LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$")


class WitnessSerializer(serializers.ModelSerializer):
    """`id`, `code`; `name`, `contact`, `notes` only for users allowed to see the identity.

    For everybody else the identity keys are absent from the response, not blanked. Whenever the
    identity goes into a response, the request is marked (`config.protected.mark_shown`): that
    response is sent `Cache-Control: private, no-store`, and a replay record keeps it without them.
    """

    name = serializers.CharField(max_length=300, validators=[validate_name_text], write_only=True)
    contact = serializers.CharField(
        max_length=500, required=False, allow_blank=True, validators=[validate_free_text], write_only=True
    )
    notes = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, validators=[validate_free_text], write_only=True
    )

    class Meta:
        model = Witness
        fields = ["id", "code", "name", "contact", "notes", "created_at"]
        read_only_fields = ["id", "code", "created_at"]

    def to_representation(self, instance: Witness) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if services.may_see_identity(user, instance):
            try:
                identity = services.witness_identity(actor=user, witness=instance)
            except crypto.UndecryptableValue:
                data["identity_error"] = _("The identity cannot be decrypted with the configured keys.")
            else:
                if identity is not None:
                    protected.mark_shown(request, identity)
                    data.update(identity)
        return data


class WitnessResponseSerializer(serializers.Serializer):
    """What a witness looks like in responses (schema only): identity keys present only when allowed."""

    id = serializers.IntegerField()
    code = serializers.CharField(help_text="Pseudonym assigned by the server.")
    name = serializers.CharField(required=False, help_text="Only for users allowed to see the identity.")
    contact = serializers.CharField(required=False, help_text="Only for users allowed to see the identity.")
    notes = serializers.CharField(required=False, help_text="Only for users allowed to see the identity.")
    identity_error = serializers.CharField(required=False, help_text="Set when the identity cannot be decrypted.")
    created_at = serializers.DateTimeField()


class TestimonySerializer(serializers.ModelSerializer):
    taken_on = serializers.DateField(validators=[not_in_future, plausible_date])
    witness_code = serializers.CharField(source="witness.code", read_only=True)

    class Meta:
        model = Testimony
        fields = [
            "id",
            "incident",
            "witness",
            "witness_code",
            "taken_on",
            "language",
            "statement",
            "consent_to_publish",
            "interviewer",
            "status",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "witness_code", "interviewer", "status", "created_by", "created_at", "updated_at"]

    def validate_language(self, value: str) -> str:
        if not LANGUAGE_TAG.match(value or ""):
            raise serializers.ValidationError(_("Give a language code such as 'ar', 'en' or 'ku'."))
        return value


class SourceSerializer(serializers.ModelSerializer):
    url = serializers.URLField(max_length=2000, required=False, allow_blank=True, validators=[HTTP_URL])
    archive_url = serializers.URLField(max_length=2000, required=False, allow_blank=True, validators=[HTTP_URL])
    published_on = serializers.DateField(required=False, allow_null=True, validators=[not_in_future, plausible_date])

    class Meta:
        model = Source
        fields = [
            "id",
            "incident",
            "kind",
            "url",
            "archive_url",
            "title",
            "published_on",
            "note",
            "status",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "status", "created_by", "created_at", "updated_at"]


class MediaItemSerializer(serializers.ModelSerializer):
    file = serializers.FileField(write_only=True, help_text="The file (multipart). Checked by content.")
    sha256 = serializers.CharField(source="original.sha256", read_only=True)
    size = serializers.IntegerField(source="original.size", read_only=True)
    content_type = serializers.CharField(source="original.content_type", read_only=True)
    kind = serializers.CharField(source="original.kind", read_only=True)
    # The item's own checks, never the shared original's (another, hidden item may share it).
    fixity = serializers.CharField(source="fixity_status", read_only=True)
    working_copy = serializers.SerializerMethodField()

    class Meta:
        model = MediaItem
        fields = [
            "id",
            "file",
            "incident",
            "description",
            "status",
            "sha256",
            "size",
            "content_type",
            "kind",
            "original_name",
            "metadata",
            "duplicate_of",
            "derivative_status",
            "derivative_note",
            "working_copy",
            "fixity",
            "fixity_checked_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "status",
            "original_name",
            "metadata",
            "duplicate_of",
            "derivative_status",
            "derivative_note",
            "fixity_checked_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"description": {"max_length": 10000}}

    def get_working_copy(self, item: MediaItem) -> dict[str, Any] | None:
        if not item.working_path:
            return None
        return {"content_type": item.working_content_type, "thumbnail": bool(item.thumbnail_path)}

    def to_representation(self, instance: MediaItem) -> dict[str, Any]:
        data = super().to_representation(instance)
        user = getattr(self.context.get("request"), "user", None)
        # Metadata read from the original (GPS, serials, capture time) follows the original's rule;
        # for everybody else the key is absent, not blanked.
        if not services.may_see_original(user, instance):
            data.pop("metadata", None)
        # Link to the earlier item holding the same bytes only when the viewer may see it.
        if instance.duplicate_of_id and not MediaItem.objects.visible_to(user).filter(pk=instance.duplicate_of_id):
            data["duplicate_of"] = None
        return data


class MediaUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = MediaItem
        fields = ["description"]
        extra_kwargs = {"description": {"max_length": 10000}}


class CustodyEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CustodyEvent
        fields = ["id", "action", "actor", "at", "sha256", "size", "details"]
