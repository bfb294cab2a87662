"""Row validation against the contract, vectorised over a table of raw string values.

Input: a DataFrame of *strings* exactly as read (empty string = missing), plus the line number
of each row. Output: the typed rows that pass and one problem record per broken rule. A row
with any problem is rejected whole (never half-loaded); every problem of that row is reported,
so a user fixes a file in one pass.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harmlens.asof import WAREHOUSE_TZ
from harmlens.contract.tables import Column, Table
from harmlens.userregex import UnsupportedPattern, compile_user_regex

_OFFSET_RE = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
LOCAL_TZ = WAREHOUSE_TZ  # the one time-zone rule, harmlens.asof's


@dataclass
class Validated:
    rows: pd.DataFrame  # typed, valid rows; column "_line" kept, "extra" holds pass-through JSON
    problems: pd.DataFrame  # _line, column_name, value, reason


def _canon(v: str) -> str:
    return v.strip().lower().replace(" ", "_").replace("-", "_")


def _parse_datetime(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse ISO 8601; naive means Europe/London; offsets are converted to London wall time.

    Returns (values as naive datetime64, mask of unparseable non-empty values).
    """
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    present = s != ""
    has_off = present & s.str.contains(_OFFSET_RE, regex=True)
    naive = present & ~has_off
    if naive.any():
        out[naive] = pd.to_datetime(s[naive], format="ISO8601", errors="coerce").astype("datetime64[us]")
    if has_off.any():
        aware = pd.to_datetime(s[has_off], format="ISO8601", errors="coerce", utc=True)
        out[has_off] = aware.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None).astype("datetime64[us]")
    bad = present & out.isna()
    # A year before 1800 or after 2200 is a keying error, not a date anyone means.
    ok = out.notna()
    bad |= ok & ((out.dt.year < 1800) | (out.dt.year > 2200))
    return out.where(~bad), bad


def _parse_date(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    present = s != ""
    out = pd.to_datetime(s.where(present), format="%Y-%m-%d", errors="coerce")
    bad = present & out.isna()
    ok = out.notna()
    bad |= ok & ((out.dt.year < 1800) | (out.dt.year > 2200))
    return out.where(~bad).dt.date.where(~bad & present, None), bad


def _check_column(col: Column, s: pd.Series) -> tuple[pd.Series, list[tuple[pd.Series, str]]]:
    """Typed values for one column and a list of (mask, reason) problems."""
    problems: list[tuple[pd.Series, str]] = []
    s = s.str.strip()
    missing = s == ""
    if col.default is not None:
        s = s.where(~missing, col.default)
        missing = s == ""
    if col.required:
        problems.append((missing, f"missing required field {col.name}"))
    if col.kind == "string":
        return s.where(~missing, None), problems
    if col.kind == "enum":
        lookup = {_canon(v): v for v in col.values}
        # Map each distinct value once: enum columns have few distinct values, files have millions of rows.
        mapping = {v: (lookup.get(_canon(v)) if v else None) for v in s.unique()}
        canon = s.map(mapping)
        problems.append((~missing & canon.isna(), f"unknown {col.name} (allowed: {', '.join(col.values)})"))
        return canon, problems
    if col.kind == "datetime":
        vals, bad = _parse_datetime(s)
        problems.append((bad, f"unparseable {col.name} (want ISO 8601 date or datetime)"))
        return vals, problems
    if col.kind == "date":
        vals, bad = _parse_date(s)
        problems.append((bad, f"unparseable {col.name} (want YYYY-MM-DD)"))
        return vals, problems
    if col.kind in ("float", "int"):
        num = pd.to_numeric(s.where(~missing), errors="coerce")
        bad = ~missing & num.isna()
        problems.append((bad, f"{col.name} is not a number"))
        if col.kind == "int":
            frac = ~missing & num.notna() & (num != np.floor(num.fillna(0)))
            problems.append((frac, f"{col.name} is not a whole number"))
        rng = num.notna()
        if col.min is not None:
            problems.append((rng & (num < col.min), f"{col.name} below {col.min:g}"))
        if col.max is not None:
            problems.append((rng & (num > col.max), f"{col.name} above {col.max:g}"))
        if col.kind == "int":
            return num.astype("Int64"), problems
        return num.astype("float64"), problems
    if col.kind == "bool":
        low = s.str.lower()
        vals = pd.Series(pd.NA, index=s.index, dtype="boolean")
        vals[low.isin(_TRUE)] = True
        vals[low.isin(_FALSE)] = False
        problems.append((~missing & vals.isna(), f"{col.name} is not true/false"))
        return vals, problems
    raise ValueError(f"unknown column kind {col.kind}")


def validate_frame(table: Table, raw: pd.DataFrame, lines: pd.Series, *, earlier: dict[tuple[str, ...], int] | None = None) -> Validated:
    """Validate raw string rows of ``table``. ``raw`` may have extra (pass-through) columns.

    ``earlier``: for a file validated in parts, the keys of the parts before this one with the
    line each first appeared on; a key seen there is a duplicate here too. It is updated with
    this part's keys."""
    raw = raw.reset_index(drop=True).fillna("").astype(str)
    lines = pd.Series(np.asarray(lines), index=raw.index)
    typed: dict[str, pd.Series] = {}
    probs: list[pd.DataFrame] = []

    def add(mask: pd.Series, column: str, values: pd.Series, reason: str) -> None:
        if mask.any():
            probs.append(pd.DataFrame({"_row": raw.index[mask], "column_name": column, "value": values[mask].astype(str).values, "reason": reason}))

    for col in table.columns:
        src = raw[col.name] if col.name in raw.columns else pd.Series("", index=raw.index)
        vals, plist = _check_column(col, src)
        typed[col.name] = vals
        for mask, reason in plist:
            add(mask.fillna(False).astype(bool), col.name, src, reason)

    if table.ordered:
        a, b = table.ordered
        bad = typed[a].notna() & typed[b].notna() & (typed[b] < typed[a])
        add(bad, b, raw.get(b, pd.Series("", index=raw.index)), f"{b} is before {a}")
    if table.name == "offence_map":
        def bad_regex(row: tuple[str, str]) -> bool:
            if row[0] != "regex" or not row[1]:
                return False
            # the same engine harm apply runs user patterns on (RE2): what passes here also runs there
            try:
                compile_user_regex(row[1])
            except UnsupportedPattern:
                return True
            return False

        mask = pd.Series([bad_regex(r) for r in zip(typed["pattern_type"].fillna(""), typed["pattern"].fillna(""))], index=raw.index)
        add(mask, "pattern", raw.get("pattern", pd.Series("", index=raw.index)), "pattern is not a valid regular expression")

    # Duplicate keys within the file: the first occurrence is kept, later ones quarantined.
    key_vals = pd.DataFrame({k: raw[k].str.strip() if k in raw.columns else "" for k in table.key})
    full = (key_vals != "").all(axis=1)
    dup = key_vals.duplicated(keep="first") & full
    if earlier is not None:  # a later part of one file: its keys are checked against the parts before
        keys = list(map(tuple, key_vals.values))
        if earlier:
            dup |= pd.Series([k in earlier for k in keys], index=raw.index) & full
        for i, key in zip(raw.index, keys):
            earlier.setdefault(key, int(lines[i]))
    if dup.any():
        first_line = earlier if earlier is not None else {}
        if earlier is None:
            for i, key in zip(raw.index, map(tuple, key_vals.values)):
                first_line.setdefault(key, lines[i])
        for i in raw.index[dup]:
            key = tuple(key_vals.loc[i])
            probs.append(pd.DataFrame({"_row": [i], "column_name": [table.key[0]], "value": ["|".join(key)],
                                       "reason": [f"duplicate {'+'.join(table.key)} (first at line {first_line[key]})"]}))

    problems = pd.concat(probs, ignore_index=True) if probs else pd.DataFrame(columns=["_row", "column_name", "value", "reason"])
    rows = pd.DataFrame(typed)
    extra_cols = [c for c in raw.columns if c not in table.column_names]
    if extra_cols:
        rows["extra"] = raw[extra_cols].to_json(orient="records", lines=True).splitlines() if len(raw) else []
    else:
        rows["extra"] = None
    rows["_line"] = lines.values
    problems["_line"] = lines.reindex(problems["_row"].astype(int)).values if len(problems) else []
    return Validated(rows=rows, problems=problems)
