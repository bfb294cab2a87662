"""Commands: ingest, quarantine, status."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from harmlens.options import DbOption


def _print_frame(df, fmt: str, title: str | None = None) -> None:
    """Data to stdout as a rich table, CSV or JSON."""
    import sys

    if fmt == "csv":
        from harmlens.csvsafe import write_csv

        write_csv(df, sys.stdout)
    elif fmt == "json":
        typer.echo(df.to_json(orient="records", date_format="iso", indent=1))
    else:
        from rich.console import Console
        from rich.table import Table

        t = Table(title=title)
        for c in df.columns:
            t.add_column(str(c), overflow="fold")
        for row in df.itertuples(index=False):
            t.add_row(*["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in row])
        Console(width=max(120, Console().width)).print(t)


def register(app: typer.Typer) -> None:
    @app.command()
    def ingest(
        folder: Path = typer.Argument(..., help="Folder of contract files: events.csv|parquet, people..., optional risk_assessments, stops, population, offence_map."),
        db: Optional[Path] = DbOption,
        format: str = typer.Option("table", "--format", help="table|csv|json"),
    ) -> None:
        """Validate and load a police extract; bad rows go to quarantine with reasons.

        Prints read / loaded / quarantined per table (read = loaded + quarantined always).
        A file that cannot be parsed stops the load and leaves the warehouse unchanged.
        """
        from harmlens.contract.load import ingest as run
        from harmlens.progress import progress
        from harmlens.warehouse import connect

        con = connect(db)
        with progress() as p:
            task = p.add_task("ingesting", total=None)
            report = run(con, folder, on_table=lambda s: p.update(task, description=f"loaded {s.table}"))
        df = report.to_frame()
        _print_frame(df, format, title=f"ingest {folder}" + ("" if report.load_id else " (already loaded: nothing changed)"))
        if report.ignored_files:
            typer.echo(f"ignored (not contract tables): {', '.join(report.ignored_files)}", err=True)
        q = int(df["quarantined"].sum()) if len(df) else 0
        if q and report.load_id:
            typer.echo(f"{q} rows quarantined: see 'harmlens quarantine'", err=True)

    @app.command()
    def quarantine(
        db: Optional[Path] = DbOption,
        table: Optional[str] = typer.Option(None, help="Only this table."),
        load: Optional[int] = typer.Option(None, help="Only this load id."),
        summary: bool = typer.Option(False, "--summary", help="Counts by table and reason instead of rows."),
        limit: int = typer.Option(200, help="At most this many rows (0 = all)."),
        format: str = typer.Option("table", "--format", help="table|csv|json"),
    ) -> None:
        """List rejected rows and why (file, line, column, value, reason)."""
        from harmlens.warehouse import connect

        con = connect(db, create=False)
        where, params = [], []
        if table:
            where.append("table_name = ?")
            params.append(table)
        if load is not None:
            where.append("load_id = ?")
            params.append(load)
        w = ("WHERE " + " AND ".join(where)) if where else ""
        if summary:
            sql = f"SELECT table_name, reason, count(*) AS problems, count(DISTINCT (file, line)) AS rows FROM quarantine {w} GROUP BY ALL ORDER BY problems DESC"
        else:
            sql = f"SELECT load_id, table_name, file, line, column_name, value, reason FROM quarantine {w} ORDER BY load_id, table_name, line"
            if limit:
                sql += f" LIMIT {int(limit)}"
        _print_frame(con.execute(sql, params).df(), format, title="quarantine")

    @app.command()
    def status(db: Optional[Path] = DbOption, format: str = typer.Option("table", "--format", help="table|csv|json")) -> None:
        """Summarise the warehouse: rows per table, loads, quarantine, schema version."""
        import pandas as pd

        from harmlens.warehouse import applied_migrations, connect, resolve_db_path

        con = connect(db, create=False)
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema='main' ORDER BY table_name").fetchall()]
        from harmlens.sqlident import quote_ident

        rows = [{"table": n, "rows": con.execute(f"SELECT count(*) FROM {quote_ident(n)}").fetchone()[0]} for n in names]
        df = pd.DataFrame(rows)
        _print_frame(df, format, title=f"warehouse {resolve_db_path(db)}")
        if format == "table":
            last = con.execute("SELECT load_id, folder, finished_at FROM loads ORDER BY load_id DESC LIMIT 1").fetchone()
            typer.echo(f"schema migrations applied: {len(applied_migrations(con))}; last load: {last[0]} {last[2]} from {last[1]}" if last
                       else f"schema migrations applied: {len(applied_migrations(con))}; no loads yet")
