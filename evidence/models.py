"""What the evidence is: witnesses, testimony, documented sources, media items and their chain of custody.

Rules about what may happen to these rows live in services.py; the witness cipher in crypto.py;
content checks and working copies in media.py.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from incidents.models import (
    EARLIEST_DATE,
    Incident,
    Reviewable,
    ReviewableQuerySet,
    review_queue_index,
    visibility_q,
)
from incidents.validators import validate_free_text, validate_name_text

# --- Witnesses -----------------------------------------------------------------------------------


class WitnessQuerySet(models.QuerySet):
    def visible_to(self, user) -> WitnessQuerySet:
        """Reviewers and admins see every witness's code; documenters the witnesses they registered."""
        from incidents import roles

        if not (user is not None and user.is_authenticated and user.is_active):
            return self.none()
        if roles.can_review(user) or roles.can_manage_counts(user) or user.has_perm(IDENTITY_PERMISSION):
            return self.all()
        if roles.can_document(user):
            return self.filter(created_by=user)
        return self.none()

    def not_under_key(self, key_id: str) -> WitnessQuerySet:
        return self.exclude(key_id=key_id)


IDENTITY_PERMISSION = "evidence.view_witness_identity"


class Witness(models.Model):
    """A person who gave testimony. Everywhere but the identity view, a witness is only its `code`.

    `name`, `contact` and `notes` are stored only as AES-GCM ciphertext (crypto.py), each value
    carrying the id of the key that sealed it; `key_id` is the key of the row's latest write, so
    rotation finds the rows still under an old key with one indexed query.
    """

    code = models.CharField(_("code"), max_length=16, unique=True, editable=False)
    name_encrypted = models.TextField(editable=False)
    contact_encrypted = models.TextField(blank=True, default="", editable=False)
    notes_encrypted = models.TextField(blank=True, default="", editable=False)
    key_id = models.CharField(max_length=64, db_index=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WitnessQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("witness")
        verbose_name_plural = _("witnesses")
        permissions = [("view_witness_identity", "Can see witness identity")]

    def __str__(self) -> str:
        return self.code


# --- Records of an incident under review ------------------------------------------------------------


class EvidenceQuerySet(ReviewableQuerySet):
    def visible_to(self, user) -> EvidenceQuerySet:
        """Visible when the record itself and its incident are visible (the incidents' one rule)."""
        own = visibility_q(user)
        incident = visibility_q(user, prefix="incident__")
        if own is None or incident is None:
            return self.none()
        return self.filter(own & incident)

    def for_incident(self, incident: Incident) -> EvidenceQuerySet:
        return self.filter(incident=incident)


class Testimony(Reviewable):
    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="testimonies", verbose_name=_("incident")
    )
    witness = models.ForeignKey(
        Witness, on_delete=models.PROTECT, related_name="testimonies", verbose_name=_("witness")
    )
    taken_on = models.DateField(_("taken on"))
    language = models.CharField(_("language"), max_length=35)
    statement = models.TextField(_("statement"), validators=[validate_free_text])
    consent_to_publish = models.BooleanField(_("consent to publish"), default=False)
    interviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        verbose_name=_("interviewer"),
    )

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["incident_id", "id"]
        verbose_name = _("testimony")
        verbose_name_plural = _("testimonies")
        constraints = [
            models.CheckConstraint(condition=Q(taken_on__gte=EARLIEST_DATE), name="testimony_date_plausible"),
        ]
        indexes = [
            models.Index(fields=["incident", "status"], name="testimony_incident_status"),
            review_queue_index("testimony"),
        ]

    LABEL_FIELDS = ("witness__code", "taken_on")  # what __str__ reads (incidents.models.Incident.LABEL_FIELDS)

    def __str__(self) -> str:
        return self.label_of(self.pk, self.witness.code, self.taken_on)

    @staticmethod
    def label_of(pk: int, code: str, taken_on: object) -> str:
        return f"{code} {taken_on}"


class SourceKind(models.TextChoices):
    WEB_PAGE = "web_page", _("Web page")
    SOCIAL_MEDIA = "social_media", _("Social media post")
    NEWS_ARTICLE = "news_article", _("News article")
    PUBLISHED_REPORT = "published_report", _("Published report")
    OTHER = "other", _("Other")


HTTP_URL = URLValidator(schemes=["http", "https"])


class Source(Reviewable):
    """A documented source: a URL with its archived copy, or a published report."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="sources", verbose_name=_("incident"))
    kind = models.CharField(_("kind"), max_length=16, choices=SourceKind.choices, default=SourceKind.WEB_PAGE)
    url = models.URLField(_("URL"), max_length=2000, blank=True, validators=[HTTP_URL])
    archive_url = models.URLField(_("archived copy"), max_length=2000, blank=True, validators=[HTTP_URL])
    title = models.CharField(_("title"), max_length=500, validators=[validate_name_text])
    published_on = models.DateField(_("date"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True, validators=[validate_free_text])

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["incident_id", "id"]
        verbose_name = _("documented source")
        verbose_name_plural = _("documented sources")
        constraints = [
            models.CheckConstraint(
                condition=Q(published_on__isnull=True) | Q(published_on__gte=EARLIEST_DATE),
                name="source_date_plausible",
            ),
        ]
        indexes = [
            models.Index(fields=["incident", "status"], name="source_incident_status"),
            review_queue_index("source"),
        ]

    LABEL_FIELDS = ("title",)  # what __str__ reads (incidents.models.Incident.LABEL_FIELDS)

    def __str__(self) -> str:
        return self.label_of(self.pk, self.title)

    @staticmethod
    def label_of(pk: int, title: str) -> str:
        return title


# --- Media -----------------------------------------------------------------------------------------


class MediaKind(models.TextChoices):
    IMAGE = "image", _("Image")
    VIDEO = "video", _("Video")
    AUDIO = "audio", _("Audio")
    DOCUMENT = "document", _("Document")


class FixityStatus(models.TextChoices):
    UNCHECKED = "unchecked", _("Not yet checked")
    OK = "ok", _("Unchanged")
    CHANGED = "changed", _("Changed")
    MISSING = "missing", _("Missing")


class SealedOriginal(models.Model):
    """The evidentiary copy of an uploaded file: stored once, by content, never modified.

    Items whose uploads had the same SHA-256 share one sealed original (the file is not stored twice).
    """

    sha256 = models.CharField(max_length=64, unique=True, editable=False)
    size = models.PositiveBigIntegerField(editable=False)
    content_type = models.CharField(max_length=100, editable=False)
    kind = models.CharField(max_length=8, choices=MediaKind.choices, editable=False)
    path = models.CharField(max_length=300, unique=True, editable=False)  # relative to MEDIA_ROOT
    created_at = models.DateTimeField(auto_now_add=True)
    fixity_status = models.CharField(
        max_length=9, choices=FixityStatus.choices, default=FixityStatus.UNCHECKED, editable=False
    )
    fixity_checked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        verbose_name = _("sealed original")
        verbose_name_plural = _("sealed originals")
        constraints = [
            models.CheckConstraint(condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="sealed_sha256_hex"),
        ]

    def __str__(self) -> str:
        return self.sha256


class DerivativeStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("working copy", "Pending")
    DONE = "done", pgettext_lazy("working copy", "Done")
    UNAVAILABLE = "unavailable", pgettext_lazy("working copy", "Unavailable")
    FAILED = "failed", pgettext_lazy("working copy", "Failed")


class MediaItem(Reviewable):
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="media", verbose_name=_("incident"))
    original = models.ForeignKey(SealedOriginal, on_delete=models.PROTECT, related_name="items", editable=False)
    description = models.TextField(_("description"), blank=True, validators=[validate_free_text])
    # The name the uploader's device gave the file: metadata only, escaped, never used as a path.
    original_name = models.CharField(_("original file name"), max_length=400, blank=True, editable=False)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates", editable=False
    )
    metadata = models.JSONField(default=dict, blank=True, editable=False)
    derivative_status = models.CharField(
        max_length=11, choices=DerivativeStatus.choices, default=DerivativeStatus.PENDING, editable=False
    )
    derivative_note = models.TextField(blank=True, editable=False)
    working_path = models.CharField(max_length=300, blank=True, editable=False)
    working_content_type = models.CharField(max_length=100, blank=True, editable=False)
    thumbnail_path = models.CharField(max_length=300, blank=True, editable=False)
    processed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # This item's own fixity checks, on its own schedule from its own upload: what its viewers see never
    # depends on other items sharing the sealed original (they may be hidden from them).
    fixity_status = models.CharField(
        max_length=9, choices=FixityStatus.choices, default=FixityStatus.UNCHECKED, editable=False
    )
    fixity_checked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        ordering = ["incident_id", "id"]
        verbose_name = _("media item")
        verbose_name_plural = _("media items")
        indexes = [
            models.Index(fields=["incident", "status"], name="media_incident_status"),
            review_queue_index("media"),
        ]

    LABEL_FIELDS = ("original__sha256",)  # what __str__ reads (incidents.models.Incident.LABEL_FIELDS)

    def __str__(self) -> str:
        return self.label_of(self.pk, self.original.sha256)

    @staticmethod
    def label_of(pk: int, sha256: str) -> str:
        return f"#{pk} {sha256[:12]}"

    @property
    def sha256(self) -> str:
        return self.original.sha256

    @property
    def size(self) -> int:
        return self.original.size

    @property
    def content_type(self) -> str:
        return self.original.content_type


class CustodyAction(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded and sealed")
    DERIVED = "derived", _("Working copies derived")
    DERIVATION_FAILED = "derivation_failed", _("Working copy failed")
    DOWNLOADED = "downloaded", _("Original downloaded")
    EXPORTED = "exported", _("Exported")
    FIXITY_CHECKED = "fixity_checked", _("Fixity checked")


class CustodyEvent(models.Model):
    """One line of a media item's chain of custody. Append-only: never updated, never deleted
    (on PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE; the application only ever inserts).

    All custody events form one keyed hash chain (audit/chain.py, written by `services._custody`):
    an event changed, inserted or deleted by someone without the audit key is detected by
    `manage.py verify_audit_log`.
    """

    item = models.ForeignKey(MediaItem, on_delete=models.PROTECT, related_name="custody", editable=False)
    action = models.CharField(max_length=20, choices=CustodyAction.choices, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    # Set when the event is made (not on save): the chain's hash covers it.
    at = models.DateTimeField(default=timezone.now, db_index=True, editable=False)
    sha256 = models.CharField(max_length=64, blank=True, editable=False)
    size = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    details = models.JSONField(default=dict, blank=True, editable=False)
    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    previous_hash = models.CharField(max_length=64, editable=False)
    entry_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_id = models.CharField(max_length=64, blank=True, default="", editable=False)
    mac = models.CharField(max_length=64, blank=True, default="", editable=False)

    class Meta:
        ordering = ["item_id", "at", "id"]
        verbose_name = _("custody event")
        verbose_name_plural = _("custody events")

    def __str__(self) -> str:
        return f"{self.item_id} {self.action} {self.at:%Y-%m-%d %H:%M:%S}"

    def chain_content(self) -> dict[str, Any]:
        """What the event's hash covers, besides its place in the chain."""
        return {
            "item": self.item_id,
            "action": self.action,
            "actor": self.actor_id,
            "at": self.at.isoformat(timespec="microseconds"),
            "sha256": self.sha256,
            "size": self.size,
            "details": self.details,
        }
