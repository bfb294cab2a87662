"""The engine contract every stage codes against.

Why a contract rather than a DuckDB connection passed around: the same stage has to run on the
embedded warehouse and on Spark, and the things stages did by hand on a connection (does this
table exist, begin/commit/rollback, register a pandas frame, a 270-line f-string) each had
several spellings. Here each has one, with one behaviour on every engine.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from harmlens.errors import HarmlensError

if TYPE_CHECKING:
    import pandas as pd

    from harmlens.engine.pipeline import SQLPipeline

log = logging.getLogger("harmlens.engine")


class EngineError(HarmlensError):
    """An engine cannot do what was asked (unknown engine, missing table, bad pipeline)."""


class Rollback(Exception):  # noqa: N818 - it names what it does, like an instruction
    """Raise inside ``with engine.transaction():`` to undo the block's writes without an error.

    The transaction rolls back and re-raises it, so the stage catches it just outside its own
    block (for example "the same files again: nothing to record"). When the block joined an
    outer transaction, nothing is undone here: the outer owner decides.
    """


class Engine(ABC):
    """What a stage may ask of the database that holds the warehouse.

    SQL given to an engine is DuckDB SQL with ``?`` placeholders; :meth:`translate` turns it
    into the engine's own dialect. Values always travel as parameters. The step names and SQL are
    logged at DEBUG level; parameters never are, since they can be a name or a date of birth.
    """

    name: str = ""
    dialect: str = "duckdb"

    # -- running SQL ---------------------------------------------------------------------------
    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] | None) -> Any:
        """Run SQL already in this engine's dialect; return the engine's native result."""

    @abstractmethod
    def _to_frame(self, result: Any) -> pd.DataFrame: ...

    @abstractmethod
    def _to_rows(self, result: Any) -> list[tuple[Any, ...]]: ...

    def translate(self, sql: str) -> str:
        """DuckDB SQL in this engine's dialect (identity on DuckDB)."""
        return sql

    def _sql_params(self, query: Any, params: Sequence[Any] | None) -> tuple[str, list[Any]]:
        from harmlens.engine.pipeline import SQLPipeline

        if isinstance(query, SQLPipeline):
            if params:
                raise EngineError("a pipeline carries its own parameters: pass them to add()")
            log.debug("pipeline %s", " -> ".join(query.names()))
            return query.sql(), query.params()
        return str(query), list(params or [])

    def execute(self, query: Any, params: Sequence[Any] | None = None) -> Any:
        """Run a statement (or pipeline) for its effect; returns the engine's native result."""
        sql, values = self._sql_params(query, params)
        return self._execute(self.translate(sql), values)

    def frame(self, query: Any, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """A query's (or pipeline's) result as a pandas frame."""
        return self._to_frame(self.execute(query, params))

    def rows(self, query: Any, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """A query's result as a list of tuples."""
        return self._to_rows(self.execute(query, params))

    def scalar(self, query: Any, params: Sequence[Any] | None = None) -> Any:
        """The first column of the first row (None when there is no row)."""
        got = self.rows(query, params)
        return got[0][0] if got else None

    # -- tables -------------------------------------------------------------------------------
    @abstractmethod
    def tables(self) -> set[str]:
        """Names of the tables and views a query can read now (temporary ones included)."""

    def has_table(self, name: str) -> bool:
        """Whether a table or view of this name can be read now."""
        return name in self.tables()

    def require(self, *names: str, hint: str = "") -> None:
        """Raise one clear error naming the first missing table and what to run."""
        have = self.tables()
        for n in names:
            if n not in have:
                raise EngineError(f"the warehouse has no {n} table" + (f": {hint}" if hint else ""))

    @abstractmethod
    def columns(self, table: str) -> list[str]:
        """Column names of a table or view, in order (empty when it does not exist)."""

    @abstractmethod
    def register_frame(self, name: str, frame: pd.DataFrame) -> None:
        """Make a pandas frame readable by SQL under ``name`` until unregistered."""

    @abstractmethod
    def unregister(self, name: str) -> None: ...

    @abstractmethod
    def drop(self, name: str) -> None:
        """Drop a table or view if it exists."""

    def run(
        self, query: Any, params: Sequence[Any] | None = None, *, into: str, replace: bool = True, temporary: bool = False
    ) -> str:
        """Materialise a query or pipeline as table ``into``; returns the table name."""
        from harmlens.sqlident import quote_ident

        sql, values = self._sql_params(query, params)
        kind = "OR REPLACE " if replace else ""
        temp = "TEMP " if temporary else ""
        self._execute(f"CREATE {kind}{temp}TABLE {quote_ident(into)} AS {self.translate(sql)}", values)
        return into

    @abstractmethod
    def map_batches(
        self, source: str, fn: Callable[[pd.DataFrame], pd.DataFrame], schema: dict[str, str], *, into: str,
        temporary: bool = True,
    ) -> str:
        """Apply a pandas function to table ``source`` batch by batch, where the data is; the
        rows it returns become table ``into`` with columns ``schema`` (name -> DuckDB type).

        For what SQL cannot say (a fitted model's predictions, a numerical integral): on Spark
        the function runs on the executors (``mapInPandas``), so a national table never comes to
        the driver. ``fn`` sees each row once, in batches of any size, and must not depend on
        which rows share its batch.
        """

    def run_steps(self, pipeline: SQLPipeline, *, keep: bool = False) -> dict[str, int]:
        """Run a pipeline one step at a time, each materialised as a temporary table; row counts.

        For tests and debugging: a step's output can be read by its name afterwards when
        ``keep`` is true. Step names must not clash with existing tables.
        """
        from harmlens.sqlident import quote_ident

        have = self.tables()
        clash = [s.name for s in pipeline.steps if s.name in have]
        if clash:
            raise EngineError(f"pipeline step names clash with existing tables: {', '.join(clash)}")
        counts: dict[str, int] = {}
        made: list[str] = []
        try:
            for step in pipeline.steps:
                self._execute(f"CREATE TEMP TABLE {quote_ident(step.name)} AS {self.translate(step.sql)}", list(step.params))
                made.append(step.name)
                counts[step.name] = int(self.scalar(f"SELECT count(*) FROM {quote_ident(step.name)}"))
                log.debug("step %s: %d rows", step.name, counts[step.name])
        finally:
            if not keep:
                for n in reversed(made):
                    self.drop(n)
        return counts

    # -- transactions -------------------------------------------------------------------------
    @abstractmethod
    def _begin(self) -> bool:
        """Start a transaction; False when one is already open (the caller's owns it)."""

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _rollback(self) -> None: ...

    @contextmanager
    def transaction(self) -> Iterator[Engine]:
        """All or nothing: commit when the block ends, roll back when it raises.

        Inside a transaction that is already open, the block joins it: the outer owner commits
        or rolls back, so a helper called from inside a larger write never commits half of it.
        """
        owner = self._begin()
        try:
            yield self
        except BaseException:
            if owner:
                self._rollback()
            raise
        else:
            if owner:
                self._commit()

    @abstractmethod
    def close(self) -> None: ...


def as_engine(con: Any) -> Engine:
    """An engine for a connection or an engine (stages accept either while callers move over)."""
    if isinstance(con, Engine):
        return con
    import duckdb

    if isinstance(con, duckdb.DuckDBPyConnection):
        from harmlens.engine.duckdb_engine import DuckDBEngine

        return DuckDBEngine(con)
    raise EngineError(f"not a warehouse connection or engine: {type(con).__name__}")
