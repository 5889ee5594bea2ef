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
from .models import Testimony, Witness
from .serializers import TestimonySerializer

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
            self.fields[name].widget.attrs.update({"autocomplete": "off", "dir": "auto"})

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
