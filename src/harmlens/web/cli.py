"""Commands: ``harmlens serve``, ``harmlens users add|disable|list``, ``harmlens access-log verify|search``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import typer

from harmlens.errors import HarmlensError
from harmlens.options import DbOption

StoreOption = typer.Option(
    None,
    "--store",
    envvar="HARMLENS_DATABASE_URL",
    help="Operational store URL (default: SQLite file beside the warehouse, e.g. harmlens.ops.sqlite).",
)

users_app = typer.Typer(help="Manage the people who may sign in to the web app.", no_args_is_help=True)
log_app = typer.Typer(help="Check and search the tamper-evident access log.", no_args_is_help=True)
stops_app = typer.Typer(help="Stops recorded by officers in the web app.", no_args_is_help=True)


def _store(store: Optional[str], db: Optional[Path]):
    from harmlens.options import db_path
    from harmlens.web.store import open_store

    return open_store(store, db_path(db))


@users_app.command("add")
def users_add(
    username: str = typer.Argument(..., help="Login name (lower case)."),
    role: str = typer.Option(..., "--role", help="analyst | supervisor | partner | officer | auditor"),
    agency: Optional[str] = typer.Option(None, "--agency", help="Partner users only: their agency."),
    password_env: Optional[str] = typer.Option(
        None, "--password-env", help="Read the password from this environment variable instead of prompting."
    ),
    db: Optional[Path] = DbOption,
    store: Optional[str] = StoreOption,
) -> None:
    """Add a user (the password is prompted for, or read from --password-env)."""
    from harmlens.web.auth import UserError, add_user

    if password_env:
        password = os.environ.get(password_env)
        if password is None:
            raise UserError(f"environment variable {password_env} is not set")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    s = _store(store, db)
    add_user(s, username, password, role, agency)
    typer.echo(f"added {username} ({role}{', ' + agency if agency else ''})")


@users_app.command("disable")
def users_disable(
    username: str = typer.Argument(...),
    db: Optional[Path] = DbOption,
    store: Optional[str] = StoreOption,
) -> None:
    """Disable a user and end their sessions now."""
    from harmlens.web.auth import disable_user

    disable_user(_store(store, db), username)
    typer.echo(f"disabled {username}")


@users_app.command("list")
def users_list(
    db: Optional[Path] = DbOption,
    store: Optional[str] = StoreOption,
    as_json: bool = typer.Option(False, "--json", help="JSON lines instead of a table."),
) -> None:
    """List users, their roles and whether they are disabled."""
    from harmlens.web.auth import list_users

    rows = list_users(_store(store, db))
    if as_json:
        for r in rows:
            typer.echo(json.dumps(r))
        return
    typer.echo(f"{'username':<24} {'role':<11} {'agency':<20} status")
    for r in rows:
        typer.echo(f"{r['username']:<24} {r['role']:<11} {(r['agency'] or '-'):<20} {'disabled' if r['disabled'] else 'active'}")


@log_app.command("verify")
def log_verify(
    expect_head: Optional[str] = typer.Option(None, "--expect-head", help="A head hash published earlier; must still match."),
    db: Optional[Path] = DbOption,
    store: Optional[str] = StoreOption,
) -> None:
    """Recompute the hash chain; exit 1 and name each break if any row was edited, inserted or deleted."""
    from harmlens.errors import HarmlensError
    from harmlens.web.accesslog import verify

    res = verify(_store(store, db), expect_head=expect_head)
    if res.ok:
        typer.echo(f"ok: {res.rows} entries, chain intact; head {res.head_seq} {res.head_hash}")
        return
    for p in res.problems:
        typer.echo(f"broken: {p}", err=True)
    raise HarmlensError(f"access log failed verification: {len(res.problems)} problem(s) in {res.rows} entries")


@log_app.command("search")
def log_search(
    user: Optional[str] = typer.Option(None, "--user"),
    object_id: Optional[str] = typer.Option(None, "--object", help="e.g. a person id"),
    action: Optional[str] = typer.Option(None, "--action"),
    since: Optional[str] = typer.Option(None, "--since", help="ISO date/time (UTC)"),
    until: Optional[str] = typer.Option(None, "--until", help="ISO date/time (UTC)"),
    limit: int = typer.Option(100, "--limit"),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl | csv"),
    db: Optional[Path] = DbOption,
    store: Optional[str] = StoreOption,
) -> None:
    """Print matching entries as JSON lines (or CSV), newest first."""
    from harmlens.web.accesslog import search

    if fmt not in ("jsonl", "csv"):
        raise HarmlensError(f"--format {fmt!r} is not one of jsonl, csv")
    rows = search(_store(store, db), username=user, object_id=object_id, action=action, since=since, until=until, limit=limit)
    if fmt == "csv":
        from harmlens.csvsafe import csv_text

        # detail is a nested dict: one JSON cell keeps it whole and still goes through the neutraliser
        flat = [{k: (json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v) for k, v in r.items()} for r in rows]
        typer.echo(csv_text(flat) if flat else "", nl=False)
        return
    for r in rows:
        typer.echo(json.dumps(r))


@stops_app.command("export")
def recorded_stops_export(
    out_dir: Path = typer.Argument(..., help="Folder to write stops.csv into (then: harmlens ingest OUT_DIR)."),
    db: Optional[Path] = DbOption,
    store: Optional[str] = StoreOption,
) -> None:
    """Write the stops recorded in the app as a contract stops.csv, ready for 'harmlens ingest'."""
    from harmlens.csvsafe import write_csv
    from harmlens.web.stopform import FIELDS, export_recorded_stops

    rows = export_recorded_stops(_store(store, db))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "stops.csv"
    tmp = path.with_suffix(".csv.tmp")
    write_csv(rows, tmp, columns=["stop_id", *FIELDS])
    tmp.replace(path)
    typer.echo(f"wrote {len(rows)} stop(s) to {path}")


def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(1, "--workers", help="Uvicorn worker processes."),
    idle_minutes: int = typer.Option(15, "--idle-minutes", help="Sign users out after this many idle minutes."),
    tls_cert: Optional[Path] = typer.Option(None, "--tls-cert", help="Serve HTTPS with this certificate (cookies become Secure)."),
    tls_key: Optional[Path] = typer.Option(None, "--tls-key"),
    behind_tls: bool = typer.Option(False, "--behind-tls", help="A TLS proxy fronts the app: mark cookies Secure."),
    read_only: bool = typer.Option(
        False, "--read-only", help="Allow --workers > 1 (each worker serves its own snapshot of the warehouse; see docs/web.md)."
    ),
    db: Optional[Path] = DbOption,
    store: Optional[str] = StoreOption,
) -> None:
    """Run the web app and REST API (sign in with a user made by 'harmlens users add')."""
    from harmlens.errors import HarmlensError, MissingExtraError
    from harmlens.options import db_path

    try:
        import uvicorn  # noqa: F401  (only: is the web extra installed?)
    except ImportError as exc:
        raise MissingExtraError("web", "uvicorn") from exc
    wh = db_path(db)
    if not wh.exists():
        raise HarmlensError(f"no warehouse at {wh}: run 'harmlens ingest DIR' first or pass --db")
    if workers > 1 and not read_only:
        raise HarmlensError("--workers > 1 needs --read-only (DuckDB allows one writing process)")
    if bool(tls_cert) != bool(tls_key):
        raise HarmlensError("--tls-cert and --tls-key go together")
    # The app factory reads its settings from the environment so every worker gets the same.
    os.environ["HARMLENS_DB"] = str(wh)
    if store:
        os.environ["HARMLENS_DATABASE_URL"] = store
    os.environ["HARMLENS_IDLE_MINUTES"] = str(idle_minutes)
    os.environ["HARMLENS_SECURE_COOKIES"] = "1" if (tls_cert or behind_tls) else "0"
    os.environ["HARMLENS_WEB_READ_ONLY"] = "1" if read_only else "0"
    _store(store, wh)  # fail early, with a clear line, if the store cannot be opened
    # The app copies the warehouse into its own snapshot and builds the serving index there
    # (web/snapshot.py): the warehouse stays free for commands while the app runs.
    typer.echo(f"harmlens web app on {'https' if tls_cert else 'http'}://{host}:{port}/", err=True)
    from harmlens.web.server import run

    run(
        "harmlens.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        proxy_headers=behind_tls,
        log_level="warning",
        access_log=False,  # our own access log records who saw what; uvicorn's would log URLs only
    )


def register(app: typer.Typer) -> None:
    from harmlens.web import casework_cli

    casework_cli.register(app)
    app.command("serve")(serve)
    app.add_typer(users_app, name="users")
    app.add_typer(log_app, name="access-log")
    app.add_typer(stops_app, name="recorded-stops")
