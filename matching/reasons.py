"""A candidate pair's reasons in words, in English or Arabic.

The engine stores reasons as codes with a few numbers or short non-personal strings
(`{"code": "ages", "a": 34, "b": 35}`; the parameters may also sit under "params"), never as
sentences, so one stored pair reads in the reader's language. `describe` renders them; an unknown code,
or a code whose parameters are missing or malformed, is rendered as the code itself (never an error).
Identity numbers and dates of birth never appear in a reason: only "same" or "different".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext


def _percent(value: Any) -> int:
    number = float(value)
    if not 0 <= number <= 1:
        raise ValueError(value)
    return round(number * 100)


def _whole(value: Any) -> int:
    number = float(value)
    if number != number or abs(number) > 10**9:  # NaN or absurd
        raise ValueError(value)
    return round(number)


def _script(params: dict[str, Any]) -> str:
    script = params.get("script", "ar")
    if script not in ("ar", "latin"):
        raise ValueError(script)
    return script


def _name_same(p: dict[str, Any]) -> str:
    if _script(p) == "ar":
        return _("same Arabic name after normalisation")
    return _("same Latin name after normalisation")


def _name_similar(p: dict[str, Any]) -> str:
    if _script(p) == "ar":
        return _("Arabic names %(percent)s%% alike") % {"percent": _percent(p["similarity"])}
    return _("Latin names %(percent)s%% alike") % {"percent": _percent(p["similarity"])}


def _name_parts(p: dict[str, Any]) -> str:
    matched, total = _whole(p["matched"]), _whole(p["total"])
    return ngettext(
        "%(matched)s of %(total)s name part matches", "%(matched)s of %(total)s name parts match", total
    ) % {"matched": matched, "total": total}


def _name_translit(p: dict[str, Any]) -> str:
    return _("the Arabic name matches the Latin spelling (%(percent)s%% alike)") % {
        "percent": _percent(p["similarity"])
    }


def _ages(p: dict[str, Any]) -> str:
    a, b = _whole(p["a"]), _whole(p["b"])
    if a == b:
        return _("same age, %(age)s") % {"age": a}
    return _("ages %(a)s and %(b)s") % {"a": a, "b": b}


def _death_dates(p: dict[str, Any]) -> str:
    days = abs(_whole(p["days"]))
    return ngettext("dates of death %(days)s day apart", "dates of death %(days)s days apart", days) % {"days": days}


def _places_km(p: dict[str, Any]) -> str:
    km = _whole(p["km"])
    return _("places %(km)s km apart") % {"km": km}


def _list_name(value: Any) -> str:
    text = str(value or "").strip()[:200]
    return f"“{text}”" if text else pgettext("source list", "typed in")


def _sources(p: dict[str, Any]) -> str:
    a, b = p["a"], p["b"]
    if (a or "") == (b or ""):
        return _("both from %(list)s") % {"list": _list_name(a)}
    return _("from lists %(a)s and %(b)s") % {"a": _list_name(a), "b": _list_name(b)}


RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "name_same": _name_same,
    "name_similar": _name_similar,
    "name_parts": _name_parts,
    "name_translit": _name_translit,
    "name_differs": lambda p: _("names differ"),
    "sex_same": lambda p: _("same sex"),
    "sex_differs": lambda p: _("different sex"),
    "ages": _ages,
    "birth_date_same": lambda p: _("same date of birth"),
    "birth_date_differs": lambda p: _("different dates of birth"),
    "identity_same": lambda p: _("same identity number"),
    "identity_differs": lambda p: _("different identity numbers"),
    "death_date_same": lambda p: _("same date of death"),
    "death_dates": _death_dates,
    "place_same": lambda p: _("same place of death"),
    "places_km": _places_km,
    "incident_same": lambda p: _("in the same incident"),
    "sources": _sources,
}

# Reasons that say something differs: pages mark them as differences.
DIFFERENCES = {"name_differs", "sex_differs", "birth_date_differs", "identity_differs"}


def _one(reason: Any) -> str:
    if not isinstance(reason, dict):
        return str(reason)[:100]
    code = str(reason.get("code", ""))[:100]
    params = reason.get("params") if isinstance(reason.get("params"), dict) else reason
    renderer = RENDERERS.get(code)
    if renderer is None:
        return code
    try:
        return str(renderer(params))
    except (KeyError, TypeError, ValueError, OverflowError):
        return code


def describe(reasons: list[dict] | Any, language: str | None = None) -> list[str]:
    """The reasons in words, in `language` (default: the active language), in their stored order."""
    if not isinstance(reasons, list):
        return []
    if language is None:
        return [_one(reason) for reason in reasons]
    with translation.override(language):
        return [_one(reason) for reason in reasons]


def describer() -> Callable[[list[dict] | Any], list[str]]:
    """`describe` for the pairs of one answer (the active language throughout): each distinct reason is
    put into words once (a page of pairs repeats "same sex", "same date of death" and the like)."""
    words: dict[bytes, str] = {}

    def describe_one(reasons: list[dict] | Any) -> list[str]:
        if not isinstance(reasons, list):
            return []
        described = []
        for reason in reasons:
            try:
                key = orjson.dumps(reason, option=orjson.OPT_SORT_KEYS)
            except (TypeError, orjson.JSONEncodeError):
                described.append(_one(reason))
                continue
            if key not in words:
                words[key] = _one(reason)
            described.append(words[key])
        return described

    return describe_one


def text_describer() -> Callable[[str | None], list[str]]:
    """`describer()` for reasons as their stored JSON text (a page's rows): each distinct text decoded and
    put into words once per answer; the pairs with the same reasons share that list of words (read-only)."""
    describe = describer()
    described: dict[str, list[str]] = {}

    def describe_text(text: str | None) -> list[str]:
        if text is None:
            return []
        words = described.get(text)
        if words is None:
            words = described[text] = describe(json.loads(text))
        return words

    return describe_text


def describe_html(reasons: list[dict] | Any, language: str | None = None) -> list[str]:
    """As `describe`, escaped for a page, with source list names (user data, in any script) in <bdi>."""
    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    if not isinstance(reasons, list):
        return []
    rendered = []
    for reason, words in zip(reasons, describe(reasons, language), strict=True):
        text = escape(words)
        if isinstance(reason, dict) and reason.get("code") == "sources" and text != reason.get("code"):
            params = reason.get("params") if isinstance(reason.get("params"), dict) else reason
            for name in {str(params.get("a") or "").strip()[:200], str(params.get("b") or "").strip()[:200]} - {""}:
                quoted = escape(f"“{name}”")
                text = text.replace(quoted, f"<bdi>{quoted}</bdi>")
        rendered.append(mark_safe(text))  # noqa: S308 (escaped above; only <bdi> added)
    return rendered


def is_difference(reason: Any) -> bool:
    """Whether a reason says the two records differ (for highlighting)."""
    if not isinstance(reason, dict):
        return False
    code = reason.get("code")
    if code in DIFFERENCES:
        return True
    if code == "ages":
        try:
            return abs(_whole(reason.get("a")) - _whole(reason.get("b"))) > 1
        except (TypeError, ValueError):
            return False
    return code in {"death_dates", "places_km"}
