"""Shared CLI options, so every command spells them the same way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

if TYPE_CHECKING:
    from harmlens.engine import Engine

DbOption = typer.Option(None, "--db", envvar="HARMLENS_DB", help="Warehouse file (default ./harmlens.duckdb).")


def db_path(db: Optional[Path]) -> Path:
    from harmlens.warehouse import resolve_db_path

    return resolve_db_path(db)


EngineOption = typer.Option("duckdb", "--engine", envvar="HARMLENS_ENGINE",
                            help="duckdb (the warehouse file, default) or spark (--db is then a Parquet lake folder; see docs/scale.md).")
SparkMasterOption = typer.Option(None, "--spark-master", envvar="HARMLENS_SPARK_MASTER",
                                 help="Spark master URL with --engine spark (default local[2]; e.g. spark://host:7077, yarn).")


@contextmanager
def warehouse_engine(db: Optional[Path], engine: str, spark_master: Optional[str]) -> Iterator[Engine]:
    """A command's engine from its --db/--engine/--spark-master: the DuckDB warehouse file (it
    must exist), or with ``--engine spark`` the lake on Spark (the SQL runs there; only small
    results come to the driver). Closed when the command ends."""
    from harmlens.engine import DuckDBEngine, open_engine

    if engine == "duckdb":
        from harmlens.warehouse import connect

        eng: Engine = DuckDBEngine(connect(db, create=False), owns=True)
    else:
        eng = open_engine(db, engine=engine, spark_master=spark_master)
    try:
        yield eng
    finally:
        eng.close()
