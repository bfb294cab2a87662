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
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from importlib import resources
from typing import Any
from pathlib import Path

import duckdb
import pandas as pd

from harmlens.engine import as_engine
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


def _warehouse_map(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    try:
        return con.execute(
            "SELECT pattern_type, pattern, category, vawg, violent, sexual, harm_weight, CAST(extra AS VARCHAR) AS extra "
            "FROM offence_map ORDER BY pattern_type, pattern"
        ).df()
    except duckdb.CatalogException:
        return pd.DataFrame(columns=[*USER_MAP_COLUMNS, "extra"])


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


def _offence_events(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        """
        SELECT e.event_id, e.offence_code, e.offence_description, e.domestic,
               EXISTS (SELECT 1 FROM people p WHERE p.event_id = e.event_id AND p.role = 'victim' AND p.sex = 'female')
                   AS female_victim
        FROM events e
        WHERE e.event_type = 'offence'
        ORDER BY e.event_id
        """
    ).df()


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


def offence_harm_frame(
    con: duckdb.DuckDBPyConnection,
    weight_table: str | Path | WeightTable = "cchi",
    *,
    offence_map: str | Path | pd.DataFrame | None = None,
    use_warehouse_map: bool = True,
) -> pd.DataFrame:
    """Map every offence event to category, flags and weight, without writing anything.

    Returns one row per offence event with the ``event_harm`` columns.
    """
    table = load_weight_table(weight_table)
    frames: list[tuple[pd.DataFrame, str]] = []
    if use_warehouse_map:
        frames.append((_warehouse_map(con), "warehouse offence_map"))
    if offence_map is not None:
        if isinstance(offence_map, pd.DataFrame):
            frames.append((offence_map, "user map"))
        else:
            frames.append((read_user_map(offence_map), Path(offence_map).name))
    mapper = OffenceMapper(frames)
    ev = _offence_events(con)
    cats = builtin_categories()

    # The outcome depends only on (code, description, domestic flag, female victim): resolve each
    # distinct combination once, then join back to the events (a few hundred combinations for
    # millions of events).
    ev["_dom"] = ev["domestic"].fillna(False).astype(bool)
    ev["_fem"] = ev["female_victim"].fillna(False).astype(bool)
    ev["_code"] = ev["offence_code"].astype(object).where(ev["offence_code"].notna(), None)
    ev["_desc"] = ev["offence_description"].astype(object).where(ev["offence_description"].notna(), None)
    combo_cols = ["_code", "_desc", "_dom", "_fem"]
    combos = ev[combo_cols].drop_duplicates().reset_index(drop=True)
    resolved: dict[tuple[object, object], Rule | None] = {}
    rows = []
    for code, desc_v, dom_event, female in combos.itertuples(index=False):
        key = (code, desc_v)
        if key not in resolved:
            resolved[key] = mapper.resolve(code, desc_v)
        rows.append(_resolve_event(resolved[key], code, desc_v, bool(dom_event), bool(female), table, cats))
    res = pd.DataFrame(rows, columns=HARM_COLUMNS[1:])
    res = pd.concat([combos, res], axis=1)
    merged = ev[["event_id", *combo_cols]].merge(res, on=combo_cols, how="left", sort=False)
    rows = merged[HARM_COLUMNS]
    out = rows.reset_index(drop=True).copy()
    out["harm_weight"] = out["harm_weight"].astype("float64")
    out["gravity"] = out["gravity"].astype("Int64")
    for c in ("vawg", "domestic", "sexual", "violent"):
        out[c] = out[c].astype("boolean")
    out.attrs["weight_table"] = table.name
    out.attrs["weight_unit"] = table.unit
    out.attrs["map_source"] = mapper.source_name
    return out


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
    con: duckdb.DuckDBPyConnection,
    weight_table: str | Path | WeightTable = "cchi",
    *,
    offence_map: str | Path | pd.DataFrame | None = None,
) -> ApplyResult:
    """Map every offence event and (re)write ``event_harm`` in one transaction.

    Parameters
    ----------
    con : an open warehouse connection.
    weight_table : ``"cchi"`` (default), ``"severity"``, a CSV path, or a :class:`WeightTable`.
    offence_map : optional user map (CSV path or DataFrame) used on top of the warehouse
        ``offence_map`` table and the built-in map.
    """
    df = offence_harm_frame(con, weight_table, offence_map=offence_map)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    df = df.assign(applied_at=now)
    n = len(df)
    unmapped = int((df["offence_category"] == UNMAPPED).sum())
    unweighted = int(((df["offence_category"] != UNMAPPED) & df["harm_weight"].isna()).sum())
    con.register("_harm_apply", df)
    try:
        with as_engine(con).transaction():
            con.execute("DELETE FROM event_harm")
            cols = ", ".join([*HARM_COLUMNS, "applied_at"])
            con.execute(f"INSERT INTO event_harm ({cols}) SELECT {cols} FROM _harm_apply")
            con.execute(
                "INSERT INTO harm_runs (applied_at, weight_table, map_source, events, mapped, unmapped, unweighted, weight_unit) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [now, df.attrs["weight_table"], df.attrs["map_source"], n, n - unmapped, unmapped, unweighted, df.attrs["weight_unit"]],
            )
    finally:
        con.unregister("_harm_apply")
    by_cat = (
        df.groupby("offence_category", dropna=False)
        .agg(events=("event_id", "size"), vawg=("vawg", lambda s: int(s.fillna(False).sum())), harm_days=("harm_weight", lambda s: s.sum(min_count=1)))
        .reset_index()
        .sort_values(["events", "offence_category"], ascending=[False, True])
        .reset_index(drop=True)
    )
    return ApplyResult(df.attrs["weight_table"], df.attrs["map_source"], n, n - unmapped, unmapped, unweighted, by_cat)


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


def _require_event_harm(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.execute("SELECT 1 FROM event_harm LIMIT 1")
    except duckdb.CatalogException as exc:
        raise HarmError("the warehouse has no event_harm table: open it with harmlens.warehouse.connect") from exc


def stale_offences(con: duckdb.DuckDBPyConnection) -> int:
    """How many offence events have no ``event_harm`` row (loaded after the last apply)."""
    _require_event_harm(con)
    return int(
        con.execute(
            "SELECT count(*) FROM events e WHERE e.event_type = 'offence' "
            "AND NOT EXISTS (SELECT 1 FROM event_harm h WHERE h.event_id = e.event_id)"
        ).fetchall()[0][0]
    )
