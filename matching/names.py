"""Names made comparable: Arabic folding for matching, name parts, Latin folding and Arabic→Latin keys.

One normaliser: the letter folding is `incidents.names.normalise_arabic` (the one search uses: NFKC, which
also composes a hamza written as a separate mark; diacritics and tatweel removed; أ إ آ ٱ → ا, ى → ي,
ة → ه, ؤ → و, ئ → ي). Matching adds, on top of it, what differs between two extractions of one list
(data/README.md):

- "هللا" (الله extracted back to front from a PDF) is read as "الله", alone or at a word's end (عبدهللا);
- the lam-alef ligature read back to front inside a word ("سالم" for "سلام"): inside a word (never at its
  start, where ال is the article) "لا" is written "ال", so both spellings give one key;
- a stray hamza on the line (ء) and the letters ئ/ؤ already folded: "وفاء" and "وفا" give one key;
- the compounds are joined: "عبد الرحمن" = "عبدالرحمن", "ابو داود" = "ابوداود", "عوض الله" = "عوضالله";
- placeholders ("مجهول", unknown) and single letters left by the extraction are not name words;
- punctuation (/ - . ,) separates words.

`name_parts` splits a folded name into given, father's, grandfather's and family name (the Arabic
naming chain: extra middle names are kept with the grandfather's). Latin names are folded too (accents,
case, "al-"/"el-" articles, "abu"/"abd" compounds), and `skeleton` gives a consonant key that an Arabic
name (through `transliterate`, a letter table) and its English spelling share: محمود and "Mahmoud" both
give "mhmd".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from incidents.names import normalise_arabic

__all__ = [
    "fold_arabic_name",
    "fold_latin_name",
    "has_arabic",
    "name_parts",
    "normalise_arabic",
    "skeleton",
    "transliterate",
]

# The name features the matcher computes from a victim's names (engine._name_features), cached per victim
# version in matching.VictimFeatures, and the version of the code that computes them: raise NAMES_VERSION when
# this module or engine._name_features change, and the next scan computes every cached row again.
NAME_FEATURES = ("ar", "ar_ns", "g", "f", "gf", "fam", "lat_name", "loose", "sk", "sk_ns", "sk_g", "sk_f", "sk_gf",
                 "sk_fam", "sk_ar", "sk_lat")  # fmt: skip
NAMES_VERSION = 1

PLACEHOLDERS = {"مجهول", "مجهوله", "unknown", "majhool", "majhul"}
_ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")
_SEPARATORS = re.compile(r"[\s/\\\-_.,،;:()\[\]\"'`]+")
# Words joined to the next word, and words joined to the previous one.
_JOIN_NEXT_AR = {"عبد", "ابو", "ابن", "بو", "ال"}
_JOIN_PREV_AR = {"الله", "الدين"}
_JOIN_NEXT_LATIN = {"abd", "abdel", "abdul", "abdal", "abu", "abou", "abo", "al", "el", "bin", "ben", "ibn"}
_JOIN_PREV_LATIN = {"allah", "ullah", "illah", "alla", "eddin", "aldin", "uddin", "addin"}


def has_arabic(text: str | None) -> bool:
    return bool(text) and bool(_ARABIC_LETTER.search(text))


@lru_cache(maxsize=200_000)
def _fold_arabic_word(word: str) -> str:
    word = word.replace("\u0621", "")  # a hamza on the line: dropped or not, the same name
    if word.endswith("هللا"):
        word = word[: -len("هللا")] + "الله"
    # The lam-alef ligature read back to front: inside a word, لا and ال are one key.
    if len(word) > 2:
        word = word[0] + word[1:].replace("لا", "ال")
    return word


def arabic_words(text: str | None) -> list[str]:
    """The folded words of an Arabic name, compounds joined, placeholders and stray letters dropped."""
    words = [_fold_arabic_word(w) for w in _SEPARATORS.split(normalise_arabic(text)) if w]
    words = [w for w in words if len(set(w)) > 1 and w not in PLACEHOLDERS]
    return _join(words, _JOIN_NEXT_AR, _JOIN_PREV_AR)


def _join(words: list[str], join_next: set[str], join_prev: set[str]) -> list[str]:
    joined: list[str] = []
    carry = ""
    for word in words:
        joins_next = word in join_next
        if carry:
            word, carry = carry + word, ""
        if joins_next:
            carry = word
            continue
        if word in join_prev and joined:
            joined[-1] += word
            continue
        joined.append(word)
    if carry:
        joined.append(carry)
    return joined


def fold_arabic_name(text: str | None) -> str:
    """The Arabic name as one comparable string (folded words joined by single spaces)."""
    return " ".join(arabic_words(text))


def latin_words(text: str | None) -> list[str]:
    if not text:
        return []
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    words = [w for w in _SEPARATORS.split(plain) if w and not has_arabic(w)]
    words = [w for w in words if len(w) > 1 and w not in PLACEHOLDERS]
    words = ["al" if w == "el" else w for w in words]
    return _join(words, _JOIN_NEXT_LATIN, _JOIN_PREV_LATIN)


def fold_latin_name(text: str | None) -> str:
    """A Latin name folded: no accents, lower case, one space between words, compounds joined."""
    return " ".join(latin_words(text))


def name_parts(words: list[str]) -> tuple[str, str, str, str]:
    """(given, father, grandfather, family) of a name's words; missing parts are ""."""
    if not words:
        return ("", "", "", "")
    if len(words) == 1:
        return (words[0], "", "", "")
    if len(words) == 2:
        return (words[0], "", "", words[1])
    if len(words) == 3:
        return (words[0], words[1], "", words[2])
    return (words[0], words[1], " ".join(words[2:-1]), words[-1])


# Arabic letters (folded) → Latin, the way names are commonly written in English lists.
_TRANSLIT = {
    "ا": "a", "ب": "b", "ت": "t", "ث": "th", "ج": "j", "ح": "h", "خ": "kh", "د": "d", "ذ": "th",
    "ر": "r", "ز": "z", "س": "s", "ش": "sh", "ص": "s", "ض": "d", "ط": "t", "ظ": "z", "ع": "a",
    "غ": "gh", "ف": "f", "ق": "q", "ك": "k", "ل": "l", "م": "m", "ن": "n", "ه": "h", "و": "w",
    "ي": "y", "ء": "", "پ": "p", "چ": "ch", "ڤ": "v", "گ": "g",
}  # fmt: skip


def transliterate(word: str) -> str:
    """One folded Arabic word in Latin letters (a table: محمود → "mhmwd")."""
    return "".join(_TRANSLIT.get(c, c if c.isascii() and c.isalpha() else "") for c in word)


_DIGRAPHS = [("sh", "s"), ("th", "t"), ("dh", "d"), ("kh", "k"), ("gh", "g"), ("ph", "f"), ("ch", "s"), ("ou", "w")]
_SKELETON = str.maketrans({"q": "k", "c": "k", "g": "j", "z": "s", "x": "k", "v": "f", "p": "b"})
_VOWELS = re.compile(r"[aeiouyw]")
_REPEATS = re.compile(r"(.)\1+")


@lru_cache(maxsize=200_000)
def skeleton(word: str) -> str:
    """A consonant key shared by an Arabic word and its Latin spellings ("Mahmoud", "محمود" → "mhmd").

    Arabic words are transliterated first. Vowels and the semi-vowels w/y (written or not in either
    script) are dropped, letters that English spellings of Arabic mix up are merged (q/k, z/s, g/j,
    the th/kh/sh/gh digraphs), repeats collapse; a word that has only vowels keeps its first letter."""
    latin = transliterate(word) if has_arabic(word) else word.lower()
    if latin.startswith("al") and len(latin) > 4:
        latin = latin[2:]  # the article: "alnajjar", "النجار" and "Najjar" alike
    for digraph, single in _DIGRAPHS:
        latin = latin.replace(digraph, single)
    latin = latin.translate(_SKELETON)
    consonants = _REPEATS.sub(r"\1", _VOWELS.sub("", latin))
    if len(consonants) > 1 and consonants.endswith("h"):
        consonants = consonants[:-1]  # a final ه (ta marbuta) is often not written in English
    return consonants or latin[:1]


def skeleton_words(words: list[str]) -> list[str]:
    return [skeleton(w) for w in words]


_LOOSE = str.maketrans("", "", "رزياو")


def loose_key(words: list[str]) -> str:
    """The Arabic name without the letters PDF extraction loses (ر ز, long vowels ا و ي) and without spaces:
    "منير سالم" and "مني سالم", "مصطفي" and "مصطف" give one key."""
    return "".join(words).translate(_LOOSE)
