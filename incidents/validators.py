"""Text validators shared by every model that stores names or free text."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# NUL and C0 controls (tab/newline allowed only in free text), bidi embedding/override/isolate controls.
# ZWNJ/ZWJ (U+200C/U+200D) and combining marks are legitimate in Persian and Arabic and pass.
_BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_NAME_FORBIDDEN = re.compile("[\x00-\x1f\x7f" + _BIDI_CONTROLS + "]")
_TEXT_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f" + _BIDI_CONTROLS + "]")


def validate_name_text(value: str) -> None:
    """Names and titles: no control characters, no bidi overrides or isolates."""
    if value and _NAME_FORBIDDEN.search(value):
        raise ValidationError(
            _("Control characters and bidirectional override characters are not allowed."),
            code="forbidden_characters",
        )


def validate_free_text(value: str) -> None:
    """Narratives and statements: newlines and tabs allowed, other controls and bidi overrides not."""
    if value and _TEXT_FORBIDDEN.search(value):
        raise ValidationError(
            _("Control characters and bidirectional override characters are not allowed."),
            code="forbidden_characters",
        )
