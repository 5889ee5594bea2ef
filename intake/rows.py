"""From one row of a list to the values of an incident and a victim, or to errors — the second stage of
the import (reader → row → record).

1. Columns are matched by header name (case and spacing ignored; order free). An unknown, repeated or
   nameless header, or a missing required column, is an error of row 1.
2. Numbers may be written with Arabic-Indic (٠-٩) or Persian (۰-۹) digits anywhere a number appears:
   ages, counts, ids, dates, identity numbers, record ids and incident keys.
3. Dates: ISO `2020-01-15`, day first `15/01/2020` `15-01-2020` `15.01.2020`, `2020/01/15`, Excel date cells
   and Excel serial numbers; `occurred_on` also `2020-01` (month) and `2020` (year), which set its precision.
4. Places and parties: an id, a `name` or `name_ar`, or (places) a path `Syria > Idlib > Ariha` (or with
   `/`), resolved in memory against an index built once per import. A name matching two places is an
   error naming both, with their paths.
5. Choices (`sex`, `weapon`, `age_group`, `civilian_status`, `roles`) take the API's values or their
   English or Arabic labels; `sex` also `m`/`f`, `ذكر`/`أنثى`; roles are separated by `;`.
6. Everything else is checked by the models' own field validation and the API serializers' date checks,
   reused here, never restated: lengths, ranges (age 0–130), control and bidi characters in names,
   dates neither in the future nor before 1900.
7. Every message exists in English and Arabic (rendered under each language), for the error report.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError as APIValidationError

from incidents.models import (
    AgeGroup,
    CivilianStatus,
    DatePrecision,
    Incident,
    Role,
    Sex,
    Victim,
    Weapon,
    age_group_for,
)
from incidents.serializers import IncidentSerializer, VictimSerializer, not_in_future, plausible_date
from incidents.validators import validate_name_text

KEY, INCIDENT, VICTIM = "key", "incident", "victim"
MAX_KEY_LENGTH = 200
MAX_VALUE_IN_REPORT = 1000


@dataclass(frozen=True)
class Column:
    name: str
    part: str
    meaning: Promise


COLUMNS: dict[str, Column] = {
    column.name: column
    for column in (
        Column("record_id", KEY, _("The row's id in the source list (required)")),
        Column("incident_key", KEY, _("Groups rows into one incident")),
        Column("occurred_on", INCIDENT, _("Incident: date (day, month or year)")),
        Column("location", INCIDENT, _("Incident: place")),
        Column("perpetrator", INCIDENT, _("Incident: perpetrator")),
        Column("weapon", INCIDENT, _("Incident: weapon or attack type")),
        Column("title", INCIDENT, _("Incident: title")),
        Column("description", INCIDENT, _("Incident: narrative")),
        Column("injured_count", INCIDENT, _("Incident: number injured")),
        Column("name", VICTIM, _("Victim: name in Latin letters")),
        Column("name_ar", VICTIM, _("Victim: name in Arabic")),
        Column("sex", VICTIM, _("Victim: sex")),
        Column("age_years", VICTIM, _("Victim: age in years")),
        Column("age_group", VICTIM, _("Victim: age group")),
        Column("date_of_birth", VICTIM, _("Victim: date of birth")),
        Column("identity_number", VICTIM, _("Victim: identity number")),
        Column("civilian_status", VICTIM, _("Victim: civilian status")),
        Column("date_of_death", VICTIM, _("Victim: date of death")),
        Column("place_of_death", VICTIM, _("Victim: place of death")),
        Column("roles", VICTIM, _("Victim: roles, separated by ;")),
    )
}
REQUIRED_COLUMNS = ("record_id", "location", "perpetrator")
DATE_COLUMNS = ("occurred_on", "date_of_death")  # at least one of them
# The incident's values in a fixed order (its fingerprint, and the comparison of a group's rows).
INCIDENT_FIELDS = (
    "occurred_on",
    "date_precision",
    "location",
    "perpetrator",
    "weapon",
    "title",
    "description",
    "injured_count",
)
VICTIM_FIELDS = (
    "name",
    "name_ar",
    "sex",
    "age_years",
    "age_group",
    "date_of_birth",
    "identity_number",
    "civilian_status",
    "date_of_death",
    "place_of_death",
    "roles",
)


def header_key(cell: Any) -> str:
    text = "" if cell is None else str(cell)
    return re.sub(r"[\s\-]+", "_", text.replace("\ufeff", "").strip().casefold())


def known_column(cell: Any) -> bool:
    return header_key(cell) in COLUMNS


# --- Problems, in both languages ------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    value: str
    code: str
    message_en: str
    message_ar: str


class CellProblem(Exception):
    """A cell's value cannot be used: a message (lazy, with %-params), rendered in each language."""

    def __init__(self, code: str, message: Promise, params: dict | None = None, params_ar: dict | None = None):
        super().__init__(code)
        self.code, self.message = code, message
        self.params, self.params_ar = params or {}, params_ar

    def render(self) -> tuple[str, str]:
        return bilingual(self.message, self.params, self.params_ar)


def bilingual(message: Promise, params: dict | None = None, params_ar: dict | None = None) -> tuple[str, str]:
    with translation.override("en"):
        english = str(message) % params if params else str(message)
    with translation.override("ar"):
        arabic_params = params_ar if params_ar is not None else params
        arabic = str(message) % arabic_params if arabic_params else str(message)
    return english, arabic


def _flatten(exc: Exception) -> dict[str, list[str]]:
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return {name: [str(m) for m in errors] for name, errors in exc.message_dict.items()}
        return {"": [str(m) for m in exc.messages]}
    detail = getattr(exc, "detail", None)
    if isinstance(detail, dict):
        return {name: [str(m) for m in (v if isinstance(v, list) else [v])] for name, v in detail.items()}
    return {"": [str(m) for m in (detail if isinstance(detail, list) else [detail])]}


def reused_check(check: Callable[[], Any]) -> list[tuple[str, str, str]]:
    """Run a validation the models or serializers already define; its messages as (field, English, Arabic).

    The check runs once in the current language; only when it fails is it run again under each language,
    so a row without errors pays for one call.
    """
    try:
        check()
        return []
    except (DjangoValidationError, APIValidationError):
        pass
    rendered: dict[str, dict[str, list[str]]] = {}
    for language in ("en", "ar"):
        with translation.override(language):
            try:
                check()
                rendered[language] = {}
            except (DjangoValidationError, APIValidationError) as exc:
                rendered[language] = _flatten(exc)
    result = []
    for name, messages in rendered["en"].items():
        arabic = rendered["ar"].get(name, messages)
        for index, english in enumerate(messages):
            result.append((name, english, arabic[index] if index < len(arabic) else english))
    return result


# --- Cell values -------------------------------------------------------------------------------------------

DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫", "01234567890123456789.")
THOUSANDS = re.compile(r"^[+-]?\d{1,3}([,٬\u00a0 ]\d{3})+(\.\d+)?$")
INTEGER = re.compile(r"^[+-]?\d+(\.0+)?$")
EXCEL_EPOCH = dt.date(1899, 12, 30)  # Excel's day 0 in the 1900 date system (after its 1900 leap-year bug)
MAX_EXCEL_SERIAL = 2_958_465  # 9999-12-31


def as_text(value: Any) -> str:
    """A cell as the text it shows: numbers without a spurious `.0`, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def western_digits(text: str) -> str:
    return text.translate(DIGITS)


UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def printable(text: str) -> str:
    """Control characters as visible escapes (`\\x00`): what PostgreSQL text and an XLSX cell can hold."""
    return UNPRINTABLE.sub(lambda match: f"\\x{ord(match.group()):02x}", text) if text else text


def report_value(value: Any) -> str:
    text = as_text(value)
    return text if len(text) <= MAX_VALUE_IN_REPORT else text[: MAX_VALUE_IN_REPORT - 1] + "…"


def parse_integer(value: Any) -> int:
    if isinstance(value, bool):
        raise CellProblem("not_a_number", _("Not a whole number: %(value)s."), {"value": as_text(value)})
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = western_digits(as_text(value))
    if THOUSANDS.match(text):
        text = re.sub(r"[,٬\u00a0 ]", "", text)
    if not INTEGER.match(text):
        raise CellProblem("not_a_number", _("Not a whole number: %(value)s."), {"value": as_text(value)})
    return int(float(text)) if "." in text else int(text)


ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]00:00(?::00(?:\.0+)?)?)?$")
YEAR_FIRST = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")
DAY_FIRST = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
YEAR_MONTH = re.compile(r"^(\d{4})[-/](\d{1,2})$")
MONTH_YEAR = re.compile(r"^(\d{1,2})[/\-](\d{4})$")
YEAR = re.compile(r"^(\d{4})$")
SERIAL = re.compile(r"^\d{5}(\.\d+)?$")


def parse_date(value: Any, partial: bool = False) -> tuple[dt.date, str]:
    """A date and its precision (day; with `partial`, also month or year)."""
    if isinstance(value, dt.datetime):
        return value.date(), DatePrecision.DAY
    if isinstance(value, dt.date):
        return value, DatePrecision.DAY
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(float(value), value), DatePrecision.DAY
    text = western_digits(as_text(value))
    try:
        if match := ISO_DATE.match(text) or YEAR_FIRST.match(text):
            year, month, day = (int(part) for part in match.groups())
            return dt.date(year, month, day), DatePrecision.DAY
        if match := DAY_FIRST.match(text):
            day, month, year = (int(part) for part in match.groups())
            return dt.date(year, month, day), DatePrecision.DAY
        if partial and (match := YEAR_MONTH.match(text)):
            return dt.date(int(match.group(1)), int(match.group(2)), 1), DatePrecision.MONTH
        if partial and (match := MONTH_YEAR.match(text)):
            return dt.date(int(match.group(2)), int(match.group(1)), 1), DatePrecision.MONTH
        if partial and YEAR.match(text):
            return dt.date(int(text), 1, 1), DatePrecision.YEAR
        if SERIAL.match(text):
            return _from_serial(float(text), value), DatePrecision.DAY
    except ValueError:
        pass  # a day or month out of range: not a date
    if partial:
        raise CellProblem(
            "not_a_date",
            _("Not a date: %(value)s. Write YYYY-MM-DD, DD/MM/YYYY, YYYY-MM or YYYY."),
            {"value": as_text(value)},
        )
    raise CellProblem(
        "not_a_date", _("Not a date: %(value)s. Write YYYY-MM-DD or DD/MM/YYYY."), {"value": as_text(value)}
    )


def _from_serial(serial: float, original: Any) -> dt.date:
    if not 1 <= serial <= MAX_EXCEL_SERIAL:
        raise CellProblem(
            "not_a_date", _("Not a date: %(value)s. Write YYYY-MM-DD or DD/MM/YYYY."), {"value": as_text(original)}
        )
    return EXCEL_EPOCH + dt.timedelta(days=int(serial))


ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")  # harakat, dagger alef, tatweel
ALEF_FORMS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي"})


def fold(text: str) -> str:
    """A name as compared: case, spacing, Arabic diacritics and letter forms (hamza, taa marbuta) ignored."""
    text = ARABIC_MARKS.sub("", text.casefold()).translate(ALEF_FORMS)
    return " ".join(re.sub(r"[_\-]+", " ", text).split())


class Choices:
    """A choice field's values, accepted as the value itself or its English or Arabic label."""

    def __init__(self, choices: type[models.TextChoices], extra: dict[str, str] | None = None) -> None:
        self.values = [value for value, _label in choices.choices]
        self.seen: dict[str, str] = {}  # raw cell → value: lists repeat the same few spellings
        self.lookup: dict[str, str] = {}
        for value, label in choices.choices:
            self.lookup[fold(value)] = value
            for language in ("en", "ar"):
                with translation.override(language):
                    self.lookup.setdefault(fold(str(label)), value)
        for alias, value in (extra or {}).items():
            self.lookup[fold(alias)] = value

    def parse(self, value: Any) -> str:
        found = self.seen.get(value) if isinstance(value, str) else None
        if found is not None:
            return found
        found = self.lookup.get(fold(as_text(value)))
        if found is not None and isinstance(value, str) and len(self.seen) < 10_000:
            self.seen[value] = found
        if found is None:
            raise CellProblem(
                "unknown_value",
                _("Not an accepted value: %(value)s. Use one of: %(choices)s."),
                {"value": as_text(value), "choices": ", ".join(self.values)},
            )
        return found


# --- Places and parties, in memory --------------------------------------------------------------------------


@dataclass(slots=True)
class Node:
    pk: int
    name: str
    name_ar: str
    parent: int | None


class ReferenceIndex:
    """Places (or parties) by id, by folded English and Arabic name, and by parent: built once per import."""

    def __init__(self, nodes: Iterable[tuple[int, str, str, int | None]], places: bool) -> None:
        self.places = places
        self.nodes = {pk: Node(pk, name, name_ar or "", parent) for pk, name, name_ar, parent in nodes}
        self.by_name: dict[str, list[int]] = {}
        for node in self.nodes.values():
            for name in {fold(node.name), fold(node.name_ar)} - {""}:
                self.by_name.setdefault(name, []).append(node.pk)
        self._cache: dict[str, int] = {}

    @classmethod
    def of(cls, model: type[models.Model]) -> ReferenceIndex:
        rows = model.objects.order_by("pk").values_list("pk", "name", "name_ar", "parent_id")
        return cls(rows, places=model._meta.model_name == "location")

    def path(self, pk: int, language: str) -> str:
        names, seen = [], set()
        node = self.nodes.get(pk)
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            names.append(node.name_ar if language == "ar" and node.name_ar else node.name)
            node = self.nodes.get(node.parent) if node.parent is not None else None
        return " > ".join(reversed(names))

    def resolve(self, value: Any) -> int:
        text = western_digits(as_text(value))
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        pk = self._resolve(value, text)
        if len(self._cache) < 100_000:
            self._cache[text] = pk
        return pk

    def _resolve(self, value: Any, text: str) -> int:
        if (isinstance(value, int | float) and not isinstance(value, bool)) or text.isdigit():
            try:
                pk = int(float(text))
            except ValueError:
                pk = -1
            if pk in self.nodes:
                return pk
            message = _("No place has the id %(value)s.") if self.places else _("No perpetrator has the id %(value)s.")
            raise CellProblem("unknown_id", message, {"value": text})
        candidates = self.by_name.get(fold(text), [])
        if not candidates and self.places:
            candidates = self._by_path(text)
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            message = _("No place is named %(value)s.") if self.places else _("No perpetrator is named %(value)s.")
            raise CellProblem("unknown_name", message, {"value": text})
        ordered = sorted(candidates, key=lambda pk: (self.path(pk, "en"), pk))
        paths = {language: [self.path(pk, language) for pk in ordered] for language in ("en", "ar")}
        message = (
            _("%(value)s names more than one place: %(matches)s. Write its id or its path, e.g. %(example)s.")
            if self.places
            else _("%(value)s names more than one perpetrator: %(matches)s. Write its id.")
        )
        raise CellProblem(
            "ambiguous_name",
            message,
            {"value": text, "matches": "; ".join(paths["en"]), "example": paths["en"][0]},
            {"value": text, "matches": "؛ ".join(paths["ar"]), "example": paths["ar"][0]},
        )

    def _by_path(self, text: str) -> list[int]:
        separator = ">" if ">" in text else "/" if "/" in text else None
        if separator is None:
            return []
        parts = [fold(part) for part in text.split(separator)]
        if len(parts) < 2 or "" in parts:
            return []
        candidates = list(self.by_name.get(parts[0], []))
        for part in parts[1:]:
            candidates = [
                node.pk
                for node in self.nodes.values()
                if node.parent in candidates and part in (fold(node.name), fold(node.name_ar))
            ]
            if not candidates:
                return []
        return candidates


# --- A row ------------------------------------------------------------------------------------------------


@functools.cache
def choices() -> dict[str, Choices]:
    """Built on first use (labels are rendered in both languages, which needs the apps loaded)."""
    return {
        "sex": Choices(Sex, {"m": Sex.MALE, "f": Sex.FEMALE, "ذكر": Sex.MALE, "أنثى": Sex.FEMALE}),
        "weapon": Choices(Weapon),
        "age_group": Choices(AgeGroup),
        "civilian_status": Choices(CivilianStatus),
        "roles": Choices(Role),
    }


ROLE_SEPARATOR = re.compile("[;؛]")


@dataclass(slots=True)
class ParsedRow:
    number: int
    record_id: str = ""
    incident_key: str = ""
    origin_key: str = ""
    incident: dict[str, Any] = field(default_factory=dict)  # with defaults: used when the row defines the incident
    given: dict[str, Any] = field(default_factory=dict)  # the incident cells this row filled in
    missing: list[str] = field(default_factory=list)  # incident columns needed only if the row defines it
    victim: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    cells: dict[str, Any] = field(default_factory=dict)
    raw_fingerprint: str = ""  # of the row's cells as written (see Identity)
    # The two digests, once computed (a row is not changed after it is read; the read-ahead computes them).
    incident_digest: str = ""
    victim_digest: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def incident_values(self) -> tuple:
        return tuple(self.incident.get(name) for name in INCIDENT_FIELDS)

    def incident_fingerprint(self) -> str:
        if not self.incident_digest:
            self.incident_digest = fingerprint(self.incident_values())
        return self.incident_digest

    def victim_fingerprint(self) -> str:
        """The victim's values (and its incident key), half of what a victim's origin_fingerprint stores."""
        if not self.victim_digest:
            values = (self.origin_key, *(self.victim.get(name) for name in VICTIM_FIELDS))
            self.victim_digest = fingerprint(values)[:16]
        return self.victim_digest


def fingerprint(values: Iterable[Any]) -> str:
    """A digest of imported values: equal values, equal digest (None and "" alike)."""
    canonical = "\x1f".join("" if value is None else str(value) for value in values)
    return hashlib.blake2b(canonical.encode("utf-8"), digest_size=16).hexdigest()


def read_header(cells: list[Any] | None) -> tuple[list[str | None], list[Problem]]:
    """The column each position of the header names (None: ignored), and the header's problems (row 1)."""
    problems: list[Problem] = []

    def problem(column: str, value: str, code: str, message: Promise, params: dict | None = None) -> None:
        english, arabic = bilingual(message, params)
        problems.append(Problem(1, column, value, code, english, arabic))

    cells = list(cells or [])
    while cells and as_text(cells[-1]) == "":
        cells.pop()  # trailing empty header cells (a spreadsheet's unused columns)
    if not cells:
        problem("", "", "no_header", _("The file has no header row: its first row must name the columns."))
        return [], problems
    columns: list[str | None] = []
    seen: set[str] = set()
    for position, cell in enumerate(cells, start=1):
        key = header_key(cell)
        if not key:
            problem("", "", "unnamed_column", _("Column %(position)s has no name."), {"position": position})
            columns.append(None)
        elif key not in COLUMNS:
            problem(
                as_text(cell),
                as_text(cell),
                "unknown_column",
                _("Unknown column: %(column)s. The columns are: %(known)s."),
                {"column": as_text(cell), "known": ", ".join(COLUMNS)},
            )
            columns.append(None)
        elif key in seen:
            problem(key, as_text(cell), "repeated_column", _("The column %(column)s appears twice."), {"column": key})
            columns.append(None)
        else:
            seen.add(key)
            columns.append(key)
    for required in REQUIRED_COLUMNS:
        if required not in seen:
            message = _("The required column %(column)s is missing.")
            problem(required, "", "missing_column", message, {"column": required})
    if not seen & set(DATE_COLUMNS):
        problem(
            "occurred_on",
            "",
            "missing_column",
            _("Give the incident's date (column occurred_on) or each victim's date of death (column date_of_death)."),
        )
    return columns, problems


MISSING = {
    "location": _(
        "The incident's place is missing: fill in the column location (in this row, or in an earlier valid row "
        "with the same incident_key)."
    ),
    "perpetrator": _(
        "The incident's perpetrator is missing: fill in the column perpetrator (in this row, or in an earlier "
        "valid row with the same incident_key)."
    ),
    "occurred_on": _("The incident's date is missing: give occurred_on or date_of_death."),
}


def missing_problem(row: ParsedRow, column: str) -> Problem:
    english, arabic = bilingual(MISSING[column])
    return Problem(row.number, column, "", "required", english, arabic)


@dataclass(slots=True, frozen=True)
class Identity:
    """What a row says about itself before it is read: its record id, its incident key, and a digest of its
    cells as written (by column name, so the columns' order does not matter). A row whose digest equals
    the one stored when it was imported is unchanged, and need not be read again."""

    record_id: str
    origin_key: str
    raw_fingerprint: str


def stored_fingerprint(raw: str, values: str) -> str:
    """A victim's origin_fingerprint: 16 hex digits of its cells as written, 16 of its values."""
    return raw[:16] + values[:16]


class RowReader:
    """Turns the cells of one data row into a ParsedRow (values, or problems), with no database access.

    The models' own field validation is reused field by field (`Field.clean`: what `Model.clean_fields`
    runs), without building a model instance per row.
    """

    def __init__(
        self,
        columns: list[str | None],
        source: str,
        places: ReferenceIndex,
        parties: ReferenceIndex,
        strict_width: bool = True,
    ) -> None:
        self.columns = columns
        self.strict_width = strict_width  # CSV rows must have the header's width; a sheet's rows may be shorter
        self.choices = choices()
        self.width = len(columns)
        self.positions = [(index, name) for index, name in enumerate(columns) if name]
        self.source = source
        self.places, self.parties = places, parties
        self.victim_check = VictimSerializer()
        self.incident_check = IncidentSerializer()
        victim = Victim._meta
        self.victim_fields = [
            (column, victim.get_field(name))
            for column, name in (
                ("name", "name"),
                ("name_ar", "name_ar"),
                ("identity_number", "identity_number"),
                ("age_years", "age_years"),
                ("record_id", "origin_record_id"),
            )
        ]
        incident = Incident._meta
        self.incident_fields = [
            (column, incident.get_field(column)) for column in ("title", "description", "injured_count")
        ]
        # Each field's own validators (what Field.clean runs after converting the value, which the parsing
        # here has done): lengths, ranges, forbidden characters.
        self.validators = {
            model_field: list(model_field.validators)
            for _column, model_field in (*self.victim_fields, *self.incident_fields)
        }
        self.by_name = sorted(self.positions, key=lambda position: position[1])
        self.raw_order = [index for index, _name in self.by_name]
        self.raw_prefix = "\x1f".join(name for _index, name in self.by_name) + "\x1e"
        self.record_position = next((index for index, name in self.positions if name == "record_id"), None)
        self.key_position = next((index for index, name in self.positions if name == "incident_key"), None)
        # What a group's incident needs, to be read again later (see incident_cells).
        needed = {column for column, spec in COLUMNS.items() if spec.part != VICTIM} | {"date_of_death"}
        self.incident_positions = {index for index, name in self.positions if name in needed}

    def identify(self, cells: list[Any] | None) -> Identity | None:
        """The row's record id, incident key and cells' digest (None: a malformed row, read it to say why)."""
        if cells is None or self.record_position is None:
            return None
        width = len(cells)
        if width != self.width and (self.strict_width or width > self.width):
            return None
        record_id = western_digits(as_text(cells[self.record_position])) if self.record_position < width else ""
        if not record_id:
            return None
        key = ""
        if self.key_position is not None and self.key_position < width:
            key = western_digits(as_text(cells[self.key_position]))
        values = [cells[index] if index < width else "" for index in self.raw_order]
        if not all(type(value) is str for value in values):
            values = [as_text(value) for value in values]
        raw = hashlib.blake2b((self.raw_prefix + "\x1f".join(values)).encode("utf-8"), digest_size=8).hexdigest()
        return Identity(record_id, f"key:{key}" if key else f"record:{record_id}", raw)

    def incident_cells(self, cells: list[Any]) -> list[Any]:
        """Only the cells that define an incident (kept, instead of the whole row, until they are needed)."""
        return [cell if index in self.incident_positions else None for index, cell in enumerate(cells)]

    def read(self, number: int, cells: list[Any] | None) -> ParsedRow:
        row = ParsedRow(number)
        if cells is None:
            message = _("This row could not be read as CSV (for example an unclosed quote).")
            self._problem(row, "", "", "malformed_row", message)
            return row
        width = len(cells)
        if (width > self.width and any(as_text(cell) for cell in cells[self.width :])) or (
            width < self.width and self.strict_width
        ):
            self._problem(
                row,
                "",
                "",
                "cell_count",
                _("This row has %(found)s cells; the header has %(expected)s."),
                {"found": width, "expected": self.width},
            )
            return row
        present = row.cells
        for index, name in self.positions:
            if index < width:
                value = cells[index]
                if value is not None and value != "" and (not isinstance(value, str) or value.strip()):
                    present[name] = value
        self._key(row)
        self._victim(row)
        self._incident(row)
        return row

    # -- helpers

    def _problem(
        self, row: ParsedRow, column: str, value: Any, code: str, message: Promise, params: dict | None = None
    ) -> None:
        english, arabic = bilingual(message, params)
        row.problems.append(Problem(row.number, column, report_value(value), code, english, arabic))

    def _cell_problem(self, row: ParsedRow, column: str, exc: CellProblem) -> None:
        english, arabic = exc.render()
        row.problems.append(Problem(row.number, column, report_value(row.cells.get(column)), exc.code, english, arabic))

    def _reused(self, row: ParsedRow, check: Callable[[], Any], column: str) -> bool:
        found = reused_check(check)
        for _name, english, arabic in found:
            value = report_value(row.cells.get(column))
            row.problems.append(Problem(row.number, column, value, "invalid", english, arabic))
        return not found

    def _fields(self, row: ParsedRow, checks: list[tuple[str, models.Field]], values: dict[str, Any]) -> None:
        """The model fields' own validation (lengths, ranges, forbidden characters), value by value."""
        for column, model_field in checks:
            value = values.get(column)
            if value is None or value == "":
                continue
            try:
                for validator in self.validators[model_field]:
                    validator(value)
            except DjangoValidationError:
                self._reused(row, lambda value=value, model_field=model_field: model_field.clean(value, None), column)

    def _parse(self, row: ParsedRow, column: str, parser: Callable[[Any], Any]) -> Any:
        value = row.cells.get(column)
        if value is None:
            return None
        try:
            return parser(value)
        except CellProblem as exc:
            self._cell_problem(row, column, exc)
            return None

    def _date(self, row: ParsedRow, column: str, partial: bool = False):
        parsed = self._parse(row, column, lambda value: parse_date(value, partial=partial))
        if parsed is None:
            return None, None
        day, precision = parsed

        def check() -> None:
            not_in_future(day)  # the API's rules for dates, reused
            plausible_date(day)

        if not self._reused(row, check, column):
            return None, None
        return day, precision

    # -- the parts of a row

    def _key(self, row: ParsedRow) -> None:
        record_id = western_digits(as_text(row.cells.get("record_id")))
        if not record_id:
            self._problem(row, "record_id", "", "required", _("Every row needs a record_id."))
        key = western_digits(as_text(row.cells.get("incident_key")))
        if key:
            if len(key) > MAX_KEY_LENGTH:
                self._problem(
                    row, "incident_key", key, "too_long", _("At most %(limit)s characters."), {"limit": MAX_KEY_LENGTH}
                )
            else:
                self._reused(row, lambda: validate_name_text(key), "incident_key")
        if record_id:
            self._reused(row, lambda: validate_name_text(record_id), "record_id")
        row.record_id, row.incident_key = record_id, key
        row.origin_key = f"key:{key}" if key else f"record:{record_id}"

    def _victim(self, row: ParsedRow) -> None:
        cells, victim = row.cells, row.victim
        victim["name"] = as_text(cells.get("name"))
        victim["name_ar"] = as_text(cells.get("name_ar"))
        victim["identity_number"] = western_digits(as_text(cells.get("identity_number")))
        victim["sex"] = self._parse(row, "sex", self.choices["sex"].parse) or Sex.UNKNOWN
        age = victim["age_years"] = self._parse(row, "age_years", parse_integer)
        given_group = self._parse(row, "age_group", self.choices["age_group"].parse)
        status = self._parse(row, "civilian_status", self.choices["civilian_status"].parse)
        victim["civilian_status"] = status or CivilianStatus.CIVILIAN
        victim["date_of_birth"] = victim["date_of_death"] = victim["place_of_death"] = None
        if "date_of_birth" in cells:
            victim["date_of_birth"] = self._date(row, "date_of_birth")[0]
        if "date_of_death" in cells:
            victim["date_of_death"] = self._date(row, "date_of_death")[0]
        if "place_of_death" in cells:
            victim["place_of_death"] = self._parse(row, "place_of_death", self.places.resolve)
        roles: list[str] = []
        if "roles" in cells:
            for part in ROLE_SEPARATOR.split(as_text(cells["roles"])):
                if part.strip():
                    try:
                        roles.append(self.choices["roles"].parse(part))
                    except CellProblem as exc:
                        self._cell_problem(row, "roles", exc)
        victim["roles"] = tuple(sorted(set(roles)))
        if age is not None and given_group is not None:
            # The API's rule for an age group that contradicts the age, reused.
            self._reused(
                row, lambda: self.victim_check.validate({"age_years": age, "age_group": given_group}), "age_group"
            )
        victim["age_group"] = age_group_for(age, given_group or AgeGroup.UNKNOWN)
        self._fields(row, self.victim_fields, {**victim, "record_id": row.record_id})

    def _incident(self, row: ParsedRow) -> None:
        cells, incident, given = row.cells, row.incident, row.given
        occurred = precision = None
        if "occurred_on" in cells:
            occurred, precision = self._date(row, "occurred_on", partial=True)
            if occurred is not None:
                given["occurred_on"], given["date_precision"] = occurred, precision
        elif row.victim.get("date_of_death") is not None:
            occurred, precision = row.victim["date_of_death"], DatePrecision.DAY
        if "location" in cells:
            resolved = self._parse(row, "location", self.places.resolve)
            if resolved is not None:
                given["location"] = resolved
        if "perpetrator" in cells:
            resolved = self._parse(row, "perpetrator", self.parties.resolve)
            if resolved is not None:
                given["perpetrator"] = resolved
        if "weapon" in cells:
            weapon = self._parse(row, "weapon", self.choices["weapon"].parse)
            if weapon is not None:
                given["weapon"] = weapon
        if "injured_count" in cells:
            injured = self._parse(row, "injured_count", parse_integer)
            if injured is not None:
                given["injured_count"] = injured
        for column in ("title", "description"):
            if column in cells:
                given[column] = as_text(cells[column])
        incident.update(
            occurred_on=occurred,
            date_precision=precision or DatePrecision.DAY,
            location=given.get("location"),
            perpetrator=given.get("perpetrator"),
            weapon=given.get("weapon", Weapon.OTHER),
            title=given.get("title") or f"{self.source}: {row.incident_key or row.record_id}"[:300],
            description=given.get("description", ""),
            injured_count=given.get("injured_count", 0),
        )
        for column in ("location", "perpetrator", "occurred_on"):
            if incident[column] is None and column not in cells:
                row.missing.append(column)
        if given.keys() & {"title", "description", "injured_count"}:
            self._fields(row, self.incident_fields, given)
