"""The published sentences of a count, in English and in Arabic, in the style of the reports.

English: "At least 87 civilians, including 33 children and 11 women (adult female), were killed, and
four massacres committed, by Syrian-Russian alliance in Idlib between January 12, 2020, and January
27, 2020." then one sentence per perpetrator row ("Syrian regime forces killed 37 civilians, including
eight children and three women, and committed one massacre."). Numbers under ten in words, ten and
above in digits; "a child", "one massacre"; a zero category is left out, never "0 children".

Arabic is written for Arabic readers, not translated word by word. A counted noun takes the form its
number calls for — Arabic has six: one (مدني واحد), two (the dual, مدنيان / مدنيين اثنين by case),
3–10 (genitive plural: ثلاثة مدنيين, 10 مدنيين), 11–99 (accusative singular: 87 مدنياً),
100, 101, 102, 200... (genitive singular: 100 مدني) — and the numbers three to nine, written in words,
take the opposite gender of their noun (ثلاثة أطفال, ثلاث سيدات). The rows use the passive "نُسب إلى"
("attributed to"), so no verb has to agree with a party's name whose gender the system does not know.
Dates use the month names of Syrian usage (كانون الثاني ...).

These functions take plain figures and names, so the sentences are reproducible from a stored result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# --- English -------------------------------------------------------------------------------------

EN_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
EN_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def en_number(n: int) -> str:
    return EN_WORDS[n] if 0 <= n < 10 else f"{n:,}"


def en_count(n: int, singular: str, plural: str, article: str = "one") -> str:
    """ "a child" / "one massacre" / "eight children" / "33 children"."""
    return f"{article} {singular}" if n == 1 else f"{en_number(n)} {plural}"


def en_list(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


def en_date(day: dt.date) -> str:
    return f"{EN_MONTHS[day.month - 1]} {day.day}, {day.year}"


def en_window(date_from: dt.date, date_to: dt.date) -> str:
    if date_from == date_to:
        return f"on {en_date(date_from)}"
    return f"between {en_date(date_from)}, and {en_date(date_to)}"


def en_including(figures: dict[str, int], adult_female: bool) -> str:
    parts = []
    if figures.get("children"):
        parts.append(en_count(figures["children"], "child", "children", article="a"))
    if figures.get("women"):
        women = en_count(figures["women"], "woman", "women", article="a")
        parts.append(f"{women} (adult female)" if adult_female else women)
    return en_list(parts)


def english_summary(
    result: dict[str, Any],
    date_from: dt.date,
    date_to: dt.date,
    perpetrators: Sequence[str] = (),
    places: Sequence[str] = (),
) -> str:
    civilians = result["civilians"]
    total = civilians["total"]
    by = f" by {en_list(perpetrators)}" if perpetrators else ""
    where = f" in {en_list(places)}" if places else ""
    when = en_window(date_from, date_to)
    if total == 0:
        return f"No civilian deaths{by}{where} were documented {when}."
    sentence = f"At least {en_count(total, 'civilian', 'civilians')}"
    including = en_including(civilians, adult_female=True)
    if including and total == 1:
        sentence += f", {including},"  # "At least one civilian, a child, was killed"
    elif including:
        sentence += f", including {including},"
    sentence += " was killed" if total == 1 else " were killed"
    if result.get("massacres"):
        sentence += f", and {en_count(result['massacres'], 'massacre', 'massacres')} committed,"
    sentences = [f"{sentence}{by}{where} {when}."]
    for row in result.get("by_perpetrator", []):
        if row["total"]:
            sentences.append(english_row(row["perpetrator"]["name"], row))
    return " ".join(sentences)


def english_row(name: str, row: dict[str, int]) -> str:
    sentence = f"{name} killed {en_count(row['total'], 'civilian', 'civilians')}"
    including = en_including(row, adult_female=False)
    if including:
        sentence += f", {including}" if row["total"] == 1 else f", including {including}"
    if row.get("massacres"):
        joiner = ", and" if including else " and"
        sentence += f"{joiner} committed {en_count(row['massacres'], 'massacre', 'massacres')}"
    return sentence + "."


# --- Arabic --------------------------------------------------------------------------------------

NOMINATIVE, GENITIVE = "nominative", "genitive"

# Three to nine in words: the form ending in ة goes with a masculine noun, the short form with a
# feminine one (ثلاثة أطفال, ثلاث مجازر).
AR_WITH_MASCULINE = {3: "ثلاثة", 4: "أربعة", 5: "خمسة", 6: "ستة", 7: "سبعة", 8: "ثمانية", 9: "تسعة"}
AR_WITH_FEMININE = {3: "ثلاث", 4: "أربع", 5: "خمس", 6: "ست", 7: "سبع", 8: "ثماني", 9: "تسع"}
AR_MONTHS = [
    "كانون الثاني",
    "شباط",
    "آذار",
    "نيسان",
    "أيار",
    "حزيران",
    "تموز",
    "آب",
    "أيلول",
    "تشرين الأول",
    "تشرين الثاني",
    "كانون الأول",
]


@dataclass(frozen=True)
class ArabicNoun:
    """A counted noun in each form its number may call for."""

    one: str  # طفل
    two_nominative: str  # طفلان
    two_genitive: str  # طفلين
    few: str  # 3-10: أطفال
    many: str  # 11-99: طفلاً
    other: str  # 100, 101, 102, 1000 ...: طفل
    masculine: bool
    # "مدنيين اثنين" reads as a figure; "مجزرتان" needs no "اثنتان".
    spell_out_two: bool = False


CIVILIAN = ArabicNoun("مدني", "مدنيان", "مدنيين", "مدنيين", "مدنياً", "مدني", masculine=True, spell_out_two=True)
CHILD = ArabicNoun("طفل", "طفلان", "طفلين", "أطفال", "طفلاً", "طفل", masculine=True)
WOMAN = ArabicNoun("سيدة", "سيدتان", "سيدتين", "سيدات", "سيدة", "سيدة", masculine=False)
MASSACRE = ArabicNoun("مجزرة", "مجزرتان", "مجزرتين", "مجازر", "مجزرة", "مجزرة", masculine=False)


def ar_plural_form(n: int) -> str:
    """CLDR's six Arabic plural categories (the same as the catalogue's Plural-Forms)."""
    if n == 0:
        return "zero"
    if n == 1:
        return "one"
    if n == 2:
        return "two"
    if 3 <= n % 100 <= 10:
        return "few"
    if 11 <= n % 100 <= 99:
        return "many"
    return "other"


def ar_count(n: int, noun: ArabicNoun, case: str = NOMINATIVE, emphasise: bool = False) -> str:
    """A number with its counted noun: "طفل", "مجزرة واحدة", "مدنيين اثنين", "ثلاث سيدات", "87 مدنياً"."""
    if n == 1:
        return f"{noun.one} {'واحد' if noun.masculine else 'واحدة'}" if emphasise else noun.one
    if n == 2:
        dual = noun.two_nominative if case == NOMINATIVE else noun.two_genitive
        if not (emphasise and noun.spell_out_two):
            return dual
        two = {
            (True, NOMINATIVE): "اثنان",
            (True, GENITIVE): "اثنين",
            (False, NOMINATIVE): "اثنتان",
            (False, GENITIVE): "اثنتين",
        }[(noun.masculine, case)]
        return f"{dual} {two}"
    if 3 <= n <= 9:
        words = AR_WITH_MASCULINE if noun.masculine else AR_WITH_FEMININE
        return f"{words[n]} {noun.few}"
    form = ar_plural_form(n)
    return f"{n} {noun.few if form == 'few' else noun.many if form == 'many' else noun.other}"


def ar_list(items: Sequence[str]) -> str:
    return " و".join(items)


def ar_date(day: dt.date) -> str:
    return f"{day.day} {AR_MONTHS[day.month - 1]} {day.year}"


def ar_window(date_from: dt.date, date_to: dt.date) -> str:
    if date_from == date_to:
        return f"في {ar_date(date_from)}"
    return f"بين {ar_date(date_from)} و{ar_date(date_to)}"


def ar_including(figures: dict[str, int], adult_female: bool) -> str:
    parts = []
    if figures.get("children"):
        parts.append(ar_count(figures["children"], CHILD))
    if figures.get("women"):
        women = ar_count(figures["women"], WOMAN)
        parts.append(f"{women} (أنثى بالغة)" if adult_female else women)
    return ar_list(parts)


def ar_one_civilian(figures: dict[str, int]) -> str:
    """A single woman is "مدنية واحدة، وهي سيدة", not "مدني واحد، وهي سيدة"."""
    return "مدنية واحدة" if figures.get("total") == 1 and figures.get("women") == 1 else ""


def arabic_summary(
    result: dict[str, Any],
    date_from: dt.date,
    date_to: dt.date,
    perpetrators: Sequence[str] = (),
    places: Sequence[str] = (),
) -> str:
    civilians = result["civilians"]
    total = civilians["total"]
    by = f" على يد {ar_list(perpetrators)}" if perpetrators else ""
    where = f" في {ar_list(places)}" if places else ""
    when = ar_window(date_from, date_to)
    if total == 0:
        return f"لم يُوثَّق مقتل أي مدني{by}{where} {when}."
    sentence = f"قُتل ما لا يقل عن {ar_one_civilian(civilians) or ar_count(total, CIVILIAN, GENITIVE, emphasise=True)}"
    including = ar_including(civilians, adult_female=True)
    if including and total == 1:
        sentence += f"، {'وهو' if civilians.get('children') else 'وهي'} {including}"
    elif including:
        sentence += f"، بينهم {including}"
    if result.get("massacres"):
        sentence += f"، وارتُكبت {ar_count(result['massacres'], MASSACRE, NOMINATIVE, emphasise=True)}"
    if (including and total == 1) or ((including or result.get("massacres")) and (by or where)):
        sentence += "،"
    sentences = [f"{sentence}{by}{where} {when}."]
    rows = [row for row in result.get("by_perpetrator", []) if row["total"]]
    for index, row in enumerate(rows):
        perpetrator = row["perpetrator"]
        sentences.append(arabic_row(perpetrator.get("name_ar") or perpetrator["name"], row, first=index == 0))
    return " ".join(sentences)


def arabic_row(name: str, row: dict[str, int], first: bool = True) -> str:
    # "نُسب إلى ..." (attributed to ...); the rows after the first continue with "كما" (and also).
    civilians = ar_one_civilian(row) or ar_count(row["total"], CIVILIAN, GENITIVE, emphasise=True)
    sentence = f"{'' if first else 'كما '}نُسب إلى {name} مقتل {civilians}"
    including = ar_including(row, adult_female=False)
    if including and row["total"] == 1:
        sentence += f"، {'وهو' if row.get('children') else 'وهي'} {including}"
    elif including:
        sentence += f"، بينهم {including}"
    if row.get("massacres"):
        joiner = "، و" if including else " و"
        sentence += f"{joiner}ارتكاب {ar_count(row['massacres'], MASSACRE, GENITIVE, emphasise=True)}"
    return sentence + "."
