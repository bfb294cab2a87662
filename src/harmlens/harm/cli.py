"""Commands: ``harmlens harm apply|unmapped|tables|map`` and ``harmlens rank``.

``rank`` lives here because the baselines do; other areas add methods (e.g. ``risk``) through
``harmlens.harm.ranking.register_method`` instead of redefining the command.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from harmlens.csvsafe import csv_text
from harmlens.options import DbOption, EngineOption, SparkMasterOption, warehouse_engine

ENGINE_METHODS = ("v100", "rfg", "rfh")
"""Ranking methods whose SQL runs on any engine (Spark included) without a driver copy."""

harm_app = typer.Typer(help="Offence map and harm weights: map offences to categories, VAWG flags and CCHI days.", no_args_is_help=True)


def _fmt_table(df, columns: list[str]) -> str:
    """Plain aligned text (stable across terminals; no colour so it pipes cleanly)."""
    if not len(df):
        return "(none)"
    return df[columns].to_string(index=False, na_rep="")


def _emit(text: str, out: Optional[Path]) -> None:
    if out is None:
        typer.echo(text, nl=not text.endswith("\n"))  # a CSV already ends its last row
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)


@harm_app.command("apply")
def apply_cmd(
    weights: str = typer.Option("cchi", "--weights", help="Weight table: cchi, severity, or a CSV file (key_type,key,weight)."),
    offence_map: Optional[Path] = typer.Option(None, "--map", help="Extra user offence map CSV (pattern_type,pattern,category,vawg,violent,sexual,harm_weight)."),
    db: Optional[Path] = DbOption,
    engine: str = EngineOption,
    spark_master: Optional[str] = SparkMasterOption,
) -> None:
    """Map every offence event to category, flags and harm weight; (re)write table event_harm."""
    from harmlens.harm.offence_map import apply_offence_map

    with warehouse_engine(db, engine, spark_master) as eng:
        res = apply_offence_map(eng, weights, offence_map=offence_map)
    typer.echo(f"weight table: {res.weight_table}   map: {res.map_source}")
    typer.echo(f"offence events: {res.events}   mapped: {res.mapped}   unmapped: {res.unmapped}   mapped without a weight: {res.unweighted}")
    bc = res.by_category.assign(harm_days=res.by_category["harm_days"].round(2))
    typer.echo(_fmt_table(bc, ["offence_category", "events", "vawg", "harm_days"]))
    if res.unmapped or res.unweighted:
        typer.echo("some offences carry no weight (never counted as zero): run 'harmlens harm unmapped'", err=True)


@harm_app.command("unmapped")
def unmapped_cmd(
    fmt: str = typer.Option("table", "--format", help="table | csv | json"),
    db: Optional[Path] = DbOption,
) -> None:
    """List offence codes/descriptions the map does not cover (or covers without a weight), with counts."""
    from harmlens.harm.errors import HarmError
    from harmlens.harm.offence_map import unmapped_offences
    from harmlens.warehouse import connect

    if fmt not in ("table", "csv", "json"):
        raise HarmError(f"--format {fmt!r} is not one of table, csv, json")
    con = connect(db, create=False)
    try:
        df = unmapped_offences(con)
    finally:
        con.close()
    if fmt == "csv":
        typer.echo(csv_text(df), nl=False)
    elif fmt == "json":
        typer.echo(df.to_json(orient="records", date_format="iso"))
    else:
        if not len(df):
            typer.echo("every offence event is mapped and weighted")
        else:
            typer.echo(f"{int(df['events'].sum())} offence events in {len(df)} code/description groups have no category or no weight:")
            typer.echo(_fmt_table(df, ["status", "offence_code", "offence_description", "events", "first_seen", "last_seen"]))


@harm_app.command("tables")
def tables_cmd(
    show: Optional[str] = typer.Argument(None, help="Print one table's weights (cchi, severity or a CSV path)."),
) -> None:
    """List the built-in weight tables, or print one."""
    from harmlens.harm.weights import BUILTIN_TABLES, load_weight_table

    if show is None:
        for key, (name, _f, unit, desc) in BUILTIN_TABLES.items():
            typer.echo(f"{key:9} {name:26} {unit:7} {desc}")
        return
    t = load_weight_table(show)
    typer.echo(f"# {t.name} ({t.unit}): {t.description}")
    typer.echo(t.frame().to_string(index=False))


@harm_app.command("map")
def map_cmd(fmt: str = typer.Option("table", "--format", help="table | csv")) -> None:
    """Print the built-in offence map (codes, then description patterns by priority)."""
    from harmlens.harm.offence_map import builtin_map_frame

    df = builtin_map_frame()
    typer.echo(csv_text(df) if fmt == "csv" else df.to_string(index=False), nl=fmt != "csv")


def rank_cmd(
    as_of: str = typer.Option(..., "--as-of", help="Date the list is as of (YYYY-MM-DD): events before that day count."),
    method: Optional[str] = typer.Option(None, "--method", help="v100 | rfg | rfh (or a method another area registered)."),
    top: int = typer.Option(20, "--top", help="How many ranks to list (people tied with the last are kept)."),
    fmt: str = typer.Option("table", "--format", help="table | csv | json"),
    weights: Optional[str] = typer.Option(None, "--weights", help="Score with this weight table instead of event_harm as applied."),
    config: Optional[Path] = typer.Option(None, "--config", help="RFG/RFH bands as TOML (see docs/harm.md)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write to this file instead of stdout."),
    force: bool = typer.Option(False, "--force", help="Make the list even when --as-of is outside the recorded events."),
    db: Optional[Path] = DbOption,
    engine: str = EngineOption,
    spark_master: Optional[str] = SparkMasterOption,
) -> None:
    """Priority list as of a date, for human review: each entry shows why, on what evidence, and as of when."""
    from harmlens.harm.baselines import RFGConfig
    from harmlens.harm.errors import HarmError
    from harmlens.harm.ranking import default_method, get_method, rank

    if fmt not in ("table", "csv", "json"):
        raise HarmError(f"--format {fmt!r} is not one of table, csv, json")
    name = method or default_method()
    m = get_method(name)
    opts: dict = {}
    if weights is not None:
        opts["weights"] = weights
    if config is not None:
        if "config" not in m.options:
            raise HarmError(f"method {name!r} takes no --config")
        opts["config"] = RFGConfig.from_file(config)
    from harmlens.harm.baselines import as_of_timestamp
    from harmlens.harm.span import check_as_of

    when = as_of_timestamp(as_of)
    with warehouse_engine(db, engine, spark_master) as eng:
        check_as_of(eng, when, force=force)
        if eng.name == "duckdb":
            # the scorer may be another area's (registered methods take a DuckDB connection)
            res = rank(eng.con, name, as_of, top=top, **opts)
        elif name not in ENGINE_METHODS:
            # another area's method takes a DuckDB connection: it still gets a driver copy of the
            # lake (slow at national scale; docs/scale.md)
            from harmlens.engine.lake import on_driver

            with on_driver(eng) as con:
                res = rank(con, name, as_of, top=top, **opts)
        else:
            from functools import partial

            from harmlens.harm.driver_subset import listed_on_driver

            res = rank(eng, name, as_of, top=top, listed_on=partial(listed_on_driver, eng), **opts)
    if fmt == "csv":
        _emit(csv_text(res.combined(), date_format="%Y-%m-%dT%H:%M:%S"), out)
    elif fmt == "json":
        _emit(json.dumps(res.to_json_dict(), indent=2), out)
    else:
        _emit(res.to_text(), out)
    for note in res.notes:
        typer.echo(f"note: {note}", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(harm_app, name="harm")
    app.command("rank")(rank_cmd)
