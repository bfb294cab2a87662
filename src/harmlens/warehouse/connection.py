"""Opening the warehouse file."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import duckdb

from harmlens.errors import WarehouseError

DEFAULT_DB = "harmlens.duckdb"


SCRATCH_PATTERNS = (r"\_\_hl\_%", r"\_\_splink\_\_%")
"""Working tables of a link run (``__hl_*``) and Splink's own (``__splink__*``): names and dates of
birth. A run drops them when it ends; a run killed with SIGKILL cannot, so the next write open does."""

_swept: set[str] = set()


def sweep_scratch(con: duckdb.DuckDBPyConnection, path: str, *, force: bool = False) -> list[str]:
    """Drop leftover scratch tables and views from the warehouse; returns their names.

    Done once per file per process (the first write open), never later: DuckDB lets only one
    process write a file at a time, so at that moment no run of ours can be using them, while a
    later open in the same process could be a helper connection of a run still in progress.
    Read-only opens cannot drop anything; the next write open does it.
    """
    key = str(Path(path).resolve())
    if key in _swept and not force:
        return []
    _swept.add(key)
    like = " OR ".join(["{col} LIKE ? ESCAPE '\\'"] * len(SCRATCH_PATTERNS))
    rows = con.execute(
        f"""SELECT schema_name, table_name, 'TABLE' FROM duckdb_tables() WHERE NOT temporary AND database_name = current_database()
                AND ({like.format(col="table_name")})
            UNION ALL
            SELECT schema_name, view_name, 'VIEW' FROM duckdb_views() WHERE NOT temporary AND database_name = current_database()
                AND ({like.format(col="view_name")})""",
        [*SCRATCH_PATTERNS, *SCRATCH_PATTERNS],
    ).fetchall()
    from harmlens.sqlident import quote_ident

    for schema, name, kind in rows:
        con.execute(f"DROP {kind} IF EXISTS {quote_ident(schema)}.{quote_ident(name)}")
    if rows:
        con.execute("CHECKPOINT")  # so the dropped rows leave the file now, not at some later checkpoint
    return [r[1] for r in rows]


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
        if path != ":memory:":
            sweep_scratch(con, path)
    return con
