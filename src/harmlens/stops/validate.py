"""Stop records: mapping published spellings to the contract, then the contract's own row rules.

One path for every source, so a stop keyed into the web form, a contract ``stops.csv`` and a
police.uk export are held to the same rules:

1. ``normalise_stop_frame`` maps ethnicity as published (16+1 codes, police.uk labels, 2021
   labels, IC codes, officer-perceived groups) to contract values and keeps what was published
   in ``extra``; a value it cannot place becomes a problem for that row.
2. ``harmlens.contract.validate.validate_frame`` with the contract's ``stops`` table checks
   types, enums, ranges, required fields and duplicate ids.

Every problem of a row is reported. The web form (``validate_stop``) refuses a row with any
problem, so the officer can correct it; a file import keeps a stop whose problems are only in
fields other than its id and date (``importer.keep_stops_with_unread_fields``).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any, Mapping

import numpy as np
import pandas as pd

from harmlens.stops.codes import officer_defined, self_defined_code

STOP_COLUMNS = (
    "stop_id", "occurred_at", "legislation", "self_defined_ethnicity", "officer_defined_ethnicity", "sex",
    "age_range", "borough", "latitude", "longitude", "reason", "outcome", "searched", "found",
)
# extra key: the officer-perceived group when the source publishes a group, not an IC code (police.uk).
OFFICER_GROUP_KEY = "officer_defined_group"
_DATE_ONLY = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
_PROBLEM_COLS = ["_row", "column_name", "value", "reason"]


def _stops_table():
    from harmlens.contract.tables import TABLES

    return TABLES["stops"]


def normalise_stop_frame(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map published ethnicity spellings to contract values.

    ``raw`` holds strings ('' = missing) with contract column names (and any pass-through
    columns). Returns the mapped frame (same index) and problems (``_row`` = positional row).
    """
    df = raw.reset_index(drop=True).fillna("").astype(str).copy()
    probs: list[dict[str, Any]] = []
    if "self_defined_ethnicity" in df.columns:
        published = df["self_defined_ethnicity"]
        cache: dict[str, str | None | ValueError] = {}
        mapped = []
        for i, v in enumerate(published):
            if v not in cache:
                try:
                    cache[v] = self_defined_code(v)
                except ValueError as exc:
                    cache[v] = exc
            r = cache[v]
            if isinstance(r, ValueError):
                probs.append({"_row": i, "column_name": "self_defined_ethnicity", "value": v,
                              "reason": f"{r} (want a 2021 Census code W1..O9, not_stated, or a police.uk label)"})
                mapped.append("")
            else:
                mapped.append(r or "")
        mapped_s = pd.Series(mapped, index=df.index)
        changed = published.str.strip() != mapped_s
        if changed.any():
            if "self_defined_ethnicity_as_published" not in df.columns:
                df["self_defined_ethnicity_as_published"] = published.where(changed, "")
        df["self_defined_ethnicity"] = mapped_s
    if "officer_defined_ethnicity" in df.columns:
        published = df["officer_defined_ethnicity"]
        codes, groups = [], []
        ocache: dict[str, tuple[str | None, str | None] | ValueError] = {}
        for i, v in enumerate(published):
            if v not in ocache:
                try:
                    ocache[v] = officer_defined(v)
                except ValueError as exc:
                    ocache[v] = exc
            r = ocache[v]
            if isinstance(r, ValueError):
                probs.append({"_row": i, "column_name": "officer_defined_ethnicity", "value": v, "reason": str(r)})
                codes.append("")
                groups.append("")
            else:
                code, grp = r
                codes.append(code or "")
                groups.append(grp if (code is None and grp) else "")
        df["officer_defined_ethnicity"] = codes
        g = pd.Series(groups, index=df.index)
        if (g != "").any() or OFFICER_GROUP_KEY in df.columns:
            prior = df[OFFICER_GROUP_KEY] if OFFICER_GROUP_KEY in df.columns else pd.Series("", index=df.index)
            df[OFFICER_GROUP_KEY] = g.where(g != "", prior)
    if "occurred_at" in df.columns:
        date_only = df["occurred_at"].str.match(_DATE_ONLY)
        if date_only.any():
            # A date without a clock time: kept, but left out of time-of-day analyses.
            df["time_recorded"] = np.where(date_only, "false", "")
    problems = pd.DataFrame(probs, columns=_PROBLEM_COLS)
    return df, problems


def validate_stop_frame(raw: pd.DataFrame, lines: pd.Series | None = None):
    """Normalise and validate many stops at once.

    Returns ``(rows, problems)``: ``rows`` are typed contract rows (column ``extra`` holds the
    pass-through JSON, ``_line`` the line number) *including* rejected ones; ``problems`` has
    ``_row, _line, column_name, value, reason``. Drop ``problems._row`` from ``rows`` to keep
    the valid ones.
    """
    from harmlens.contract.validate import validate_frame

    if lines is None:
        lines = pd.Series(np.arange(1, len(raw) + 1))
    lines = pd.Series(np.asarray(lines), index=pd.RangeIndex(len(raw)))
    norm, p1 = normalise_stop_frame(raw)
    v = validate_frame(_stops_table(), norm, lines)
    rows, p2 = v.rows, v.problems
    if len(p1):
        # A value that could not be mapped is reported once, with the mapping's reason, not
        # again as the contract's 'unknown value'.
        p1 = p1.assign(_line=lines.reindex(p1["_row"].astype(int)).values)
        problems = pd.concat([p1, p2], ignore_index=True)
    else:
        problems = p2
    return rows, problems.reset_index(drop=True)


def _as_str(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and np.isnan(v):
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    return str(v)


def validate_stop(record: Mapping[str, Any]) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """Validate one stop (e.g. from the web form) by the same rules as a file import.

    Parameters
    ----------
    record
        Contract column names to values (strings, numbers, booleans, datetimes; None or ''
        means missing). Other keys are kept in ``extra``.

    Returns
    -------
    (clean_row, problems)
        ``clean_row`` is a dict of contract columns with typed values plus ``extra`` (a dict),
        or None when there is any problem; ``problems`` lists ``{column, value, reason}``.
    """
    raw = pd.DataFrame([{k: _as_str(v) for k, v in record.items()}])
    rows, problems = validate_stop_frame(raw, pd.Series([1]))
    if len(problems):
        return None, [{"column": r.column_name, "value": r.value, "reason": r.reason} for r in problems.itertuples()]
    row = rows.iloc[0]
    out: dict[str, Any] = {}
    for c in STOP_COLUMNS:
        v = row[c]
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            out[c] = None
        elif isinstance(v, pd.Timestamp):
            out[c] = v.to_pydatetime()
        elif isinstance(v, (np.bool_, bool)):
            out[c] = bool(v)
        elif isinstance(v, (np.floating,)):
            out[c] = float(v)
        else:
            out[c] = v
    extra = row.get("extra")
    out["extra"] = {k: v for k, v in json.loads(extra).items() if v != ""} if isinstance(extra, str) else {}
    return out, []
