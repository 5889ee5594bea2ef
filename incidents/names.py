"""Arabic-aware folding of names and text for search: one pure function, and its SQL twin.

The same person is written أحمد, احمد, إحمد, أَحْمَد or احـمـد; the same town إدلب or ادلب; a name ends in ة
or ه, ى or ي. Search compares folded text, so all these spellings meet:

1. NFKC: compatibility forms (presentation forms ﻷ, ligatures, full-width Latin) become plain letters, and a
   hamza written as a separate combining mark (ا + U+0654) is composed with its carrier (أ).
2. Diacritics (tashkeel U+064B–U+065F, superscript alef U+0670) and tatweel (U+0640) are removed.
3. Letter forms are folded: أ إ آ ٱ → ا, ى → ي, ة → ه, ؤ → و, ئ → ي.
4. Lower case (Latin names). White space is left as it is: search splits queries into words
   (`search_terms`), so the spacing of stored text never matters.

`normalise_arabic` is the Python definition (tests, forms, SQLite). `SQL_FUNCTION` defines the same folding as
the PostgreSQL function `arabic_fold(text)` (created by migration 0007 and used by expression indexes); on
SQLite the Python function is registered under that name on each connection (apps.py), so one query
expression serves both databases. Both are pure: same text in, same text out.
"""

from __future__ import annotations

import unicodedata

DIACRITICS = "".join(chr(c) for c in range(0x064B, 0x0660)) + "\u0670"
TATWEEL = "\u0640"
# Folded letter forms: each character on the left becomes the one below it on the right.
FOLD_FROM = "\u0623\u0625\u0622\u0671\u0649\u0629\u0624\u0626"  # أ إ آ ٱ ى ة ؤ ئ
FOLD_TO = "\u0627\u0627\u0627\u0627\u064a\u0647\u0648\u064a"  # ا ا ا ا ي ه و ي

_REMOVE = {ord(c): None for c in DIACRITICS + TATWEEL}
_FOLD = str.maketrans(FOLD_FROM, FOLD_TO)


def normalise_arabic(text: str | None) -> str:
    """Fold `text` for comparison (see the module docstring); None and "" give ""."""
    if not text:
        return ""
    return unicodedata.normalize("NFKC", text).translate(_REMOVE).translate(_FOLD).lower()


def search_terms(query: str | None, limit: int = 6) -> list[str]:
    """The folded words of a search query (at most `limit`, each at most 100 characters)."""
    return [word[:100] for word in normalise_arabic(query).split() if word][:limit]


# The PostgreSQL twin of normalise_arabic. IMMUTABLE so expression indexes may use it. One translate()
# folds the letter forms and deletes the diacritics and tatweel (characters of its second argument with
# no counterpart in the third are removed): a regexp_replace() per row costs three times as much, and
# every search re-checks the candidate rows the index found. The characters are written as themselves
# (the migration's SQL is UTF-8).
# Only pg_catalog functions inside, so the function also works while pg_restore runs with an empty
# search_path (functions that call other functions of ours would not be found then).
SQL_FOLD = f"lower(translate(normalize({{value}}, NFKC), '{FOLD_FROM}{DIACRITICS}{TATWEEL}', '{FOLD_TO}'))"
SQL_FUNCTION = f"""
CREATE OR REPLACE FUNCTION arabic_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT {SQL_FOLD.format(value="value")}
$$;
"""


def trigram_set(word: str) -> set[str]:
    """pg_trgm's trigrams of one word: padded with two spaces before and one after."""
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def word_similarity(query: str | None, text: str | None) -> float:
    """A stand-in for pg_trgm's word_similarity(query, text) on SQLite: the best share of the query's
    trigrams found in one stretch of the text's words (close enough for a typo-tolerant fallback)."""
    query, text = (query or "").strip(), (text or "").strip()
    if not query or not text:
        return 0.0
    wanted = set().union(*(trigram_set(word) for word in query.split()))
    words = text.split()
    best = 0.0
    span = max(1, len(query.split()))
    for start in range(len(words)):
        stretch = set().union(*(trigram_set(word) for word in words[start : start + span]))
        best = max(best, len(wanted & stretch) / len(wanted))
        if best == 1.0:
            break
    return best
