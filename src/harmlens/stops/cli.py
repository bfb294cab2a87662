"""Commands: ``harmlens stops import | analyse | veil | threshold``."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import List, Optional

import typer

from harmlens.errors import HarmlensError
from harmlens.options import DbOption

stops_app = typer.Typer(
    help="Stops: record stops with self-defined and officer-perceived ethnicity; rates against census "
    "populations, disproportionality, veil-of-darkness and outcome tests.",
    no_args_is_help=True,
)


def _date(value: Optional[str], what: str) -> Optional[date]:
    if value is None:
        return None
    from harmlens.asof import parse_as_of

    return parse_as_of(value, what).date()


def _place(value: Optional[str]) -> Optional[tuple[float, float]]:
    if value is None:
        return None
    try:
        lat, lon = (float(x) for x in value.split(","))
    except ValueError:
        raise HarmlensError(f"--place {value!r}: want LAT,LON in degrees, e.g. 51.5074,-0.1278") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise HarmlensError(f"--place {value!r}: latitude or longitude out of range")
    return lat, lon


def _group(value: str) -> str:
    from harmlens.stops.codes import ALL_GROUPS, group_label

    g = group_label(value)
    if g is None:
        raise HarmlensError(f"unknown group {value!r}; groups: {', '.join(ALL_GROUPS)} (any case; synonyms such as "
                            "African-American and Caucasian are read)")
    return g


@stops_app.command("import")
def import_cmd(
    paths: List[Path] = typer.Argument(..., help="Stop files or folders: contract stops.csv|parquet, police.uk CSV, police.uk API JSON, Stanford Open Policing CSV."),
    db: Optional[Path] = DbOption,
    as_json: bool = typer.Option(False, "--json", help="Print the load report as JSON."),
    force: Optional[str] = typer.Option(None, "--force", help="police.uk force of files whose name does not say it (API JSON), e.g. metropolitan."),
    jurisdiction: Optional[str] = typer.Option(None, "--jurisdiction", help="OPP jurisdiction when the file name does not say it, e.g. ca_oakland."),
    tz: Optional[str] = typer.Option(None, "--tz", help="Time zone of an OPP jurisdiction's clock times (default: known for the state), e.g. America/Chicago."),
) -> None:
    """Validate and load stop records; bad rows go to quarantine with reasons.

    Prints read / loaded / quarantined per file (read = loaded + quarantined always).
    Importing the same files again changes nothing.
    """
    from harmlens.progress import progress
    from harmlens.stops.importer import import_stops
    from harmlens.warehouse import connect

    con = connect(db)
    with progress() as p:
        task = p.add_task("importing stops", total=None)
        report = import_stops(con, list(paths), on_file=lambda s: p.update(task, description=f"loaded {Path(s.file).name}"),
                              force=force.strip().lower() if force else None, jurisdiction=jurisdiction, tz=tz)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=1))
    else:
        from rich.console import Console
        from rich.table import Table

        t = Table(title="stops import" + ("" if report.load_id else " (already loaded: nothing changed)"))
        for c in ("file", "format", "force / jurisdiction", "read", "loaded", "quarantined", "inserted", "updated", "unchanged"):
            t.add_column(c, justify="left" if c in ("file", "format", "force / jurisdiction") else "right")
        for f in report.files:
            t.add_row(Path(f.file).name, f.format, f.force or f.jurisdiction or "(not recorded)",
                      *(f"{getattr(f, k):,}" for k in ("read", "loaded", "quarantined", "inserted", "updated", "unchanged")))
        tot = report.totals()
        t.add_row("total", "", "", *(f"{tot[k]:,}" for k in ("read", "loaded", "quarantined", "inserted", "updated", "unchanged")))
        Console(width=max(120, Console().width)).print(t)
    kept: dict[str, int] = {}
    for f in report.files:
        for k, v in f.kept_field_not_read.items():
            kept[k] = kept.get(k, 0) + v
    if kept:
        typer.echo("kept with a field not recorded (value unreadable or empty where a field is expected): "
                   + ", ".join(f"{k} {v:,}" for k, v in kept.items()), err=True)
    no_force = [Path(f.file).name for f in report.files if not (f.force or f.jurisdiction) and f.format != "contract"]
    if no_force:
        typer.echo(f"no force recorded for {len(no_force)} file(s) ({', '.join(no_force[:3])}{', ...' if len(no_force) > 3 else ''}): "
                   "give --force NAME to record it", err=True)
    q = report.totals()["quarantined"]
    if q and report.load_id:
        typer.echo(f"{q} rows quarantined: see 'harmlens quarantine --table stops'", err=True)
    if report.ignored:
        typer.echo(f"ignored (not stop files): {len(report.ignored)} file(s)", err=True)


@stops_app.command("analyse")
def analyse_cmd(
    db: Optional[Path] = DbOption,
    population: Optional[Path] = typer.Option(None, "--population", help="Population table (contract area,ethnicity_group,population; TS021-style; or Nomis 2011 wide). Default: the warehouse population table."),
    area: List[str] = typer.Option([], "--area", help="Area(s) of the population table to use (repeat to sum several), e.g. Metropolitan."),
    date_from: Optional[str] = typer.Option(None, "--from", help="First day, YYYY-MM-DD (inclusive)."),
    date_to: Optional[str] = typer.Option(None, "--to", help="Last day, YYYY-MM-DD (inclusive)."),
    legislation: List[str] = typer.Option([], "--legislation", help="Only stops whose legislation contains this text (repeatable, case-insensitive), e.g. s163."),
    ethnicity: str = typer.Option("self", "--ethnicity", help="self (self-defined, the Home Office basis) or officer (officer-perceived)."),
    reference: str = typer.Option("White", "--reference", help="Reference group for ratios."),
    minority: str = typer.Option("Black", "--minority", help="Minority group for the veil-of-darkness test."),
    place: Optional[str] = typer.Option(None, "--place", help="LAT,LON for sun times (default: median stop location)."),
    cell_km: float = typer.Option(5.0, "--cell-km", help="Location cell size (km) for the veil-of-darkness fixed effects; 0 for none."),
    area_effects: str = typer.Option("cells", "--area-effects", help="Veil-of-darkness fixed effects: cells (--cell-km), borough or none."),
    borough_population: Optional[Path] = typer.Option(None, "--borough-population", help="Population by borough for borough rates (e.g. the local-authority census table)."),
    force: Optional[str] = typer.Option(None, "--force", help="Only this force (police.uk) or jurisdiction (OPP); 'all' pools every force. Default: each one in turn, each against its own population rows when the table names it."),
    no_vod: bool = typer.Option(False, "--no-vod", help="Skip the veil-of-darkness test."),
    drop_boundary: bool = typer.Option(False, "--drop-boundary-minutes", help="Veil of darkness: also drop stops at exactly the sunset or dusk minute (Stanford's pipeline keeps them as light; this reproduces an earlier version of their code)."),
    as_json: bool = typer.Option(False, "--json", help="Print the full results as JSON."),
    report: Optional[Path] = typer.Option(None, "--report", help="Write stops_report.html and .pdf into this folder."),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="With --report: also write the PDF."),
) -> None:
    """Rates by group against census populations, disproportionality, and tests for bias.

    Counts and stops per 1,000 residents by ethnic group, the ratio to White with 95% CIs,
    self-defined vs officer-perceived agreement, breakdowns by month, borough, legislation, age
    and sex, the veil-of-darkness test and the outcome (hit-rate) test, each with its caveats.
    """
    from harmlens.stops.analyse import AnalyseSettings, StopFilter, analyse_stops
    from harmlens.stops.population import population_from_warehouse, read_population
    from harmlens.warehouse import connect

    if ethnicity not in ("self", "officer"):
        raise HarmlensError("--ethnicity must be 'self' or 'officer'")
    d0, d1 = _date(date_from, "--from"), _date(date_to, "--to")
    if d0 and d1 and d1 < d0:
        raise HarmlensError("--to is before --from")
    filt = StopFilter(d0, d1, tuple(legislation))
    if area_effects not in ("cells", "borough", "none"):
        raise HarmlensError("--area-effects must be cells, borough or none")
    settings = AnalyseSettings(ethnicity=ethnicity, reference=_group(reference), minority=_group(minority), areas=tuple(area),
                               place=_place(place), cell_km=cell_km if cell_km > 0 else None, vod=not no_vod,
                               drop_boundary_minutes=drop_boundary,
                               area_effects="none" if (area_effects == "cells" and cell_km <= 0) else area_effects)
    con = connect(db, create=False)
    pop = read_population(population) if population else population_from_warehouse(con)
    detail = read_population(population, detail=True) if population else population_from_warehouse(con, detail=True)
    bpop = read_population(borough_population) if borough_population else None
    units = forces_to_analyse(con, filt, force, list(area))
    results = []
    for unit in units:
        f = StopFilter(d0, d1, tuple(legislation), unit)
        s_unit = settings
        if not area and unit and len(pop) and pop["area"].nunique() > 1:
            # Per force by default: the force's own population rows, when the table names it.
            from dataclasses import replace

            from harmlens.stops.quirks import force_key

            own = [a for a in pop["area"].unique() if force_key(a) == force_key(unit)]
            if own:
                s_unit = replace(settings, areas=(own[0],))
        results.append(analyse_stops(con, f, s_unit, pop if len(pop) else None, bpop, detail if len(detail) else None))
    if as_json:
        out = [r.to_dict() for r in results]
        typer.echo(json.dumps(out[0] if len(out) == 1 else out, indent=1))
    else:
        from harmlens.stops.report import text_summary

        typer.echo("\n\n".join(text_summary(r) for r in results))
    if report is not None:
        from harmlens.stops.report import write_stops_report

        for unit, result in zip(units, results):
            out_dir = report if len(units) == 1 else report / (unit or "force_not_recorded")
            paths = write_stops_report(result, out_dir, pdf=pdf)
            typer.echo("report: " + ", ".join(str(p) for p in paths.values()), err=True)


def forces_to_analyse(con, filt, force: Optional[str], areas: list[str]) -> list[Optional[str]]:
    """Which forces/jurisdictions to analyse, one at a time; refuses an --area that is not the stops' force.

    Returns filter values: a name, '' for stops with no force recorded, or None (all stops, when
    none has a force: contract files)."""
    from harmlens.stops.quirks import force_key

    view = filt.where()
    present = [r[0] for r in con.execute(f"SELECT DISTINCT coalesce(force, jurisdiction) FROM stops{view} ORDER BY 1 NULLS LAST").fetchall()]
    named = [p for p in present if p is not None]
    if force is not None and force.strip().lower() == "all":
        return [None]  # every force pooled, asked for explicitly
    if [a.strip().lower() for a in areas] == ["all"] and len(named) > 1:
        raise HarmlensError(f"--area all sums every area's population, but the analysis runs per force ({', '.join(named)}): "
                            "give --force all to pool every force's stops against it, or --force NAME with its --area")
    if force is not None:
        match = [p for p in named if force_key(p) == force_key(force)]
        if not match:
            raise HarmlensError(f"no stops of force/jurisdiction {force!r}; the warehouse has: {', '.join(named) or 'none recorded'}")
        units: list[Optional[str]] = match[:1]
    elif not named:
        units = [None]
    else:
        units = list(named) + ([""] if None in present else [])
    area_names = [a for a in areas if a.strip().lower() != "all"]
    if area_names:
        with_force = [u for u in units if u]
        if len(with_force) > 1:
            raise HarmlensError(f"--area {', '.join(area_names)} is one force's population but the stops come from "
                                f"{len(with_force)} forces/jurisdictions ({', '.join(with_force)}): give --force NAME")
        for u in with_force:
            if not any(force_key(a) == force_key(u) for a in area_names):
                raise HarmlensError(f"--area {', '.join(area_names)} does not match the stops' force {u!r}: rates would "
                                    "divide one force's stops by another's population (give --force or the matching --area)")
    return units


@stops_app.command("veil")
def veil_cmd(
    file: Path = typer.Argument(..., help="CSV of stops: either already cut to the inter-twilight window (minute or time, period day/night or is_dark, race) or with a local date and time per stop (Stanford Open Policing style)."),
    minority: str = typer.Option("black", "--minority", help="Value of the race column for the minority group."),
    reference: str = typer.Option("white", "--reference", help="Value of the race column for the reference group."),
    race_col: str = typer.Option("subject_race", "--race-column", help="Name of the race/ethnicity column (e.g. driver_race)."),
    place: Optional[str] = typer.Option(None, "--place", help="LAT,LON for sun times (dated files; default: median lat/lng)."),
    tz: str = typer.Option("Europe/London", "--tz", help="Time zone of the file's clock times (dated files), e.g. America/New_York."),
    area_col: Optional[str] = typer.Option(None, "--area-column", help="Column for area fixed effects (dated files), e.g. district."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Veil-of-darkness test on a CSV outside the warehouse (e.g. Stanford Open Policing files)."""
    import pandas as pd

    from harmlens.stops.vod import CAVEATS, read_dated_stop_file, read_window_file, veil_of_darkness, vod_fit

    head = pd.read_csv(file, nrows=0).columns if file.is_file() else []
    if "period" in head or "is_dark" in head:
        models = [vod_fit(read_window_file(file, race_col=race_col, minority=minority, reference=reference))]
        out = {"models": [m.to_dict() for m in models], "caveats": list(CAVEATS)}
    else:
        df = read_dated_stop_file(file, race_col=race_col, area_col=area_col)
        if place is not None:
            lat, lon = _place(place)
        else:
            cols = {c.lower(): c for c in pd.read_csv(file, nrows=0).columns}
            if "lat" not in cols or "lng" not in cols:
                raise HarmlensError(f"{file}: no lat/lng columns: give --place LAT,LON for sun times")
            ll = pd.read_csv(file, usecols=[cols["lat"], cols["lng"]])
            lat, lon = float(ll.iloc[:, 0].median()), float(ll.iloc[:, 1].median())
        res = veil_of_darkness(df, latitude=lat, longitude=lon, tz=tz, minority=minority.lower(), reference=reference.lower(),
                               cell_km=None, area_label=f"{area_col} fixed effects" if area_col else None)
        models = res.models
        out = res.to_dict() | {"left_out_no_date_time_or_race": df.attrs.get("left_out", 0)}
    if as_json:
        typer.echo(json.dumps(out, indent=1, default=str))
        return
    if "window_clock" in out:
        typer.echo(f"inter-twilight window {out['window_clock'][0]}-{out['window_clock'][1]} ({tz}); {out['n_window']:,} "
                   f"{minority}/{reference} stops after dropping twilight; {minority} share light "
                   f"{out['minority_share_light']:.1%}, dark {out['minority_share_dark']:.1%}")
    for m in models:
        lo, hi = m.ci
        typer.echo(f"veil of darkness ({minority} vs {reference}, {m.n:,} stops): dark coefficient {m.coef:.3f} "
                   f"(SE {m.se:.3f}, 95% CI {lo:.3f} to {hi:.3f}, p = {m.p_value:.3g}); controls: {m.controls}")
    typer.echo("caveats:")
    for c in out["caveats"]:
        typer.echo(f"- {c}")


@stops_app.command("threshold")
def threshold_cmd(
    file: Path = typer.Argument(..., help="CSV of stops with race, search_conducted and contraband_found per stop (Stanford Open Policing standard columns)."),
    reference: str = typer.Option("white", "--reference", help="Value of the race column for the reference group."),
    race_col: str = typer.Option("subject_race", "--race-column", help="Race/ethnicity column."),
    location_col: Optional[str] = typer.Option(None, "--location-column", help="Location column (default: the first of district, precinct, beat, zone, service_area, county_name that is mostly filled)."),
    no_location: bool = typer.Option(False, "--no-location", help="Treat all stops as one location."),
    groups: Optional[str] = typer.Option(None, "--groups", help="Comma-separated race values to compare (default: all but other/unknown)."),
    search_col: str = typer.Option("search_conducted", "--search-column"),
    hit_col: str = typer.Option("contraband_found", "--hit-column"),
    method: str = typer.Option("nuts", "--method", help="nuts (reported figures) or advi (quick approximation)."),
    draws: int = typer.Option(1000, "--draws", min=50, help="Posterior draws per chain."),
    tune: int = typer.Option(1000, "--tune", min=50, help="Warm-up iterations per chain."),
    chains: int = typer.Option(2, "--chains", min=1, max=8),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Threshold test (Simoiu, Corbett-Davies and Goel 2017; OPP's model) on a CSV outside the warehouse.

    Prints each group's search threshold (probability of contraband above which officers search) with a
    95% credible interval, its difference from the reference group, the posterior predictive check of
    search and hit rates, and the stops used and left out by reason.
    """
    import pandas as pd

    from harmlens.stops.threshold import CAVEATS, fit_threshold, prepare

    if not file.is_file():
        raise HarmlensError(f"{file}: no such file")
    try:
        df = pd.read_csv(file, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise HarmlensError(f"{file}: not a readable CSV ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    prep = prepare(df, race_col=race_col, location_col=location_col, search_col=search_col, hit_col=hit_col,
                   groups=groups.split(",") if groups else None, no_location=no_location)
    res = fit_threshold(prep, reference=reference, method=method.lower(), draws=draws, tune=tune, chains=chains, seed=seed)
    if as_json:
        typer.echo(json.dumps(res.to_dict(), indent=1, default=str))
        return
    left = "; ".join(f"{k}: {v:,}" for k, v in res.left_out.items()) or "none"
    loc = res.location_column or "none (one location)"
    typer.echo(f"threshold test: {res.n_used:,} of {res.n_read:,} stops used in {len(res.cells)} group x location cells "
               f"(location: {loc}); left out: {left}")
    typer.echo(f"fit: {res.method}, {res.chains} chain(s) x {res.draws} draws, seed {res.seed}; diagnostics: "
               + ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in res.diagnostics.items()))
    for r in res.groups.itertuples(index=False):
        line = (f"{r.group}: {r.stops:,} stops, {r.searches:,} searches, {r.hits:,} hits; threshold {r.threshold:.1%} "
                f"(95% CrI {r.threshold_lo:.1%} to {r.threshold_hi:.1%})")
        if r.group != res.reference:
            line += (f"; vs {res.reference} {r.diff_vs_reference:+.1%} ({r.diff_lo:+.1%} to {r.diff_hi:+.1%}), "
                     f"P(lower) {r.p_lower_than_reference:.2f}")
        typer.echo(line)
    p = res.ppc
    rms_h = f"{p['rms_hit_rate_error']:.2%}" if p["rms_hit_rate_error"] is not None else "n/a (no searches)"
    typer.echo(f"posterior predictive check: RMS error search rate {p['rms_search_rate_error']:.2%}, hit rate {rms_h}; "
               f"observed searches inside the 95% predictive interval in {p['cells_searches_in_95pct_interval']} of "
               f"{p['cells']} cells, hits in {p['cells_hits_in_95pct_interval']} of {p['cells']}")
    for g, v in p["by_group"].items():
        hit = f"{v['hit_rate']:.1%}" if v["hit_rate"] is not None else "n/a (no searches)"
        typer.echo(f"  {g}: search rate {v['search_rate']:.1%} (predicted {v['search_rate_predicted']:.1%}), hit rate "
                   f"{hit} (predicted {v['hit_rate_predicted']:.1%})")
    typer.echo("caveats:")
    for c in CAVEATS:
        typer.echo(f"- {c}")


def register(app: typer.Typer) -> None:
    app.add_typer(stops_app, name="stops")
