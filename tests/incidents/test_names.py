"""The Arabic-aware folding used by search: each folding on its own, and its SQL twin agrees with it."""

from __future__ import annotations

import pytest
from django.db import connection

from incidents.names import normalise_arabic, search_terms, word_similarity


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("أحمد", "احمد"),  # hamza above alef
        ("إبراهيم", "ابراهيم"),  # hamza below alef
        ("آمنة", "امنه"),  # madda; and ta marbuta
        ("ٱلله", "الله"),  # wasla
        ("مصطفى", "مصطفي"),  # alef maqsura
        ("فاطمة", "فاطمه"),  # ta marbuta
        ("مؤمن", "مومن"),  # hamza on waw
        ("هانئ", "هاني"),  # hamza on ya
    ],
)
def test_each_letter_form_is_folded(written, folded):
    assert normalise_arabic(written) == folded


def test_diacritics_are_removed():
    assert normalise_arabic("مُحَمَّدٌ") == "محمد"


def test_superscript_alef_is_removed():
    assert normalise_arabic("رحمٰن") == "رحمن"


def test_tatweel_is_removed():
    assert normalise_arabic("احـــمد") == "احمد"


def test_a_decomposed_hamza_folds_like_the_composed_letter():
    decomposed = "\u0627\u0654\u062d\u0645\u062f"  # alef + combining hamza above, then حمد
    assert normalise_arabic(decomposed) == normalise_arabic("أحمد") == "احمد"


def test_presentation_forms_become_plain_letters_by_nfkc():
    assert normalise_arabic("\ufef7") == "لا"  # the lam-alef-with-hamza ligature


def test_latin_is_lower_cased():
    assert normalise_arabic("Ahmad AL-Hassan") == "ahmad al-hassan"


def test_empty_and_none_give_empty_text():
    assert normalise_arabic(None) == normalise_arabic("") == ""


def test_search_terms_are_the_folded_words_at_most_six():
    assert search_terms("أحمد  محمود") == ["احمد", "محمود"]
    assert len(search_terms("a b c d e f g h")) == 6


def test_word_similarity_tolerates_one_wrong_letter_but_not_another_name():
    assert word_similarity("ahmed", "ahmad al-hassan") >= 0.45
    assert word_similarity("omar", "ahmad al-hassan") < 0.45


@pytest.mark.django_db
@pytest.mark.parametrize(
    "written",
    ["أحمد", "إبراهيم", "آمنة", "مُحَمَّدٌ", "احـــمد", "\u0627\u0654\u062d\u0645\u062f", "هانئ مؤمن", "  Ahmad  AL "],
)
def test_the_database_function_folds_exactly_like_the_python_one(written):
    with connection.cursor() as cursor:
        cursor.execute("SELECT arabic_fold(%s)", [written])
        assert cursor.fetchone()[0] == normalise_arabic(written)
