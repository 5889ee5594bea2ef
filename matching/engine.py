"""The matcher: victims' features in DuckDB, blocking, Fellegi–Sunter scoring with splink, reason codes.

1. **Features** (`features`): each victim's names folded (names.py), split into parts and reduced to
   consonant keys shared by Arabic and Latin spellings; sex, age, date of birth, identity number, date and
   place of death (coordinates), incident, source list. They live in an in-memory DuckDB table, never in
   logs (identity numbers and dates of birth are compared there and only "same"/"different" comes out).
2. **Blocking** (`BLOCKING_KEYS`): only records that share one of a few keys are compared — given and
   family name, given and father's name, father's + grandfather's + family name (Arabic), the same on
   the Latin consonant keys (so an Arabic record meets its English spelling), the whole name's key, and
   the identity number. A key shared by more than `MAX_BLOCK` records is too common to tell people apart
   and is dropped for that rule (the other rules still bring true pairs together). With `new_ids`, only
   pairs with at least one new record are formed (an incremental scan).
3. **Scoring**: splink's Fellegi–Sunter model on DuckDB (`settings`), with m and u probabilities
   estimated from the two Gaza Ministry of Health releases (data/, the half file only) and stored in
   `model.json` next to this file (`bench/matching.py --train` estimates them again). The score is splink's
   match probability (0–1); a pair is *likely* at or above `THRESHOLD` (chosen on the half file for
   precision ≥ 0.99), and stored as a candidate at or above `CANDIDATE_FLOOR`.
4. **Reasons** (`reasons`): the contract's codes (docs/matching-engine.md), computed with rapidfuzz on the
   two records' features.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz.distance import JaroWinkler

from . import names
from .names import NAME_FEATURES, NAMES_VERSION  # noqa: F401 (the cache's columns and version)

logger = logging.getLogger(__name__)

MODEL_PATH = Path(__file__).with_name("model.json")
THRESHOLD = 0.995  # "likely" at or above (bench/README.md: chosen on the half file)
CANDIDATE_FLOOR = 0.2  # stored as a candidate at or above
MAX_BLOCK = 400  # a blocking key shared by more records than this is dropped for its rule
ENGINE_NAME = "splink {splink} on duckdb {duckdb}"

# The victim fields the matcher reads (engine input: one dict per victim with these keys).
INPUT_FIELDS = (
    "id",
    "name",
    "name_ar",
    "sex",
    "age",
    "dob",
    "identity_number",
    "date_of_death",
    "place_id",
    "latitude",
    "longitude",
    "incident_id",
    "source",
)

SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("src", pa.string()),
        ("ar", pa.string()),
        ("ar_ns", pa.string()),
        ("g", pa.string()),
        ("f", pa.string()),
        ("gf", pa.string()),
        ("fam", pa.string()),
        ("lat_name", pa.string()),
        ("loose", pa.string()),
        ("sk", pa.string()),
        ("sk_ns", pa.string()),
        ("sk_g", pa.string()),
        ("sk_f", pa.string()),
        ("sk_gf", pa.string()),
        ("sk_fam", pa.string()),
        ("sk_ar", pa.string()),
        ("sk_lat", pa.string()),
        ("sex", pa.string()),
        ("age", pa.int32()),
        ("dob", pa.date32()),
        ("idn", pa.string()),
        ("dod", pa.date32()),
        ("place", pa.int64()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("incident", pa.int64()),
        ("is_new", pa.bool_()),
    ]
)

# What a scan reads of each victim (scans.read_victims, the same columns by COPY or the ORM): its id and
# source list, the cached name features and whether they are current, its names, the fields compared.
READ_SCHEMA = pa.schema(
    [
        *(SCHEMA.field(name) for name in ("id", "src", *NAME_FEATURES)),
        ("cached", pa.bool_()),
        ("name", pa.string()),
        ("name_ar", pa.string()),
        *(SCHEMA.field(name) for name in SCHEMA.names[SCHEMA.names.index("sex") :]),
    ]
)
# READ_SCHEMA's rows as the feature table's (SCHEMA), the way `features` normalises one record.
FROM_READ = ", ".join(
    (
        "id",
        "coalesce(src, '') AS src",
        *NAME_FEATURES,
        "CASE WHEN sex IN ('male', 'female') THEN sex END AS sex",
        "CASE WHEN age >= 0 THEN age END AS age",
        "dob",
        "nullif(upper(trim(idn, ' \t\r\n')), '') AS idn",
        "dod",
        "place",
        "lat",
        "lon",
        "incident",
        "coalesce(is_new, true) AS is_new",
    )
)

# Blocking keys: name → SQL expression over the feature table (NULL when a part is missing).
BLOCKING_KEYS = {
    "k_g_fam": "g || '|' || fam",
    "k_g_f": "g || '|' || f",
    "k_f_gf_fam": "f || '|' || gf || '|' || fam",
    "k_g_gf_fam": "g || '|' || gf || '|' || fam",
    "k_sk_g_fam": "sk_g || '|' || sk_fam",
    "k_sk_g_f": "sk_g || '|' || sk_f",
    "k_sk_f_gf_fam": "sk_f || '|' || sk_gf || '|' || sk_fam",
    "k_sk_ns": "sk_ns",
    "k_loose": "loose",
    "k_idn": "idn",
}


def name_features(name: str | None, name_ar: str | None) -> dict[str, str | None]:
    """The NAME_FEATURES of one victim's names (what the feature cache stores)."""
    return dict(_name_features(name or "", name_ar or ""))


def _none(value: str) -> str | None:
    return value or None


@lru_cache(maxsize=100_000)
def _name_features(name: str, name_ar: str) -> dict[str, str | None]:
    # A name field may hold Arabic (some lists put it in `name`): read each by its script.
    ar_text = name_ar if names.has_arabic(name_ar) else (name if names.has_arabic(name) else "")
    lat_text = name if not names.has_arabic(name) else (name_ar if not names.has_arabic(name_ar) else "")
    ar_words = names.arabic_words(ar_text)
    lat_words = names.latin_words(lat_text)
    g, f, gf, fam = names.name_parts(ar_words)
    sk_ar = names.skeleton_words(ar_words)
    sk_lat = names.skeleton_words(lat_words)
    sk_words = sk_ar or sk_lat
    sg, sf, sgf, sfam = names.name_parts(sk_words)
    return {
        "ar": _none(" ".join(ar_words)),
        "ar_ns": _none("".join(ar_words)),
        "g": _none(g),
        "f": _none(f),
        "gf": _none(gf),
        "fam": _none(fam),
        "lat_name": _none(" ".join(lat_words)),
        "loose": _none(names.loose_key(ar_words)),
        "sk": _none(" ".join(sk_words)),
        "sk_ns": _none("".join(sk_words)),
        "sk_g": _none(sg),
        "sk_f": _none(sf),
        "sk_gf": _none(sgf),
        "sk_fam": _none(sfam),
        "sk_ar": _none(" ".join(sk_ar)),
        "sk_lat": _none(" ".join(sk_lat)),
    }


def features(record: dict[str, Any], is_new: bool = True) -> dict[str, Any]:
    """One victim's comparable features (see the module docstring)."""
    # Cached features when the scan read them (record["names"]), else computed from the names.
    name_features = record.get("names") or _name_features(record.get("name") or "", record.get("name_ar") or "")
    sex = record.get("sex") or ""
    age = record.get("age")
    return {
        "id": int(record["id"]),
        "src": record.get("source") or "",
        **name_features,
        "sex": sex if sex in ("male", "female") else None,
        "age": int(age) if age is not None and age != "" and int(age) >= 0 else None,
        "dob": _date_or_none(record.get("dob")),
        "idn": _none((record.get("identity_number") or "").strip().upper()),
        "dod": _date_or_none(record.get("date_of_death")),
        "place": record.get("place_id"),
        "lat": record.get("latitude"),
        "lon": record.get("longitude"),
        "incident": record.get("incident_id"),
        "is_new": record.get("is_new", is_new),
    }


def _date_or_none(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return _as_date(value)
    except ValueError:
        return None


# Arabic against Latin (one record has no Arabic name): the consonant keys are compared. The Ministry's
# lists pair every Arabic name with an English one, so these levels are never seen in training: set by hand.
ONE_SIDE_LATIN = "(ar_l IS NULL OR ar_r IS NULL)"
CROSS_SAME = "Arabic and Latin keys the same"
CROSS_CLOSE = "Arabic and Latin keys JW >= 0.9"
MANUAL_BY_LABEL = {CROSS_SAME: (0.6, 2e-5), CROSS_CLOSE: (0.3, 4e-4)}


# The name parts (given, father's, grandfather's, family) that both records have, and those of them that differ
# (Jaro-Winkler below 0.8: another name, not another spelling). The whole name's similarity can stay high when one
# part is another name ("محمد سعيد حسين" / "محمد حمدي حسين"); this comparison says so.
_PARTS = ("g", "f", "gf", "fam")
PARTS_NEUTRAL = ("all four parts agree", "the parts both have agree")
PARTS_BOTH = "(" + " + ".join(f"({p}_l IS NOT NULL AND {p}_r IS NOT NULL)::int" for p in _PARTS) + ")"
PARTS_DIFFERING = (
    "("
    + " + ".join(
        f"coalesce(({p}_l IS NOT NULL AND {p}_r IS NOT NULL AND jaro_winkler_similarity({p}_l, {p}_r) < 0.8)::int, 0)"
        for p in _PARTS
    )
    + ")"
)


def settings(blocking_rules: list[str]) -> dict[str, Any]:
    """The splink model: comparisons and their levels, with the trained m/u values when model.json has them."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    def name_part(column: str) -> Any:
        return cl.CustomComparison(
            output_column_name=column,
            comparison_levels=[
                cll.NullLevel(column),
                cll.ExactMatchLevel(column),
                cll.JaroWinklerLevel(column, 0.9),
                cll.ElseLevel(),
            ],
        )

    def either(column_a: str, column_b: str) -> str:
        return f'("{column_a}_l" IS NULL OR "{column_a}_r" IS NULL) AND ({column_b}_l IS NULL OR {column_b}_r IS NULL)'

    comparisons = [
        cl.CustomComparison(
            output_column_name="name",
            comparison_levels=[
                cll.CustomLevel("(ar_l IS NULL OR ar_r IS NULL) AND (sk_l IS NULL OR sk_r IS NULL)").configure(
                    is_null_level=True
                ),
                cll.CustomLevel(f"{ONE_SIDE_LATIN} AND sk_ns_l = sk_ns_r", CROSS_SAME),
                cll.CustomLevel(f"{ONE_SIDE_LATIN} AND jaro_winkler_similarity(sk_ns_l, sk_ns_r) >= 0.9", CROSS_CLOSE),
                cll.CustomLevel("ar_ns_l = ar_ns_r", "Arabic name the same"),
                cll.CustomLevel("jaro_winkler_similarity(ar_ns_l, ar_ns_r) >= 0.96", "Arabic JW >= 0.96"),
                cll.CustomLevel("jaro_winkler_similarity(ar_ns_l, ar_ns_r) >= 0.92", "Arabic JW >= 0.92"),
                cll.CustomLevel("sk_ns_l = sk_ns_r", "keys the same"),
                cll.CustomLevel("loose_l = loose_r", "the same but for letters lost in extraction"),
                cll.CustomLevel("jaro_winkler_similarity(ar_ns_l, ar_ns_r) >= 0.85", "Arabic JW >= 0.85"),
                cll.CustomLevel("jaro_winkler_similarity(sk_ns_l, sk_ns_r) >= 0.9", "keys JW >= 0.9"),
                cll.ElseLevel(),
            ],
        ),
        name_part("g"),
        name_part("fam"),
        cl.CustomComparison(
            output_column_name="parts",
            comparison_levels=[
                cll.CustomLevel("ar_l IS NULL OR ar_r IS NULL OR g_l IS NULL OR g_r IS NULL").configure(
                    is_null_level=True
                ),
                cll.CustomLevel(f"{PARTS_DIFFERING} = 0 AND {PARTS_BOTH} = 4", "all four parts agree"),
                cll.CustomLevel(f"{PARTS_DIFFERING} = 0", "the parts both have agree"),
                cll.CustomLevel(f"{PARTS_DIFFERING} = 1", "one part differs"),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="sex",
            comparison_levels=[cll.NullLevel("sex"), cll.ExactMatchLevel("sex"), cll.ElseLevel()],
        ),
        cl.CustomComparison(
            output_column_name="age",
            comparison_levels=[
                cll.NullLevel("age"),
                cll.ExactMatchLevel("age"),
                cll.CustomLevel("abs(age_l - age_r) <= 1", "a year apart"),
                cll.CustomLevel("abs(age_l - age_r) <= 3", "up to 3 years apart"),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="dob",
            comparison_levels=[cll.NullLevel("dob"), cll.ExactMatchLevel("dob"), cll.ElseLevel()],
        ),
        cl.CustomComparison(
            output_column_name="idn",
            comparison_levels=[cll.NullLevel("idn"), cll.ExactMatchLevel("idn"), cll.ElseLevel()],
        ),
        cl.CustomComparison(
            output_column_name="dod",
            comparison_levels=[
                cll.NullLevel("dod"),
                cll.ExactMatchLevel("dod"),
                cll.CustomLevel("abs(date_diff('day', dod_l, dod_r)) <= 3", "up to 3 days apart"),
                cll.CustomLevel("abs(date_diff('day', dod_l, dod_r)) <= 31", "up to a month apart"),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="place",
            comparison_levels=[
                cll.CustomLevel("(lat_l IS NULL OR lat_r IS NULL) AND (place_l IS NULL OR place_r IS NULL)").configure(
                    is_null_level=True
                ),
                cll.CustomLevel("place_l = place_r", "same place"),
                cll.DistanceInKMLevel("lat", "lon", 5),
                cll.DistanceInKMLevel("lat", "lon", 25),
                cll.ElseLevel(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="incident",
            comparison_levels=[cll.NullLevel("incident"), cll.ExactMatchLevel("incident"), cll.ElseLevel()],
        ),
    ]
    from splink import SettingsCreator

    creator = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="id",
        blocking_rules_to_generate_predictions=blocking_rules,
        comparisons=comparisons,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
        additional_columns_to_retain=[],
        probability_two_random_records_match=1e-5,
    )
    return creator


@dataclass
class ScoredPair:
    a: int
    b: int
    score: float
    likely: bool
    reasons: list[dict[str, Any]]


def one_partner_per_list(pairs: list[ScoredPair], sources: dict[int, str]) -> None:
    """A person appears once in a list: between two different source lists, a record's likely partner is its
    best-scoring one in the other list, and only when that best is unique. A likely pair that is not the best
    of both its records in the other's list, or ties with another partner there, stays a candidate (not
    likely): the matcher cannot tell which of the two is the person, a reviewer can. Pairs inside one list,
    and pairs with a record typed in (no source list), keep their flag."""
    best: dict[tuple[int, str], float] = {}
    ties: dict[tuple[int, str], int] = defaultdict(int)

    def keys(pair: ScoredPair) -> tuple[tuple[int, str], tuple[int, str]] | None:
        src_a, src_b = sources.get(pair.a, ""), sources.get(pair.b, "")
        if not pair.likely or not src_a or not src_b or src_a == src_b:
            return None
        return (pair.a, src_b), (pair.b, src_a)

    for pair in pairs:
        for key in keys(pair) or ():
            if pair.score > best.get(key, -1.0):
                best[key], ties[key] = pair.score, 1
            elif pair.score == best[key]:
                ties[key] += 1
    for pair in pairs:
        found = keys(pair)
        if found and any(pair.score < best[key] or ties[key] > 1 for key in found):
            pair.likely = False


def _with_current_features(table: pa.Table) -> pa.Table:
    """`table` with the name features of the rows whose cache was not current (`cached` false) folded again."""
    stale = pc.invert(pc.fill_null(table.column("cached"), False))
    if not pc.any(stale).as_py():
        return table
    rows = pc.indices_nonzero(stale).to_pylist()
    names, names_ar = table.column("name").to_pylist(), table.column("name_ar").to_pylist()
    columns = {key: table.column(key).to_pylist() for key in NAME_FEATURES}
    for row in rows:
        folded = _name_features(names[row] or "", names_ar[row] or "")
        for key in NAME_FEATURES:
            columns[key][row] = folded[key]
    for key in NAME_FEATURES:
        table = table.set_column(table.schema.get_field_index(key), key, pa.array(columns[key], pa.string()))
    return table


class Matcher:
    """Features of the victims to compare, in one DuckDB connection; `pairs()` scores the blocked pairs."""

    def __init__(self, memory_limit: str = "2GB", threads: int = 2) -> None:
        self.con = duckdb.connect(":memory:", config={"memory_limit": memory_limit, "threads": threads})
        self.count = 0
        self._created = False
        self.pairs_compared = 0

    def add(self, records: Iterable[dict[str, Any]], is_new: bool = True) -> int:
        """Add victims (dicts with INPUT_FIELDS); returns how many."""
        rows = [features(record, is_new) for record in records]
        if not rows:
            return 0
        batch = pa.Table.from_pylist(rows, schema=SCHEMA)
        self.con.register("batch_view", batch)
        if not self._created:
            self.con.execute("CREATE TABLE f AS SELECT * FROM batch_view")
            self._created = True
        else:
            self.con.execute("INSERT INTO f SELECT * FROM batch_view")
        self.con.unregister("batch_view")
        self.count += len(rows)
        return len(rows)

    def add_table(self, table: pa.Table) -> int:
        """Add victims as read by a scan (an Arrow table of READ_SCHEMA); the names of those whose cached
        features are not current are folded here. Returns how many of them are new (`is_new`)."""
        if not table.num_rows:
            return 0
        table = _with_current_features(table)
        self.con.register("read_view", table)
        select = f"SELECT {FROM_READ} FROM read_view"  # noqa: S608 (our own columns)
        if not self._created:
            self.con.execute(f"CREATE TABLE f AS {select}")
            self._created = True
        else:
            self.con.execute(f"INSERT INTO f {select}")
        self.con.unregister("read_view")
        self.count += table.num_rows
        return int(pc.sum(table.column("is_new")).as_py() or 0)

    def _prepare(self, incremental: bool) -> list[str]:
        """Blocking key columns (common keys dropped) and splink's blocking rules."""
        selects = []
        for key, expression in BLOCKING_KEYS.items():
            selects.append(f"{expression} AS {key}")
        self.con.execute(f"CREATE OR REPLACE TABLE fb AS SELECT *, {', '.join(selects)} FROM f")  # noqa: S608
        for key in BLOCKING_KEYS:
            self.con.execute(
                f"UPDATE fb SET {key} = NULL WHERE {key} IN "  # noqa: S608 (our own column names)
                f"(SELECT {key} FROM fb WHERE {key} IS NOT NULL GROUP BY {key} HAVING count(*) > {MAX_BLOCK})"
            )
        if incremental:
            # Only what a new record can meet: the new records and those sharing one of their keys (the common
            # keys were dropped above over all records, as a full scan drops them).
            shared = " OR ".join(
                f"{key} IN (SELECT {key} FROM fb WHERE is_new AND {key} IS NOT NULL)"  # noqa: S608 (our columns)
                for key in BLOCKING_KEYS
            )
            self.con.execute(f"CREATE OR REPLACE TABLE fb AS SELECT * FROM fb WHERE is_new OR {shared}")  # noqa: S608
        extra = " AND (l.is_new OR r.is_new)" if incremental else ""
        return [f"l.{key} = r.{key}{extra}" for key in BLOCKING_KEYS]

    def pairs(self, incremental: bool = False, floor: float = CANDIDATE_FLOOR) -> Iterator[ScoredPair]:
        """Score every blocked pair; yield those at or above `floor`, with their reasons."""
        if not self._created or self.count < 2:
            return
        from splink import DuckDBAPI, Linker

        rules = self._prepare(incremental)
        db_api = DuckDBAPI(connection=self.con)
        table = db_api.register("fb", table_name="victims")
        model = load_model(rules)
        logging.getLogger("splink").setLevel(logging.WARNING)  # its INFO lines are timings, not for our logs
        linker = Linker(table, model, log_level=None)
        predictions = linker.inference.predict(threshold_match_probability=floor)
        self.pairs_compared = self.count_blocked(rules)
        name = predictions.physical_name
        columns = ", ".join(f"l.{c}, r.{c}" for c in REASON_COLUMNS)
        sql = f"SELECT p.id_l, p.id_r, p.match_probability, {columns} FROM {name} p"  # noqa: S608
        cursor = self.con.execute(sql + " JOIN f l ON l.id = p.id_l JOIN f r ON r.id = p.id_r")
        scored: list[ScoredPair] = []
        sources: dict[int, str] = {}
        while batch := cursor.fetchmany(5000):
            for row in batch:
                a, b, probability = row[0], row[1], float(row[2])
                left = {c: row[3 + 2 * i] for i, c in enumerate(REASON_COLUMNS)}
                right = {c: row[4 + 2 * i] for i, c in enumerate(REASON_COLUMNS)}
                if a > b:
                    a, b, left, right = b, a, right, left
                score = round(probability, 4)
                if score >= THRESHOLD:
                    sources[a], sources[b] = left["src"] or "", right["src"] or ""
                scored.append(ScoredPair(a, b, score, score >= THRESHOLD, reasons(left, right)))
        one_partner_per_list(scored, sources)
        yield from scored

    def count_blocked(self, rules: list[str]) -> int:
        """How many distinct pairs the blocking rules form (what is compared)."""
        joins = " UNION ".join(
            f"SELECT l.id AS a, r.id AS b FROM fb l JOIN fb r ON {rule} AND l.id < r.id"  # noqa: S608
            for rule in rules
        )
        return self.con.execute(f"SELECT count(*) FROM ({joins})").fetchone()[0]  # noqa: S608

    def close(self) -> None:
        self.con.close()


REASON_COLUMNS = ("src", "ar", "g", "f", "gf", "fam", "lat_name", "sk", "sk_ar", "sk_lat", "sex", "age", "dob",
                  "idn", "dod", "place", "lat", "lon", "incident")  # fmt: skip


def load_model(rules: list[str]) -> dict[str, Any]:
    """The trained model (model.json) with this scan's blocking rules; the untrained settings without it."""
    creator = settings(rules)
    if not MODEL_PATH.exists():
        return creator
    model = json.loads(MODEL_PATH.read_text())
    model["blocking_rules_to_generate_predictions"] = [{"blocking_rule": r, "sql_dialect": "duckdb"} for r in rules]
    return model


def engine_name() -> str:
    import splink

    return ENGINE_NAME.format(splink=splink.__version__, duckdb=duckdb.__version__)


def _similarity(a: str, b: str) -> float:
    return round(JaroWinkler.similarity(a.replace(" ", ""), b.replace(" ", "")), 2)


def _parts_matched(left: dict[str, Any], right: dict[str, Any], keys: tuple[str, ...]) -> tuple[int, int]:
    matched = total = 0
    for key in keys:
        x, y = left.get(key), right.get(key)
        if x and y:
            total += 1
            if x == y or JaroWinkler.similarity(x, y) >= 0.9:
                matched += 1
    return matched, total


def _km(left: dict[str, Any], right: dict[str, Any]) -> float | None:
    if None in (left.get("lat"), left.get("lon"), right.get("lat"), right.get("lon")):
        return None
    la1, lo1, la2, lo2 = map(math.radians, (left["lat"], left["lon"], right["lat"], right["lon"]))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(min(1.0, h)))


def reasons(left: dict[str, Any], right: dict[str, Any]) -> list[dict[str, Any]]:
    """What matched and what differed between two records' features, as the contract's reason codes.

    Identity numbers and dates of birth only ever give "same"/"differs"."""
    out: list[dict[str, Any]] = []
    if left.get("ar") and right.get("ar"):
        out.extend(_name_reasons(left, right, "ar", "ar", ("g", "f", "gf", "fam")))
    if left.get("lat_name") and right.get("lat_name"):
        out.extend(_name_reasons(left, right, "latin", "lat_name", ()))
    if not (left.get("ar") and right.get("ar")) and not (left.get("lat_name") and right.get("lat_name")):
        # Only an Arabic name on one side and a Latin one on the other: compare the consonant keys.
        a = left.get("sk_ar") or left.get("sk_lat")
        b = right.get("sk_lat") or right.get("sk_ar")
        if a and b:
            out.append({"code": "name_translit", "similarity": _similarity(a, b)})
    if left.get("sex") and right.get("sex"):
        out.append({"code": "sex_same" if left["sex"] == right["sex"] else "sex_differs"})
    if left.get("age") is not None and right.get("age") is not None:
        out.append({"code": "ages", "a": int(left["age"]), "b": int(right["age"])})
    if left.get("dob") and right.get("dob"):
        out.append({"code": "birth_date_same" if left["dob"] == right["dob"] else "birth_date_differs"})
    if left.get("idn") and right.get("idn"):
        out.append({"code": "identity_same" if left["idn"] == right["idn"] else "identity_differs"})
    if left.get("dod") and right.get("dod"):
        days = abs((_as_date(left["dod"]) - _as_date(right["dod"])).days)
        out.append({"code": "death_date_same"} if days == 0 else {"code": "death_dates", "days": days})
    if left.get("place") is not None and left.get("place") == right.get("place"):
        out.append({"code": "place_same"})
    else:
        km = _km(left, right)
        if km is not None:
            out.append({"code": "places_km", "km": round(km, 1) if km < 10 else round(km)})
    if left.get("incident") is not None and left.get("incident") == right.get("incident"):
        out.append({"code": "incident_same"})
    if left.get("src") != right.get("src"):
        out.append({"code": "sources", "a": left.get("src") or "", "b": right.get("src") or ""})
    return out


def _name_reasons(left, right, script: str, column: str, parts: tuple[str, ...]) -> list[dict[str, Any]]:
    if left[column] == right[column]:
        return [{"code": "name_same", "script": script}]
    similarity = _similarity(left[column], right[column])
    out: list[dict[str, Any]] = []
    if similarity >= 0.8:
        out.append({"code": "name_similar", "script": script, "similarity": similarity})
    else:
        out.append({"code": "name_differs", "script": script})
    if parts:
        matched, total = _parts_matched(left, right, parts)
        if total:
            out.append({"code": "name_parts", "script": script, "matched": matched, "total": total})
    return out


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


# m/u of what the Ministry's lists do not hold (identity numbers are hidden from training, dates and places of
# death and incidents absent): set by hand, in the order of the comparison's levels after its NULL level.
MANUAL_LEVELS = {
    "idn": [(0.95, 1e-6), (0.05, 1 - 1e-6)],
    "dod": [(0.7, 0.003), (0.15, 0.01), (0.08, 0.08), (0.07, 0.907)],
    "place": [(0.6, 0.02), (0.2, 0.05), (0.1, 0.2), (0.1, 0.73)],
    "incident": [(0.5, 0.01), (0.5, 0.99)],
}


def train(matcher: Matcher, labels: dict[int, str], seed: int = 1) -> dict[str, Any]:
    """Estimate the model: u by random sampling, m from labelled pairs (same label = same person), the
    prior from exact-name-and-age pairs; the levels the data cannot show from MANUAL_LEVELS. Returns the
    model (a splink settings dict) for model.json."""
    from splink import DuckDBAPI, Linker

    rules = matcher._prepare(False)
    labelled = pa.table({"lid": list(labels), "truth": list(labels.values())})
    matcher.con.register("labelled", labelled)
    matcher.con.execute(
        "CREATE OR REPLACE TABLE fb AS SELECT fb.*, labelled.truth FROM fb LEFT JOIN labelled ON lid = id"
    )
    db_api = DuckDBAPI(connection=matcher.con)
    table = db_api.register("fb", table_name="victims")
    linker = Linker(table, settings(rules), log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(["l.ar_ns = r.ar_ns AND l.age = r.age"], recall=0.6)
    linker.training.estimate_u_using_random_sampling(max_pairs=3e6, seed=seed)
    linker.training.estimate_m_from_label_column("truth")
    model = linker.misc.save_model_to_json(out_path=None)
    for comparison in model["comparisons"]:
        levels = [level for level in comparison["comparison_levels"] if not level.get("is_null_level")]
        for level, (m, u) in zip(levels, MANUAL_LEVELS.get(comparison["output_column_name"], []), strict=False):
            level["m_probability"], level["u_probability"] = m, u
        for level in levels:
            if level.get("label_for_charts") in MANUAL_BY_LABEL:
                level["m_probability"], level["u_probability"] = MANUAL_BY_LABEL[level["label_for_charts"]]
        for level in levels:
            if level.get("label_for_charts") in PARTS_NEUTRAL:
                # Agreeing parts repeat what the whole name already says: counting them again would make
                # every same-name pair more certain. Only a part that is another name weighs (against).
                level["m_probability"] = level["u_probability"] = 0.5
        for level in levels:  # a level never seen in training: neither for nor against
            level["m_probability"] = level.get("m_probability") or 1e-4
            level["u_probability"] = level.get("u_probability") or 1e-4
    model["blocking_rules_to_generate_predictions"] = []
    model.pop("linker_uid", None)
    return model
