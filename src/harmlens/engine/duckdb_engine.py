"""The embedded engine: the DuckDB warehouse file (the default)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import duckdb

from harmlens.engine.base import Engine, EngineError

if TYPE_CHECKING:
    import pandas as pd


BATCH_ROWS = 100_000
"""Rows per batch :meth:`DuckDBEngine.map_batches` hands its function (bounds the memory it needs)."""


class DuckDBEngine(Engine):
    """An :class:`Engine` over one DuckDB connection.

    ``owns`` says whether closing the engine closes the connection: an engine made around a
    caller's connection (:func:`harmlens.engine.as_engine`) leaves it open.
    """

    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection, *, owns: bool = False) -> None:
        self.con = con
        self.owns = owns

    @classmethod
    def in_memory(cls) -> DuckDBEngine:
        """A throwaway engine with no warehouse tables (doctests, unit tests of SQL steps)."""
        return cls(duckdb.connect(":memory:"), owns=True)

    def _execute(self, sql: str, params: Sequence[Any] | None) -> Any:
        return self.con.execute(sql, list(params) if params else None)

    def _to_frame(self, result: Any) -> pd.DataFrame:
        return result.df()

    def _to_rows(self, result: Any) -> list[tuple[Any, ...]]:
        return result.fetchall()

    def tables(self) -> set[str]:
        # duckdb_tables()/duckdb_views() see temporary objects too (information_schema does not
        # always), and registered frames appear among the views.
        got = self.con.execute(
            "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views() WHERE NOT internal"
        ).fetchall()
        return {r[0] for r in got}

    def columns(self, table: str) -> list[str]:
        from harmlens.sqlident import quote_ident

        if not self.has_table(table):
            return []
        return [d[0] for d in self.con.execute(f"SELECT * FROM {quote_ident(table)} LIMIT 0").description]

    def register_frame(self, name: str, frame: pd.DataFrame) -> None:
        self.con.register(name, frame)

    def unregister(self, name: str) -> None:
        self.con.unregister(name)

    def map_batches(
        self, source: str, fn: Callable[[pd.DataFrame], pd.DataFrame], schema: dict[str, str], *, into: str,
        temporary: bool = True,
    ) -> str:
        import pandas as pd

        from harmlens.sqlident import quote_ident

        cols = ", ".join(f"{quote_ident(c)} {t}" for c, t in schema.items())
        # the batches stream from an open result, so no other statement may run on the
        # connection until it is read through: the outputs are kept and written after
        reader = self.con.sql(f"SELECT * FROM {quote_ident(source)}").to_arrow_reader(BATCH_ROWS)
        outs = []
        for batch in reader:
            out = fn(batch.to_pandas())
            if not isinstance(out, pd.DataFrame) or list(out.columns) != list(schema):
                raise EngineError(f"map_batches: the function must return the columns {list(schema)}")
            outs.append(out)
        made = f"_batch_{uuid.uuid4().hex[:10]}"
        temp = "TEMP " if temporary else ""
        # one frame, one insert: the outputs are a few columns per row, small beside the input
        self.con.register(made, pd.concat(outs, ignore_index=True) if outs else pd.DataFrame(columns=list(schema)))
        try:
            with self.transaction():
                self.con.execute(f"CREATE OR REPLACE {temp}TABLE {quote_ident(into)} ({cols})")
                self.con.execute(f"INSERT INTO {quote_ident(into)} SELECT * FROM {made}")
        finally:
            self.con.unregister(made)
        return into

    def drop(self, name: str) -> None:
        from harmlens.sqlident import quote_ident

        kind = self.con.execute(
            "SELECT 'VIEW' FROM duckdb_views() WHERE view_name = ? AND NOT internal "
            "UNION ALL SELECT 'TABLE' FROM duckdb_tables() WHERE table_name = ?",
            [name, name],
        ).fetchall()
        for (k,) in kind:
            self.con.execute(f"DROP {k} IF EXISTS {quote_ident(name)}")

    # Which connections have a transaction open through an engine, by id: a BEGIN issued inside
    # an open transaction aborts it in DuckDB, so nesting is detected here, not by trying. An
    # entry lives only while its transaction is open (the connection is alive then, so its id
    # cannot be reused), and any engine made around the same connection sees it.
    _open: set[int] = set()

    def _begin(self) -> bool:
        key = id(self.con)
        if key in DuckDBEngine._open:
            return False
        self.con.execute("BEGIN TRANSACTION")
        DuckDBEngine._open.add(key)
        return True

    def _commit(self) -> None:
        try:
            self.con.execute("COMMIT")
        finally:
            DuckDBEngine._open.discard(id(self.con))

    def _rollback(self) -> None:
        try:
            self.con.execute("ROLLBACK")
        finally:
            DuckDBEngine._open.discard(id(self.con))

    def close(self) -> None:
        if self.owns:
            self.con.close()


def open_engine(
    db: str | os.PathLike[str] | None = None,
    *,
    engine: str = "duckdb",
    read_only: bool = False,
    create: bool = True,
    spark_master: str | None = None,
) -> Engine:
    """Open the warehouse on the named engine (``duckdb`` by default, or ``spark``).

    DuckDB opens (and migrates) the warehouse file as :func:`harmlens.warehouse.connect` does.
    """
    if engine == "duckdb":
        from harmlens.warehouse import connect

        return DuckDBEngine(connect(db, read_only=read_only, create=create), owns=True)
    if engine == "spark":
        try:
            from harmlens.engine.spark_engine import open_spark_engine
        except ImportError as exc:
            raise EngineError(f"the spark engine is not available here ({exc}): install harmlens[spark]") from None
        return open_spark_engine(db, master=spark_master, read_only=read_only)
    raise EngineError(f"unknown engine {engine!r}: choose duckdb or spark")
