"""Shared CLI options, so every command spells them the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

DbOption = typer.Option(None, "--db", envvar="HARMLENS_DB", help="Warehouse file (default ./harmlens.duckdb).")


def db_path(db: Optional[Path]) -> Path:
    from harmlens.warehouse import resolve_db_path

    return resolve_db_path(db)
