"""Commands: link, link-file, export links, person, explain-link, link-review, link-history."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from harmlens.options import DbOption, EngineOption, SparkMasterOption


def _frame_out(df, fmt: str, title: str | None = None) -> None:
    if fmt == "csv":
        from harmlens.csvsafe import write_csv

        write_csv(df, sys.stdout)
    elif fmt == "json":
        typer.echo(df.to_json(orient="records", date_format="iso", indent=1))
    elif fmt == "table":
        from rich.console import Console
        from rich.table import Table

        t = Table(title=title)
        for c in df.columns:
            t.add_column(str(c), overflow="fold")
        for row in df.itertuples(index=False):
            t.add_row(*["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in row])
        Console(width=max(120, Console().width)).print(t)
    else:
        from harmlens.errors import HarmlensError

        raise HarmlensError(f"unknown --format '{fmt}': use table, csv or json")


def _export_group(app: typer.Typer) -> typer.Typer:
    """The shared ``export`` group: reuse it if another area registered it first."""
    for g in app.registered_groups:
        if g.name == "export" and g.typer_instance is not None:
            return g.typer_instance
    export_app = typer.Typer(help="Export tables (CSV, Parquet, JSON).", no_args_is_help=True)
    app.add_typer(export_app, name="export")
    return export_app


MAP_HELP = ("Which column holds which field, as KEY=COLUMN pairs separated by commas, e.g. "
            "forename=first, surname=last, dob=born. Keys: forename, surname, sex, postcode; a date of birth as "
            "dob (a date or a year), or dob_year with dob_month and dob_day, or age with age_at; "
            "any other key (middle_name, forename2, birthplace ...) is an extra comparison.")
"""--map help, written in short words so the help screen wraps it between words."""


def register(app: typer.Typer) -> None:
    @app.command("link")
    def link_cmd(
        db: Optional[Path] = DbOption,
        threshold: Optional[float] = typer.Option(None, help="Match probability at which mentions are joined (default: the model's; when a model is estimated, chosen for --precision)."),
        precision: Optional[float] = typer.Option(None, "--precision", help="Expected pairwise precision the threshold is chosen for when a model is estimated and no --threshold is given (default 0.995)."),
        retrain: bool = typer.Option(False, "--retrain", help="Re-estimate the model (EM) from the current mentions, then re-link all."),
        full: bool = typer.Option(False, "--full", help="Re-score and re-cluster all mentions (person ids still kept where they keep meaning)."),
        placeholder_postcode: List[str] = typer.Option([], "--placeholder-postcode", help="A postcode that is not a home address (custody suite, station); repeatable."),
        format: str = typer.Option("text", "--format", help="text|json"),
        engine: str = EngineOption,
        spark_master: Optional[str] = SparkMasterOption,
    ) -> None:
        """Link every person mention to one person (person_ref exact; Splink probabilistic; stable ids).

        The first run estimates the model from the data and links everything; later runs link
        only new mentions against existing persons. Merges and splits go to link-history.
        """
        import json

        from harmlens.link.warehouse import link_warehouse
        from harmlens.progress import progress
        from harmlens.warehouse import connect

        kw = dict(threshold=threshold, retrain=retrain, full=full, placeholder_postcodes=set(placeholder_postcode), precision=precision)
        if engine != "duckdb":
            from harmlens.link.spark_run import link_lake
            from harmlens.options import warehouse_engine

            with warehouse_engine(db, engine, spark_master) as eng:
                s = link_lake(eng, **kw)
        else:
            con = connect(db, create=False)
            with progress() as p:
                p.add_task("linking", total=None)
                s = link_warehouse(con, **kw)
        typer.echo(json.dumps(s.as_dict(), indent=1) if format == "json" else s.text())

    @app.command("link-file")
    def link_file_cmd(
        files: List[Path] = typer.Argument(..., help="CSV or Parquet file(s) with the same columns: deduplicated together, or with --link-only two sources linked to each other."),
        id: str = typer.Option(..., "--id", help="Column with a unique id per row (per source with --link-only)."),
        map: str = typer.Option(..., "--map", help=MAP_HELP),
        link_only: bool = typer.Option(False, "--link-only", help="Two files are two sources: link records across them, never within one."),
        one_to_one: bool = typer.Option(False, "--one-to-one", help="With --link-only: each record matches at most one record of the other source (best pairs first)."),
        truth: Optional[str] = typer.Option(None, "--truth", help="Column with the true entity: prints precision, recall, F1 and blocking recall."),
        truth_pattern: Optional[str] = typer.Option(None, "--truth-pattern", help="Regex whose first group, applied to --truth, is the entity (e.g. 'rec-(\\d+)')."),
        threshold: Optional[float] = typer.Option(None, help="Match probability a pair needs to join two groups (default 0.5 with average linkage, 0.95 with --strict)."),
        max_pairs: int = typer.Option(5_000_000, "--max-pairs", help="Most comparisons one blocking rule may make (counted first); a rule over it is tightened or dropped."),
        relatives: str = typer.Option("auto", "--relatives", help="Keep relatives apart (unrelated forenames, birth dates far apart never join): auto (when the file holds households), on or off."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the links here (.csv or .parquet); default stdout."),
        strict: bool = typer.Option(False, "--strict", help="Police-records model: unrelated forenames and conflicting dates of birth weigh heavily and never chain (what 'harmlens link' uses)."),
    ) -> None:
        """Deduplicate a list of people, or link two lists, with a column mapping; writes mention_id,person_id
        (source,mention_id,person_id with --link-only)."""
        import json

        import pandas as pd

        from harmlens.csvsafe import write_csv
        from harmlens.link.linkfile import LinkFileError, link_file, parse_mapping

        if threshold is not None and not 0.0 < threshold < 1.0:
            raise LinkFileError(f"--threshold must be between 0 and 1, got {threshold}")
        link_only = link_only or one_to_one
        if link_only and len(files) != 2:
            raise LinkFileError(f"--link-only takes exactly two files (the two sources), not {len(files)}")
        a, b = (list(files[:1]), list(files[1:])) if link_only else (list(files), None)
        r = link_file(a, id, parse_mapping(map), files_b=b, one_to_one=one_to_one, truth=truth, truth_pattern=truth_pattern,
                      threshold=threshold, strict=strict, max_pairs=max_pairs, relatives=relatives)
        if link_only:
            rows = [(str(files[int(m[0])]), m[2:], p) for m, p in r.assignments]
            df = pd.DataFrame(rows, columns=["source", "mention_id", "person_id"])
        else:
            df = pd.DataFrame(r.assignments, columns=["mention_id", "person_id"])
        if out is None:
            write_csv(df, sys.stdout)
        elif out.suffix.lower() == ".parquet":
            df.to_parquet(out, index=False)
        else:
            write_csv(df, out)
        stream_err = out is None
        for line in r.summary_lines():
            typer.echo(line, err=True)
        what = "links across the sources" if link_only else "linked pairs"
        msg = (f"{len(df)} rows -> {df['person_id'].nunique()} persons; {r.n_links} {what}; {r.result.n_candidates} candidate pairs; "
               f"{r.result.timings['total_s']:.1f} s")
        typer.echo(msg, err=stream_err)
        if r.scores is not None:
            typer.echo(r.scores.text(), err=stream_err)
            typer.echo(json.dumps(r.scores.as_dict()), err=stream_err)

    export_app = _export_group(app)

    @export_app.command("links")
    def export_links(
        db: Optional[Path] = DbOption,
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="File (.csv, .parquet or .json); default CSV on stdout."),
    ) -> None:
        """One mention_id,person_id row per mention."""
        from harmlens.csvsafe import write_csv
        from harmlens.errors import WarehouseError
        from harmlens.warehouse import connect

        con = connect(db, create=False)
        df = con.execute("SELECT mention_id, person_id FROM links ORDER BY mention_id").df()
        if df.empty:
            raise WarehouseError("no links yet: run 'harmlens link' first")
        if out is None:
            write_csv(df, sys.stdout)
        elif out.suffix.lower() == ".parquet":
            df.to_parquet(out, index=False)
        elif out.suffix.lower() == ".json":
            out.write_text(df.to_json(orient="records", indent=1))
        else:
            write_csv(df, out)
        if out is not None:
            typer.echo(f"{len(df)} links written to {out}", err=True)

    @app.command("person")
    def person_cmd(
        person_id: str = typer.Argument(..., help="A person id from links."),
        db: Optional[Path] = DbOption,
        format: str = typer.Option("table", "--format", help="table|csv|json"),
    ) -> None:
        """All of a person's mentions and the events they are in (role, evidence, date)."""
        from harmlens.link.person import person_mentions
        from harmlens.warehouse import connect

        con = connect(db, create=False)
        df, hist = person_mentions(con, person_id)
        _frame_out(df, format, title=f"person {person_id}: {len(df)} mentions")
        if format == "table" and len(hist):
            _frame_out(hist, "table", title="merges and splits involving this person")

    @app.command("explain-link")
    def explain_cmd(
        mention_a: str = typer.Argument(...),
        mention_b: str = typer.Argument(...),
        db: Optional[Path] = DbOption,
        chart: Optional[Path] = typer.Option(None, "--chart", help="Write the waterfall chart (.svg, .png, .html or .json)."),
        hide_values: bool = typer.Option(False, "--hide-values", help="Show weights only, not the recorded names/dates."),
        format: str = typer.Option("text", "--format", help="text|json"),
    ) -> None:
        """Match weight per field for two mentions, in text and as a waterfall chart."""
        import dataclasses
        import json

        from harmlens.link.explain import explain_link, write_chart
        from harmlens.warehouse import connect

        con = connect(db, create=False)
        e = explain_link(con, mention_a, mention_b, hide_values=hide_values)
        if format == "json":
            d = dataclasses.asdict(e)
            d.pop("chart_spec")
            if hide_values:
                for f in d["fields"]:
                    f["value_a"] = f["value_b"] = None
            typer.echo(json.dumps(d, indent=1, default=str))
        else:
            typer.echo(e.text(show_values=not hide_values))
        if chart is not None:
            write_chart(e.chart_spec, chart)
            typer.echo(f"waterfall chart written to {chart}", err=True)

    review_app = typer.Typer(help="Clerical review of pairs near the linking threshold.", no_args_is_help=True)
    app.add_typer(review_app, name="link-review")

    @review_app.command("list")
    def review_list(
        db: Optional[Path] = DbOption,
        limit: int = typer.Option(50, help="At most this many pairs (0 = all)."),
        format: str = typer.Option("table", "--format", help="table|csv|json"),
    ) -> None:
        """Undecided pairs near the threshold, closest to it first."""
        from harmlens.warehouse import connect

        con = connect(db, create=False)
        thr = con.execute("SELECT coalesce(max(threshold), 0.95) FROM link_models WHERE active").fetchall()[0][0]
        sql = """SELECT r.mention_a, r.mention_b, round(r.match_probability, 4) AS match_probability, r.same_person_now,
                        la.person_id AS person_a, lb.person_id AS person_b
                 FROM link_review r LEFT JOIN links la ON la.mention_id = r.mention_a LEFT JOIN links lb ON lb.mention_id = r.mention_b
                 ORDER BY abs(r.match_probability - ?), r.mention_a, r.mention_b"""
        if limit > 0:
            sql += f" LIMIT {int(limit)}"
        _frame_out(con.execute(sql, [thr]).df(), format, title="link review queue (decide with 'harmlens link-review decide A B same|different')")

    @review_app.command("decide")
    def review_decide(
        mention_a: str = typer.Argument(...),
        mention_b: str = typer.Argument(...),
        decision: str = typer.Argument(..., help="same | different"),
        by: str = typer.Option(..., "--by", help="Who decided (recorded)."),
        note: Optional[str] = typer.Option(None, "--note"),
        db: Optional[Path] = DbOption,
    ) -> None:
        """Record that two mentions are (not) the same person; the next 'harmlens link' applies it."""
        from harmlens.link.warehouse import decide
        from harmlens.warehouse import connect

        con = connect(db, create=False)
        decide(con, mention_a, mention_b, decision.strip().lower(), by, note)
        typer.echo(f"recorded: {mention_a} and {mention_b} are {'the same person' if decision.strip().lower() == 'same' else 'different persons'}; run 'harmlens link' to apply")

    @app.command("link-history")
    def history_cmd(
        db: Optional[Path] = DbOption,
        person: Optional[str] = typer.Option(None, "--person", help="Only changes involving this person id."),
        limit: int = typer.Option(100, help="At most this many rows (0 = all)."),
        format: str = typer.Option("table", "--format", help="table|csv|json"),
    ) -> None:
        """Merges and splits of persons: when, before, after, why."""
        from harmlens.warehouse import connect

        con = connect(db, create=False)
        where, params = "", []
        if person:
            where = "WHERE list_contains(CAST(before AS VARCHAR[]), ?) OR list_contains(CAST(after AS VARCHAR[]), ?)"
            params = [person, person]
        sql = f"SELECT run_id, changed_at, change, before, after, reason FROM link_history {where} ORDER BY changed_at DESC, run_id DESC"
        if limit > 0:
            sql += f" LIMIT {int(limit)}"
        _frame_out(con.execute(sql, params).df(), format, title="link history")
