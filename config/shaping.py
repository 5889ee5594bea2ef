"""List pages without DRF's per-field work: `.values()` rows shaped exactly as a serializer shapes them.

A `ModelSerializer` spends most of a 50-row page on generic machinery (building its fields for every
request, `get_attribute` and `to_representation` per field per row, a model instance per row). A
`RowShaper` reads the serializer's fields once, when first used, and turns each `.values()` row into
the same dict: plain columns are copied, dates and times and decimals go through the serializer
field's own `to_representation`, and whatever the serializer computes itself (a method field, a list
built from several columns, fields only some users see) is the caller's `finish(row, data)`.
A field the shaper cannot copy exactly is refused when the shaper is built, not guessed.

Every use keeps a test that the fast path gives byte for byte what the serializer gives, for every
role (tests/incidents/test_fast_lists.py, tests/matching/test_pairs_fast_list.py). Used by incidents'
and victims' lists, the review queue and the duplicates list;
any list whose serializer is a plain ModelSerializer can use it the same way (`ShapedListMixin`).
`API_FAST_LISTS=0` turns it off (the serializer path answers), for comparison.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import orjson
from django.conf import settings
from django.db.models import ForeignKey
from rest_framework import ISO_8601, relations
from rest_framework import fields as drf_fields
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import ModelSerializer
from rest_framework.settings import api_settings
from rest_framework.utils import encoders

from .compiled import compiled_list, list_key

# Serializer fields whose output is the column's value itself (None stays None, as in DRF).
COPIED = (
    drf_fields.IntegerField,  # BigIntegerField too: int in, int out (coerce_to_string is off)
    drf_fields.BooleanField,
    drf_fields.ReadOnlyField,
    relations.PrimaryKeyRelatedField,  # the `<name>_id` column
)
# Output through the field's own to_representation (formats that settings decide); CharField and
# ModelField give str(value).
CONVERTED = (
    drf_fields.DateField,
    drf_fields.DateTimeField,
    drf_fields.DecimalField,
    drf_fields.TimeField,
    drf_fields.FloatField,  # float(value); see floats_render_alike for their JSON
)

Finish = Callable[[dict[str, Any], dict[str, Any]], None]


class RowShaper:
    """Rows of `queryset.values(*shaper.columns)` → the serializer's dicts.

    `computed`: serializer fields the caller fills in `finish` (their position in the output is kept);
    `extra_columns`: further columns `finish` reads.
    """

    def __init__(
        self,
        serializer_class: type[ModelSerializer],
        computed: tuple[str, ...] = (),
        extra_columns: tuple[str, ...] = (),
        finish: Finish | None = None,
    ) -> None:
        self.serializer_class = serializer_class
        self.computed = computed
        self.extra_columns = extra_columns
        self.finish = finish
        self._plan: list[tuple[str, str, Callable | None]] | None = None
        self._columns: list[str] = []
        self._times: dict[str, drf_fields.DateTimeField] = {}

    def _compile(self) -> list[tuple[str, str, Callable | None]]:
        serializer = self.serializer_class()
        model = self.serializer_class.Meta.model
        plan, columns = [], []
        for name, field in serializer.fields.items():
            if field.write_only:
                continue
            if name in self.computed:
                plan.append((name, "", None))
                continue
            if "." in field.source or field.source == "*":
                raise TypeError(f"{self.serializer_class.__name__}.{name}: not a plain column; list it in computed")
            model_field = model._meta.get_field(field.source)
            column = model_field.attname if isinstance(model_field, ForeignKey) else model_field.name
            if isinstance(field, COPIED) and not getattr(field, "coerce_to_string", False):
                convert = None
            elif isinstance(field, drf_fields.ModelField):
                convert = str
            elif isinstance(field, drf_fields.DateTimeField):
                convert = field.to_representation
                self._times[name] = field
            elif isinstance(field, drf_fields.ChoiceField) and _choices_copy_text(field, model_field):
                convert = None  # a text column whose choices map to themselves: the value is its output
            elif isinstance(field, (drf_fields.ChoiceField, *CONVERTED)):
                convert = field.to_representation
            elif isinstance(field, drf_fields.CharField):
                convert = str
            else:
                raise TypeError(f"{self.serializer_class.__name__}.{name}: {type(field).__name__} is not shaped here")
            plan.append((name, column, convert))
            columns.append(column)
        self._columns = list(dict.fromkeys([*columns, *self.extra_columns]))
        return plan

    @property
    def plan(self) -> list[tuple[str, str, Callable | None]]:
        if self._plan is None:
            self._plan = self._compile()
        return self._plan

    @property
    def columns(self) -> list[str]:
        self.plan  # noqa: B018 (compiles)
        return self._columns

    def shape(self, rows: list[dict[str, Any]], finish: Finish | None = None, prefix: str = "") -> list[dict[str, Any]]:
        """The serializer's dicts for `rows`; `finish` (else the shaper's own) completes each one.

        `prefix`: the rows name this shaper's columns `<prefix><column>` (a related record's columns read
        in the same statement, e.g. `victim_a__name`); `finish` then reads them by those names too."""
        plan, finish = self.plan, finish or self.finish
        if self._times or prefix:  # times through a writer that reads the request's time zone once per page
            plan = [
                (
                    name,
                    f"{prefix}{column}" if column else "",
                    datetime_writer(self._times[name]) if name in self._times else convert,
                )
                for name, column, convert in plan
            ]
        shaped = []
        for row in rows:
            data = {}
            for name, column, convert in plan:
                if not column:
                    data[name] = None  # computed: `finish` fills it, in this position
                    continue
                value = row[column]
                data[name] = value if convert is None or value is None else convert(value)
            if finish is not None:
                finish(row, data)
            shaped.append(data)
        return shaped


def _choices_copy_text(field: drf_fields.ChoiceField, model_field: Any) -> bool:
    """Whether ChoiceField.to_representation gives back every value of this column unchanged: a text
    column (its values are str, '' stays '') whose choices each map to themselves (a value not among
    them is returned as it is too)."""
    from django.db.models import CharField, TextField

    if isinstance(field, drf_fields.MultipleChoiceField) or not isinstance(model_field, CharField | TextField):
        return False
    return all(key == value for key, value in field.choice_strings_to_values.items())


def datetime_writer(field: drf_fields.DateTimeField) -> Callable[[Any], Any]:
    """`field.to_representation` for the values of one response: the time zone looked up once (DRF looks
    it up for every value), the same text for every aware time; anything else through the field itself."""
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
    if zone is None or not isinstance(output_format, str) or output_format.lower() != ISO_8601:
        return field.to_representation
    slow = field.to_representation

    def write(value: Any) -> Any:
        if type(value) is not datetime.datetime or value.utcoffset() is None:
            return slow(value)
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:
            return slow(value)  # DRF's own error
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return write


def fast_lists_enabled() -> bool:
    return getattr(settings, "API_FAST_LISTS", True)


def floats_render_alike(values: Any) -> bool:
    """Whether orjson writes each of these floats exactly as `json` does: zero, and finite magnitudes from
    1e-4 (below it orjson writes 0.00001 or 1e-5 where `json` writes 1e-05; NaN and infinities differ too).
    A view that returns floats sets `response.floats_differ` when this is False (FastJSONRenderer then
    leaves the response to DRF's renderer)."""
    return all(value == 0 or 1e-4 <= abs(value) < float("inf") for value in values if value is not None)


_DRF_DEFAULT = encoders.JSONEncoder().default
# Times and dataclasses go to DRF's own encoder (its formats, e.g. milliseconds and "Z"), not orjson's.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class FastJSONRenderer(JSONRenderer):
    """DRF's JSONRenderer's bytes, written by orjson (several times faster on a page of 50 rows).

    The same compact UTF-8 output with U+2028/U+2029 escaped; anything orjson does not take natively
    (lazy translations, times, decimals) through DRF's encoder. Indented output (`; indent=4`), ASCII or
    non-compact settings and anything orjson refuses (a key that is not a string, a huge integer) fall
    back to DRF's renderer. Floats: orjson writes small ones differently from `json` (1e-5 or 0.00001,
    not 1e-05), so a view that returns floats checks them (`floats_render_alike`) and sets
    `response.floats_differ` to leave the response to DRF's renderer.
    """

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if (
            data is None
            or not fast_lists_enabled()
            or self.ensure_ascii
            or not self.compact
            or self.get_indent(accepted_media_type, renderer_context or {}) is not None
            or getattr((renderer_context or {}).get("response"), "floats_differ", False)
        ):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            rendered = orjson.dumps(data, default=_DRF_DEFAULT, option=_ORJSON_OPTIONS)
        except (TypeError, orjson.JSONEncodeError):
            return super().render(data, accepted_media_type, renderer_context)
        return rendered.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")


def fast_renderers() -> list[type]:
    """The configured renderers with DRF's JSONRenderer replaced by FastJSONRenderer."""
    return [FastJSONRenderer if cls is JSONRenderer else cls for cls in api_settings.DEFAULT_RENDERER_CLASSES]


class ShapedListMixin:
    """`list()` through a RowShaper: filter and page as DRF does, on `.values()` rows, then shape.

    The view defines `row_shaper(self) -> RowShaper` (a module-level shaper, so it compiles once)
    and may define `row_finisher(self)`, a `finish` that depends on the request (who may see what), or
    replace `shape_rows(self, rows)` altogether (rows nesting other records' shapes).
    """

    renderer_classes = fast_renderers()

    def row_shaper(self) -> RowShaper:
        raise NotImplementedError

    def row_finisher(self) -> Finish | None:
        return None

    def shape_rows(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self.row_shaper().shape(rows, self.row_finisher())

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not fast_lists_enabled():
            return super().list(request, *args, **kwargs)
        shaper = self.row_shaper()

        def build() -> tuple[Any, Callable[[int, int], Any]]:
            queryset = self.filter_queryset(self.get_queryset()).values(*shaper.columns)
            return queryset, lambda start, stop: queryset[start:stop]

        # The list's SQL kept per filter signature (config/compiled.py): a warm page builds nothing.
        key = list_key(request, type(self).__qualname__) if self.paginator is not None else None
        compiled, queryset = compiled_list(key, build)
        if compiled is not None:
            queryset = compiled
        page = self.paginate_queryset(queryset)
        if page is None:
            return Response(self.shape_rows(list(queryset)))
        return self.get_paginated_response(self.shape_rows(page))
