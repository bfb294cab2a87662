"""Commands: ``harmlens train|evaluate|score``, ``harmlens models list|show|promote``,
``harmlens risk fit-table``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from harmlens.options import DbOption, EngineOption, SparkMasterOption

COMPAS_LEAKS_HELP = (
    "Columns never used as inputs (repeat the option). Exclude protected characteristics and anything "
    "recorded after the prediction time (outcomes, later charges, later custody)."
)


def _print_frame(df, fmt: str, title: str | None = None) -> None:
    import pandas as pd

    if fmt == "csv":
        from harmlens.csvsafe import write_csv

        write_csv(df, sys.stdout)
        return
    if fmt == "json":
        typer.echo(df.to_json(orient="records", date_format="iso", indent=1))
        return
    if title:
        typer.echo(f"\n{title}")
    with pd.option_context("display.max_rows", 500, "display.max_columns", 50, "display.width", 200, "display.max_colwidth", 80):
        typer.echo(df.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


def _check_fmt(fmt: str) -> str:
    from harmlens.errors import HarmlensError

    if fmt not in ("table", "csv", "json"):
        raise HarmlensError(f"--format must be table, csv or json, not {fmt!r}")
    return fmt


def _write_out(df, out: Path) -> None:
    from harmlens.errors import HarmlensError

    suf = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suf == ".csv":
        from harmlens.csvsafe import write_csv

        write_csv(df, out)
    elif suf == ".parquet":
        df.to_parquet(out, index=False)
    elif suf == ".json":
        df.to_json(out, orient="records", date_format="iso", indent=1)
    else:
        raise HarmlensError(f"--out must end in .csv, .parquet or .json, not {out.name}")


def _print_validation(v: dict, fmt: str) -> None:
    cmp = v["compare"]
    if fmt == "table":
        typer.echo(f"as of {v['as_of']:%Y-%m-%d}: {v['n']:,} people, {v['positives']:,} with the outcome in the horizon")
        _print_frame(cmp["wide"], fmt, "metrics (value [95% bootstrap CI])")
        if not cmp["differences"].empty:
            _print_frame(cmp["differences"], fmt, "primary model minus baseline (paired bootstrap)")
        for attr, tab in v["groups"].items():
            _print_frame(tab, fmt, f"error rates by {attr} (flag: {v['flag_rule']}; never a model input)")
        for n in v.get("notes", []):
            typer.echo(f"note: {n}", err=True)
    else:
        _print_frame(cmp["metrics"], fmt)


def register(app: typer.Typer) -> None:
    @app.command()
    def train(
        db: Optional[Path] = DbOption,
        until: Optional[str] = typer.Option(None, "--until", help="Use data up to this date (default: the last recorded event)."),
        start: Optional[str] = typer.Option(None, "--start", help="First snapshot date (default: a year after the first event)."),
        horizon: int = typer.Option(365, "--horizon", min=1, help="Days after the as-of date in which the outcome counts."),
        category: str = typer.Option("vawg", "--category", help="Outcome offence category: vawg|sexual|domestic|violent|any."),
        threshold: str = typer.Option("allegation", "--threshold", help="Evidence for the outcome: allegation|charged|convicted."),
        freq_months: int = typer.Option(1, "--freq-months", min=1, help="Months between training snapshots."),
        models: str = typer.Option("logit,boosting,cox", "--models", help="Models to fit (comma-separated): logit,boosting,cox."),
        primary: str = typer.Option("boosting", "--primary", help="The model used for scores and explanations."),
        backend: str = typer.Option("lightgbm", "--backend", help="Boosting library: lightgbm or hgb (scikit-learn HistGradientBoosting)."),
        calibration: str = typer.Option("sigmoid", "--calibration", help="Probability calibration of the boosting model: sigmoid|isotonic|none."),
        validate: bool = typer.Option(True, "--validate/--no-validate", help="Temporal holdout validation (needed for a full model card)."),
        censoring: str = typer.Option("drop", "--censoring", help="The last horizon's snapshots (outcomes only partly seen): "
                                      "drop (default), hazard (discrete-time hazard boosting: no better at 1M, twice the time) or "
                                      "ipcw (weighted binary labels: much worse for boosting, kept for comparison); see docs/risk.md."),
        n_boot: int = typer.Option(200, "--n-boot", min=0, help="Bootstrap resamples for the confidence intervals."),
        models_dir: Optional[Path] = typer.Option(None, "--models-dir", help="Folder for model files (default <warehouse stem>_models)."),
        seed: int = typer.Option(0, "--seed"),
    ) -> None:
        """Train on monthly snapshots, validate on a later date, write the model card, register a version."""
        from harmlens.risk.pipeline import TrainSettings
        from harmlens.asof import check_flags
        from harmlens.risk.pipeline import train as run_train
        from harmlens.warehouse import connect

        check_flags(**{"--until": until, "--start": start})

        settings = TrainSettings(horizon_days=horizon, category=category, threshold=threshold, freq_months=freq_months, start=start,
                                 until=until, models=tuple(m.strip() for m in models.split(",") if m.strip()), primary=primary,
                                 backend=backend, calibration=calibration, n_boot=n_boot, seed=seed, validate=validate,
                                 censoring=censoring)
        from harmlens.progress import progress

        con = connect(db, create=False)
        try:
            with progress() as p:  # on stderr, only on a terminal
                p.add_task("training: snapshots, holdout validation, refit, model card", total=None)
                res = run_train(con, settings, models_folder=models_dir)
        finally:
            con.close()
        typer.echo(f"registered {res.version} (candidate): {res.n_rows:,} snapshot rows of {res.n_people:,} people")
        typer.echo(f"model card: {res.card_md} and {res.card_html}")
        typer.echo("timings: " + ", ".join(f"{k}={v:.1f}s" for k, v in res.timings.items()))
        if res.validation:
            typer.echo(f"holdout {res.metrics.get('validation_as_of')} ({res.metrics.get('validation_n'):,} people):")
            _print_frame(res.validation["wide"], "table")
            if not res.validation["differences"].empty:
                _print_frame(res.validation["differences"], "table", "primary minus baseline (paired bootstrap)")
        typer.echo(f"promote it for scoring with: harmlens models promote {res.version}")

    @app.command()
    def evaluate(
        as_of: str = typer.Option(..., "--as-of", help="Date to score everyone as of; outcomes in the horizon after it must be recorded."),
        db: Optional[Path] = DbOption,
        model: Optional[str] = typer.Option(None, "--model", help="Model version (default: the promoted one, else the newest)."),
        n_boot: int = typer.Option(200, "--n-boot", min=0),
        seed: int = typer.Option(0, "--seed"),
        fmt: str = typer.Option("table", "--format", help="table|csv|json"),
    ) -> None:
        """Temporal validation of a model on a date, side by side with the V100 and RFH baselines."""
        from harmlens.asof import check_flags
        from harmlens.risk.pipeline import evaluate as run_eval
        from harmlens.warehouse import connect

        _check_fmt(fmt)
        check_flags(**{"--as-of": as_of})
        con = connect(db, create=False)
        try:
            v = run_eval(con, as_of, version=model, n_boot=n_boot, seed=seed)
        finally:
            con.close()
        typer.echo(f"model {v['version']}", err=True)
        _print_validation(v, fmt)

    @app.command()
    def score(
        as_of: Optional[str] = typer.Option(None, "--as-of", help="Score the whole population as of this date."),
        cohort: Optional[Path] = typer.Option(None, "--cohort", help="CSV/Parquet with person_id or mention_id, and as_of per row."),
        db: Optional[Path] = DbOption,
        model: Optional[str] = typer.Option(None, "--model", help="Model version (default: the promoted one, else the newest)."),
        top: Optional[int] = typer.Option(None, "--top", min=1, help="Print only the top N."),
        out: Optional[Path] = typer.Option(None, "--out", help="Write all rows to .csv, .parquet or .json."),
        fmt: str = typer.Option("table", "--format", help="table|csv|json (stdout)."),
        engine: str = EngineOption,
        spark_master: Optional[str] = SparkMasterOption,
    ) -> None:
        """Risk of the target within the horizon, with the evidence and the top factors, highest first.

        With --engine spark everyone in the lake is scored on Spark and saved to its risk_scores
        table; the top rows (--top, default 1000) come back with their evidence and factors."""
        from harmlens.asof import check_flags
        from harmlens.errors import HarmlensError
        from harmlens.options import warehouse_engine
        from harmlens.risk.pipeline import read_cohort, score_cohort
        from harmlens.risk.pipeline import score as run_score

        _check_fmt(fmt)
        if (as_of is None) == (cohort is None):
            raise HarmlensError("give exactly one of --as-of DATE or --cohort FILE")
        if cohort is not None and engine != "duckdb":
            raise HarmlensError("--cohort scores on the embedded warehouse only: leave out --engine, or score everyone with --as-of")
        check_flags(**{"--as-of": as_of})
        with warehouse_engine(db, engine, spark_master) as eng:
            # the embedded path's evidence SQL takes the DuckDB connection itself
            if cohort is not None:
                df = score_cohort(eng.con, read_cohort(cohort), version=model)
            elif engine == "duckdb":
                df = run_score(eng.con, as_of, version=model)
            else:
                df = run_score(eng, as_of, version=model, explain_top=top or 1000)
                typer.echo(f"scored {df.attrs.get('scored', 0):,} people on {engine}; all are in the lake's risk_scores table, "
                           f"the top {len(df):,} shown with their evidence", err=True)
        if out is not None:
            _write_out(df, out)
            typer.echo(f"wrote {len(df):,} rows to {out}", err=True)
        _print_frame(df.head(top) if top else df, fmt)

    models_app = typer.Typer(help="The model registry: list, show and promote versions.", no_args_is_help=True)
    app.add_typer(models_app, name="models")

    @models_app.command("list")
    def models_list(db: Optional[Path] = DbOption, fmt: str = typer.Option("table", "--format", help="table|csv|json")) -> None:
        """Every registered version: status, target, training window, holdout AUC, data hash."""
        from harmlens.risk.registry import list_models
        from harmlens.warehouse import connect

        _check_fmt(fmt)
        con = connect(db, create=False)
        try:
            df = list_models(con)
        finally:
            con.close()
        if df.empty and fmt == "table":
            typer.echo("no models registered: run 'harmlens train'")
            return
        _print_frame(df, fmt)

    @models_app.command("show")
    def models_show(version: Optional[str] = typer.Argument(None, help="Version (default: promoted, else newest)."),
                    db: Optional[Path] = DbOption, card: bool = typer.Option(False, "--card", help="Print the markdown model card.")) -> None:
        """One version: its registry record (parameters, metrics, data hash, files), or its model card."""
        import json

        from harmlens.risk.registry import get_model
        from harmlens.warehouse import connect

        con = connect(db, create=False)
        try:
            rec = get_model(con, version)
        finally:
            con.close()
        if card:
            p = Path(rec["card_md"]) if rec.get("card_md") else None
            if p is None or not p.exists():
                from harmlens.risk.registry import RegistryError

                raise RegistryError(f"model {rec['version']}: model card {p} is missing")
            typer.echo(p.read_text(encoding="utf-8"))
            return
        typer.echo(json.dumps(rec, indent=1, default=str))

    @models_app.command("promote")
    def models_promote(version: str = typer.Argument(..., help="Version to promote (e.g. v3)."), db: Optional[Path] = DbOption) -> None:
        """Make a version the one scoring uses by default (the previous one goes back to candidate)."""
        from harmlens.risk.registry import promote
        from harmlens.warehouse import connect

        con = connect(db, create=False)
        try:
            old = promote(con, version)
        finally:
            con.close()
        typer.echo(f"promoted {version}" + (f" (replacing {old})" if old else ""))

    risk_app = typer.Typer(help="Risk models outside the warehouse (table mode).", no_args_is_help=True)
    app.add_typer(risk_app, name="risk")

    @risk_app.command("fit-table")
    def fit_table_cmd(
        file: Path = typer.Argument(..., help="CSV, TSV or Parquet table, one row per person."),
        target: str = typer.Option(..., "--target", help="0/1 outcome column."),
        exclude: List[str] = typer.Option([], "--exclude", help=COMPAS_LEAKS_HELP),
        folds: int = typer.Option(10, "--folds", min=2, help="Stratified cross-validation folds."),
        where: Optional[str] = typer.Option(None, "--where", help="Select rows first, e.g. a published sample filter "
                                            "(comparisons with and/or/not; `x != None` means present)."),
        test_where: Optional[str] = typer.Option(None, "--test-where", help="Hold out the rows this selects: train on the "
                                                 "rest, report metrics on these (same grammar as --where)."),
        predict_out: Optional[Path] = typer.Option(None, "--predict-out", help="With --test-where: write the held-out "
                                                   "rows' probabilities to this CSV."),
        na: List[str] = typer.Option([], "--na", help="Another value meaning missing (repeat); empty, NA, N/A, NULL, NaN "
                                     "and . always do."),
        keep: List[str] = typer.Option([], "--keep-value", help="A value that looks missing but is a real category (repeat), e.g. N/A."),
        types: Optional[Path] = typer.Option(None, "--types", help='TOML file of column = "numeric|categorical|ordinal|boolean|ignore".'),
        categorical: List[str] = typer.Option([], "--categorical", help="Column read as categories even if it holds numbers (repeat)."),
        ordinal: List[str] = typer.Option([], "--ordinal", help="Column read as ordered numbers, top-coded counts included (repeat)."),
        baseline: List[str] = typer.Option([], "--baseline", help="Existing score column to compare with (repeat)."),
        reference: List[str] = typer.Option([], "--reference", help="Comma-separated columns for a reference logistic regression (repeat)."),
        n_boot: int = typer.Option(200, "--n-boot", min=0),
        seed: int = typer.Option(0, "--seed"),
        fmt: str = typer.Option("table", "--format", help="table|csv|json"),
    ) -> None:
        """Cross-validated (or held-out) metrics with bootstrap CIs, and the inference table, for a prepared table."""
        import json

        from harmlens.csvsafe import write_csv
        from harmlens.errors import HarmlensError
        from harmlens.risk.table import fit_table
        from harmlens.tableio import read_types

        _check_fmt(fmt)
        if predict_out is not None and not test_where:
            raise HarmlensError("--predict-out needs --test-where (the held-out rows it writes)")
        read_options = dict(na=na, keep=keep, types=read_types(types) if types else None, categorical=categorical, ordinal=ordinal)
        res = fit_table(file, target=target, exclude=exclude, folds=folds, where=where, test_where=test_where, baselines=baseline,
                        reference_logit=[[c.strip() for c in r.split(",") if c.strip()] for r in reference], n_boot=n_boot, seed=seed,
                        read_options=read_options)
        if predict_out is not None:
            predict_out.parent.mkdir(parents=True, exist_ok=True)
            write_csv(res.predictions, predict_out)
        if fmt == "json":
            typer.echo(json.dumps(res.to_dict(), indent=1, default=str))
            return
        if fmt == "csv":
            write_csv(res.metrics, sys.stdout)
            return
        if res.mode == "holdout":
            typer.echo(f"{res.n_rows:,} held-out rows, {res.positives:,} positive; models trained on the other {res.n_train:,}")
        else:
            typer.echo(f"{res.n_rows:,} rows, {res.positives:,} positive; {folds}-fold cross-validation (out-of-fold scores)")
        for n in res.notes:
            typer.echo(n)
        rd = res.reading
        if rd.get("markers"):
            typer.echo("read as missing (" + ", ".join(repr(v) for v in rd.get("na_values", [])) + "): "
                       + "; ".join(f"{k} {v:,}" for k, v in rd["markers"].items()))
        if rd.get("topcoded"):
            typer.echo("top-coded values read as their bound: " + "; ".join(f"{k} {v:,}" for k, v in rd["topcoded"].items()))
        if rd.get("declared"):
            typer.echo("declared types: " + "; ".join(f"{k} {v}" for k, v in rd["declared"].items()))
        if res.dropped:
            typer.echo("not used: " + "; ".join(f"{k} ({v})" for k, v in res.dropped.items()))
        typer.echo(f"inputs ({len(res.inputs)}): " + ", ".join(res.inputs))
        m = res.metrics.copy()
        # Brier to 4 places: published leaderboards differ in the third decimal
        m["cell"] = [(f"{v:.4f} [{lo:.4f}, {hi:.4f}]" if met == "brier" else f"{v:.3f} [{lo:.3f}, {hi:.3f}]")
                     for met, v, lo, hi in zip(m.metric, m.value, m.ci_low, m.ci_high)]
        wide = m.pivot(index="metric", columns="score", values="cell").reindex(columns=list(dict.fromkeys(m.score)))
        wide = wide.reindex(list(dict.fromkeys(m.metric))).reset_index()
        what = "held-out" if res.mode == "holdout" else "cross-validated"
        _print_frame(wide, fmt, f"{what} metrics (value [95% bootstrap CI])")
        _print_frame(res.differences, fmt, "first model minus each other score (paired bootstrap)")
        inf = res.inference.copy()
        _print_frame(inf[["feature", "coef", "odds_ratio", "ci_low", "ci_high", "p_value"]], fmt,
                     f"inference table: logistic regression on {res.inference.attrs.get('n_rows', res.n_rows):,} "
                     f"{'training' if res.mode == 'holdout' else 'all'} rows (odds ratio per one unit, 95% CI, p-value)")
        if res.separation:
            typer.echo("\nseparation (no finite odds ratio; left out of the inference table, still used for prediction):")
            for k, v in res.separation.items():
                typer.echo(f"- {k}: {v}")
        if predict_out is not None:
            typer.echo(f"\nheld-out probabilities written to {predict_out}")

    @risk_app.command("explain")
    def explain_cmd(
        person_id: str = typer.Argument(..., help="The person to explain (person_id from 'harmlens score')."),
        as_of: str = typer.Option(..., "--as-of", help="The date the risk is for."),
        db: Optional[Path] = DbOption,
        model: Optional[str] = typer.Option(None, "--model", help="Model version (default: the promoted one, else the newest)."),
        top: int = typer.Option(8, "--top", min=1, help="How many factors to show."),
    ) -> None:
        """One person's risk, the evidence it rests on, and the factors that raised or lowered it, in words."""
        from harmlens.asof import check_flags
        from harmlens.risk.pipeline import explain_person
        from harmlens.warehouse import connect

        check_flags(**{"--as-of": as_of})
        con = connect(db, create=False)
        try:
            e = explain_person(con, person_id, as_of, version=model, top=top)
        finally:
            con.close()
        t = e["target"]
        typer.echo(f"{e['person_id']} as of {e['as_of']} (model {e['model_version']}): risk {e['risk']:.1%} of being named in a "
                   f"{t['category']} offence ({t['threshold']}) within {t['horizon_days']} days")
        ev = e["evidence"]
        typer.echo(f"evidence: {ev['text']}; {ev['distinct_victims']} distinct victims; last on {ev['last_event_at'] or 'never'}")
        for _, _, words in e["factors"]:
            typer.echo(f"- {words}")
