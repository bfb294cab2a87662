"""Reading contract files exactly as written: every value as a string, with its line number.

A file that cannot be parsed at all (wrong encoding, truncated Parquet, binary junk, an
unterminated quote) raises UnparseableFileError naming the file and position; a single row with
the wrong number of fields is not fatal and becomes a quarantine problem.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from harmlens.errors import UnparseableFileError

SUFFIXES = (".csv", ".parquet")


PARQUET_PART_ROWS = 1_000_000
"""A Parquet file longer than this is read and validated in parts of this many rows: a whole
10M-row file as Python strings needs more memory than a 24 GB machine has."""


@dataclass
class RawTable:
    path: Path
    sha256: str
    frame: pd.DataFrame  # all values str; '' = missing (for a file read in parts: the first part)
    lines: pd.Series  # line number (CSV: physical line where the record starts; Parquet: row number)
    shape_problems: list[tuple[int, str]] = field(default_factory=list)  # (line, reason) rows not in frame
    rest: Iterator[RawTable] | None = field(default=None, repr=False)  # the parts after the first, read when asked

    @property
    def n_read(self) -> int:
        """Rows in this part (the whole file unless it is read in parts)."""
        return len(self.frame) + len(self.shape_problems)

    def parts(self) -> Iterator[RawTable]:
        """The file as parts, first to last (one part unless it is a long Parquet file); each
        part's ``lines`` continue the file's numbering. The parts after the first are read only
        here, once."""
        yield self
        if self.rest is not None:
            rest, self.rest = self.rest, None
            yield from rest


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_csv(path: Path) -> RawTable:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UnparseableFileError(f"{path}: not UTF-8 text at line {line} (byte {exc.start}); re-export the file as UTF-8") from None
    if "\x00" in text:
        pos = text.index("\x00")
        raise UnparseableFileError(f"{path}: binary data (NUL byte) at line {text.count(chr(10), 0, pos) + 1}; not a CSV file")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise UnparseableFileError(f"{path}: empty file, no header line") from None
    except csv.Error as exc:
        raise UnparseableFileError(f"{path}: line 1: {exc}") from None
    header = [h.strip() for h in header]
    if len(set(header)) != len(header) or any(h == "" for h in header):
        raise UnparseableFileError(f"{path}: line 1: header has empty or repeated column names")
    return csv_records(path, data, reader, header)


def csv_records(path: Path, data: bytes, reader: Any, header: list[str]) -> RawTable:
    """The records after ``header`` from a ``csv.reader``: blank lines skipped, a row with the wrong number of
    fields kept aside with its line (quarantined by the caller), a malformed file one line of error.
    Shared by every CSV reader (contract tables, Stanford Open Policing files) so they count rows alike."""
    records: list[list[str]] = []
    lines: list[int] = []
    shape: list[tuple[int, str]] = []
    start = reader.line_num + 1
    try:
        for rec in reader:
            if rec == []:  # a blank line is not a record
                start = reader.line_num + 1
                continue
            if len(rec) != len(header):
                shape.append((start, f"row has {len(rec)} fields, header has {len(header)}"))
            else:
                records.append(rec)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise UnparseableFileError(f"{path}: line {reader.line_num}: {exc} (truncated or malformed CSV)") from None
    frame = pd.DataFrame(records, columns=header, dtype=str) if records else pd.DataFrame(columns=header, dtype=str)
    return RawTable(path, _sha256(data), frame, pd.Series(lines, dtype="int64"), shape)


def _to_strings(df: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            tz = getattr(s.dt, "tz", None)
            fmt = "%Y-%m-%dT%H:%M:%S%z" if tz is not None else "%Y-%m-%dT%H:%M:%S"
            out[c] = s.dt.strftime(fmt).fillna("")
        elif pd.api.types.is_bool_dtype(s):
            out[c] = s.map({True: "true", False: "false"}).fillna("").astype(str)
        elif pd.api.types.is_float_dtype(s) or pd.api.types.is_integer_dtype(s):
            out[c] = s.astype(str).where(s.notna(), "")
        else:
            out[c] = s.astype(str).where(s.notna(), "")
    return pd.DataFrame(out, index=df.index)


def _unreadable(path: Path, exc: Exception) -> UnparseableFileError:
    return UnparseableFileError(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]})")


def read_parquet(path: Path) -> RawTable:
    import pyarrow.parquet as pq

    data = path.read_bytes()
    try:
        pf = pq.ParquetFile(io.BytesIO(data))
        n = pf.metadata.num_rows
        if n <= PARQUET_PART_ROWS:
            return _part(path, _sha256(data), pf.read(), 0)
        batches = pf.iter_batches(batch_size=PARQUET_PART_ROWS)
        first = next(batches)
    except UnparseableFileError:
        raise
    except Exception as exc:  # pyarrow raises several types for truncated / junk files
        raise _unreadable(path, exc) from None
    digest = _sha256(data)
    del data  # the parts are decoded from pyarrow's own buffer, one at a time
    head = _part(path, digest, first, 0)
    head.rest = _later_parts(path, digest, batches, first.num_rows)
    return head


def _part(path: Path, digest: str, batch: Any, offset: int) -> RawTable:
    """Rows ``offset + 1 ...`` of a Parquet file as strings, numbered by row."""
    frame = _to_strings(batch.to_pandas()).reset_index(drop=True)
    return RawTable(path, digest, frame, pd.Series(range(offset + 1, offset + len(frame) + 1), dtype="int64"))


def _later_parts(path: Path, digest: str, batches: Iterator[Any], offset: int) -> Iterator[RawTable]:
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except Exception as exc:  # a damaged row group found late: the caller's transaction rolls back
            raise _unreadable(path, exc) from None
        yield _part(path, digest, batch, offset)
        offset += batch.num_rows


def read_table_file(path: Path) -> RawTable:
    if path.suffix == ".csv":
        return read_csv(path)
    if path.suffix == ".parquet":
        return read_parquet(path)
    raise UnparseableFileError(f"{path}: unsupported file type (want .csv or .parquet)")
