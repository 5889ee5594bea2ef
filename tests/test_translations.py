"""Every string the interface shows has an Arabic translation, in every catalogue.

The project catalogue is `locale/ar/`; apps may hold their own (`<app>/locale/ar/`), which Django finds
by itself for installed apps.
"""

from __future__ import annotations

from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = sorted(
    [ROOT / "locale" / "ar" / "LC_MESSAGES" / "django.po"]
    + [path for path in ROOT.glob("*/locale/ar/LC_MESSAGES/django.po") if ".venv" not in path.parts]
)
ids = [str(path.relative_to(ROOT)) for path in CATALOGUES]


@pytest.mark.parametrize("po", CATALOGUES, ids=ids)
def test_arabic_catalogue_has_no_untranslated_or_fuzzy_entries(po: Path):
    catalogue = polib.pofile(str(po))
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []


@pytest.mark.parametrize("po", CATALOGUES, ids=ids)
def test_arabic_catalogue_declares_six_plural_forms(po: Path):
    catalogue = polib.pofile(str(po))
    assert "nplurals=6" in catalogue.metadata["Plural-Forms"]


def test_no_message_is_translated_in_two_catalogues():
    """Within a catalogue and across them: one translation per message, so none silently wins."""
    keys = [(entry.msgctxt, entry.msgid) for po in CATALOGUES for entry in polib.pofile(str(po)) if not entry.obsolete]
    duplicates = sorted({key for key in keys if keys.count(key) > 1}, key=str)
    assert duplicates == []


@pytest.mark.parametrize("po", CATALOGUES, ids=ids)
def test_compiled_catalogue_is_up_to_date(po: Path):
    """The committed .mo (used where gettext is missing) holds every translation in the .po."""
    compiled = polib.mofile(str(po.with_suffix(".mo")))
    source = polib.pofile(str(po))
    compiled_ids = {(e.msgctxt, e.msgid): e.msgstr for e in compiled}
    stale = [
        e.msgid
        for e in source.translated_entries()
        if not e.msgid_plural and compiled_ids.get((e.msgctxt, e.msgid)) != e.msgstr
    ]
    assert stale == []
