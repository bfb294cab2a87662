"""Harm weight tables: versioned, swappable, and always named in every output.

A weight table maps keys to a weight. Keys are looked up, most specific first:

1. ``code``      an offence code (canonical form, see :func:`canonical_code`);
2. ``subgroup``  the Home Office PRC offence subgroup the offence map assigns (CCHI medians);
3. ``category``  the harmlens category (e.g. ``domestic_violence_with_injury``);
4. ``category``  the base category it was derived from (``violence_with_injury``).

Built-in tables live in ``harm/data`` (see PROVENANCE.md there). A user table is a CSV with
columns ``key_type,key,weight`` (key_type one of code|subgroup|category), or the shorter
``offence_code,weight`` / ``category,weight``; its name carries a content hash so two different
files never share a name.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd

from harmlens.harm.errors import HarmError

KEY_TYPES = ("code", "subgroup", "category")

# name -> (versioned table name, package file, unit, description)
BUILTIN_TABLES: dict[str, tuple[str, str, str, str]] = {
    "cchi": (
        "cchi-subgroup-2026-v1",
        "weights_cchi.csv",
        "days",
        "Cambridge Crime Harm Index, median days of custody per Home Office PRC offence subgroup (2026 update)",
    ),
    "severity": (
        "harmlens-severity-v1",
        "weights_severity.csv",
        "points",
        "harmlens ordinal severity score per category (authored; raises stalking and coercive control)",
    ),
}


def canonical_code(code: object) -> str | None:
    """One spelling per offence code: trimmed, upper case, leading zeros dropped per part.

    ``'008/06'`` and ``'8/6'`` are the same code; ``'19c'`` becomes ``'19C'``.
    """
    if code is None or (isinstance(code, float) and math.isnan(code)):
        return None
    s = str(code).strip().upper()
    if not s:
        return None
    parts = re.split(r"([/.\-])", s)
    out = []
    for p in parts:
        m = re.fullmatch(r"0*(\d+)([A-Z]*)", p)
        out.append(f"{int(m.group(1))}{m.group(2)}" if m else p)
    return "".join(out)


@dataclass(frozen=True)
class WeightTable:
    """A named, versioned harm weight table."""

    name: str
    unit: str
    description: str
    weights: dict[tuple[str, str], float] = field(repr=False)

    def lookup(self, code: str | None, subgroup: str | None, category: str | None, base_category: str | None) -> tuple[float | None, str | None]:
        """(weight, key_type used) for one offence, or (None, None) when the table has no entry."""
        for kt, key in (("code", canonical_code(code)), ("subgroup", subgroup), ("category", category), ("category", base_category)):
            if key is None:
                continue
            w = self.weights.get((kt, key))
            if w is not None:
                return w, kt
        return None, None

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [(kt, k, w) for (kt, k), w in sorted(self.weights.items())], columns=["key_type", "key", "weight"]
        )


def _parse_table(df: pd.DataFrame, source: str) -> dict[tuple[str, str], float]:
    cols = {c.strip().lower(): c for c in df.columns}
    if {"key_type", "key", "weight"} <= set(cols):
        kt, key, w = df[cols["key_type"]], df[cols["key"]], df[cols["weight"]]
    elif "weight" in cols or "harm_weight" in cols:
        wcol = cols.get("weight") or cols["harm_weight"]
        if "offence_code" in cols:
            kt, key = pd.Series(["code"] * len(df)), df[cols["offence_code"]]
        elif "category" in cols:
            kt, key = pd.Series(["category"] * len(df)), df[cols["category"]]
        else:
            raise HarmError(f"weight table {source}: needs columns key_type,key,weight or offence_code,weight or category,weight")
        w = df[wcol]
    else:
        raise HarmError(f"weight table {source}: needs columns key_type,key,weight or offence_code,weight or category,weight")
    out: dict[tuple[str, str], float] = {}
    problems: list[str] = []
    for i, (t, k, v) in enumerate(zip(kt, key, w), start=2):
        t = str(t).strip().lower()
        if t not in KEY_TYPES:
            problems.append(f"line {i}: key_type {t!r} is not one of {', '.join(KEY_TYPES)}")
            continue
        try:
            val = float(v)
        except (TypeError, ValueError):
            problems.append(f"line {i}: weight {v!r} is not a number")
            continue
        if math.isnan(val) or val < 0:
            problems.append(f"line {i}: weight must be a number >= 0, got {v!r}")
            continue
        k = canonical_code(k) if t == "code" else str(k).strip()
        out[(t, k)] = val
    if problems:
        raise HarmError(f"weight table {source}: " + "; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""))
    if not out:
        raise HarmError(f"weight table {source} has no rows")
    return out


def load_weight_table(spec: str | Path | WeightTable = "cchi") -> WeightTable:
    """A built-in table by name (``cchi``, ``severity``) or a user CSV by path."""
    if isinstance(spec, WeightTable):
        return spec
    key = str(spec)
    if key in BUILTIN_TABLES:
        name, fname, unit, desc = BUILTIN_TABLES[key]
        with resources.files("harmlens.harm.data").joinpath(fname).open("r", encoding="utf-8") as fh:
            df = pd.read_csv(fh, dtype=str)
        return WeightTable(name, unit, desc, _parse_table(df, name))
    path = Path(key)
    if not path.is_file():
        raise HarmError(f"unknown weight table {key!r}: use one of {', '.join(BUILTIN_TABLES)} or a CSV file path")
    raw = path.read_bytes()
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:  # pandas raises several parser errors; all mean the same to the user
        raise HarmError(f"cannot read weight table {path}: {str(exc).splitlines()[0]}") from exc
    digest = hashlib.sha256(raw).hexdigest()[:12]
    unit = "days"
    cols = {c.strip().lower(): c for c in df.columns}
    if "unit" in cols and len(df):
        unit = str(df[cols["unit"]].iloc[0]).strip() or "days"
    return WeightTable(f"user:{path.name}@{digest}", unit, f"user weight table {path.name}", _parse_table(df, path.name))
