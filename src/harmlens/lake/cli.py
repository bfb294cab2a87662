"""Commands: lake export, lake import (a warehouse moved between DuckDB and a Parquet lake)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from harmlens.options import DbOption


def register(app: typer.Typer) -> None:
    lake_app = typer.Typer(help="Move a warehouse between DuckDB and a Parquet lake (the spark engine's storage).", no_args_is_help=True)
    app.add_typer(lake_app, name="lake")

    @lake_app.command("export")
    def export_cmd(
        lake: Path = typer.Argument(..., help="Lake folder (created): one Parquet folder per table."),
        db: Optional[Path] = DbOption,
        table: List[str] = typer.Option([], "--table", help="Only this table; repeatable (default: every table)."),
    ) -> None:
        """Write the DuckDB warehouse's tables to a Parquet lake (for --engine spark)."""
        from harmlens.engine.lake import export_lake
        from harmlens.warehouse import connect

        con = connect(db, read_only=True, create=False)
        try:
            got = export_lake(con, lake, table or None)
        finally:
            con.close()
        typer.echo(f"{len(got)} tables, {sum(got.values())} rows written to {lake}")

    @lake_app.command("import")
    def import_cmd(
        lake: Path = typer.Argument(..., help="Lake folder written by 'lake export' or by --engine spark."),
        db: Optional[Path] = DbOption,
        table: List[str] = typer.Option([], "--table", help="Only this table; repeatable (default: every lake table)."),
    ) -> None:
        """Replace the DuckDB warehouse's tables with a Parquet lake's (one transaction)."""
        from harmlens.engine.lake import import_lake
        from harmlens.warehouse import connect

        con = connect(db)
        try:
            got = import_lake(con, lake, table or None)
        finally:
            con.close()
        typer.echo(f"{len(got)} tables, {sum(got.values())} rows read from {lake}")
