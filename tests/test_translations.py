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


def test_arabic_catalogue_has_no_duplicate_entries():
    catalogue = polib.pofile(str(PO))
    keys = [(entry.msgctxt, entry.msgid) for entry in catalogue if not entry.obsolete]
    duplicates = sorted({key for key in keys if keys.count(key) > 1}, key=str)
    assert duplicates == []


def test_compiled_catalogue_is_up_to_date():
    """The committed .mo (used where gettext is missing) holds every translation in the .po."""
    compiled = polib.mofile(str(PO.with_suffix(".mo")))
    source = polib.pofile(str(PO))
    compiled_ids = {(e.msgctxt, e.msgid): e.msgstr for e in compiled}
    stale = [
        e.msgid
        for e in source.translated_entries()
        if not e.msgid_plural and compiled_ids.get((e.msgctxt, e.msgid)) != e.msgstr
    ]
    assert stale == []
