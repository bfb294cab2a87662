"""Opening the warehouse file."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import duckdb

from harmlens.errors import WarehouseError

DEFAULT_DB = "harmlens.duckdb"


def resolve_db_path(db: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse path: explicit argument, else HARMLENS_DB, else ./harmlens.duckdb."""
    return Path(db or os.environ.get("HARMLENS_DB") or DEFAULT_DB)


LOCK_WAIT_ENV = "HARMLENS_LOCK_WAIT"
DEFAULT_LOCK_WAIT = 60.0


def lock_wait() -> float:
    """Seconds a command waits for a warehouse another process holds (HARMLENS_LOCK_WAIT, default 60)."""
    raw = os.environ.get(LOCK_WAIT_ENV, "")
    try:
        return max(0.0, float(raw)) if raw.strip() else DEFAULT_LOCK_WAIT
    except ValueError:
        raise WarehouseError(f"{LOCK_WAIT_ENV}={raw!r} is not a number of seconds") from None


def _open_waiting(path: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the file, waiting while another process holds its lock.

    Another harmlens command (or the web server copying its snapshot) holds the file only while
    it works, so waiting is the right answer to a lock; anything else fails at once.
    """
    deadline = time.monotonic() + lock_wait()
    delay = 0.05
    while True:
        try:
            return duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:  # locked by another process, or not a DuckDB file
            first = str(exc).splitlines()[0]
            if "lock" not in first.lower():
                raise WarehouseError(f"cannot open warehouse {path}: {first}") from exc
            if time.monotonic() >= deadline:
                m = re.search(r"PID (\d+)", str(exc))
                who = f"process {m.group(1)}" if m else "another process"
                raise WarehouseError(
                    f"the warehouse {path} is in use by {who} and stayed locked for {lock_wait():g} s: let it finish "
                    f"(or stop it) and run this again; {LOCK_WAIT_ENV} sets how long to wait"
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def connect(db: str | os.PathLike[str] | None = None, *, read_only: bool = False, create: bool = True) -> duckdb.DuckDBPyConnection:
    """Open (and migrate) the warehouse.

    ``db=":memory:"`` gives a throwaway in-memory warehouse (tests).
    """
    from harmlens.warehouse.migrations import migrate

    path = str(db) if db == ":memory:" else str(resolve_db_path(db))
    if path != ":memory:" and not create and not Path(path).exists():
        raise WarehouseError(f"no warehouse at {path}: run 'harmlens ingest DIR' first or pass --db")
    con = _open_waiting(path, read_only)
    # DuckDB would otherwise draw its own progress bar into command output on long queries.
    con.execute("SET enable_progress_bar = false")
    if not read_only:
        migrate(con)
    return con
