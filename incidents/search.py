"""Search across incidents and victims: Arabic-aware (names.normalise_arabic) and typo tolerant.

Why the database folds the text, at query time: victims are also written in bulk (imports use
bulk_create, benchmarks COPY), so a normalised column kept up to date by Python in one service's save
path would be skipped by every bulk writer. Instead the folding is a database function, `arabic_fold`
(names.SQL_FUNCTION on PostgreSQL, created by migration 0007; on SQLite the Python function registered on
each connection by apps.py). Victims' names are folded by the database into stored generated columns
(`name_folded`, `name_ar_folded`: computed on every insert and update, whoever writes), so a search over a
million victims reads folded text instead of folding each candidate row again; incidents (ten times
fewer) are folded at query time. On PostgreSQL, GIN trigram indexes (pg_trgm's gin_trgm_ops) on those
columns and expressions, and one over an incident's full-text document, make searches index scans.

One query term matches a record when, for one of its fields (folded):
- the field contains the term (LIKE '%term%': trigram index on PostgreSQL), or
- the term is a near spelling of a word in it (pg_trgm `term <% field`, word similarity at or above
  SEARCH_SIMILARITY; on SQLite a Python stand-in for word_similarity), or
- (incidents) the description's full-text document holds the word (PostgreSQL only), or
- the record's place (its own name or Arabic name, folded) contains the term.
Every term of the query must match (AND). Results can be ranked by similarity to the whole query.
"""

from __future__ import annotations

from typing import Any

from django.db.models import BooleanField, Expression, F, FloatField, Func, Q, QuerySet, TextField, Value
from django.db.models.functions import Greatest
from django.db.models.lookups import Contains

from .models import Location
from .names import normalise_arabic, search_terms

# pg_trgm's word similarity a near spelling needs (its default, 0.6, misses one wrong letter in a
# five-letter name). Set on each PostgreSQL connection by apps.py as pg_trgm.word_similarity_threshold.
SEARCH_SIMILARITY = 0.45


def fold(expression: Any) -> Func:
    """The database's arabic_fold(expression): the same folding as names.normalise_arabic."""
    if isinstance(expression, str):
        expression = F(expression)
    return Func(expression, function="arabic_fold", output_field=TextField())


class WordSimilar(Func):
    """`term <% text` on PostgreSQL (uses a trigram index); word_similarity(term, text) >= threshold elsewhere."""

    output_field = BooleanField()
    arity = 2

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        term, term_params = compiler.compile(self.source_expressions[0])
        text, text_params = compiler.compile(self.source_expressions[1])
        if connection.vendor == "postgresql":
            return f"({term} <%% {text})", [*term_params, *text_params]
        return f"(word_similarity({term}, {text}) >= {SEARCH_SIMILARITY})", [*term_params, *text_params]


class Similarity(Func):
    """word_similarity(term, text): pg_trgm on PostgreSQL, names.word_similarity on SQLite."""

    function = "word_similarity"
    output_field = FloatField()
    arity = 2


class FullTextMatch(Func):
    """The incident's full-text document (title and description, folded) holds the query's words."""

    output_field = BooleanField()
    arity = 3

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:
        title, p1 = compiler.compile(self.source_expressions[0])
        description, p2 = compiler.compile(self.source_expressions[1])
        query, p3 = compiler.compile(self.source_expressions[2])
        return (
            f"(incident_search_document({title}, {description}) @@ plainto_tsquery('simple'::regconfig, {query}))",
            [*p1, *p2, *p3],
        )


def _term(term: str) -> Expression:
    return Value(term, output_field=TextField())


def _text_matches(field: str, term: str) -> Q:
    return Q(Contains(fold(field), term)) | Q(WordSimilar(_term(term), fold(field)))


def matching_place_ids(term: str, limit: int = 2000) -> list[int]:
    """Places whose name or Arabic name (folded) contains the term (the place table is small)."""
    return list(
        Location.objects.filter(Q(Contains(fold("name"), term)) | Q(Contains(fold("name_ar"), term)))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def _is_postgresql(queryset: QuerySet) -> bool:
    from django.db import connections

    return connections[queryset.db].vendor == "postgresql"


def search_incidents(queryset: QuerySet, query: str | None) -> QuerySet:
    """Incidents whose title, description or place matches every term of the query."""
    terms = search_terms(query)
    if not terms:
        return queryset
    postgresql = _is_postgresql(queryset)
    for term in terms:
        condition = _text_matches("title", term)
        if postgresql:
            condition |= Q(FullTextMatch(F("title"), F("description"), _term(term)))
        else:
            condition |= Q(Contains(fold("description"), term))
        places = matching_place_ids(term)
        if places:
            condition |= Q(location_id__in=places)
        queryset = queryset.filter(condition)
    return queryset


def _stored_matches(column: str, term: str) -> Q:
    """As _text_matches, on a column that already holds folded text (Victim.name_folded, name_ar_folded)."""
    return Q(Contains(F(column), term)) | Q(WordSimilar(_term(term), F(column)))


def search_victims(queryset: QuerySet, query: str | None) -> QuerySet:
    """Victims whose Latin or Arabic name, or place of death, matches every term of the query."""
    terms = search_terms(query)
    if not terms:
        return queryset
    for term in terms:
        condition = _stored_matches("name_folded", term) | _stored_matches("name_ar_folded", term)
        places = matching_place_ids(term)
        if places:
            condition |= Q(place_of_death_id__in=places)
        queryset = queryset.filter(condition)
    return queryset


def rank_incidents(queryset: QuerySet, query: str | None) -> QuerySet:
    folded = normalise_arabic(query)
    return queryset.annotate(search_rank=Similarity(_term(folded), fold("title"))).order_by("-search_rank", "-pk")


def rank_victims(queryset: QuerySet, query: str | None) -> QuerySet:
    folded = normalise_arabic(query)
    return queryset.annotate(
        search_rank=Greatest(
            Similarity(_term(folded), F("name_folded")), Similarity(_term(folded), F("name_ar_folded"))
        )
    ).order_by("-search_rank", "-pk")


def register_sqlite_functions(sqlite_connection: Any) -> None:
    """The SQL functions search uses, for SQLite (PostgreSQL has them from migration 0007 and pg_trgm)."""
    from .names import word_similarity

    sqlite_connection.create_function("arabic_fold", 1, normalise_arabic, deterministic=True)
    sqlite_connection.create_function("word_similarity", 2, word_similarity, deterministic=True)


def on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        register_sqlite_functions(connection.connection)
    elif connection.vendor == "postgresql":
        with connection.connection.cursor() as cursor:
            # A placeholder until pg_trgm loads in this session; pg_trgm then takes this value.
            cursor.execute(f"SET pg_trgm.word_similarity_threshold = {SEARCH_SIMILARITY}")
