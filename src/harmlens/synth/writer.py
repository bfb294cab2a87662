"""Write column arrays as contract tables (Parquet via pyarrow, or CSV with ISO dates)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

NEVER = np.int64(2**62)


def ts_array(s: np.ndarray) -> pa.Array:
    """int64 seconds (NEVER = null) -> naive timestamp[s]."""
    s = np.asarray(s, dtype=np.int64)
    mask = s >= NEVER
    return pa.array(np.where(mask, 0, s), type=pa.timestamp("s"), mask=mask)


def date_array(d: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    days = np.asarray(d, dtype="datetime64[D]").astype(np.int64).astype(np.int32)
    return pa.array(days, type=pa.date32(), mask=missing)


def str_array(a: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(a, dtype=object), type=pa.string(), from_pandas=True)


def write_table(table: pa.Table, out_dir: Path, name: str, fmt: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        path = out_dir / f"{name}.parquet"
        pq.write_table(table, path, compression="zstd", write_statistics=True)
        return path
    path = out_dir / f"{name}.csv"
    cols = []
    for field, col in zip(table.schema, table.columns):
        if pa.types.is_timestamp(field.type):
            arr = col.to_numpy(zero_copy_only=False)
            valid = ~np.isnat(arr)
            txt = np.where(valid, np.datetime_as_string(np.where(valid, arr, np.datetime64(0, "s")).astype("datetime64[s]"), unit="s"), None)
            cols.append(pa.array(txt.astype(object), type=pa.string(), from_pandas=True))
        else:
            cols.append(col)
    tbl = pa.Table.from_arrays(cols, names=table.column_names)
    pacsv.write_csv(tbl, path, write_options=pacsv.WriteOptions(quoting_style="needed"))
    return path


def make_table(cols: dict[str, Any]) -> pa.Table:
    arrays = []
    for name, v in cols.items():
        if isinstance(v, (pa.Array, pa.ChunkedArray)):
            arrays.append(v)
        else:
            arr = np.asarray(v)
            if arr.dtype == object:
                arrays.append(str_array(arr))
            else:
                arrays.append(pa.array(arr))
    return pa.Table.from_arrays(arrays, names=list(cols))


def make_ids(prefix: str, nums: np.ndarray, width: int) -> np.ndarray:
    """'P00000001'-style ids as an object array (empty input gives an empty array)."""
    nums = np.asarray(nums)
    if len(nums) == 0:
        return np.zeros(0, dtype=object)
    return np.char.add(prefix, np.char.zfill(nums.astype(str), width)).astype(object)
