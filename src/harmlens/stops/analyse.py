"""``harmlens stops analyse``: who is stopped, against whom, and do the tests suggest bias.

Everything is computed from the warehouse ``stops`` table with SQL aggregation (DuckDB), so
tens of millions of stops are summarised in seconds; only small aggregates reach Python.

Contents of a ``StopAnalysis``:

- ``counts``: stops by ethnic group, 'Not stated' and 'Not recorded' kept visible;
- ``rates`` (a ``GroupFrame``) and ``disproportionality``: stops per 1,000 residents by group
  with census denominators, and each group's rate over the reference group's (White) with a
  95% CI (Home Office method: 'not stated' and unrecorded ethnicity are excluded from the
  numerators and reported; exact conditional CI for the ratio of two Poisson counts over
  fixed census denominators);
- ``agreement``: self-defined vs officer-perceived group, counts, share agreeing and Cohen's kappa;
- ``breakdowns``: stops by month, borough, legislation, age range and sex, by group;
- ``vod``: the veil-of-darkness test (``harmlens.stops.vod``);
- ``hit_rates`` (a ``GroupFrame``) and ``outcome_test``: share of searches finding something,
  by group, each compared with the reference group.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from harmlens.engine import as_engine
from harmlens.errors import HarmlensError
from harmlens.stops.codes import ALL_GROUPS, GROUPS, NOT_RECORDED, NOT_STATED

Z95 = 1.959963984540054

SELF_GROUP_SQL = """CASE WHEN source LIKE 'opp%' THEN coalesce(race_group, 'Not recorded')
    WHEN self_defined_ethnicity IS NULL THEN 'Not recorded'
    WHEN self_defined_ethnicity = 'not_stated' THEN 'Not stated'
    WHEN self_defined_ethnicity LIKE 'A%' THEN 'Asian' WHEN self_defined_ethnicity LIKE 'B%' THEN 'Black'
    WHEN self_defined_ethnicity LIKE 'M%' THEN 'Mixed' WHEN self_defined_ethnicity LIKE 'W%' THEN 'White'
    WHEN self_defined_ethnicity LIKE 'O%' THEN 'Other' ELSE 'Not recorded' END"""
OFFICER_GROUP_SQL = """CASE WHEN source LIKE 'opp%' THEN coalesce(race_group, 'Not recorded')
    WHEN officer_defined_ethnicity IN ('IC1', 'IC2') THEN 'White'
    WHEN officer_defined_ethnicity = 'IC3' THEN 'Black' WHEN officer_defined_ethnicity = 'IC4' THEN 'Asian'
    WHEN officer_defined_ethnicity IN ('IC5', 'IC6') THEN 'Other' WHEN officer_defined_ethnicity = 'IC9' THEN 'Unknown (IC9)'
    ELSE coalesce(json_extract_string(extra, '$.officer_defined_group'), 'Not recorded') END"""

HIT_RATE_CAVEATS = (
    "A lower find rate for a group suggests its members were searched on weaker grounds, but find rates also differ "
    "when groups differ in how often they carry what is searched for (infra-marginality); the comparison is a flag, "
    "not a measure of bias.",
    "A find follows the Home Office definition for police.uk data: the outcome is linked to the object of the search "
    "AND is other than no further action; searches where police.uk leaves the link blank are left out (not "
    "recorded), not counted as finds. For Stanford Open Policing data a find is a search recorded with contraband found. Arrest rates are "
    "shown separately: an arrest can be for something other than the object of the search.",
)
RATE_CAVEATS = (
    "Census denominators count residents, not the people present where stops happen (commuters, visitors, the "
    "night-time population): rates per resident are the Home Office convention, not a measure of exposure.",
    "'Not stated' and unrecorded ethnicity are excluded from the rates and reported; if they differ by group the "
    "ratios are biased.",
    "2011 Census denominators overstate minority rates where minority populations have grown since (the Home Office "
    "moved to 2021 Census denominators in 2023).",
)


class StopAnalysisError(HarmlensError):
    """The analysis cannot be run as asked (no stops after filtering, unknown group, ...)."""


@dataclass(frozen=True)
class StopFilter:
    """Which stops to analyse. ``date_to`` is inclusive; ``legislation`` matches case-insensitive
    substrings, except a section reference (``s163``, ``section 163``), which matches that section
    in either spelling (``s163 Road Traffic Act 1988``, ``Road Traffic Act 1988 (section 163)``)."""

    date_from: date | None = None
    date_to: date | None = None
    legislation: tuple[str, ...] = ()
    force: str | None = None  # a force (police.uk) or jurisdiction (OPP); '' = stops with neither

    def where(self) -> str:
        """SQL WHERE clause with the filter values as escaped literals (views take no parameters)."""
        clauses = []
        if self.force is not None:
            if self.force == "":
                clauses.append("coalesce(force, jurisdiction) IS NULL")
            else:
                clauses.append("coalesce(force, jurisdiction) = '" + self.force.replace("'", "''") + "'")
        if self.date_from:
            clauses.append(f"occurred_at >= TIMESTAMP '{self.date_from.isoformat()}'")
        if self.date_to:
            clauses.append(f"occurred_at < TIMESTAMP '{(self.date_to + timedelta(days=1)).isoformat()}'")
        if self.legislation:
            parts = []
            for x in self.legislation:
                m = re.fullmatch(r"\s*s(?:ection|\.)?\s*(\d+[a-z]?)\s*", x, flags=re.I)
                if not m:
                    parts.append("legislation ILIKE '%" + x.replace("'", "''") + "%'")
                else:
                    # A section reference: 's163' matches 's163 ...' and '(section 163)', not s1630 or s16.
                    parts.append(f"regexp_matches(legislation, '(?i)(^|[^a-z0-9])s(ection|\\.)?\\s*{m.group(1)}([^0-9a-z]|$)')")
            clauses.append("(" + " OR ".join(parts) + ")")
        return (" WHERE " + " AND ".join(clauses)) if clauses else ""

    def describe(self) -> str:
        parts = []
        if self.date_from or self.date_to:
            parts.append(f"{self.date_from or 'start'} to {self.date_to or 'end'}")
        if self.legislation:
            parts.append("legislation matching " + " or ".join(repr(x) for x in self.legislation))
        if self.force:
            parts.append(f"force/jurisdiction {self.force}")
        return "; ".join(parts) or "all stops"


@dataclass(frozen=True)
class AnalyseSettings:
    """How to analyse. ``ethnicity``: 'self' (self-defined, the Home Office basis) or 'officer'."""

    ethnicity: str = "self"
    reference: str = "White"
    minority: str = "Black"
    areas: tuple[str, ...] = ()
    place: tuple[float, float] | None = None
    tz: str = "Europe/London"
    cell_km: float | None = 5.0
    area_effects: str = "cells"  # veil-of-darkness fixed effects: 'cells' (cell_km), 'borough' or 'none'
    vod: bool = True
    drop_boundary_minutes: bool = False  # veil of darkness: drop stops at exactly sunset/dusk (not Stanford's pipeline)
    n_boot: int = 2000
    random_state: int = 0


@dataclass
class StopAnalysis:
    filter: StopFilter
    settings: AnalyseSettings
    n_stops: int
    period: tuple[str | None, str | None]
    counts: pd.DataFrame
    excluded_from_rates: dict[str, int] = field(default_factory=dict)
    population_areas: list[str] = field(default_factory=list)
    rates: Any = None  # GroupFrame
    disproportionality: pd.DataFrame | None = None
    agreement: pd.DataFrame | None = None
    agreement_summary: dict[str, Any] = field(default_factory=dict)
    breakdowns: dict[str, pd.DataFrame] = field(default_factory=dict)
    borough_rates: pd.DataFrame | None = None
    vs_white_british: pd.DataFrame | None = None
    vod: Any = None  # VodResult
    vod_skipped: str | None = None
    hit_rates: Any = None  # GroupFrame
    outcome_test: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    caveats: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Per analysis: stops used and, by reason, stops left out.
    used: dict[str, dict[str, Any]] = field(default_factory=dict)
    forces: list[str] = field(default_factory=list)
    jurisdictions: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    stop_types: dict[str, int] = field(default_factory=dict)
    arrest_rates: pd.DataFrame | None = None
    race_mapping: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        def frame(df: pd.DataFrame | None) -> Any:
            if df is None:
                return None
            return _jsonable(df.reset_index().to_dict(orient="records"))

        return _jsonable({
            "filter": self.filter.describe(),
            "ethnicity_basis": "self-defined" if self.settings.ethnicity == "self" else "officer-perceived",
            "reference_group": self.settings.reference,
            "n_stops": self.n_stops,
            "period": list(self.period),
            "counts": frame(self.counts),
            "excluded_from_rates": self.excluded_from_rates,
            "population_areas": self.population_areas,
            "rates": self.rates.to_dict() if self.rates is not None else None,
            "disproportionality": frame(self.disproportionality),
            "agreement": frame(self.agreement),
            "agreement_summary": self.agreement_summary,
            "breakdowns": {k: frame(v) for k, v in self.breakdowns.items()},
            "borough_rates": frame(self.borough_rates),
            "vs_white_british": frame(self.vs_white_british),
            "veil_of_darkness": self.vod.to_dict() if self.vod is not None else None,
            "veil_of_darkness_skipped": self.vod_skipped,
            "hit_rates": self.hit_rates.to_dict() if self.hit_rates is not None else None,
            "outcome_test": frame(self.outcome_test),
            "notes": self.notes,
            "caveats": {k: list(v) for k, v in self.caveats.items()},
            "used": self.used,
            "forces": self.forces,
            "jurisdictions": self.jurisdictions,
            "sources": self.sources,
            "stop_types": self.stop_types,
            "arrest_rates": frame(self.arrest_rates),
            "race_mapping": self.race_mapping,
        })


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return None if (math.isnan(f) or math.isinf(f)) else f
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, (pd.Timestamp, date)):
        return v.isoformat()
    if v is pd.NA or v is pd.NaT:
        return None
    return v


# ----------------------------------------------------------------------------------- pieces


def rate_ratio_ci(a: float, pa: float, b: float, pb: float, level: float = 0.95) -> tuple[float, float, float]:
    """Ratio of rates ``(a/pa) / (b/pb)`` with an exact conditional CI.

    Counts are Poisson and denominators fixed; given ``a + b``, ``a`` is binomial with
    ``p = pa*r / (pa*r + pb)``, so the Clopper-Pearson interval for ``p`` maps to an exact
    interval for the ratio ``r``. It stays valid for small counts (and a zero count), where the
    log-normal interval does not; for large counts the two agree.
    """
    from scipy.stats import beta

    if pa <= 0 or pb <= 0 or a < 0 or b < 0 or a + b == 0:
        return float("nan"), float("nan"), float("nan")
    alpha = 1 - level
    k = pb / pa
    r = (a / pa) / (b / pb) if b > 0 else float("inf")
    lo_p = beta.ppf(alpha / 2, a, b + 1) if a > 0 else 0.0
    hi_p = beta.ppf(1 - alpha / 2, a + 1, b) if b > 0 else 1.0
    lo = lo_p / (1 - lo_p) * k
    hi = hi_p / (1 - hi_p) * k if hi_p < 1 else float("inf")
    return float(r), float(lo), float(hi)


def disproportionality_table(counts: pd.Series, population: pd.Series, reference: str = "White", *, n_boot: int = 2000,
                             random_state: int = 0):
    """Rates per 1,000 and ratios against ``reference``.

    Returns ``(GroupFrame, table)``: the GroupFrame holds ``stops_per_1000`` by group with
    parametric bootstrap CIs; the table has stops, population, rate (with the GroupFrame's
    CI), and the rate ratio with its exact conditional 95% CI (``rate_ratio_ci``).
    """
    from harmlens.groupmetrics.groupframe import GroupFrame

    groups = [g for g in GROUPS if g in population.index and population[g] > 0]
    if reference not in groups:
        raise StopAnalysisError(f"no population for the reference group {reference!r}")
    num = counts.reindex(groups).fillna(0).astype(float).rename("stops_per_1000")
    den = population.reindex(groups).astype(float).rename("stops_per_1000")
    gf = GroupFrame.from_rates(num, den, kind="poisson", per=1000.0, feature="ethnic group", n_boot=n_boot,
                               random_state=random_state)
    ci = gf.ci
    rows = []
    for g in groups:
        if g == reference:
            r, lo, hi = 1.0, float("nan"), float("nan")
        else:
            r, lo, hi = rate_ratio_ci(num[g], den[g], num[reference], den[reference])
        rows.append({"group": g, "stops": int(num[g]), "population": int(den[g]),
                     "rate_per_1000": float(gf.by_group.loc[g, "stops_per_1000"]),
                     "rate_low": float(ci.loc[(g, "stops_per_1000"), "low"]),
                     "rate_high": float(ci.loc[(g, "stops_per_1000"), "high"]),
                     "ratio_vs_" + reference.lower(): r, "ratio_low": lo, "ratio_high": hi})
    return gf, pd.DataFrame(rows).set_index("group")


def agreement_table(ct: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Self-defined (rows) x officer-perceived (columns) counts; agreement and kappa on the five groups."""
    rows = [g for g in list(GROUPS) + [NOT_STATED, NOT_RECORDED] if g in ct.index]
    cols = [g for g in list(GROUPS) + ["Unknown (IC9)", NOT_RECORDED] if g in ct.columns]
    m = ct.reindex(index=rows, columns=cols).fillna(0).astype("int64")
    both = m.reindex(index=list(GROUPS), columns=list(GROUPS)).fillna(0).to_numpy(dtype=float)
    n = both.sum()
    summary: dict[str, Any] = {"n_both_recorded": int(n)}
    if n > 0:
        po = np.trace(both) / n
        pe = float((both.sum(axis=1) * both.sum(axis=0)).sum() / n**2)
        summary["agreement"] = float(po)
        summary["cohens_kappa"] = float((po - pe) / (1 - pe)) if pe < 1 else float("nan")
        per = {}
        for i, g in enumerate(GROUPS):
            row = both[i].sum()
            if row > 0:
                per[g] = {"self_defined": int(row), "officer_agrees": float(both[i, i] / row)}
        summary["by_self_defined_group"] = per
    summary["note"] = ("Officer-perceived ethnicity has no Mixed category in IC codes; police.uk officer groups "
                       "rarely use it, so self-defined Mixed people are necessarily 'misclassified'.")
    m.index.name = "self_defined"
    m.columns.name = "officer_perceived"
    return m, summary


def outcome_table(searched: pd.Series, found: pd.Series, reference: str = "White", *, n_boot: int = 2000,
                  random_state: int = 0):
    """Hit rates by group (GroupFrame) and each group vs the reference (difference, z test)."""
    from scipy.stats import norm

    from harmlens.groupmetrics.groupframe import GroupFrame

    groups = [g for g in ALL_GROUPS if searched.get(g, 0) > 0]
    if not groups:
        return None, None
    s = searched.reindex(groups).astype(float).rename("hit_rate")
    f = found.reindex(groups).fillna(0).astype(float).rename("hit_rate")
    gf = GroupFrame.from_rates(f, s, kind="binomial", per=1.0, feature="ethnic group", n_boot=n_boot,
                               random_state=random_state, min_group_size=30, min_support=10)
    rows = []
    ref_ok = reference in groups
    for g in groups:
        p1 = f[g] / s[g]
        row = {"group": g, "searches": int(s[g]), "found": int(f[g]), "hit_rate": p1}
        lo, hi = _wilson(f[g], s[g])
        row["hit_low"], row["hit_high"] = lo, hi
        if ref_ok and g != reference:
            p0 = f[reference] / s[reference]
            se = math.sqrt(p1 * (1 - p1) / s[g] + p0 * (1 - p0) / s[reference])
            d = p1 - p0
            row["diff_vs_" + reference.lower()] = d
            row["diff_low"], row["diff_high"] = d - Z95 * se, d + Z95 * se
            pp = (f[g] + f[reference]) / (s[g] + s[reference])
            se0 = math.sqrt(pp * (1 - pp) * (1 / s[g] + 1 / s[reference]))
            row["p_value"] = float(2 * norm.sf(abs(d) / se0)) if se0 > 0 else float("nan")
        rows.append(row)
    return gf, pd.DataFrame(rows).set_index("group")


def _wilson(k: float, n: float) -> tuple[float, float]:
    if n <= 0:
        return float("nan"), float("nan")
    p = k / n
    den = 1 + Z95**2 / n
    c = (p + Z95**2 / (2 * n)) / den
    h = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / den
    return c - h, c + h


# ----------------------------------------------------------------------------------- driver


def analyse_stops(con, filt: StopFilter = StopFilter(), settings: AnalyseSettings = AnalyseSettings(),
                  population: pd.DataFrame | None = None, borough_population: pd.DataFrame | None = None,
                  population_detail: pd.DataFrame | None = None) -> StopAnalysis:
    """Run every analysis on the warehouse ``stops`` table.

    Parameters
    ----------
    con
        Warehouse connection.
    filt
        Date range and legislation filter.
    settings
        Ethnicity basis, reference and minority groups, areas of the population table, place
        for sun times, location cell size for the veil-of-darkness fixed effects.
    population
        ``area, ethnicity_group, population`` (from ``read_population``); None for no rates.
    borough_population
        Population by borough for borough rates (default: ``population``, when its areas
        include the boroughs the stops name).
    population_detail
        The same population by 2021 category (``read_population(..., detail=True)``); when it
        has White British (``W1``), each group's rate is also compared with White British, as
        the Met's s163 pilot reported (self-defined basis only).
    """
    eng = as_engine(con)
    from harmlens.stops.population import borough_populations, select_area

    if settings.ethnicity not in ("self", "officer"):
        raise StopAnalysisError("ethnicity must be 'self' or 'officer'")
    if settings.area_effects not in ("cells", "borough", "none"):
        raise StopAnalysisError("area effects must be 'cells', 'borough' or 'none'")
    for g in (settings.reference, settings.minority):
        if g not in ALL_GROUPS:
            raise StopAnalysisError(f"unknown group {g!r}; groups: {', '.join(ALL_GROUPS)}")
    grp_sql = SELF_GROUP_SQL if settings.ethnicity == "self" else OFFICER_GROUP_SQL
    con.execute(f"""CREATE OR REPLACE TEMP VIEW _s AS SELECT *, {SELF_GROUP_SQL} AS self_group,
                    {OFFICER_GROUP_SQL} AS officer_group, {grp_sql} AS grp FROM stops{filt.where()}""")
    n, t0, t1 = eng.execute("SELECT count(*), min(occurred_at), max(occurred_at) FROM _s").fetchone()
    if n == 0:
        raise StopAnalysisError(f"no stops match ({filt.describe()}); import some with 'harmlens stops import'")
    res = StopAnalysis(filt, settings, int(n), (str(t0), str(t1)), counts=pd.DataFrame())
    _describe_sources(con, res)
    counts = eng.frame("SELECT grp AS \"group\", count(*) AS stops FROM _s GROUP BY 1").set_index("group")["stops"]
    order = [g for g in list(ALL_GROUPS) + [NOT_STATED, NOT_RECORDED, "Unknown (IC9)"] if g in counts.index]
    c = counts.reindex(order).fillna(0).astype("int64").to_frame()
    c["share"] = c["stops"] / c["stops"].sum()
    res.counts = c
    basis = "self-defined" if settings.ethnicity == "self" else "officer-perceived"
    res.excluded_from_rates = {k: int(counts.get(k, 0)) for k in (NOT_STATED, NOT_RECORDED, "Unknown (IC9)") if k in counts.index}
    res.caveats["rates"] = RATE_CAVEATS

    # Rates and disproportionality
    if population is not None and len(population):
        popsel, used = select_area(population, list(settings.areas) or None)
        res.population_areas = used
        res.rates, res.disproportionality = disproportionality_table(
            counts, popsel, settings.reference, n_boot=settings.n_boot, random_state=settings.random_state)
        in_rates = [g for g in res.disproportionality.index]
        left = {f"{basis} ethnicity {k.lower()}": int(v) for k, v in counts.items() if k not in in_rates and k in
                (NOT_STATED, NOT_RECORDED, "Unknown (IC9)")}
        other = int(sum(v for k, v in counts.items() if k not in in_rates and k not in (NOT_STATED, NOT_RECORDED, "Unknown (IC9)")))
        if other:
            left["group not in the population table"] = other
        res.used["rates"] = {"used": int(sum(counts.get(g, 0) for g in in_rates)), "left_out": left}
        p0 = filt.date_from.isoformat() if filt.date_from else str(t0)[:10]
        p1 = filt.date_to.isoformat() if filt.date_to else str(t1)[:10]
        res.notes.append(f"Rates are stops in the period analysed ({p0} to {p1}) per 1,000 residents, not per year.")
        if settings.ethnicity == "officer":
            res.notes.append("Rates use officer-perceived groups against self-identified census groups; the Home Office "
                             "uses self-defined ethnicity for this reason.")
        n_api = eng.scalar("SELECT count(*) FROM _s WHERE extra IS NOT NULL AND "
                            "json_extract_string(extra, '$.source_format') = 'police.uk api json'")
        if n_api:
            res.notes.append(f"{n_api:,} stops come from police.uk API extracts, which can be partial (a subset of a force's "
                             "records): treat rates that include them as lower bounds, not totals.")
        ex = sum(res.excluded_from_rates.values())
        res.notes.append(f"{ex:,} of {n:,} stops ({ex / n:.1%}) have {basis} ethnicity not stated or not recorded and "
                         "are excluded from the rates.")
        if population_detail is not None and len(population_detail) and settings.ethnicity == "self":
            det, _ = select_area(population_detail, used)
            if det.get("W1", 0) > 0:
                w1 = eng.scalar("SELECT count(*) FROM _s WHERE self_defined_ethnicity = 'W1'")
                rows = []
                for g in res.disproportionality.index:
                    a_, pa = float(counts.get(g, 0)), float(res.disproportionality.loc[g, "population"])
                    r, lo, hi = rate_ratio_ci(a_, pa, float(w1), float(det["W1"]))
                    rows.append({"group": g, "stops": int(a_), "population": int(pa), "ratio_vs_white_british": r,
                                 "ratio_low": lo, "ratio_high": hi})
                rows.append({"group": "White British (W1)", "stops": int(w1), "population": int(det["W1"]),
                             "ratio_vs_white_british": 1.0, "ratio_low": float("nan"), "ratio_high": float("nan")})
                res.vs_white_british = pd.DataFrame(rows).set_index("group")
    else:
        res.notes.append("No population table given: counts only, no rates or disproportionality ratios.")

    # Agreement: self-defined x officer-perceived
    # OPP race is one field (mostly the officer's record): there is nothing to compare it with.
    ct = eng.frame("SELECT self_group, officer_group, count(*) AS n FROM _s WHERE source IS NULL OR source NOT LIKE 'opp%' "
                     "GROUP BY 1, 2")
    if len(ct):
        ct = ct.pivot(index="self_group", columns="officer_group", values="n").fillna(0)
        res.agreement, res.agreement_summary = agreement_table(ct)
    nb = int(res.agreement_summary.get("n_both_recorded", 0))
    if nb:
        res.used["agreement"] = {"used": nb, "left_out": {"self-defined or officer-perceived group not recorded, not stated "
                                                          "or not one of the five": int(n - nb)}}

    # Breakdowns
    dims = {
        "month": "strftime(occurred_at, '%Y-%m')",
        "borough": "coalesce(borough, '(none)')",
        "legislation": "coalesce(legislation, '(not recorded)')",
        "age_range": "coalesce(age_range, '(not recorded)')",
        "sex": "coalesce(sex, '(not recorded)')",
    }
    for name, expr in dims.items():
        b = eng.frame(f"SELECT {expr} AS k, grp, count(*) AS n FROM _s GROUP BY 1, 2")
        if b.empty:
            continue
        p = b.pivot(index="k", columns="grp", values="n").fillna(0).astype("int64")
        p = p.reindex(columns=[g for g in order if g in p.columns])
        p["total"] = p.sum(axis=1)
        known = [g for g in GROUPS if g in p.columns]
        if settings.minority in p.columns and known:
            p[f"{settings.minority}_share_of_known"] = p[settings.minority] / p[known].sum(axis=1).replace(0, np.nan)
        p.index.name = name
        if name != "month":
            p = p.sort_values("total", ascending=False)
        res.breakdowns[name] = p
    bpop = borough_population if borough_population is not None else population
    if bpop is not None and len(bpop) and "borough" in res.breakdowns:
        bor = res.breakdowns["borough"]
        pops = borough_populations(bpop, [b for b in bor.index if b != "(none)"])
        rows = []
        for b, pop in pops.items():
            a, pa = float(bor.loc[b].get(settings.minority, 0)), float(pop.get(settings.minority, 0))
            r, pr = float(bor.loc[b].get(settings.reference, 0)), float(pop.get(settings.reference, 0))
            ratio, lo, hi = rate_ratio_ci(a, pa, r, pr)
            rows.append({"borough": b, f"{settings.minority}_stops": int(a), f"{settings.minority}_population": int(pa),
                         f"{settings.reference}_stops": int(r), f"{settings.reference}_population": int(pr),
                         f"{settings.minority}_per_1000": 1000 * a / pa if pa else float("nan"),
                         f"{settings.reference}_per_1000": 1000 * r / pr if pr else float("nan"),
                         "ratio": ratio, "ratio_low": lo, "ratio_high": hi,
                         "too_few": bool(a < 10 or r < 10 or pa < 1000 or pr < 1000)})
        if rows:
            res.borough_rates = pd.DataFrame(rows).set_index("borough").sort_values("ratio", ascending=False)
            few = res.borough_rates.index[res.borough_rates["too_few"]].tolist()
            if few:
                res.notes.append(f"Borough ratios resting on fewer than 10 stops or 1,000 residents in a group "
                                 f"(marked 'too few to judge': do not read them): {', '.join(few)}.")

    # Outcome (hit-rate) test
    h = eng.frame("""SELECT grp, count(*) FILTER (searched) AS searched,
                       count(*) FILTER (searched AND found IS NOT NULL) AS known,
                       count(*) FILTER (searched AND found) AS found,
                       count(*) FILTER (searched AND found IS NULL) AS unknown,
                       count(*) FILTER (searched IS NULL) AS search_unknown,
                       count(*) FILTER (searched = false) AS not_searched,
                       count(*) FILTER (searched AND json_extract_string(extra, '$.arrest') IN ('true', 'false')) AS arrest_known,
                       count(*) FILTER (searched AND json_extract_string(extra, '$.arrest') = 'true') AS arrested
                       FROM _s GROUP BY 1""").set_index("grp")
    named = [g for g in h.index if g in ALL_GROUPS]
    if h.loc[named, "known"].sum() > 0 if named else False:
        res.hit_rates, res.outcome_test = outcome_table(h["known"], h["found"], settings.reference,
                                                        n_boot=settings.n_boot, random_state=settings.random_state)
        unnamed = [g for g in h.index if g not in ALL_GROUPS]
        res.used["outcome_test"] = {"used": int(h.loc[named, "known"].sum()), "left_out": {k: v for k, v in {
            "not searched": int(h["not_searched"].sum()),
            "search not recorded": int(h["search_unknown"].sum()),
            "find not recorded (police.uk: outcome link blank)": int(h.loc[named, "unknown"].sum()),
            "ethnicity not recorded or not stated": int(h.loc[unnamed, "searched"].sum()) if unnamed else 0,
        }.items() if v}}
        res.caveats["outcome_test"] = HIT_RATE_CAVEATS
    elif h["searched"].sum() > 0:
        res.notes.append(f"{int(h['searched'].sum()):,} searches, but none with a find recorded (police.uk: 'outcome linked "
                         "to object of search' blank; OPP: no contraband_found column): no outcome (hit-rate) test.")
        res.used["outcome_test"] = {"used": 0, "left_out": {"find not recorded": int(h["searched"].sum())}}
    else:
        res.notes.append("No searches recorded: no outcome (hit-rate) test.")
    if named and h.loc[named, "arrest_known"].sum() > 0:
        rows = [{"group": g, "searches": int(h.loc[g, "arrest_known"]), "arrests": int(h.loc[g, "arrested"]),
                 "arrest_rate": float(h.loc[g, "arrested"] / h.loc[g, "arrest_known"])}
                for g in ALL_GROUPS if g in named and h.loc[g, "arrest_known"] > 0]
        for r in rows:
            r["low"], r["high"] = _wilson(r["arrests"], r["searches"])
        res.arrest_rates = pd.DataFrame(rows).set_index("group")
        res.used["arrest_rate"] = {"used": int(h.loc[named, "arrest_known"].sum()), "left_out": {k: v for k, v in {
            "not searched or search not recorded": int(h["not_searched"].sum() + h["search_unknown"].sum()),
            "outcome not recorded": int(h.loc[named, "searched"].sum() - h.loc[named, "arrest_known"].sum()),
            "ethnicity not recorded or not stated": int(h.loc[[g for g in h.index if g not in ALL_GROUPS], "searched"].sum()),
        }.items() if v}}

    # Veil of darkness
    if settings.vod:
        _run_vod(con, res, settings)
    eng.execute("DROP VIEW IF EXISTS _s")
    return res


def _describe_sources(con, res: StopAnalysis) -> None:
    """Forces, jurisdictions, sources, stop types and the race-category mapping of the stops analysed."""
    eng = as_engine(con)
    res.forces = [r[0] for r in eng.rows("SELECT DISTINCT force FROM _s WHERE force IS NOT NULL ORDER BY 1")]
    res.jurisdictions = [r[0] for r in eng.rows(
        "SELECT DISTINCT jurisdiction FROM _s WHERE jurisdiction IS NOT NULL ORDER BY 1")]
    res.sources = [r[0] for r in eng.rows("SELECT DISTINCT source FROM _s WHERE source IS NOT NULL ORDER BY 1")]
    res.stop_types = {(r[0] or "not recorded"): int(r[1]) for r in eng.rows(
        "SELECT stop_type, count(*) FROM _s GROUP BY 1 ORDER BY 2 DESC")}
    res.race_mapping = [{"published": r[0], "group": r[1] or NOT_RECORDED, "stops": int(r[2])} for r in eng.rows(
        """SELECT json_extract_string(extra, '$.subject_race_as_published') AS p, race_group, count(*) FROM _s
           WHERE source LIKE 'opp%' GROUP BY 1, 2 ORDER BY 3 DESC""")]


def _run_vod(con, res: StopAnalysis, settings: AnalyseSettings) -> None:
    eng = as_engine(con)
    from harmlens.stops.vod import CAVEATS, VodError, sun_minutes, veil_of_darkness

    minority, ref = settings.minority, settings.reference
    timed = "(extra IS NULL OR json_extract_string(extra, '$.time_recorded') IS DISTINCT FROM 'false')"
    n_untimed = eng.scalar(f"SELECT count(*) FROM _s WHERE grp IN (?, ?) AND NOT {timed}", [minority, ref])
    tzs = [r[0] for r in eng.rows("SELECT DISTINCT tz FROM _s WHERE tz IS NOT NULL")]
    if len(tzs) > 1:
        res.vod_skipped = f"stops in several time zones ({', '.join(sorted(tzs))}): analyse one jurisdiction at a time (--force)"
        return
    tz = tzs[0] if tzs else settings.tz
    if settings.place is not None:
        lat0, lon0 = settings.place
    else:
        lat0, lon0 = eng.execute("SELECT median(latitude), median(longitude) FROM _s WHERE latitude IS NOT NULL").fetchone()
        if lat0 is None:
            from harmlens.stops.opp import STATE_CENTROID

            state = (res.jurisdictions[0][:2] if len(res.jurisdictions) == 1 else "")
            if state in STATE_CENTROID:
                lat0, lon0 = STATE_CENTROID[state]
                res.notes.append(f"No stop has a location: sun times use the stated centroid of {state.upper()} "
                                 f"({lat0}, {lon0}); give --place LAT,LON for a better one.")
            else:
                res.vod_skipped = "no stop has a location and no --place was given: sun times need a place"
                return
    dates = [r[0] for r in eng.rows(f"SELECT DISTINCT CAST(occurred_at AS DATE) FROM _s WHERE grp IN (?, ?) AND {timed}",
                                       [minority, ref])]
    sun = sun_minutes(dates, lat0, lon0, tz)
    if sun.empty:
        res.vod_skipped = "no sunset/dusk times for these dates at this place"
        return
    lo, hi = int(sun["dusk_minute"].min()), int(sun["dusk_minute"].max())
    km = settings.cell_km if settings.area_effects == "cells" else None
    if km:
        mlat = eng.scalar("SELECT avg(latitude) FROM _s WHERE latitude IS NOT NULL") or lat0
        kx = 111.320 * math.cos(math.radians(mlat)) / km
        ky = 110.574 / km
        cell = (f"CASE WHEN latitude IS NULL OR longitude IS NULL THEN NULL ELSE "
                f"CAST(CAST(floor(latitude * {ky!r}) AS BIGINT) AS VARCHAR) || '_' || "
                f"CAST(CAST(floor(longitude * {kx!r}) AS BIGINT) AS VARCHAR) END")
        label = f"{km:g} km location cells"
    elif settings.area_effects == "borough":
        cell, label = "borough", "borough fixed effects"
    else:
        cell, label = "NULL", None
    total_timed = eng.scalar(f"SELECT count(*) FROM _s WHERE grp IN (?, ?) AND {timed}", [minority, ref])
    agg = con.execute(f"""SELECT CAST(occurred_at AS DATE) AS "date", hour(occurred_at) * 60 + minute(occurred_at) AS "minute",
                          grp AS "group", {cell} AS cell, count(*) AS total
                          FROM _s WHERE grp IN (?, ?) AND {timed}
                            AND hour(occurred_at) * 60 + minute(occurred_at) BETWEEN ? AND ?
                          GROUP BY ALL""", [minority, ref, lo, hi]).df()
    outside_pre = int(total_timed - agg["total"].sum())
    try:
        v = veil_of_darkness(agg, latitude=lat0, longitude=lon0, tz=tz, minority=minority, reference=ref,
                             cell_km=km, area_label=label, drop_boundary_minutes=settings.drop_boundary_minutes)
    except VodError as exc:
        res.vod_skipped = str(exc)
        return
    v.excluded["outside_window"] += outside_pre
    v.excluded["no_clock_time"] = int(n_untimed)
    v.tz = tz
    res.vod = v
    other = int(res.n_stops - total_timed - n_untimed)
    res.used["veil_of_darkness"] = {"used": int(v.n_window), "left_out": {k: int(x) for k, x in {
        f"not {minority} or {ref} (incl. ethnicity not recorded)": other, **v.excluded}.items() if x}}
    res.caveats["veil_of_darkness"] = CAVEATS
