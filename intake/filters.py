"""The imports list's filters on the page (incidents/listing.py): status, source list and kind, in the URL
(`?status=done&source=...&dry_run=false`), with the sort and page size the list helper adds."""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Import


class ImportFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Import.State.choices, label=_("Status"), empty_label=_("Any state"))
    source = django_filters.CharFilter(field_name="source", label=_("Source list"), max_length=200)
    dry_run = django_filters.BooleanFilter(
        label=_("Kind"),
        widget=forms.Select(choices=[("", _("Any kind")), ("true", _("Check (dry run)")), ("false", _("Import"))]),
    )

    class Meta:
        model = Import
        fields = ["status", "source", "dry_run"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The source lists this user's imports name (the queryset is already what they may see).
        sources = self.queryset.order_by("source").values_list("source", flat=True).distinct()[:200]
        self.form.fields["source"].widget = forms.Select(
            choices=[("", _("Any source list")), *((source, source) for source in sources)], attrs={"dir": "auto"}
        )
