"""Opening the warehouse file."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from harmlens.errors import WarehouseError

DEFAULT_DB = "harmlens.duckdb"


def resolve_db_path(db: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse path: explicit argument, else HARMLENS_DB, else ./harmlens.duckdb."""
    return Path(db or os.environ.get("HARMLENS_DB") or DEFAULT_DB)


def connect(db: str | os.PathLike[str] | None = None, *, read_only: bool = False, create: bool = True) -> duckdb.DuckDBPyConnection:
    """Open (and migrate) the warehouse.

    ``db=":memory:"`` gives a throwaway in-memory warehouse (tests).
    """
    from harmlens.warehouse.migrations import migrate

    path = str(db) if db == ":memory:" else str(resolve_db_path(db))
    if path != ":memory:" and not create and not Path(path).exists():
        raise WarehouseError(f"no warehouse at {path}: run 'harmlens ingest DIR' first or pass --db")
    try:
        con = duckdb.connect(path, read_only=read_only)
    except duckdb.IOException as exc:  # locked by another process, or not a DuckDB file
        raise WarehouseError(f"cannot open warehouse {path}: {str(exc).splitlines()[0]}") from exc
    # DuckDB would otherwise draw its own progress bar into command output on long queries.
    con.execute("SET enable_progress_bar = false")
    if not read_only:
        migrate(con)
    return con
