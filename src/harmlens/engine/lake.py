"""Moving a warehouse between the engines: DuckDB file <-> Parquet lake (DuckDB's COPY).

Lake layout (docs/scale.md): ``<lake>/<table>/*.parquet``, one folder per warehouse table, any
number of part files (DuckDB writes one, Spark one per partition). Each table is written to a
scratch folder and renamed into place, so a reader never sees half a table.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from harmlens.engine.base import EngineError
from harmlens.engine.spark_engine import lake_tables, swap_in
from harmlens.sqlident import quote_ident


def warehouse_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The warehouse's own (non-temporary) tables of the main schema."""
    rows = con.execute("""SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND schema_name = 'main'
                          AND database_name = current_database() ORDER BY 1""").fetchall()
    return [r[0] for r in rows]


def export_lake(con: duckdb.DuckDBPyConnection, lake: str | os.PathLike[str], tables: Iterable[str] | None = None) -> dict[str, int]:
    """Write warehouse tables (all by default) to the lake; returns rows per table."""
    root = Path(lake)
    root.mkdir(parents=True, exist_ok=True)
    have = warehouse_tables(con)
    names = have if tables is None else [t for t in tables if t in have]
    out = {}
    for t in names:
        tmp = root / f".tmp-{t}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        # a path cannot be a bound parameter of COPY; it is ours (a uuid under the lake), quoted as a literal
        target = str(tmp / "part-0.parquet").replace("'", "''")
        con.execute(f"COPY (SELECT * FROM {quote_ident(t)}) TO '{target}' (FORMAT parquet)")
        swap_in(tmp, root / t)
        out[t] = int(con.execute(f"SELECT count(*) FROM {quote_ident(t)}").fetchall()[0][0])
    return out


def import_lake(con: duckdb.DuckDBPyConnection, lake: str | os.PathLike[str], tables: Iterable[str] | None = None) -> dict[str, int]:
    """Replace warehouse tables with the lake's (all the lake has, by default), in one transaction.

    A table the warehouse schema knows keeps its definition (keys, types): its rows are replaced,
    columns matched by name. A table it does not know is created from the Parquet schema.
    """
    found = lake_tables(Path(lake))
    if not found:
        raise EngineError(f"no lake tables under {lake} (write one with 'harmlens lake export')")
    names = list(found) if tables is None else [t for t in tables if t in found]
    have = set(warehouse_tables(con))
    out = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for t in names:
            src = f"read_parquet(?, union_by_name = true)"
            glob = str(found[t] / "*.parquet")
            if t in have:
                cols = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {src}", [glob]).fetchall()}
                mine = [c for c in (d[0] for d in con.execute(f"SELECT * FROM {quote_ident(t)} LIMIT 0").description) if c in cols]
                sel = ", ".join(quote_ident(c) for c in mine)
                con.execute(f"DELETE FROM {quote_ident(t)}")
                con.execute(f"INSERT INTO {quote_ident(t)} ({sel}) SELECT {sel} FROM {src}", [glob])
            else:
                con.execute(f"CREATE TABLE {quote_ident(t)} AS SELECT * FROM {src}", [glob])
            out[t] = int(con.execute(f"SELECT count(*) FROM {quote_ident(t)}").fetchall()[0][0])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return out


@contextmanager
def on_driver(engine, writes: Iterable[str] = (), reads: Iterable[str] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A scratch DuckDB warehouse holding the lake's tables (``reads``, default all) for a stage
    whose SQL has not been ported to Spark; the tables in ``writes`` go back to the lake when the
    block ends without error (each swapped in atomically), none of them when it raises."""
    import shutil

    from harmlens.warehouse import connect

    scratch = engine.lake / "_work" / uuid.uuid4().hex[:12]
    scratch.mkdir(parents=True)
    try:
        con = connect(scratch / "work.duckdb")
        try:
            import_lake(con, engine.lake, list(reads) if reads is not None else None)
            yield con
            export_lake(con, engine.lake, list(writes))
        finally:
            con.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        try:
            os.rmdir(engine.lake / "_work")
        except OSError:
            pass
    engine.refresh()
