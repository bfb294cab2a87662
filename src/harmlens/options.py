"""Shared CLI options, so every command spells them the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

DbOption = typer.Option(None, "--db", envvar="HARMLENS_DB", help="Warehouse file (default ./harmlens.duckdb).")


def db_path(db: Optional[Path]) -> Path:
    from harmlens.warehouse import resolve_db_path

    return resolve_db_path(db)

EngineOption = typer.Option("duckdb", "--engine", envvar="HARMLENS_ENGINE",
                            help="duckdb (the warehouse file, default) or spark (--db is then a Parquet lake folder; see docs/scale.md).")
SparkMasterOption = typer.Option(None, "--spark-master", envvar="HARMLENS_SPARK_MASTER",
                                 help="Spark master URL with --engine spark (default local[2]; e.g. spark://host:7077, yarn).")
