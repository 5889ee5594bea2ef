"""Name folding for matching, on spellings that differ between the two Ministry of Health releases (data/)."""

from __future__ import annotations

import pytest

from incidents.names import normalise_arabic
from matching import names


@pytest.mark.parametrize(
    ("april", "august"),
    [
        ("وهبه عبدالله حسين الأسطل", "وهبه عبدالله حسين الاسطل"),  # dropped hamza
        ("انعام سعدي امين دغمش", "انعام سعدى امين دغمش"),  # final ى for ي
        ("جنديه عبدالله عوده حجازي", "جنديه عبدهللا عوده حجازي"),  # الله extracted back to front
        ("ايمن جابر عوضالله اسماعيل", "ايمن جابر عوض هللا اسماعيل"),  # ... and split off
        ("سلام سليمان جميل ابوغزال", "سالم سليمان جميل ابوغزال"),  # the lam-alef ligature back to front
        ("اياد عبدالحي حسن الطهراوي", "اياد عبد الحي حسن الطهراوي"),  # a split compound
        ("محمود أيمن  أبو داود", "محمود أيمن ابوداود"),  # a joined compound, extra spaces
        ("فاطمة", "فاطمه"),  # ta marbuta
    ],
)
def test_two_extractions_of_one_name_fold_to_the_same_arabic_name(april, august):
    assert names.fold_arabic_name(april) == names.fold_arabic_name(august)


def test_diacritics_tatweel_and_a_decomposed_hamza_are_folded():
    assert names.fold_arabic_name("أَحْمَد") == names.fold_arabic_name("احـمـد") == "احمد"
    assert names.fold_arabic_name("\u0627\u0654حمد") == "احمد"  # alef + combining hamza above


def test_matching_uses_the_search_normaliser_for_letter_forms():
    assert names.normalise_arabic is normalise_arabic
    assert names.fold_arabic_name("إبراهيم مؤمن") == normalise_arabic("إبراهيم مؤمن")


def test_placeholders_and_stray_letters_are_not_name_words():
    assert names.arabic_words("مجهول مجهول") == []
    assert names.arabic_words("نن جمعه عبدالعزيز") == ["جمعه", "عبدالعزيز"]
    assert names.arabic_words("صافيه سلمي ي امين") == ["صافيه", "سلمي", "امين"]


def test_a_name_splits_into_given_father_grandfather_and_family_name():
    words = names.arabic_words("أحمد عبدالرحمن أحمد شهاب")
    assert names.name_parts(words) == ("احمد", "عبدالرحمن", "احمد", "شهاب")
    assert names.name_parts(["a", "b", "c", "d", "e"]) == ("a", "b", "c d", "e")
    assert names.name_parts(["a", "b"]) == ("a", "", "", "b")
    assert names.name_parts([]) == ("", "", "", "")


@pytest.mark.parametrize(
    ("arabic", "latin"),
    [
        ("محمود", "Mahmoud"),
        ("أحمد", "Ahmed"),
        ("حسن", "Hassan"),
        ("عبدالرحمن", "Abdalrahamun"),
        ("شهاب", "Shehab"),
        ("عبدالله", "Abdullah"),
        ("النجار", "Al-Najjar"),
        ("فاطمه", "Fatma"),
    ],
)
def test_an_arabic_name_and_its_english_spelling_share_a_consonant_key(arabic, latin):
    assert names.skeleton_words(names.arabic_words(arabic)) == names.skeleton_words(names.latin_words(latin))


def test_latin_names_fold_accents_case_and_compounds():
    assert names.fold_latin_name("Abu Shakra") == names.fold_latin_name("abushakra") == "abushakra"
    assert names.fold_latin_name("Ahmed El-Hajj") == "ahmed alhajj"
    assert names.fold_latin_name("Zoë  Müller") == "zoe muller"


def test_transliteration_is_letter_by_letter():
    assert names.transliterate("محمود") == "mhmwd"
    assert names.transliterate("شهاب") == "shhab"


def test_letters_lost_in_extraction_give_one_loose_key():
    assert names.loose_key(names.arabic_words("منير سالم")) == names.loose_key(names.arabic_words("مني سالم"))
