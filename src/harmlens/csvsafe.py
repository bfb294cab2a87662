"""The one CSV writer for everything harmlens writes.

Analysts open exports in Excel. A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is read there as a formula (OWASP "CSV injection"): a borough, an offence text or a
typed note from an extract could become ``=HYPERLINK(...)``. Following OWASP's guidance every such
*text* cell is prefixed with a single quote, so the spreadsheet shows it as text. Numbers stay
numbers: a ``float``/``int`` is written as it is, and so is a string that is a plain number (``-3``,
``+1.5e3``), which a spreadsheet reads as that number, never as a formula. Full-width look-alikes
(``＝`` ...) are treated the same way, since some spreadsheet programs normalise them.

>>> neutralise("=1+1")
"'=1+1"
>>> neutralise("-2.5"), neutralise(-2.5), neutralise("Camden")
('-2.5', -2.5, 'Camden')
>>> csv_text([{"borough": "@SUM(A1)", "n": 3}])
"borough,n\\r\\n'@SUM(A1),3\\r\\n"
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

FORMULA_LEAD = frozenset("=+-@\t\r＝＋－＠")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise(value: Any) -> Any:
    """The value as a spreadsheet must see it: formula-leading text quoted, everything else as is."""
    if isinstance(value, str) and value and value[0] in FORMULA_LEAD and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _cell(value: Any, date_format: str | None) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set, frozenset)):
        value = "; ".join(map(str, value))
    elif date_format is not None and hasattr(value, "strftime"):
        try:
            import pandas as pd

            if pd.isna(value):
                return ""
        except (ImportError, TypeError, ValueError):
            pass
        value = value.strftime(date_format)
    else:
        try:
            import pandas as pd

            if not isinstance(value, str) and pd.isna(value):
                return ""
        except (ImportError, TypeError, ValueError):
            pass
    return neutralise(value)


def _rows_and_header(data: Any, columns: Sequence[str] | None) -> tuple[list[str], Iterable[Sequence[Any]]]:
    """Accept a pandas DataFrame, a list of dicts, or (columns + list of sequences)."""
    if hasattr(data, "itertuples") and hasattr(data, "columns"):
        cols = [str(c) for c in (columns or list(data.columns))]
        frame = data[list(columns)] if columns else data
        return cols, frame.itertuples(index=False, name=None)
    rows = list(data)
    if rows and isinstance(rows[0], Mapping):
        cols = list(columns) if columns else list(rows[0].keys())
        return cols, ([r.get(c) for c in cols] for r in rows)
    if columns is None:
        raise ValueError("columns are required when rows are sequences")
    return list(columns), rows


def write_csv(data: Any, dest: str | Path | IO[str] | None = None, *, columns: Sequence[str] | None = None,
              date_format: str | None = None) -> str | None:
    """Write ``data`` as CSV with every text cell neutralised.

    ``dest`` is a path, an open text file, or None to get the text back. Headers go through the
    same neutralisation (a column name can come from a user's file too).
    """
    header, rows = _rows_and_header(data, columns)
    buf = io.StringIO() if dest is None else None
    fh: IO[str]
    close = False
    if dest is None:
        fh = buf  # type: ignore[assignment]
    elif isinstance(dest, (str, Path)):
        fh = open(dest, "w", newline="", encoding="utf-8")
        close = True
    else:
        fh = dest
    try:
        w = csv.writer(fh)
        w.writerow([neutralise(h) for h in header])
        for r in rows:
            w.writerow([_cell(v, date_format) for v in r])
    finally:
        if close:
            fh.close()
    return buf.getvalue() if buf is not None else None


def csv_text(data: Any, *, columns: Sequence[str] | None = None, date_format: str | None = None) -> str:
    """The CSV text of ``data`` (see :func:`write_csv`)."""
    out = write_csv(data, None, columns=columns, date_format=date_format)
    assert out is not None
    return out


__all__ = ["FORMULA_LEAD", "neutralise", "write_csv", "csv_text"]
