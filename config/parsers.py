"""JSON bodies with a nesting limit: the API's default parser (see REST_FRAMEWORK in settings).

Python's JSON decoder recurses once per level, so a body of a few hundred kilobytes of `[[[[...` raises
RecursionError (a 500), and a structure a little under the interpreter's limit still reaches
serializers, validators and JSON columns that recurse again. No request of this API nests deeper than
a handful of levels (a review's `victims` object is the deepest, at two), so anything deeper than
`JSON_MAX_DEPTH` (default 20) is refused with a 400 and a reason before any view sees it.

Pages parse no JSON bodies (autosave sends form fields); a page that ever does should call `load_json`.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.settings import api_settings

DEFAULT_MAX_DEPTH = 20


class TooDeeplyNested(ValueError):
    """A JSON document nests deeper than the limit."""


def max_depth() -> int:
    return int(getattr(settings, "JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH))


def check_depth(value: Any, limit: int) -> None:
    """Raise TooDeeplyNested when containers nest deeper than `limit` (iterative: no recursion of its own)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            raise TooDeeplyNested(f"JSON nested deeper than {limit} levels")
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def load_json(text: str | bytes, *, strict: bool = True) -> Any:
    """json.loads with the nesting limit: TooDeeplyNested (a ValueError) instead of RecursionError."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant if strict else None)
    except RecursionError:
        raise TooDeeplyNested(f"JSON nested deeper than {max_depth()} levels") from None
    check_depth(value, max_depth())
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class DepthLimitedJSONParser(JSONParser):
    """DRF's JSON parser, plus the nesting limit: a 400 `parse_error` naming the limit."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            return load_json(text, strict=api_settings.STRICT_JSON)
        except TooDeeplyNested:
            raise ParseError(
                _("The JSON body is nested more than %(limit)d levels deep.") % {"limit": max_depth()}
            ) from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
