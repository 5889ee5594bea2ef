"""Names of the languages records mention by code (a testimony's language), for showing "ar" as "Arabic"."""

from __future__ import annotations

from django.utils.translation import gettext_noop

LANGUAGE_NAMES = {
    "ar": gettext_noop("Arabic"),
    "ku": gettext_noop("Kurdish"),
    "en": gettext_noop("English"),
    "tr": gettext_noop("Turkish"),
    "syc": gettext_noop("Syriac"),
    "hy": gettext_noop("Armenian"),
    "fr": gettext_noop("French"),
    "de": gettext_noop("German"),
}
