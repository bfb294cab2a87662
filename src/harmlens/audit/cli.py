"""Command: ``harmlens audit`` (warehouse priority list, or any scored table with --scores)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

import typer

from harmlens.options import DbOption


def _formats(value: str) -> tuple[str, ...]:
    from harmlens.audit.report import FORMATS
    from harmlens.errors import HarmlensError

    fm = tuple(f.strip().lower() for f in value.split(",") if f.strip())
    bad = [f for f in fm if f not in FORMATS]
    if bad or not fm:
        raise HarmlensError(f"--format must be a comma-separated subset of {','.join(FORMATS)}, not {value!r}")
    return fm


def _print_summary(gf, reference: str, metrics: list[str], fmt: str, title: str) -> None:
    import pandas as pd

    bg = gf.by_group[metrics].copy()
    ci = gf.ci
    rows = []
    for g in gf.groups:
        row: dict[str, object] = {"group": g, "n": int(gf.counts[g])}
        for m in metrics:
            v = bg.loc[g, m]
            lo, hi = ci.loc[(g, m), "low"], ci.loc[(g, m), "high"]
            flag = "" if gf.reliable.loc[g, m] else " (few)"
            row[m] = "" if pd.isna(v) else (f"{100 * v:.2f}% [{100 * lo:.1f}-{100 * hi:.1f}]{flag}" if m != "auc"
                                            else f"{v:.3f} [{lo:.3f}-{hi:.3f}]{flag}")
        rows.append(row)
    df = pd.DataFrame(rows)
    if fmt == "csv":
        import sys

        from harmlens.csvsafe import write_csv

        write_csv(gf.to_frame(), sys.stdout)
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title)
    for c in df.columns:
        t.add_column(str(c), overflow="fold")
    for r in df.itertuples(index=False):
        t.add_row(*[str(v) for v in r])
    Console(width=max(140, Console().width)).print(t)
    typer.echo(f"reference group for ratios: {reference}")


def register(app: typer.Typer) -> None:
    @app.command()
    def audit(
        scores: Optional[Path] = typer.Option(None, "--scores", help="Audit this scored table (CSV/Parquet) instead of the warehouse list."),
        outcome: Optional[str] = typer.Option(None, "--outcome", help="Table mode: column with what happened (0/1, true/false)."),
        group: Optional[str] = typer.Option(None, "--group", help="Table mode: column of group labels (e.g. race, ethnicity)."),
        positive: Optional[str] = typer.Option(None, "--positive", help="Table mode: which rows count as flagged, e.g. \"score_text in ('High','Medium')\" or \"decile_score >= 5\"."),
        score: Optional[str] = typer.Option(None, "--score", help="Table mode: numeric score column for AUC (and calibration if in 0-1)."),
        reference: Optional[str] = typer.Option(None, "--reference", help="Group others are compared with, any spelling (default: White for ethnicity, else the largest group)."),
        na: List[str] = typer.Option([], "--na", help="Table mode: another value meaning missing (repeat); empty, NA, N/A, NULL, NaN and . always do."),
        keep_value: List[str] = typer.Option([], "--keep-value", help="Table mode: a value that looks missing but is a real category (repeat)."),
        db: Optional[Path] = DbOption,
        list_id: Optional[str] = typer.Option(None, "--list", help="Warehouse mode: a stored priority list id (default: the latest offenders list)."),
        version: Optional[str] = typer.Option(None, "--model", help="Warehouse mode: make the list from this model version's stored scores instead."),
        as_of: Optional[str] = typer.Option(None, "--as-of", help="Warehouse mode: the list date (YYYY-MM-DD; default: the latest scores, else the day after the last event)."),
        top: int = typer.Option(100, "--top", min=1, help="Warehouse mode: list size (people at large, highest first)."),
        horizon: int = typer.Option(365, "--horizon", min=1, help="Warehouse mode: days after the list date in which outcomes count."),
        actions: Optional[Path] = typer.Option(None, "--actions", help="Warehouse mode: casework actions (the CSV of 'harmlens casework actions'): people acted on in the 90 days after the list date are compared with similar people not acted on."),
        out: Optional[Path] = typer.Option(None, "--out", help="Write the report here (audit.html, audit.pdf, audit.json)."),
        format: str = typer.Option("html,pdf,json", "--format", help="Which files to write with --out: any of html,pdf,json."),
        stdout: str = typer.Option("table", "--print", help="What to print: table|json|csv|none."),
        n_boot: int = typer.Option(500, "--n-boot", min=0, help="Bootstrap replicates for the intervals."),
        seed: int = typer.Option(0, "--seed", help="Random seed for the bootstrap."),
        min_group_size: int = typer.Option(30, "--min-group-size", min=1, help="Groups smaller than this are flagged as too small."),
    ) -> None:
        """Bias audit: error rates, selection and calibration by group, with intervals and warnings.

        Without --scores: audits the latest priority list in the warehouse (ethnicity, age band,
        sex, borough; list vs population vs recorded offending; proxies; label bias; outcomes).
        With --scores: audits any scored table, e.g. another tool's scores.
        """
        import json as _json

        from harmlens.errors import HarmlensError

        fm = _formats(format)
        if stdout not in ("table", "json", "csv", "none"):
            raise HarmlensError(f"--print must be table, json, csv or none, not {stdout!r}")
        if scores is not None:
            missing = [n for n, v in [("--outcome", outcome), ("--group", group), ("--positive", positive)] if not v]
            if missing:
                raise HarmlensError(f"--scores needs {', '.join(missing)}")
            from harmlens.audit.report import table_audit_body, write_outputs
            from harmlens.audit.table import audit_table, read_table

            df = read_table(scores, na=na, keep=keep_value)
            ta = audit_table(df, outcome=outcome, group=group, positive=positive, score=score, reference=reference,
                             source=scores.name, n_boot=n_boot, min_group_size=min_group_size, random_state=seed)
            if stdout == "json":
                typer.echo(_json.dumps(ta.to_dict(), indent=1, allow_nan=False))
            elif stdout != "none":
                metrics = [m for m in ["selection_rate", "false_positive_rate", "false_negative_rate", "precision",
                                       "auc"] if m in ta.errors.metrics]
                _print_summary(ta.errors, ta.reference, metrics, stdout, f"audit of {scores.name}: {positive}")
                for f in ta.findings():
                    typer.echo(f"finding: {f}", err=True)
                for w in ta.warnings:
                    typer.echo(f"warning: {w}", err=True)
            if out is not None:
                body = table_audit_body(ta) if ("html" in fm or "pdf" in fm) else None
                paths = write_outputs(ta, body, out, "audit", title=f"Bias audit: {scores.name}", formats=fm,
                                      subtitle=f"flagged = {positive}; outcome = {outcome}; groups = {group}",
                                      meta={"rows": f"{ta.n_used:,}", "reference group": ta.reference,
                                            "intervals": ta.errors.method})
                for k, p in paths.items():
                    typer.echo(f"wrote {k}: {p}", err=True)
            return

        if any([outcome, group, positive, score]):
            raise HarmlensError("--outcome/--group/--positive/--score are for table mode: add --scores FILE")
        from harmlens.audit.report import write_outputs
        from harmlens.audit.warehouse import audit_warehouse, record_run, warehouse_body, write_transparency
        from harmlens.warehouse import connect

        con = connect(db, create=False)
        try:
            wa = audit_warehouse(con, list_id=list_id, version=version, as_of=as_of, top=top, horizon_days=horizon, n_boot=n_boot,
                                 random_state=seed, min_group_size=min_group_size, reference=reference,
                                 actions=_read_actions(actions) if actions is not None else None)
            run_id = record_run(con, wa)
        finally:
            con.close()
        typer.echo(f"audit run {run_id}: {wa.headline()}", err=True)
        if stdout == "json":
            typer.echo(_json.dumps(wa.to_dict(), indent=1, allow_nan=False))
        elif stdout != "none":
            eth = wa.dimensions.get("ethnicity")
            gf = eth.errors.get(wa.primary_label) if eth is not None else None
            if gf is not None:
                metrics = ["selection_rate", "false_positive_rate", "false_negative_rate", "precision", "auc"]
                _print_summary(gf, wa.reference, [m for m in metrics if m in gf.metrics], stdout,
                               f"audit of list {wa.list_id} by ethnicity (label: {wa.primary_label})")
            elif eth is not None:
                typer.echo(eth.shares.by_group.to_string(float_format=lambda v: f"{v:.3f}"))
            for f in wa.findings():
                typer.echo(f"finding: {f}", err=True)
            for w in wa.warnings:
                typer.echo(f"warning: {w}", err=True)
        if out is not None:
            body = warehouse_body(wa) if ("html" in fm or "pdf" in fm) else None
            paths = write_outputs(wa, body, out, "audit", title=f"Bias audit of priority list {wa.list_id}",
                                  formats=fm, subtitle=wa.subtitle(), meta=wa.meta())
            con = connect(db)
            try:
                if "html" in paths:
                    from harmlens.audit.warehouse import record_report_page

                    record_report_page(con, run_id, paths["html"])
                paths.update({f"transparency {k}": p for k, p in write_transparency(
                    con, wa, out, version=wa.model.get("version"), formats=fm).items()})
            finally:
                con.close()
            for k, p in paths.items():
                typer.echo(f"wrote {k}: {p}", err=True)

    @app.command()
    def transparency(
        model: Optional[str] = typer.Option(None, "--model", help="Model version (default: the promoted, else newest; 'v100' for the rule)."),
        out: Path = typer.Option(Path("transparency"), "--out", help="Folder for transparency.html/.pdf/.json/.md."),
        format: str = typer.Option("html,pdf,json", "--format", help="Any of html,pdf,json (markdown always)."),
        organisation: Optional[str] = typer.Option(None, "--organisation", help="Deploying organisation's name."),
        contact: Optional[str] = typer.Option(None, "--contact", help="Public contact for the record."),
        owner: Optional[str] = typer.Option(None, "--owner", help="Senior responsible owner (a role, not a name, if you prefer)."),
        db: Optional[Path] = DbOption,
    ) -> None:
        """ATRS-style transparency record of the model behind the lists, from the model card's facts and the latest audit."""
        import json as _json

        from harmlens.audit.warehouse import write_transparency
        from harmlens.warehouse import connect

        fm = _formats(format)
        con = connect(db, create=False)
        try:
            version = None if model == "v100" else model
            if version is None and model != "v100":
                from harmlens.engine import as_engine

                if as_engine(con).has_table("models") and con.execute("SELECT count(*) FROM models").fetchall()[0][0]:
                    from harmlens.risk.registry import get_model

                    version = get_model(con)["version"]
            last = con.execute(
                "SELECT result FROM audit_runs WHERE model_version IS NOT DISTINCT FROM ? ORDER BY created_at DESC LIMIT 1",
                [version]).fetchall()
            audit = _LastAudit(_json.loads(last[0][0])) if last else None
            org = {k: v for k, v in {"organisation": organisation, "contact": contact,
                                     "senior_responsible_owner": owner}.items() if v}
            paths = write_transparency(con, audit, out, version=version, formats=fm, organisation=org)
        finally:
            con.close()
        for k, p in paths.items():
            typer.echo(f"wrote {k}: {p}", err=True)


class _LastAudit:
    """The stored JSON of the latest audit run, seen through the attributes the record reads."""

    def __init__(self, d: dict) -> None:
        self.list_id = d.get("list_id")
        self.as_of = d.get("as_of")
        self.flags = d.get("flags", [])
        self.near_misses = d.get("near_misses", [])
        self.headline = d.get("headline")


def _read_actions(path: Path) -> Any:
    """The casework actions file: person_id, action, action_date (through the one table reader, so hostile cells stay text)."""
    from harmlens.errors import HarmlensError
    from harmlens.tableio import read_table

    df = read_table(path, categorical=["person_id", "action"])
    missing = [c for c in ("person_id", "action", "action_date") if c not in df.columns]
    if missing:
        raise HarmlensError(f"{path}: no {', '.join(missing)} column (write it with 'harmlens casework actions --out FILE')")
    return df
