"""The offence map: offence code or description -> category, VAWG flags and harm weight.

Resolution for one offence event, first match wins:

1. the user's map, ``pattern_type = code`` (the warehouse ``offence_map`` table and/or a CSV);
2. the built-in code list (``data/offence_codes.csv``);
3. the user's map, ``pattern_type = regex`` on ``offence_description`` (case-insensitive);
4. the built-in description patterns (``data/description_patterns.csv``, by priority).

Then the event refines the category: a violence category with the event's ``domestic`` flag
becomes ``domestic_violence_with_injury`` / ``..._without_injury``; a violence or threats code
whose description says "honour-based" becomes ``honour_based_abuse``; a violence code whose
description names female genital mutilation becomes ``fgm``.

An offence nothing matches is written with category ``unmapped`` and no weight (NULL), never
zero, and is listed by :func:`unmapped_offences` with its count.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources
from typing import Any
from pathlib import Path

import duckdb
import pandas as pd

from harmlens.engine import Engine, as_engine
from harmlens.harm.errors import HarmError
from harmlens.harm.weights import WeightTable, canonical_code, load_weight_table
from harmlens.userregex import UnsupportedPattern, compile_user_regex

VAWG_RULES = ("always", "never", "domestic", "domestic_or_female_victim")
DOMESTIC_RULES = ("always", "event")
UNMAPPED = "unmapped"

_HONOUR = re.compile(r"honou?r[\s\-]*based", re.I)
_FGM = re.compile(r"genital\s+mutilation|\bfgm\b", re.I)
_VIOLENCE = ("violence_with_injury", "violence_without_injury")
_DOMESTIC_OF = {
    "violence_with_injury": "domestic_violence_with_injury",
    "violence_without_injury": "domestic_violence_without_injury",
}


@dataclass(frozen=True)
class Category:
    category: str
    label: str
    base_category: str
    harm_subgroup: str | None
    vawg_rule: str
    domestic_rule: str
    sexual: bool
    violent: bool
    gravity: int


@dataclass(frozen=True)
class Rule:
    """One resolved mapping rule (a code or a pattern) before the event refines it."""

    category: str
    harm_subgroup: str | None
    mapped_by: str  # user_code | builtin_code | user_regex | builtin_regex
    pattern: str
    vawg_rule: str | None = None
    domestic_rule: str | None = None
    sexual: bool | None = None
    violent: bool | None = None
    harm_weight: float | None = None
    gravity: int | None = None


def _read_data(name: str) -> pd.DataFrame:
    with resources.files("harmlens.harm.data").joinpath(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def _b(v: object) -> bool | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("true", "t", "1", "yes", "y"):
        return True
    if s in ("false", "f", "0", "no", "n"):
        return False
    if s == "":
        return None
    raise ValueError(f"not a boolean: {v!r}")


@lru_cache(maxsize=1)
def builtin_categories() -> dict[str, Category]:
    """The harmlens categories with their flags, default CCHI subgroup and RFG gravity (1-5)."""
    df = _read_data("categories.csv")
    return {
        r.category: Category(
            r.category, r.label, r.base_category, r.harm_subgroup or None, r.vawg_rule, r.domestic_rule,
            bool(_b(r.sexual)), bool(_b(r.violent)), int(r.gravity),
        )
        for r in df.itertuples(index=False)
    }


@lru_cache(maxsize=1)
def builtin_codes() -> dict[str, Rule]:
    df = _read_data("offence_codes.csv")
    out: dict[str, Rule] = {}
    for r in df.itertuples(index=False):
        out[canonical_code(r.code)] = Rule(
            r.category, r.harm_subgroup or None, "builtin_code", r.code,
            vawg_rule=r.vawg_rule or None, domestic_rule=r.domestic_rule or None,
        )
    return out


@lru_cache(maxsize=1)
def builtin_patterns() -> tuple[tuple[re.Pattern[str], Rule], ...]:
    df = _read_data("description_patterns.csv")
    df = df.assign(priority=df["priority"].astype(int)).sort_values("priority")
    return tuple(
        (re.compile(r.pattern, re.I), Rule(r.category, r.harm_subgroup or None, "builtin_regex", r.pattern))
        for r in df.itertuples(index=False)
    )


def builtin_map_frame() -> pd.DataFrame:
    """The built-in map as one table (codes then patterns), for docs and ``harmlens harm map``."""
    cats = builtin_categories()
    rows = []
    for code, rule in builtin_codes().items():
        rows.append(("code", rule.pattern, rule.category, rule.harm_subgroup, cats[rule.category].vawg_rule if not rule.vawg_rule else rule.vawg_rule))
    for _rx, rule in builtin_patterns():
        rows.append(("regex", rule.pattern, rule.category, rule.harm_subgroup, cats[rule.category].vawg_rule))
    return pd.DataFrame(rows, columns=["pattern_type", "pattern", "category", "harm_subgroup", "vawg_rule"])


# --------------------------------------------------------------------------- user maps

USER_MAP_COLUMNS = ("pattern_type", "pattern", "category", "vawg", "violent", "sexual", "harm_weight")


def _user_rules(df: pd.DataFrame, source: str) -> tuple[dict[str, Rule], list[tuple[Any, Rule]]]:
    missing = [c for c in ("pattern_type", "pattern", "category") if c not in df.columns]
    if missing:
        raise HarmError(f"offence map {source}: missing column(s) {', '.join(missing)}")
    cats = builtin_categories()
    codes: dict[str, Rule] = {}
    regexes: list[tuple[Any, Rule]] = []  # RE2 patterns: users' rows must not backtrack
    problems: list[str] = []
    for i, r in enumerate(df.to_dict("records"), start=2):
        pt = str(r.get("pattern_type") or "").strip().lower()
        pat = str(r.get("pattern") or "").strip()
        cat = str(r.get("category") or "").strip()
        if pt not in ("code", "regex"):
            problems.append(f"row {i}: pattern_type {pt!r} is not code or regex")
            continue
        if not pat or not cat:
            problems.append(f"row {i}: pattern and category are required")
            continue
        try:
            vawg = _b(r.get("vawg"))
            violent = _b(r.get("violent"))
            sexual = _b(r.get("sexual"))
        except ValueError as exc:
            problems.append(f"row {i}: {exc}")
            continue
        hw = r.get("harm_weight")
        weight: float | None = None
        if hw is not None and str(hw).strip() != "" and not (isinstance(hw, float) and math.isnan(hw)):
            try:
                weight = float(hw)
            except (TypeError, ValueError):
                problems.append(f"row {i}: harm_weight {hw!r} is not a number")
                continue
            if math.isnan(weight) or weight < 0:
                problems.append(f"row {i}: harm_weight must be >= 0")
                continue
        gravity = None
        extra = r.get("extra")
        if isinstance(extra, str) and extra:
            try:
                gravity = json.loads(extra).get("gravity")
            except (ValueError, AttributeError, RecursionError):
                gravity = None
        if r.get("gravity") not in (None, "") and not (isinstance(r.get("gravity"), float) and math.isnan(r["gravity"])):
            gravity = r.get("gravity")
        if gravity is not None:
            try:
                gravity = int(float(gravity))
            except (TypeError, ValueError):
                problems.append(f"row {i}: gravity {gravity!r} is not a whole number")
                continue
        known = cats.get(cat)
        rule = Rule(
            category=cat,
            harm_subgroup=known.harm_subgroup if known else None,
            mapped_by="user_code" if pt == "code" else "user_regex",
            pattern=pat,
            vawg_rule=None if vawg is None else ("always" if vawg else "never"),
            sexual=sexual,
            violent=violent,
            harm_weight=weight,
            gravity=gravity,
        )
        if pt == "code":
            codes[canonical_code(pat)] = rule
        else:
            try:
                regexes.append((compile_user_regex(pat, ignore_case=True, where=f"row {i}: regex"), rule))
            except UnsupportedPattern as exc:
                problems.append(str(exc))
    if problems:
        raise HarmError(f"offence map {source}: " + "; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""))
    return codes, regexes


def read_user_map(path: str | Path) -> pd.DataFrame:
    """Read a user offence map CSV (data contract ``offence_map``)."""
    p = Path(path)
    if not p.is_file():
        raise HarmError(f"offence map file not found: {p}")
    try:
        return pd.read_csv(p, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise HarmError(f"cannot read offence map {p}: {str(exc).splitlines()[0]}") from exc


def _warehouse_map(con: Engine | duckdb.DuckDBPyConnection) -> pd.DataFrame:
    eng = as_engine(con)
    if not eng.has_table("offence_map"):
        return pd.DataFrame(columns=[*USER_MAP_COLUMNS, "extra"])
    return eng.frame(
        "SELECT pattern_type, pattern, category, vawg, violent, sexual, harm_weight, CAST(extra AS VARCHAR) AS extra "
        "FROM offence_map ORDER BY pattern_type, pattern"
    )


class OffenceMapper:
    """Resolves (code, description) pairs through the user map then the built-in map."""

    def __init__(self, user_frames: list[tuple[pd.DataFrame, str]] | None = None) -> None:
        self.user_codes: dict[str, Rule] = {}
        self.user_regexes: list[tuple[Any, Rule]] = []
        self.sources: list[str] = []
        for df, source in user_frames or []:
            if len(df) == 0:
                continue
            codes, regexes = _user_rules(df, source)
            self.user_codes.update(codes)  # later sources override earlier ones
            self.user_regexes = regexes + self.user_regexes
            self.sources.append(source)
        self.sources.append("builtin")

    @property
    def source_name(self) -> str:
        return "+".join(self.sources)

    def resolve(self, code: object, description: object) -> Rule | None:
        c = canonical_code(code)
        if c is not None:
            if c in self.user_codes:
                return self.user_codes[c]
            if c in builtin_codes():
                return builtin_codes()[c]
        desc = "" if description is None or (isinstance(description, float) and math.isnan(description)) else str(description)
        if desc:
            for rx, rule in self.user_regexes:
                if rx.search(desc):
                    return rule
            for rx, rule in builtin_patterns():
                if rx.search(desc):
                    return rule
        return None


_FEMALE_VICTIM = "SELECT DISTINCT event_id FROM people WHERE role = 'victim' AND sex = 'female'"
"""Events with a female victim (a join, not a correlated EXISTS: the same SQL runs on Spark)."""


def _offence_combinations(eng) -> pd.DataFrame:
    """The distinct (code, description, domestic, female victim) combinations of offence events:
    what the map's outcome depends on, a few hundred rows however many events there are."""
    return eng.frame(
        f"""
        SELECT DISTINCT e.offence_code AS _code, e.offence_description AS _desc,
               COALESCE(e.domestic, FALSE) AS _dom, fv.event_id IS NOT NULL AS _fem
        FROM events e LEFT JOIN ({_FEMALE_VICTIM}) fv ON fv.event_id = e.event_id
        WHERE e.event_type = 'offence'
        """
    )


HARM_COLUMNS = [
    "event_id", "offence_category", "vawg", "domestic", "sexual", "violent", "harm_weight", "weight_table",
    "base_category", "harm_subgroup", "gravity", "weight_source", "mapped_by", "map_pattern",
]


def _resolve_event(
    rule: Rule | None, code: object, description: object, dom_event: bool, female_victim: bool,
    table: WeightTable, cats: dict[str, Category],
) -> tuple:
    """Category, flags and weight for one (code, description, domestic, female victim) combination."""
    if rule is None:
        return (UNMAPPED, None, dom_event, None, None, None, table.name, None, None, None, "none", UNMAPPED, None)
    desc = description if isinstance(description, str) else ""
    base = rule.category
    cat = base
    if cat in _VIOLENCE and desc and _FGM.search(desc):
        cat = "fgm"
    elif cat in (*_VIOLENCE, "threats_to_kill") and desc and _HONOUR.search(desc):
        cat = "honour_based_abuse"
    elif cat in _VIOLENCE and dom_event:
        cat = _DOMESTIC_OF[cat]
    info = cats.get(cat)
    base_info = cats.get(base)
    # An explicit rule (user map flag, or a code-level override) wins; else the (refined) category's rule.
    vawg_rule = rule.vawg_rule or (info.vawg_rule if info else "never")
    dom_rule = rule.domestic_rule or (info.domestic_rule if info else "event")
    domestic = True if dom_rule == "always" else dom_event
    if vawg_rule == "always":
        vawg = True
    elif vawg_rule == "never":
        vawg = False
    elif vawg_rule == "domestic":
        vawg = domestic
    else:
        vawg = domestic or female_victim
    sexual = rule.sexual if rule.sexual is not None else (info.sexual if info else (base_info.sexual if base_info else None))
    violent = rule.violent if rule.violent is not None else (info.violent if info else (base_info.violent if base_info else None))
    subgroup = rule.harm_subgroup or (info.harm_subgroup if info else None)
    gravity = rule.gravity if rule.gravity is not None else (info.gravity if info else (base_info.gravity if base_info else None))
    canon = canonical_code(code)
    code_w = table.weights.get(("code", canon)) if canon else None
    if code_w is not None:
        weight, source = code_w, "code"
    elif rule.harm_weight is not None and table.unit == "days":
        weight, source = rule.harm_weight, "offence_map"
    else:
        weight, source = table.lookup(None, subgroup, cat, base)
        source = source or "none"
    return (cat, vawg, domestic, sexual, violent, weight, table.name, base, subgroup, gravity, source, rule.mapped_by, rule.pattern)


MAP_KEY_COLUMNS = ["map_code", "map_description", "map_domestic", "map_female_victim"]
_MAP_DTYPES = {
    "map_code": "string", "map_description": "string", "map_domestic": "boolean", "map_female_victim": "boolean",
    "offence_category": "string", "vawg": "boolean", "domestic": "boolean", "sexual": "boolean", "violent": "boolean",
    "harm_weight": "Float64", "weight_table": "string", "base_category": "string", "harm_subgroup": "string",
    "gravity": "Int64", "weight_source": "string", "mapped_by": "string", "map_pattern": "string",
}
"""Nullable dtypes for the resolved map, so it registers with the same column types on every engine
(an all-empty object column has no type Spark can infer)."""


@dataclass(frozen=True)
class ResolvedMap:
    """Category, flags and weight per distinct offence combination, resolved on the driver."""

    frame: pd.DataFrame
    weight_table: str
    weight_unit: str
    map_source: str


def resolve_offence_map(
    con: Engine | duckdb.DuckDBPyConnection,
    weight_table: str | Path | WeightTable = "cchi",
    *,
    offence_map: str | Path | pd.DataFrame | None = None,
    use_warehouse_map: bool = True,
) -> ResolvedMap:
    """Resolve every distinct (code, description, domestic, female victim) combination of the
    offence events through the maps (Python regexes, on the driver: a few hundred rows)."""
    eng = as_engine(con)
    table = load_weight_table(weight_table)
    frames: list[tuple[pd.DataFrame, str]] = []
    if use_warehouse_map:
        frames.append((_warehouse_map(eng), "warehouse offence_map"))
    if offence_map is not None:
        if isinstance(offence_map, pd.DataFrame):
            frames.append((offence_map, "user map"))
        else:
            frames.append((read_user_map(offence_map), Path(offence_map).name))
    mapper = OffenceMapper(frames)
    cats = builtin_categories()
    combos = _offence_combinations(eng)
    resolved: dict[tuple[object, object], Rule | None] = {}
    rows = []
    for code, desc_v, dom_event, female in combos.itertuples(index=False):
        code = None if code is None or (isinstance(code, float) and math.isnan(code)) or code is pd.NA else code
        desc_v = None if desc_v is None or (isinstance(desc_v, float) and math.isnan(desc_v)) or desc_v is pd.NA else desc_v
        key = (code, desc_v)
        if key not in resolved:
            resolved[key] = mapper.resolve(code, desc_v)
        rows.append((code, desc_v, bool(dom_event), bool(female),
                     *_resolve_event(resolved[key], code, desc_v, bool(dom_event), bool(female), table, cats)))
    res = pd.DataFrame(rows, columns=[*MAP_KEY_COLUMNS, *HARM_COLUMNS[1:]]).astype(_MAP_DTYPES)
    return ResolvedMap(res, table.name, table.unit, mapper.source_name)


def offence_harm_sql(map_name: str) -> str:
    """SELECT of the ``event_harm`` columns: every offence event joined to the resolved map
    registered as ``map_name`` (runs on the engine: the events never leave it)."""
    from harmlens.sqlident import quote_ident

    cols = ", ".join(f"m.{c}" for c in HARM_COLUMNS[1:])
    return f"""
        SELECT e.event_id, {cols}
        FROM events e
        LEFT JOIN ({_FEMALE_VICTIM}) fv ON fv.event_id = e.event_id
        JOIN {quote_ident(map_name)} m
          ON m.map_code IS NOT DISTINCT FROM e.offence_code
         AND m.map_description IS NOT DISTINCT FROM e.offence_description
         AND m.map_domestic = COALESCE(e.domestic, FALSE)
         AND m.map_female_victim = (fv.event_id IS NOT NULL)
        WHERE e.event_type = 'offence'
    """


def _frame_types(out: pd.DataFrame) -> pd.DataFrame:
    out = out[HARM_COLUMNS].reset_index(drop=True).copy()
    out["harm_weight"] = out["harm_weight"].astype("float64")
    out["gravity"] = out["gravity"].astype("Int64")
    for c in ("vawg", "domestic", "sexual", "violent"):
        out[c] = out[c].astype("boolean")
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].where(out[c].notna(), None)
    return out


def offence_harm_frame(
    con: Engine | duckdb.DuckDBPyConnection,
    weight_table: str | Path | WeightTable = "cchi",
    *,
    offence_map: str | Path | pd.DataFrame | None = None,
    use_warehouse_map: bool = True,
) -> pd.DataFrame:
    """Map every offence event to category, flags and weight, without writing anything.

    Returns one row per offence event with the ``event_harm`` columns (by event_id).
    """
    eng = as_engine(con)
    rm = resolve_offence_map(eng, weight_table, offence_map=offence_map, use_warehouse_map=use_warehouse_map)
    name = f"_harm_map_{uuid.uuid4().hex[:10]}"
    eng.register_frame(name, rm.frame)
    try:
        out = _frame_types(eng.frame(offence_harm_sql(name) + " ORDER BY e.event_id"))
    finally:
        eng.unregister(name)
    out.attrs["weight_table"] = rm.weight_table
    out.attrs["weight_unit"] = rm.weight_unit
    out.attrs["map_source"] = rm.map_source
    return out


@contextmanager
def offence_harm_table(con: Engine | duckdb.DuckDBPyConnection, weight_table: str | Path | WeightTable) -> Iterator[str]:
    """A temporary table on the engine with the ``event_harm`` columns for ``weight_table``
    (nothing written to the warehouse); dropped when the block ends."""
    eng = as_engine(con)
    rm = resolve_offence_map(eng, weight_table)
    uid = uuid.uuid4().hex[:10]
    name, map_name = f"_harm_{uid}", f"_harm_map_{uid}"
    eng.register_frame(map_name, rm.frame)
    try:
        eng.run(offence_harm_sql(map_name), into=name, temporary=True)
        try:
            yield name
        finally:
            eng.drop(name)
    finally:
        eng.unregister(map_name)


@dataclass(frozen=True)
class ApplyResult:
    weight_table: str
    map_source: str
    events: int
    mapped: int
    unmapped: int
    unweighted: int
    by_category: pd.DataFrame


def apply_offence_map(
    con: Engine | duckdb.DuckDBPyConnection,
    weight_table: str | Path | WeightTable = "cchi",
    *,
    offence_map: str | Path | pd.DataFrame | None = None,
) -> ApplyResult:
    """Map every offence event and (re)write ``event_harm`` in one transaction.

    Resolving codes and descriptions is a driver job over the distinct offences; the join to
    the events and the write run on the engine (DuckDB, or Spark on a lake).

    Parameters
    ----------
    con : an open warehouse connection or an :class:`~harmlens.engine.Engine`.
    weight_table : ``"cchi"`` (default), ``"severity"``, a CSV path, or a :class:`WeightTable`.
    offence_map : optional user map (CSV path or DataFrame) used on top of the warehouse
        ``offence_map`` table and the built-in map.
    """
    eng = as_engine(con)
    rm = resolve_offence_map(eng, weight_table, offence_map=offence_map)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    name = f"_harm_map_{uuid.uuid4().hex[:10]}"
    eng.register_frame(name, rm.frame)
    try:
        sel = offence_harm_sql(name)
        cols = ", ".join([*HARM_COLUMNS, "applied_at"])
        with eng.transaction():
            eng.execute("DELETE FROM event_harm")
            eng.execute(f"INSERT INTO event_harm ({cols}) SELECT h.*, CAST(? AS TIMESTAMP) AS applied_at FROM ({sel}) h", [now])
            # the counts read the rows just written (inside the transaction): the join of map
            # and events runs once, which on Spark is the expensive part
            by_cat = eng.frame(
                """SELECT offence_category, CAST(count(*) AS BIGINT) AS events,
                          CAST(sum(CASE WHEN vawg THEN 1 ELSE 0 END) AS BIGINT) AS vawg,
                          CAST(sum(harm_weight) AS DOUBLE) AS harm_days,
                          CAST(count(harm_weight) AS BIGINT) AS weighted
                   FROM event_harm GROUP BY offence_category"""
            )
            n = int(by_cat["events"].sum())
            is_unmapped = by_cat["offence_category"] == UNMAPPED
            unmapped = int(by_cat.loc[is_unmapped, "events"].sum())
            unweighted = int((by_cat.loc[~is_unmapped, "events"] - by_cat.loc[~is_unmapped, "weighted"]).sum())
            eng.execute(
                "INSERT INTO harm_runs (applied_at, weight_table, map_source, events, mapped, unmapped, unweighted, weight_unit) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [now, rm.weight_table, rm.map_source, n, n - unmapped, unmapped, unweighted, rm.weight_unit],
            )
    finally:
        eng.unregister(name)
    by_cat = (
        by_cat[["offence_category", "events", "vawg", "harm_days"]]
        .sort_values(["events", "offence_category"], ascending=[False, True])
        .reset_index(drop=True)
    )
    return ApplyResult(rm.weight_table, rm.map_source, n, n - unmapped, unmapped, unweighted, by_cat)


def unmapped_offences(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Offence codes/descriptions with no category (``unmapped``) or no weight (``unweighted``), with counts."""
    _require_event_harm(con)
    return con.execute(
        """
        SELECT CASE WHEN h.offence_category = 'unmapped' THEN 'unmapped' ELSE 'unweighted' END AS status,
               e.offence_code, e.offence_description, h.offence_category, count(*) AS events,
               min(e.occurred_at) AS first_seen, max(e.occurred_at) AS last_seen
        FROM event_harm h JOIN events e USING (event_id)
        WHERE h.offence_category = 'unmapped' OR h.harm_weight IS NULL
        GROUP BY ALL
        ORDER BY events DESC, e.offence_code NULLS LAST, e.offence_description NULLS LAST
        """
    ).df()


def _require_event_harm(con: Engine | duckdb.DuckDBPyConnection) -> None:
    if not as_engine(con).has_table("event_harm"):
        raise HarmError("the warehouse has no event_harm table: open it with harmlens.warehouse.connect")


def stale_offences(con: Engine | duckdb.DuckDBPyConnection) -> int:
    """How many offence events have no ``event_harm`` row (loaded after the last apply)."""
    _require_event_harm(con)
    return int(
        as_engine(con).scalar(
            "SELECT count(*) FROM events e LEFT JOIN event_harm h ON h.event_id = e.event_id "
            "WHERE e.event_type = 'offence' AND h.event_id IS NULL"
        )
    )
