"""Commands: ``harmlens victims`` and ``harmlens lists list|show|changes``.

``harmlens rank`` itself lives in the harm area (with the v100/rfg/rfh baselines); this area
registers its default method ``risk`` there (see ``harmlens/rank/__init__.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from harmlens.csvsafe import csv_text
from harmlens.options import DbOption

lists_app = typer.Typer(help="Stored priority lists: what is on them, when they expire, and what changed.", no_args_is_help=True)


def _fmt_check(fmt: str) -> None:
    from harmlens.rank.lists import RankError

    if fmt not in ("table", "csv", "json"):
        raise RankError(f"--format {fmt!r} is not one of table, csv, json")


def _table(df, cols: list[str]) -> str:
    import pandas as pd

    if not len(df):
        return "(none)"
    v = df[cols].copy()
    for c in v.columns:
        if pd.api.types.is_datetime64_any_dtype(v[c]):
            v[c] = v[c].dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_float_dtype(v[c]):
            v[c] = v[c].map(lambda x: "" if pd.isna(x) else f"{x:.3f}")
    v = v.astype(object)
    return v.where(v.notna(), "").to_string(index=False)


def _emit(text: str, out: Optional[Path]) -> None:
    if out is None:
        typer.echo(text, nl=not text.endswith("\n"))  # a CSV already ends its last row
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text if text.endswith("\n") else text + "\n")
        typer.echo(f"wrote {out}", err=True)


def victims_cmd(
    as_of: str = typer.Option(..., "--as-of", help="Date the list is as of (YYYY-MM-DD): events before that day count."),
    top: int = typer.Option(20, "--top", help="How many victims to list."),
    method: str = typer.Option("auto", "--method", help="auto | model | rules (auto: the model when there is enough data)."),
    validate: bool = typer.Option(True, "--validate/--no-validate", help="Print the temporal-holdout validation (precision at k)."),
    fmt: str = typer.Option("table", "--format", help="table | csv | json"),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the list to this file instead of stdout."),
    db: Optional[Path] = DbOption,
) -> None:
    """Women and children most at risk of being victimised again, and children in a household with a high-risk suspect."""
    import pandas as pd

    from harmlens.rank.lists import RankError
    from harmlens.rank.victims import build_victim_list, validate_victims
    from harmlens.warehouse import connect

    _fmt_check(fmt)
    if top < 1:
        raise RankError("--top must be at least 1")
    con = connect(db, create=False)
    try:
        val = None
        if validate:
            try:
                val = validate_victims(con)
            except RankError as exc:
                typer.echo(f"note: no validation: {exc}", err=True)
        res = build_victim_list(con, as_of, method=method, validation=val)
    finally:
        con.close()
    e = res["entries"].head(top)
    cols = ["rank", "person_id", "risk_of_revictimisation", "points", "linked_high_risk_suspects", "last_event_at", "top_factors"]
    if fmt == "csv":
        _emit(csv_text(e[cols], date_format="%Y-%m-%d"), out)
    elif fmt == "json":
        doc = {
            "as_of": f"{res['as_of']:%Y-%m-%d}", "method": res["method"], "train": res["train"],
            "high_risk_rule": res["high_risk_rule"],
            "victims": json.loads(e[cols].to_json(orient="records", date_format="iso")),
            "children_in_household": json.loads(res["children"].to_json(orient="records")),
            "validation": None if val is None else {
                "as_of": f"{val['as_of']:%Y-%m-%d}", "n": val["n"], "positives": val["positives"],
                "metrics": json.loads(val["metrics"].to_json(orient="records")),
            },
        }
        _emit(json.dumps(doc, indent=2), out)
    else:
        lines = [
            f"Victims most at risk as of {res['as_of']:%Y-%m-%d} (events before this date). Method: {res['method']}"
            + (f" (trained {res['train'].get('train_start')}..{res['train'].get('train_end')}, "
               f"{res['train'].get('positives')} re-victimisations in {res['train'].get('rows')} snapshot rows"
               + (f"; {res['train']['chosen_because']}" if res["train"].get("chosen_because") else "") + ")"
               if res["method"] == "model" else f" ({res['train'].get('why_rules', '')})"),
            f"High-risk suspect: {res['high_risk_rule']}. Decision support only: for safeguarding review.",
            "",
            _table(e, cols),
            "",
            "Children in a household with a high-risk suspect:",
            _table(res["children"], ["person_id", "household_id", "suspects", "why"]) if len(res["children"])
            else "(none shown by the data: no household_id recorded with a high-risk suspect)",
        ]
        if val is not None:
            m = val["metrics"]
            keep = m[m["metric"].isin(["auc", "precision@100", "precision@1000", "recall@100", "recall@1000"])]
            wide = keep.assign(v=[f"{a:.3f} [{lo:.3f}, {hi:.3f}]" for a, lo, hi in zip(keep["value"], keep["ci_low"], keep["ci_high"])])
            wide = wide.pivot(index="metric", columns="score", values="v").reset_index()
            lines += ["", f"Validation (temporal holdout on {val['as_of']:%Y-%m-%d}: {val['n']:,} victims in scope, "
                          f"{val['positives']:,} victimised again within the horizon; 95% bootstrap CIs):",
                      wide.to_string(index=False)]
        _emit("\n".join(lines), out)


def lists_list_cmd(
    kind: Optional[str] = typer.Option(None, "--kind", help="offenders | victims"),
    db: Optional[Path] = DbOption,
) -> None:
    """Stored lists with their as-of date, model version and expiry."""
    from harmlens.rank.lists import stored_lists
    from harmlens.warehouse import connect

    con = connect(db, create=False)
    try:
        df = stored_lists(con, kind)
    finally:
        con.close()
    typer.echo(_table(df, ["list_id", "kind", "method", "as_of", "model_version", "n_entries", "refreshed_at", "expires_at", "expired"]))


def _resolve(con, list_id: Optional[str], kind: str) -> str:
    from harmlens.rank.lists import RankError, stored_lists

    df = stored_lists(con, kind)
    if list_id:
        if list_id not in set(df["list_id"]):
            raise RankError(f"no stored list {list_id!r}: see 'harmlens lists list'")
        return list_id
    if df.empty:
        raise RankError(f"no stored {kind} list: run 'harmlens rank' (or 'harmlens victims') first")
    return str(df.sort_values("as_of")["list_id"].iloc[-1])


def lists_show_cmd(
    list_id: Optional[str] = typer.Argument(None, help="List id (default: the latest offenders list)."),
    kind: str = typer.Option("offenders", "--kind", help="offenders | victims (when no id is given)"),
    top: int = typer.Option(20, "--top"),
    fmt: str = typer.Option("table", "--format", help="table | csv | json"),
    db: Optional[Path] = DbOption,
) -> None:
    """A stored list's entries with their evidence, factors and model version."""
    from harmlens.rank.lists import list_entries
    from harmlens.warehouse import connect

    _fmt_check(fmt)
    con = connect(db, create=False)
    try:
        lid = _resolve(con, list_id, kind)
        df = list_entries(con, lid).head(top)
    finally:
        con.close()
    if fmt == "csv":
        typer.echo(csv_text(df, date_format="%Y-%m-%d"), nl=False)
    elif fmt == "json":
        typer.echo(json.dumps({"list_id": lid, "entries": json.loads(df.to_json(orient="records", date_format="iso"))}, indent=2))
    else:
        typer.echo(f"{lid}  (allegations are not findings of guilt; decision support only)")
        typer.echo(_table(df, ["rank", "person_id", "risk", "expected_harm", "band", "allegations", "charges", "convictions",
                               "model_version", "top_factors"]))
        warned = df[df["link_warning"].notna()]
        if len(warned):
            typer.echo(f"linkage warnings: {len(warned)} of these entries may be someone in custody, dead or higher on the list")
            for r in warned.itertuples(index=False):
                typer.echo(f"  rank {r.rank} {r.person_id}: {r.link_warning}")


def lists_changes_cmd(
    list_id: Optional[str] = typer.Argument(None, help="List id (default: the latest offenders list)."),
    kind: str = typer.Option("offenders", "--kind", help="offenders | victims (when no id is given)"),
    fmt: str = typer.Option("table", "--format", help="table | csv | json"),
    db: Optional[Path] = DbOption,
) -> None:
    """What changed against the previous list: new, left, moved up or down, and why."""
    from harmlens.rank.lists import list_changes, summarise_changes
    from harmlens.warehouse import connect

    _fmt_check(fmt)
    con = connect(db, create=False)
    try:
        lid = _resolve(con, list_id, kind)
        prev = con.execute("SELECT previous_list_id FROM priority_lists WHERE list_id = ?", [lid]).fetchall()[0][0]
        df = list_changes(con, lid)
    finally:
        con.close()
    if fmt == "csv":
        typer.echo(csv_text(df), nl=False)
        return
    if fmt == "json":
        typer.echo(json.dumps({"list_id": lid, "previous_list_id": prev, "summary": summarise_changes(df),
                               "changes": json.loads(df.to_json(orient="records"))}, indent=2))
        return
    if not prev:
        typer.echo(f"{lid}: no earlier list to compare with")
        return
    s = summarise_changes(df)
    typer.echo(f"{lid} against {prev}: {s['new']} new, {s['left']} left, {s['up']} up, {s['down']} down, {s['same']} unchanged")
    typer.echo(_table(df[df["change"] != "same"], ["change", "person_id", "previous_rank", "new_rank", "reason"]))


def lists_export_cmd(
    out: Path = typer.Option(..., "--out", help="Folder to write offenders/victims CSV and HTML into."),
    top: int = typer.Option(100, "--top"),
    pdf: bool = typer.Option(False, "--pdf/--no-pdf", help="Also write PDFs."),
    db: Optional[Path] = DbOption,
) -> None:
    """Write the latest offenders and victims lists (and what changed) as CSV and HTML."""
    from harmlens.rank.report import export_lists
    from harmlens.warehouse import connect

    con = connect(db, create=False)
    try:
        paths = export_lists(con, out, top=top, pdf=pdf)
    finally:
        con.close()
    for p in paths.values():
        typer.echo(str(p))


def register(app: typer.Typer) -> None:
    app.command("victims")(victims_cmd)
    lists_app.command("list")(lists_list_cmd)
    lists_app.command("show")(lists_show_cmd)
    lists_app.command("changes")(lists_changes_cmd)
    lists_app.command("export")(lists_export_cmd)
    app.add_typer(lists_app, name="lists")
