"""Fill Arabic translations into locale/ar/LC_MESSAGES/django.po from a JSON map {msgid: msgstr}.

Usage: python scripts/translate.py path/to/map.json   (then `manage.py compilemessages`)
Entries with plural forms take a list of six strings (Arabic has six plural forms).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polib

PO = Path(__file__).resolve().parent.parent / "locale" / "ar" / "LC_MESSAGES" / "django.po"


def main(map_path: str) -> None:
    translations = json.loads(Path(map_path).read_text(encoding="utf-8"))
    po = polib.pofile(str(PO))
    po.metadata["Language"] = "ar"
    po.metadata["Content-Type"] = "text/plain; charset=UTF-8"
    for entry in po:
        if entry.msgid in translations:
            value = translations[entry.msgid]
            if entry.msgid_plural:
                entry.msgstr_plural = dict(enumerate(value if isinstance(value, list) else [value] * 6))
            else:
                entry.msgstr = value
            if "fuzzy" in entry.flags:
                entry.flags.remove("fuzzy")
    po.save()
    missing = [e.msgid for e in po if not e.obsolete and not e.translated()]
    print(f"{len(missing)} untranslated", *missing, sep="\n  ")


if __name__ == "__main__":
    main(sys.argv[1])
