"""Page forms for testimony (with a witness chosen or registered) and media uploads.

Shapes only: validation is the API serializers' (via incidents.forms.validate_with) and the
evidence services' (the witness identity: `services.validate_witness_identity`, the same code the
API's writes go through); writes go through evidence/services.py.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from incidents.forms import DateInput, validate_with

from . import services
from .models import Source, Testimony, Witness
from .serializers import SourceSerializer, TestimonySerializer

# The languages testimony is usually given in; stored as the language code the API takes.
TESTIMONY_LANGUAGES = [
    ("ar", _("Arabic")),
    ("ku", _("Kurdish")),
    ("en", _("English")),
    ("tr", _("Turkish")),
    ("syc", _("Syriac")),
    ("hy", _("Armenian")),
    ("fr", _("French")),
    ("de", _("German")),
]


class TestimonyForm(forms.ModelForm):
    language = forms.ChoiceField(label=_("Language of the testimony"), choices=TESTIMONY_LANGUAGES, initial="ar")
    witness = forms.ModelChoiceField(
        label=_("Witness already registered"),
        queryset=Witness.objects.none(),
        required=False,
        empty_label=_("— register a new witness below —"),
    )
    witness_name = forms.CharField(
        label=_("Witness's name"), max_length=services.IDENTITY_LIMITS["name"], required=False
    )
    witness_contact = forms.CharField(
        label=_("Contact (phone, messenger)"), max_length=services.IDENTITY_LIMITS["contact"], required=False
    )
    witness_notes = forms.CharField(
        label=_("Notes on the witness"),
        max_length=services.IDENTITY_LIMITS["notes"],
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    class Meta:
        model = Testimony
        fields = ["taken_on", "language", "statement", "consent_to_publish"]
        widgets = {"taken_on": DateInput(), "statement": forms.Textarea(attrs={"rows": 8, "dir": "auto"})}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["witness"].queryset = Witness.objects.visible_to(user).order_by("code")
        self.fields["witness"].label_from_instance = lambda witness: witness.code
        for name in ("witness_name", "witness_contact", "witness_notes"):
            # Identity never goes into the browser's saved drafts (static/js/app.js) or autofill.
            self.fields[name].widget.attrs.update({"autocomplete": "off", "dir": "auto", "data-no-draft": ""})

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not cleaned.get("witness") and not (cleaned.get("witness_name") or "").strip():
            self.add_error("witness", _("Choose a witness, or register one by giving their name."))
        if cleaned.get("witness") and (cleaned.get("witness_name") or "").strip():
            self.add_error("witness_name", _("Either choose a registered witness or register a new one, not both."))
        if not self.errors:
            validate_with(TestimonySerializer, self)
        if not self.errors and self.new_witness() is not None:
            try:
                services.validate_witness_identity(self.new_witness())
            except ValidationError as exc:
                self.add_identity_errors(exc)
        return cleaned

    def add_identity_errors(self, exc: ValidationError) -> None:
        """The service's errors (name, contact, notes) on this form's witness fields."""
        for field, messages in exc.message_dict.items():
            target = f"witness_{field}"
            self.add_error(target if target in self.fields else None, messages)

    def testimony_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def new_witness(self) -> dict[str, str] | None:
        name = (self.cleaned_data.get("witness_name") or "").strip()
        if not name:
            return None
        return {
            "name": name,
            "contact": self.cleaned_data.get("witness_contact") or "",
            "notes": self.cleaned_data.get("witness_notes") or "",
        }


class TestimonyEditForm(forms.ModelForm):
    """A testimony sent back (or still a draft), changed by its author: the statement, when and in which
    language it was taken, the consent, and which registered witness gave it."""

    language = forms.ChoiceField(label=_("Language of the testimony"), choices=TESTIMONY_LANGUAGES)
    witness = forms.ModelChoiceField(label=_("Witness"), queryset=Witness.objects.none())

    class Meta:
        model = Testimony
        fields = ["witness", "taken_on", "language", "statement", "consent_to_publish"]
        widgets = {"taken_on": DateInput(), "statement": forms.Textarea(attrs={"rows": 8, "dir": "auto"})}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["witness"].queryset = Witness.objects.visible_to(user).order_by("code")
        self.fields["witness"].label_from_instance = lambda witness: witness.code
        self.fields["witness"].widget.attrs["dir"] = "ltr"  # pseudonymous codes (W-ABCD2345), not words

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            validate_with(TestimonySerializer, self, witness=cleaned.get("witness"))
        return cleaned

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.changed_data}


class MediaDescriptionForm(forms.Form):
    """A media item's description: the file itself is sealed (a new upload is a new item)."""

    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
    )


class SourceForm(forms.ModelForm):
    """A documented source of an incident: a web page, a post, an article or a published report."""

    class Meta:
        model = Source
        fields = ["kind", "url", "archive_url", "title", "published_on", "note"]
        widgets = {
            "published_on": DateInput(),
            "note": forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
            "url": forms.URLInput(attrs={"dir": "ltr", "inputmode": "url"}),
            "archive_url": forms.URLInput(attrs={"dir": "ltr", "inputmode": "url"}),
            "title": forms.TextInput(attrs={"dir": "auto"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["title"].required = False
        self.fields["url"].help_text = _("The address of the page, post or report (http or https).")
        self.fields["archive_url"].help_text = _("A copy kept by an archive, in case the original disappears.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors and not any(cleaned.get(name) for name in ("url", "archive_url", "title")):
            self.add_error("url", _("Give the source's URL, its archived copy, or a report title."))
        if not self.errors:
            validate_with(SourceSerializer, self)
        return cleaned

    def source_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.changed_data}


class WitnessIdentityForm(forms.Form):
    """A witness's protected identity, changed by the documenter who registered them."""

    name = forms.CharField(label=_("Witness's name"), max_length=300)
    contact = forms.CharField(label=_("Contact (phone, messenger)"), max_length=300, required=False)
    notes = forms.CharField(label=_("Notes on the witness"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            # Identity never goes into the browser's saved drafts or autofill.
            field.widget.attrs.update({"autocomplete": "off", "dir": "auto", "data-no-draft": ""})
