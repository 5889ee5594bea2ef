"""The count page's form: what to count (a window or a reporting period, places, parties).

Shapes and widgets only: the service (counts.services.request_count) checks the parameters.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from incidents.forms import DateInput, tree_choices
from incidents.models import Location, Perpetrator, ReportingPeriod


class CountForm(forms.Form):
    """What to count: a window (two dates) or a reporting period, optionally some places and parties."""

    WINDOW, PERIOD = "window", "period"
    mode = forms.ChoiceField(
        label=_("Count over"),
        choices=[(WINDOW, _("Dates I choose")), (PERIOD, _("A reporting period"))],
        initial=WINDOW,
        required=False,
        widget=forms.RadioSelect,
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())
    period = forms.ModelChoiceField(label=_("Reporting period"), queryset=None, required=False)
    locations = forms.TypedMultipleChoiceField(
        label=_("Places"),
        coerce=int,
        required=False,
        help_text=_("None chosen: everywhere. A place includes every place inside it."),
    )
    perpetrators = forms.TypedMultipleChoiceField(
        label=_("Perpetrators"),
        coerce=int,
        required=False,
        help_text=_("None chosen: all parties. A party includes the forces under it."),
    )

    def __init__(self, *args: Any, language: str = "en", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].queryset = ReportingPeriod.objects.all()
        self.fields["period"].label_from_instance = lambda p: p.name_ar if language == "ar" and p.name_ar else p.name
        self.fields["locations"].choices = tree_choices(Location, language)[1:]
        self.fields["perpetrators"].choices = tree_choices(Perpetrator, language)[1:]
        for name in ("locations", "perpetrators"):
            self.fields[name].widget.attrs.update({"data-searchable": "1", "size": 8})

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        arguments: dict[str, Any] = {"locations": data["locations"], "perpetrators": data["perpetrators"]}
        mode = data.get("mode") or (
            self.PERIOD if data.get("period") and not (data.get("date_from") or data.get("date_to")) else self.WINDOW
        )
        if mode == self.PERIOD:
            arguments["period"] = data["period"]
            if data["period"] is None:
                self.add_error("period", _("Choose a reporting period."))
        else:
            arguments["date_from"] = data["date_from"]
            arguments["date_to"] = data["date_to"]
        return arguments
