"""One engine layer between every stage and the database that runs its SQL.

Stages talk to an :class:`Engine`, never to a raw DuckDB connection, so the same stage code runs on
the embedded DuckDB warehouse (the default) and on Spark for a national picture. The design
follows Splink's ``DatabaseAPI`` and ``CTEPipeline``: an engine executes SQL, knows which tables
exist, registers a frame under a name, and runs a transaction; SQL is built from named steps
(:class:`SQLPipeline`) that can be logged, and run one by one to test or debug them.

SQL in harmlens is written in DuckDB's dialect. An engine for another dialect translates it with
sqlglot (the translator Splink itself uses) so a stage keeps one copy of its SQL.

>>> from harmlens.engine import DuckDBEngine, SQLPipeline
>>> eng = DuckDBEngine.in_memory()
>>> p = SQLPipeline()
>>> p.add("nums", "SELECT range AS n FROM range(5)")
>>> p.add("evens", "SELECT n FROM nums WHERE n % 2 = 0")
>>> eng.frame(p)["n"].tolist()
[0, 2, 4]
>>> eng.has_table("evens")
False
>>> eng.run(p, into="evens")
'evens'
>>> eng.has_table("evens"), eng.scalar("SELECT count(*) FROM evens")
(True, 3)
"""

from __future__ import annotations

from harmlens.engine.base import Engine, EngineError, Rollback, as_engine
from harmlens.engine.duckdb_engine import DuckDBEngine, open_engine
from harmlens.engine.pipeline import SQLPipeline, Step

ENGINES = ("duckdb", "spark")
"""Names ``--engine`` accepts. Spark needs the optional ``spark`` extra (pyspark)."""

__all__ = ["ENGINES", "DuckDBEngine", "Engine", "EngineError", "Rollback", "SQLPipeline", "Step", "as_engine", "open_engine"]
