"""Page forms for incidents, victims and review decisions.

Shapes and widgets only: field validation is the API serializers' (run through `validate_with`, so a
rule is never written twice) and every write goes through services.py / workflow.py.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers as drf_serializers

from .models import Incident, Location, Perpetrator, Role, Victim, age_group_for
from .serializers import IncidentSerializer, VictimSerializer


def tree_choices(model: type[models.Model], language: str, blank: str | None = None) -> list[tuple[Any, str]]:
    """A tree's nodes depth first, each label indented by its depth and named in `language`."""
    rows = list(model.objects.values_list("pk", "name", "name_ar", "parent_id"))
    children: dict[int | None, list[tuple]] = {}
    for row in rows:
        children.setdefault(row[3], []).append(row)

    def label(row: tuple) -> str:
        return row[2] if language == "ar" and row[2] else row[1]

    choices: list[tuple[Any, str]] = [("", blank)] if blank is not None else [("", "---------")]
    seen: set[int] = set()

    def walk(parent: int | None, depth: int) -> None:
        for row in sorted(children.get(parent, []), key=label):
            if row[0] in seen:
                continue
            seen.add(row[0])
            choices.append((row[0], "\u00a0\u00a0\u00a0" * depth + label(row)))
            walk(row[0], depth + 1)

    walk(None, 0)
    return choices


def _primitive(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def validate_with(serializer_class: type[drf_serializers.Serializer], form: forms.Form, **extra: Any) -> None:
    """Run the API serializer's validation over the form's cleaned data; its errors become field errors."""
    data = {name: _primitive(value) for name, value in form.cleaned_data.items() if name in form.fields}
    data = {name: value for name, value in data.items() if value is not None or name in extra}
    data.update({name: _primitive(value) for name, value in extra.items()})
    serializer = serializer_class(data=data, partial=True)
    if serializer.is_valid():
        return
    for field, messages in serializer.errors.items():
        target = field if field in form.fields else None
        for message in messages if isinstance(messages, list) else [messages]:
            if target is None or target not in form.errors:
                form.add_error(target, str(message))


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class IncidentForm(forms.ModelForm):
    class Meta:
        model = Incident
        fields = [
            "title",
            "location",
            "perpetrator",
            "weapon",
            "occurred_on",
            "date_precision",
            "injured_count",
            "description",
            "latitude",
            "longitude",
        ]
        labels = {"description": _("Narrative"), "injured_count": _("Number injured")}
        help_texts = {
            "date_precision": _("How exactly the date is known. With month or year, the day shown is a placeholder."),
            "latitude": _("Optional: the exact point, if known (decimal degrees)."),
        }
        widgets = {"occurred_on": DateInput(), "description": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args: Any, language: str = "en", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["location"].choices = tree_choices(Location, language)
        self.fields["perpetrator"].choices = tree_choices(Perpetrator, language)
        self.fields["location"].widget.attrs["data-searchable"] = "1"
        self.fields["perpetrator"].widget.attrs["data-searchable"] = "1"
        self.fields["description"].widget.attrs["dir"] = "auto"
        self.fields["title"].widget.attrs["dir"] = "auto"

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            validate_with(IncidentSerializer, self)
        return cleaned


class VictimForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=Role.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Victim
        fields = [
            "name_ar",
            "name",
            "sex",
            "age_years",
            "age_group",
            "civilian_status",
            "date_of_death",
            "place_of_death",
        ]
        labels = {"name": _("Name (Latin letters)"), "name_ar": _("Name (Arabic)")}
        widgets = {"date_of_death": DateInput()}

    def __init__(self, *args: Any, incident: Incident, language: str = "en", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.incident = incident
        self.fields["place_of_death"].choices = tree_choices(Location, language, blank=_("Same as the incident"))
        self.fields["place_of_death"].widget.attrs["data-searchable"] = "1"
        self.fields["age_years"].widget.attrs.update({"min": 0, "max": 130, "inputmode": "numeric"})
        self.fields["name"].widget.attrs["dir"] = "ltr"
        self.fields["name_ar"].widget.attrs["dir"] = "rtl"
        self.fields["name_ar"].widget.attrs["lang"] = "ar"
        if self.instance.pk:
            self.initial["roles"] = self.instance.roles

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            validate_with(VictimSerializer, self, incident=self.incident)
        if not self.errors and cleaned.get("age_years") is not None:
            # An age in years implies the age group (the model's one definition), as the service applies it.
            cleaned["age_group"] = age_group_for(cleaned["age_years"], cleaned.get("age_group") or "unknown")
        return cleaned

    def service_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in [*self.Meta.fields, "roles"]}


class ReviewForm(forms.Form):
    DECISIONS = [
        ("approve", _("Approve")),
        ("request_changes", _("Request changes")),
        ("reject", _("Reject")),
    ]
    decision = forms.ChoiceField(label=_("Decision"), choices=DECISIONS, widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3, "dir": "auto"}),
        help_text=_("Required when you reject or request changes: tell the author what to fix."),
    )

    LATER = ("", _("Leave for later"))

    def __init__(
        self,
        *args: Any,
        victims: list[Victim] | None = None,
        evidence: list[tuple[str, Any]] | None = None,
        decide_record: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.victims = victims or []
        self.evidence = evidence or []
        self.decide_record = decide_record
        if not decide_record:
            # The case itself is not waiting (e.g. new evidence on a verified incident): decide its items only.
            del self.fields["decision"]
        for victim in self.victims:
            choices = [("approve", _("Approve")), ("reject", _("Reject"))]
            self.fields[f"victim_{victim.pk}"] = forms.ChoiceField(
                label=str(victim),
                choices=choices if decide_record else [self.LATER, *choices],
                initial="approve" if decide_record else "",
                widget=forms.RadioSelect,
                required=False,
            )
        for kind, item in self.evidence:
            self.fields[f"evidence_{kind}_{item.pk}"] = forms.ChoiceField(
                label=str(item),
                choices=[self.LATER, ("approve", _("Approve")), ("reject", _("Reject"))],
                initial="",
                widget=forms.RadioSelect,
                required=False,
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.decide_record and not (self.chosen_evidence() or self.chosen_victims()):
            raise forms.ValidationError(_("Choose a decision for at least one victim or piece of evidence."))
        return cleaned

    def victim_fields(self) -> list[tuple[Victim, forms.BoundField]]:
        return [(victim, self[f"victim_{victim.pk}"]) for victim in self.victims]

    def evidence_fields(self) -> list[tuple[str, Any, forms.BoundField]]:
        return [(kind, item, self[f"evidence_{kind}_{item.pk}"]) for kind, item in self.evidence]

    def victim_decisions(self) -> dict[int, str] | None:
        """Per-victim decisions, only when approving with victims to decide."""
        if self.cleaned_data.get("decision") != "approve" or not self.victims:
            return None
        return {victim.pk: self.cleaned_data.get(f"victim_{victim.pk}") or "approve" for victim in self.victims}

    def chosen_victims(self) -> dict[int, str]:
        """Victims given a decision, when only the case's items are decided."""
        data = getattr(self, "cleaned_data", {})
        return {v.pk: data[f"victim_{v.pk}"] for v in self.victims if data.get(f"victim_{v.pk}")}

    def chosen_evidence(self) -> dict[str, dict[int, str]]:
        """{"sources" | "testimonies" | "media": {id: decision}} for the evidence given a decision."""
        data = getattr(self, "cleaned_data", {})
        chosen: dict[str, dict[int, str]] = {}
        for kind, item in self.evidence:
            value = data.get(f"evidence_{kind}_{item.pk}")
            if value:
                chosen.setdefault(kind, {})[item.pk] = value
        return chosen


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 3}))
