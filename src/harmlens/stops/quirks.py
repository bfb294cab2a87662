"""What real stop files carry that a clean export does not, read back to what was published.

- **Excel re-saves** police.uk CSVs: the age band ``10-17`` becomes a date (``Oct-17``,
  ``17-Oct``, ``17/10/2024``, ``2024-10-17``), booleans become ``TRUE``/``FALSE``, ISO dates
  ``2016-06-01T00:05:00+00:00`` become ``01/06/2016 00:05`` (day first; month first from a
  US-locale Excel), headers and values gain trailing spaces, and files gain a BOM and CRLF line
  ends (the CSV reader handles those two).
- **Both police.uk CSV schemas**: older files have ``Policing operation``; newer ones do not.
- **The force** is only in the file name (``2024-09-cheshire-stop-and-search.csv``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_FORCE_FILE = re.compile(r"^(\d{4})-(\d{2})-(.+?)-stop-and-search(?:\s*\(\d+\))?\.csv$", re.I)


def force_from_filename(path: str | Path) -> str | None:
    """``2024-09-avon-and-somerset-stop-and-search.csv`` -> ``avon-and-somerset`` (police.uk's force id)."""
    m = _FORCE_FILE.match(Path(path).name.strip())
    return m.group(3).lower() if m else None


def force_key(name: str | None) -> str:
    """A force or area name compared loosely: case, hyphens and 'Police'/'Constabulary' words ignored,
    so ``metropolitan``, ``Metropolitan`` and ``Metropolitan Police Service`` match."""
    if not name:
        return ""
    t = re.sub(r"[-_&,.]+", " ", str(name).lower()).replace(" and ", " ")
    t = re.sub(r"\b(police|constabulary|service|force|of|the|city)\b", " ", t)
    return re.sub(r"\s+", " ", t).strip()


def _mangled_10_17(v: str) -> bool:
    """Excel turned '10-17' into a date: Oct-17, 17-Oct, 17/10/yyyy, 10/17/yyyy, yyyy-10-17, 17-Oct-24, ..."""
    t = v.strip().lower()
    m = re.fullmatch(r"([a-z]{3})[a-z]*[-/ ](\d{1,4})", t)
    if m and _MONTHS.get(m.group(1)) == 10 and int(m.group(2)) == 17:
        return True
    m = re.fullmatch(r"(\d{1,2})[-/ ]([a-z]{3})[a-z]*(?:[-/ ]\d{2,4})?", t)
    if m and _MONTHS.get(m.group(2)) == 10 and int(m.group(1)) == 17:
        return True
    m = re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.]\d{2,4}(?: 00:00(?::00)?)?", t)
    if m and {int(m.group(1)), int(m.group(2))} == {10, 17}:
        return True
    m = re.fullmatch(r"\d{4}-(\d{2})-(\d{2})(?:[ t]00:00(?::00)?)?", t)
    return bool(m and {int(m.group(1)), int(m.group(2))} == {10, 17})


def age_band(s: pd.Series) -> pd.Series:
    """Age bands as published, with Excel's date-mangled ``10-17`` put back; other values stripped."""
    s = s.fillna("").astype(str).str.strip()
    mapping = {v: ("10-17" if v and _mangled_10_17(v) else v) for v in s.unique()}
    return s.map(mapping)


_EXCEL_DT = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$")


def police_uk_datetime(s: pd.Series) -> pd.Series:
    """police.uk dates (UTC) as ISO 8601 with an offset; Excel's ``dd/mm/yyyy hh:mm`` (day first, or
    month first when a file has a second field above 12) read back as the UTC time it was."""
    s = s.fillna("").astype(str).str.strip()
    parts = s.str.extract(_EXCEL_DT)
    excel = parts[0].notna()
    if not excel.any():
        return s
    a, b = pd.to_numeric(parts[0]), pd.to_numeric(parts[1])
    month_first = bool((b[excel] > 12).any())
    day, month = (b, a) if month_first else (a, b)
    out = s.copy()
    hh = pd.to_numeric(parts[3]).fillna(0).astype(int)
    mm = pd.to_numeric(parts[4]).fillna(0).astype(int)
    ss = pd.to_numeric(parts[5]).fillna(0).astype(int)
    iso = (parts[2] + "-" + month.fillna(0).astype(int).map("{:02d}".format) + "-" + day.fillna(0).astype(int).map("{:02d}".format)
           + "T" + hh.map("{:02d}".format) + ":" + mm.map("{:02d}".format) + ":" + ss.map("{:02d}".format) + "+00:00")
    out[excel] = iso[excel]
    return out


def strip_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Header names and values without surrounding spaces (and a stray BOM on the first header)."""
    df = df.rename(columns=lambda c: str(c).replace("\ufeff", "").strip())
    return df.apply(lambda col: col.fillna("").astype(str).str.strip())


def is_true(s: pd.Series) -> pd.Series:
    return s.fillna("").astype(str).str.strip().str.lower().isin(("true", "t", "yes", "y", "1"))
