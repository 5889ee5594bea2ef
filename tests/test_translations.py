"""Every string the interface shows has an Arabic translation."""

from __future__ import annotations

from pathlib import Path

import polib

PO = Path(__file__).resolve().parent.parent / "locale" / "ar" / "LC_MESSAGES" / "django.po"


def test_arabic_catalogue_has_no_untranslated_or_fuzzy_entries():
    catalogue = polib.pofile(str(PO))
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []


def test_arabic_catalogue_declares_six_plural_forms():
    catalogue = polib.pofile(str(PO))
    assert "nplurals=6" in catalogue.metadata["Plural-Forms"]
