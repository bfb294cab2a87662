"""Read tables written by other tools (R, Stata, SPSS, Excel, pandas) the same way everywhere.

One reader for ``risk fit-table``, ``audit --scores`` and ``link-file`` so a table means the same
thing to each of them:

* **missing markers**: empty cells and the usual spellings of "missing" (``NA``, ``N/A``, ``NULL``,
  ``NaN``, ``.``, in any letter case, with surrounding spaces) are missing; ``na=`` adds more
  (``--na VALUE``) and ``keep=`` takes a marker back when it is a real category (ProPublica's
  COMPAS score text has a literal ``N/A``, for example).
* **types**: a column whose present values are all numbers is numeric; otherwise text. A declared
  type wins: ``categorical`` keeps codes such as region ``01``/``12`` as labels, ``numeric`` and
  ``ordinal`` parse as numbers (and refuse a value that is not one), ``ignore`` drops the column.
* **top-coded counts**: ``"10 or more"``, ``"10+"``, ``">=10"``, ``"more than 10"`` and
  ``"<1"``-style values in an otherwise numeric column read as the number at the bound, so a
  count stays a count instead of becoming an unordered category.
* **booleans**: ``TRUE``/``FALSE`` (R, Excel) and ``True``/``False`` columns read as 1/0.

What was done is recorded in ``df.attrs["tableio"]`` (missing cells per column, top-coded cells
per column, declared types) so callers can report it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from harmlens.errors import HarmlensError

__all__ = ["MISSING_MARKERS", "TYPES", "TableReadError", "read_table", "read_types", "parse_numbers"]

MISSING_MARKERS: tuple[str, ...] = ("", "NA", "N/A", "NULL", "NaN", ".", "<NA>", "#N/A", "None")
TYPES = ("numeric", "categorical", "ordinal", "boolean", "ignore")

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
# a bound with words or symbols around it: "10 or more", "10+", ">=10", "more than 10", "<1", "1 or less"
_TOPCODED = [
    re.compile(rf"^(?P<n>{_NUMBER})\s*(?:\+|or\s+more|or\s+over|or\s+above|and\s+over|and\s+above|or\s+less|or\s+fewer)$", re.I),
    re.compile(rf"^(?:>=?|<=?|≥|≤|more\s+than|over|at\s+least|less\s+than|under|fewer\s+than|up\s+to)\s*(?P<n>{_NUMBER})$", re.I),
]
_TRUE = {"true", "t", "yes"}
_FALSE = {"false", "f", "no"}


class TableReadError(HarmlensError):
    """A table cannot be read as asked (no file, bad type declaration, value not of its declared type)."""


def read_types(path: str | Path) -> dict[str, str]:
    """Declared column types from a TOML file of ``column = "type"`` lines."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TableReadError(f"cannot read types file {p}: {str(exc).splitlines()[0]}") from None
    if "types" in raw and isinstance(raw["types"], dict):
        raw = raw["types"]
    out: dict[str, str] = {}
    for k, v in raw.items():
        if not isinstance(v, str) or v.lower() not in TYPES:
            raise TableReadError(f"types file {p}: {k!r} = {v!r}; a type is one of {', '.join(TYPES)}")
        out[str(k)] = v.lower()
    return out


def parse_numbers(s: pd.Series) -> tuple[pd.Series, int]:
    """Numbers from text, top-coded bounds included. Returns (floats with NaN where not a number, top-coded count)."""
    t = s.astype("string").str.strip()
    plain = t.str.fullmatch(_NUMBER, na=False) | t.str.fullmatch(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?", na=False)
    num = pd.to_numeric(t.str.replace(",", "", regex=False).where(plain), errors="coerce")
    top = 0
    rest = num.isna() & t.notna()
    if rest.any():
        vals = t[rest]
        for pat in _TOPCODED:
            got = pd.to_numeric(vals.str.extract(pat, expand=True)["n"], errors="coerce")
            hit = got.notna() & num.loc[vals.index].isna()
            num.loc[got[hit].index] = got[hit]
            top += int(hit.sum())
    return num.astype(float), top


def _is_missing(t: pd.Series, markers: set[str], keep: set[str]) -> pd.Series:
    low = t.str.strip()
    m = low.str.lower().isin({x.lower() for x in markers}) & ~low.isin(keep)
    return m.fillna(True) | t.isna()


def _column(s: pd.Series, name: str, declared: str | None, markers: set[str], keep: set[str], info: dict) -> pd.Series | None:
    if declared == "ignore":
        info["ignored"].append(name)
        return None
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) and declared not in ("categorical",):
        out = s.astype(float)
    elif pd.api.types.is_bool_dtype(s) and declared is None:
        out = s
    else:
        t = s.astype("string")
        miss = _is_missing(t, markers, keep)
        t = t.str.strip().mask(miss)
        present = t.dropna()
        if declared == "categorical":
            out = t
        else:
            low = present.str.lower()
            if declared == "boolean" or (declared is None and len(present) and low.isin(_TRUE | _FALSE).all()):
                bad = ~low.isin(_TRUE | _FALSE | {"1", "0"})
                if bad.any():
                    raise TableReadError(f"column {name!r} is declared boolean but has {present[bad].iloc[0]!r}")
                out = t.str.lower().map(lambda v: np.nan if pd.isna(v) else float(v in _TRUE or v == "1")).astype(float)
            else:
                num, top = parse_numbers(t)
                unparsed = num.isna() & t.notna()
                if declared in ("numeric", "ordinal"):
                    if unparsed.any():
                        raise TableReadError(f"column {name!r} is declared {declared} but has {t[unparsed].iloc[0]!r} "
                                             f"({int(unparsed.sum())} such cells); add it with --na if it means missing")
                    out = num
                elif len(present) and not unparsed.any():
                    out = num
                else:
                    out, top = t, 0
                if top:
                    info["topcoded"][name] = top
        if int(miss.sum()) and int(miss.sum()) > int(s.isna().sum()):
            info["markers"][name] = int(miss.sum() - s.isna().sum())
    n_missing = int(pd.isna(out).sum())
    if n_missing:
        info["missing"][name] = n_missing
    if declared:
        info["declared"][name] = declared
    return out


def read_table(
    path: str | Path | pd.DataFrame,
    *,
    na: Iterable[str] = (),
    keep: Iterable[str] = (),
    types: Mapping[str, str] | None = None,
    categorical: Iterable[str] = (),
    ordinal: Iterable[str] = (),
    columns: Iterable[str] | None = None,
) -> pd.DataFrame:
    """A CSV, TSV or Parquet table (or a DataFrame) with missing markers, types and top-coding resolved.

    Parameters
    ----------
    na : more values that mean missing (exact text after trimming spaces, any letter case).
    keep : values that stay real values although they look like a missing marker.
    types : ``{column: type}``, type one of ``numeric, categorical, ordinal, boolean, ignore``.
    categorical, ordinal : shorthands adding to ``types``.
    columns : only these columns are read (all if None).
    """
    declared: dict[str, str] = dict(types or {})
    declared.update({c: "categorical" for c in categorical})
    declared.update({c: "ordinal" for c in ordinal})
    if isinstance(path, pd.DataFrame):
        raw = path.copy()
    else:
        p = Path(path)
        if not p.exists():
            raise TableReadError(f"no such file: {p}")
        try:
            if p.suffix.lower() == ".parquet":
                raw = pd.read_parquet(p, columns=list(columns) if columns is not None else None)
            else:
                sep = "\t" if p.suffix.lower() in (".tsv", ".tab") else ","
                # everything as text first: the markers and types below decide, not pandas' guesses
                raw = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[], sep=sep, encoding="utf-8-sig",
                                  usecols=list(columns) if columns is not None else None)
        except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise TableReadError(f"cannot read {p}: {str(exc).splitlines()[0]}") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    unknown = [c for c in declared if c not in raw.columns]
    if unknown:
        raise TableReadError(f"declared type for unknown column(s): {', '.join(unknown)}")
    markers = set(MISSING_MARKERS) | {str(v).strip() for v in na}
    keep_set = {str(v).strip() for v in keep}
    info: dict = {"missing": {}, "markers": {}, "topcoded": {}, "declared": {}, "ignored": [],
                  "na_values": sorted(markers - keep_set)}
    cols: dict[str, pd.Series] = {}
    for c in raw.columns:
        out = _column(raw[c], c, declared.get(c), markers, keep_set, info)
        if out is not None:
            cols[c] = out
    df = pd.DataFrame(cols, index=raw.index)
    df.attrs["tableio"] = info
    return df
