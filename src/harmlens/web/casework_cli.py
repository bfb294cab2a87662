"""Commands: ``harmlens publish LIST_ID`` and ``harmlens casework actions``.

They live with the web app, not in :mod:`harmlens.casework`, because they act on the web app's
operational store (users, published lists, actions): the casework package holds the records'
tables and vocabulary, and the web app (and these commands) build on it, never the reverse.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from harmlens.options import DbOption

casework_app = typer.Typer(help="The unit's casework kept in the operational store (assignments, actions, lists published).",
                           no_args_is_help=True)
StoreOpt = typer.Option(None, "--store", envvar="HARMLENS_DATABASE_URL", help="Operational store URL (default: SQLite beside the warehouse).")


def publish_cmd(
    list_id: str = typer.Argument(..., help="A stored list (see 'harmlens lists list')."),
    by: str = typer.Option(..., "--by", help="The supervisor (a harmlens user) who publishes it."),
    note: Optional[str] = typer.Option(None, "--note", help="Why this list, recorded with it."),
    db: Optional[Path] = DbOption,
    store: Optional[str] = StoreOpt,
) -> None:
    """Publish a stored list: it becomes the list people open in the web app (the app can do the same)."""
    from harmlens.errors import HarmlensError
    from harmlens.options import db_path
    from harmlens.warehouse import connect
    from harmlens.web.auth import get_user
    from harmlens.web.casework_routes import publish
    from harmlens.web.store import open_store

    con = connect(db, read_only=True, create=False)
    try:
        r = con.execute("SELECT kind, expires_at <= now()::TIMESTAMP FROM priority_lists WHERE list_id = ?", [list_id]).fetchone()
    finally:
        con.close()
    if r is None:
        raise HarmlensError(f"no stored list {list_id!r}: see 'harmlens lists list'")
    if r[1]:
        raise HarmlensError(f"list {list_id} has expired: rebuild it with 'harmlens rank' before publishing")
    s = open_store(store, db_path(db))
    try:
        u = get_user(s, by)
        if u is None or u["role"] != "supervisor" or u["disabled"]:
            raise HarmlensError(f"{by!r} is not an active supervisor: only a supervisor publishes a list")
        publish(s, list_id, r[0], by, note)
    finally:
        s.close()
    typer.echo(f"published {list_id} ({r[0]}) by {by}")


def actions_cmd(
    out: Optional[Path] = typer.Option(None, "--out", help="CSV file (default: stdout)."),
    db: Optional[Path] = DbOption,
    store: Optional[str] = StoreOpt,
) -> None:
    """Every action taken about a listed person, with the date taken (for outcome monitoring), as CSV."""
    from harmlens.casework.records import actions_frame
    from harmlens.csvsafe import csv_text, write_csv
    from harmlens.options import db_path
    from harmlens.web.store import open_store

    s = open_store(store, db_path(db))
    try:
        rows = actions_frame(s)
    finally:
        s.close()
    cols = ["person_id", "action", "action_date", "list_id", "by_user"]
    if out:
        write_csv(rows, out, columns=cols)
        typer.echo(f"wrote {len(rows)} action(s) to {out}")
    else:
        typer.echo(csv_text(rows, columns=cols), nl=False)


def register(app: typer.Typer) -> None:
    app.command("publish")(publish_cmd)
    casework_app.command("actions")(actions_cmd)
    app.add_typer(casework_app, name="casework")
