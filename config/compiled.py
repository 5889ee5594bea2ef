"""A list's SQL compiled once per filter signature: the same signature, the same SQL text with new params.

Building a list's queryset (visibility, the filter form, the filters) and compiling it to SQL was the
largest part of a warm list request's CPU (bench/README.md, figure 3). A `CompiledList` holds what the
ORM produced for one list and filter signature — the page's SQL with its LIMIT and OFFSET as parameters,
the row names and converters of `.values()`, and the probe, count and `EXPLAIN` statements of the
paginator — and reads any page of it without building or compiling anything.

Never a stale result: only the SQL is kept, never rows or counts, and the SQL depends on

- the request's path and every query parameter but the page's (`signature`): in the key;
- who asks: the user's id, `is_active`, `is_superuser` and every permission they hold (what each list's
  `visible_to` reads; a role taken away changes the permissions, so the next request misses): in the key;
- place and party subtrees (the ids below a chosen place, read by `subtree_ids`): each look-up made while
  the list was compiled is recorded with its answer, and repeated on every request (the same one
  statement as before); a different answer — a place added, moved or removed — compiles the list afresh.

A request whose filters are invalid never reaches the cache (its 400 is raised while compiling, exactly
as before); a search (`?search=`) is never kept. Kept per process, at most `KEPT` lists, least recently
used first out. `API_COMPILED_LISTS=0` turns it off.

On PostgreSQL a page's statement is also prepared on the database connection (`API_PREPARED_LISTS`): the
statement with its values written in, exactly the text Django's client-side binding sends, is parsed and
planned once per connection and page and then executed by name, through Django's cursor wrapper (execute
wrappers, the query log and Django's error mapping see it as before). Having no parameters, its plan is
the one PostgreSQL would make for that text anyway, and PostgreSQL plans it again after any change to the
tables or their statistics. psycopg keeps at most `prepared_max` (100) per connection, least recently used
first out. Only the page is prepared; the probe, the count and the `EXPLAIN` run once per 30 s.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.db.models.query import ValuesIterable, ValuesListIterable

KEPT = 1024
PAGES_WRITTEN = 64  # per kept list: the pages whose statement text is kept (then written afresh)

# Page bounds compiled as recognisable literals (Django writes LIMIT and OFFSET into the SQL text), then
# turned into parameters. Far beyond any page a list serves; each must appear in the text as Django wrote it.
_START = 900_000_000_000_011
_SIZE = 7_000_000_000_013
_STOP = _START + _SIZE
_TOKENS = re.compile(rf"%%|%s|\b(?:{_START}|{_SIZE}|{_STOP})\b")

# Subtree look-ups made while a list is compiled: [(model, root ids, found ids)].
_recorded_subtrees: contextvars.ContextVar[list | None] = contextvars.ContextVar("recorded_subtrees", default=None)


def record_subtree(model: type, roots: tuple[int, ...], found: set[int]) -> None:
    """Called by `TreeQuerySet.subtree_ids`: while a list compiles, what its SQL was built from."""
    recorded = _recorded_subtrees.get()
    if recorded is not None:
        recorded.append((model, roots, frozenset(found)))


@contextlib.contextmanager
def recording_subtrees() -> Iterator[list]:
    recorded: list = []
    token = _recorded_subtrees.set(recorded)
    try:
        yield recorded
    finally:
        _recorded_subtrees.reset(token)


def enabled() -> bool:
    return bool(getattr(settings, "API_COMPILED_LISTS", True))


def prepared_enabled(connection: BaseDatabaseWrapper) -> bool:
    """Whether pages are prepared on this connection: PostgreSQL with psycopg 3, API_PREPARED_LISTS on."""
    return (
        connection.vendor == "postgresql"
        and bool(getattr(settings, "API_PREPARED_LISTS", True))
        and _preparing_cursor_class() is not None
    )


_PREPARING: list[type | None] = []


def _preparing_cursor_class() -> type | None:
    """A psycopg cursor that binds on the server and prepares every statement it executes (None without
    psycopg 3). Subclasses Django's own server-binding cursor class, so nothing else about it differs."""
    if not _PREPARING:
        try:
            from django.db.backends.postgresql.base import ServerBindingCursor
        except ImportError:  # psycopg2: no server-side binding
            _PREPARING.append(None)
        else:

            class PreparingCursor(ServerBindingCursor):
                def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None, **kwargs: Any):
                    done = super().execute(query, params, prepare=True, **kwargs)
                    if self._query is None:  # executed by name: the query Django's debug log reads of it
                        self._query = self._convert_query(query, params)
                    return done

            _PREPARING.append(PreparingCursor)
    return _PREPARING[0]


@contextlib.contextmanager
def preparing_cursor(connection: BaseDatabaseWrapper) -> Iterator[Any]:
    """Django's cursor wrapper, as `connection.cursor()` gives it, around a cursor that prepares.

    As `BaseDatabaseWrapper._cursor` builds one (health check, connection, Django's error mapping, the
    time zone of `create_cursor`); execute wrappers and the debug query log see its statements as any.
    Its rows are what Django's cursor would give (timestamps: see below)."""
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, Format, register_tzloader
    from psycopg import adapters as psycopg_adapters

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = _preparing_cursor_class()(connection.connection)
        if connection.timezone is datetime.UTC and connection.timezone_name == "UTC":
            # The session's zone is UTC: psycopg's own timestamptz loader (compiled, with psycopg's binary
            # package) gives the very datetimes Django's gives — aware, tzinfo `timezone.utc` — in a
            # twentieth of the time (Django's subclasses psycopg's pure-Python one to set the zone after).
            raw.adapters.register_loader(TIMESTAMPTZ_OID, psycopg_adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT))
        else:
            loader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
            if connection.timezone != loader.timezone:
                register_tzloader(connection.timezone, raw)
    cursor = connection._prepare_cursor(raw)
    try:
        yield cursor
    finally:
        cursor.close()


def _parametrised(sql: str, params: tuple) -> tuple[str, list[Any]] | None:
    """The SQL with the page-bound literals as `%s`, and the parameter list as a template (the bounds as
    the markers "start", "size", "stop"). None when a bound is missing (nothing to keep)."""
    values = iter(params)
    template: list[Any] = []
    seen: set[str] = set()

    def replace(match: re.Match) -> str:
        found = match.group(0)
        if found == "%%":
            return found
        if found == "%s":
            template.append(("param", next(values)))
            return found
        name = {str(_START): "start", str(_SIZE): "size", str(_STOP): "stop"}[found]
        seen.add(name)
        template.append((name, None))
        return "%s"

    text = _TOKENS.sub(replace, sql)
    if "size" not in seen or next(values, _TOKENS) is not _TOKENS:
        return None
    return text, template


class CompiledList:
    """One list's statements for one filter signature, read with new page bounds (see the module docstring).

    `page(start, stop)` builds the sliced queryset for a page (a plain list: `queryset[start:stop]`;
    the review queue slices each branch); `whole` is the unsliced queryset (count, probe, estimate).
    """

    ordered = True  # Django's paginator warns about unordered lists; the page's SQL carries its order

    def __init__(self, whole: QuerySet, page: Callable[[int, int], QuerySet]) -> None:
        self.db = whole.db
        connection = connections[self.db]
        sliced = page(_START, _STOP)
        compiler = sliced.query.get_compiler(using=self.db)
        sql, params = compiler.as_sql()  # EmptyResultSet: a list that can hold nothing (not kept)
        template = _parametrised(sql, tuple(params))
        if template is None:
            raise ValueError("page bounds not found in the compiled SQL")
        self.sql, self.template = template
        query = sliced.query
        # As ValuesIterable / ValuesListIterable read a row: names, the converters, extra columns cut off.
        if sliced._iterable_class not in (ValuesIterable, ValuesListIterable):
            raise ValueError("only .values() and .values_list() lists are compiled")
        self.as_dicts = sliced._iterable_class is ValuesIterable
        if query.selected:
            self.names = list(query.selected)
        else:
            self.names = [*query.extra_select, *query.values_select, *query.annotation_select]
        fields = [column[0] for column in compiler.select[0 : compiler.col_count]]
        self.converters = list(compiler.get_converters(fields).items())
        self.col_count = compiler.col_count
        self.cut = compiler.has_extra_select
        unordered = whole.order_by()
        whole_sql, whole_params = unordered.query.sql_with_params()
        # As EstimatingPaginator reads a list: the probe over the ids (a union: its rows), the count and
        # the EXPLAIN over the list itself.
        probed = unordered if whole.query.combinator else unordered.values("pk")
        probe_sql, probe_params = probed.query.sql_with_params()
        self.probe_sql = f"SELECT 1 FROM ({probe_sql}) probed LIMIT 1 OFFSET %s"  # noqa: S608 (compiled SQL)
        self.probe_params = tuple(probe_params)
        self.count_sql = f"SELECT COUNT(*) FROM ({whole_sql}) counted"  # noqa: S608 (compiled SQL)
        self.whole_sql, self.whole_params = whole_sql, tuple(whole_params)
        self.vendor = connection.vendor
        self._texts: dict[tuple[int, int], str] = {}  # (start, stop) → the page's statement, values written in

    # --- what the paginator reads ---

    def rows(self, start: int, stop: int) -> list[Any]:
        bounds = {"start": start, "size": stop - start, "stop": stop}
        params = [value if kind == "param" else bounds[kind] for kind, value in self.template]
        connection = connections[self.db]
        if prepared_enabled(connection):
            # The text Django would send (client-side binding), prepared once per connection and page.
            text = self._texts.get((start, stop))
            if text is None:
                if len(self._texts) >= PAGES_WRITTEN:
                    self._texts.clear()
                text = self._texts[(start, stop)] = connection.ops.compose_sql(self.sql, params)
            with preparing_cursor(connection) as cursor:
                cursor.execute(text)
                rows = cursor.fetchall()
        else:
            with connection.cursor() as cursor:
                cursor.execute(self.sql, params)
                rows = cursor.fetchall()
        if self.cut:
            rows = [row[: self.col_count] for row in rows]
        if self.converters:  # as SQLCompiler.apply_converters, with this thread's connection
            connection = connections[self.db]
            converted = []
            for row in rows:
                row = list(row)
                for position, (functions, expression) in self.converters:
                    value = row[position]
                    for function in functions:
                        value = function(value, expression, connection)
                    row[position] = value
                converted.append(row)
            rows = converted
        if not self.as_dicts:
            return [tuple(row) for row in rows]
        names = self.names
        return [dict(zip(names, row, strict=False)) for row in rows]

    def count(self) -> int:
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.count_sql, self.whole_params)
            return int(cursor.fetchone()[0])

    def exists_at(self, offset: int) -> bool:
        """Whether the list has a row at `offset` (0-based)."""
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.probe_sql, [*self.probe_params, offset])
            return cursor.fetchone() is not None

    def planner_estimate(self) -> int:
        with connections[self.db].cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {self.whole_sql}", self.whole_params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])


class KeptLists:
    """Per-process LRU of CompiledList by key, each with the subtree look-ups it was built from."""

    def __init__(self, size: int = KEPT) -> None:
        self.size = size
        self._lists: OrderedDict[tuple, tuple[CompiledList, list]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> CompiledList | None:
        with self._lock:
            found = self._lists.get(key)
            if found is None:
                return None
            self._lists.move_to_end(key)
        compiled, subtrees = found
        for model, roots, ids in subtrees:  # the tree may have changed since: the same answer, or compile again
            if frozenset(model.objects.subtree_ids(roots)) != ids:
                self.forget(key)
                return None
        return compiled

    def keep(self, key: tuple, compiled: CompiledList, subtrees: list) -> None:
        with self._lock:
            self._lists[key] = (compiled, subtrees)
            self._lists.move_to_end(key)
            while len(self._lists) > self.size:
                self._lists.popitem(last=False)

    def forget(self, key: tuple) -> None:
        with self._lock:
            self._lists.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._lists.clear()

    def __len__(self) -> int:
        return len(self._lists)


KEPT_LISTS = KeptLists()


def forget_compiled_lists() -> None:
    KEPT_LISTS.clear()


PAGING = frozenset({"page", "page_size", "format"})


def user_signature(user: Any) -> tuple:
    """What a list's visibility reads of its user: id, flags, every permission (a role change misses)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return (None,)
    if user.is_superuser:
        return (user.pk, user.is_active, True)
    return (user.pk, user.is_active, False, tuple(sorted(user.get_all_permissions())))


def list_key(request: Any, name: str, uncacheable: frozenset[str] = frozenset({"search"})) -> tuple | None:
    """The list and filter signature of a DRF request (None: not kept, e.g. a search)."""
    params = request.query_params
    if uncacheable & set(params):
        return None
    filters = tuple(sorted((key, tuple(values)) for key, values in params.lists() if key not in PAGING))
    return (name, request.path, user_signature(request.user), filters)


def compiled_list(
    key: tuple | None, build: Callable[[], tuple[QuerySet, Callable[[int, int], QuerySet]]]
) -> tuple[CompiledList | None, QuerySet | None]:
    """The kept CompiledList for `key`, else `build()` (which validates the filters: a 400 raises from
    it) compiled and kept. Returns (compiled, None), or (None, queryset) when it cannot be kept."""
    if key is None or not enabled():
        return None, build()[0]
    compiled = KEPT_LISTS.get(key)
    if compiled is not None:
        return compiled, None
    with recording_subtrees() as subtrees:
        whole, page = build()
    if any(model is None for model, _roots, _ids in subtrees):
        return None, whole
    try:
        compiled = CompiledList(whole, page)
    except (EmptyResultSet, ValueError):
        return None, whole
    KEPT_LISTS.keep(key, compiled, list(subtrees))
    return compiled, None
