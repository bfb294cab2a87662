"""Command: ``harmlens retention apply [--execute]``."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Optional

import typer

from harmlens.options import DbOption

retention_app = typer.Typer(help="Retention: expire list entries and apply MoPI-style review periods.", no_args_is_help=True)


@retention_app.command("apply")
def apply_cmd(
    execute: bool = typer.Option(False, "--execute", help="Archive and delete for real (default: dry run, list only)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Apply as of this date (default today)."),
    policy: Optional[Path] = typer.Option(None, "--policy", help="Retention policy TOML (see docs/protect.md)."),
    by: Optional[str] = typer.Option(None, "--by", help="Who runs it (default: the login name)."),
    fmt: str = typer.Option("table", "--format", help="table | csv"),
    db: Optional[Path] = DbOption,
) -> None:
    """List what retention removes (dry run), or with --execute archive, delete and record it."""
    from harmlens.retention.policy import RetentionError, RetentionPolicy, apply_retention
    from harmlens.warehouse import connect

    if fmt not in ("table", "csv"):
        raise RetentionError(f"--format {fmt!r} is not one of table, csv")
    from harmlens.asof import check_flags

    check_flags(**{"--as-of": as_of})
    pol = RetentionPolicy.from_file(policy) if policy else RetentionPolicy()
    con = connect(db, create=False)
    try:
        res = apply_retention(con, as_of, pol, execute=execute, by=by or getpass.getuser())
    finally:
        con.close()
    a = res.actions
    if fmt == "csv":
        from harmlens.csvsafe import csv_text

        typer.echo(csv_text(a), nl=False)
    else:
        counts = a["action"].value_counts().to_dict() if len(a) else {}
        head = "executed" if execute else "dry run (nothing changed; add --execute)"
        typer.echo(f"retention {head}: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing due"))
        if len(a):
            typer.echo(a.to_string(index=False, max_rows=200))
    if execute:
        typer.echo(f"run {res.run_id}: removed {res.removed}, files deleted {res.files_deleted}", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(retention_app, name="retention")
