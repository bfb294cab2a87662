"""Threshold test for search decisions (Simoiu, Corbett-Davies and Goel 2017; Pierson et al. 2020).

The outcome test compares hit rates, which can mislead when groups' risk distributions differ
(infra-marginality). The threshold test infers the probability of carrying contraband above which
officers search, per group and location, from search and hit counts jointly.

The model is the one in the Stanford Open Policing Project's code (``stan/threshold_test.stan``):
each (group, location) cell has a signal distribution that is a two-component mixture: with
probability ``phi`` a driver carries contraband and their signal is N(delta, 1), otherwise N(0, 1)
(the discriminant form of Pierson, Corbett-Davies and Goel 2018, "Fast threshold tests", which OPP
used in place of the 2017 paper's beta distributions: its authors report much faster fits with
substantively the same conclusions). An officer searches when the signal exceeds the cell's threshold ``t``:

    search rate = phi * (1 - Phi(t - delta)) + (1 - phi) * (1 - Phi(t))
    hit rate    = phi * (1 - Phi(t - delta)) / search rate

with ``phi = inv_logit(phi_group + phi_location)``, ``delta = exp(delta_group + delta_location)``,
``t = t_group + sigma_t * z_cell`` and OPP's priors (below). A threshold in signal units is
reported as the probability of contraband at that signal (OPP's ``signal_to_percent``), and a
group's threshold is the average over its locations weighted by the group's stops there (OPP's
``collect_average_threshold_test_summary_stats``).

Fitted with PyMC (NUTS by default). The model fits counts per cell, so its cost grows with the
number of cells, not of stops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from harmlens.errors import HarmlensError

# Column names tried, in order, for the location when none is given: OPP's finer police areas first.
LOCATION_COLUMNS = ("district", "precinct", "beat", "zone", "service_area", "county_name")
# OPP race values that are not a group one can compare (Pierson et al. 2020 compare white, black, hispanic).
NOT_A_GROUP = ("other", "unknown")
_TRUE = ("true", "t", "1", "yes", "y")
_FALSE = ("false", "f", "0", "no", "n")
_NA = ("", "na", "nan", "null", "none")

CAVEATS = (
    "The threshold test assumes every searched stop's outcome is recorded and that officers search when "
    "their own estimate of the chance of finding contraband exceeds a threshold; a search for another "
    "reason (incident to arrest, inventory) breaks that assumption.",
    "Thresholds are identified only through the model's parametric form and priors; with few locations or "
    "few searches per cell the posterior mostly reflects the priors (OPP's priors pool phi and delta across "
    "groups with standard deviation 0.1 on the logit and log scales).",
    "A group's threshold is the average over its locations weighted by its own stops there, as OPP reports.",
)


def _norm(s: pd.Series) -> pd.Series:
    low = s.fillna("").astype(str).str.strip().str.lower()
    return low.where(~low.isin(_NA), "")


def _flag(s: pd.Series) -> pd.Series:
    """True / False / None per value, for OPP's TRUE/FALSE/NA columns."""
    low = _norm(s)
    return pd.Series(np.where(low.isin(_TRUE), True, np.where(low.isin(_FALSE), False, None)), index=s.index, dtype=object)


@dataclass
class Prepared:
    cells: pd.DataFrame  # group, location, stops, searches, hits
    n_read: int
    left_out: dict[str, int] = field(default_factory=dict)
    location_column: str | None = None

    @property
    def n_used(self) -> int:
        return int(self.cells["stops"].sum()) if len(self.cells) else 0


def prepare(df: pd.DataFrame, *, race_col: str = "subject_race", location_col: str | None = None,
            search_col: str = "search_conducted", hit_col: str = "contraband_found",
            groups: list[str] | None = None, no_location: bool = False) -> Prepared:
    """Count stops, searches and hits per (group, location); every row is used or left out with a reason.

    Follows OPP's ``threshold_test``: rows with a missing value are dropped, and so are rows with
    contraband found but no search. OPP's files leave ``contraband_found`` empty for stops without a
    search; such a stop found nothing, so it counts as a stop without a hit rather than a missing value.
    """
    cols = {c.lower(): c for c in df.columns}
    for need in (race_col, search_col, hit_col):
        if need.lower() not in cols:
            raise HarmlensError(f"no column {need!r}: the threshold test needs {race_col}, {search_col} and {hit_col} "
                                f"(columns: {', '.join(df.columns[:20])})")
    if no_location:
        location_col = None
    elif location_col is not None:
        if location_col.lower() not in cols:
            raise HarmlensError(f"no column {location_col!r} for --location-column")
    else:
        for c in LOCATION_COLUMNS:
            if c in cols and (_norm(df[cols[c]]) != "").mean() >= 0.5:  # a mostly empty column is no location
                location_col = c
                break
    n = len(df)
    race = _norm(df[cols[race_col.lower()]])
    searched = _flag(df[cols[search_col.lower()]])
    found = _flag(df[cols[hit_col.lower()]])
    if location_col:  # location names keep their case: they are shown as published
        raw_loc = df[cols[location_col.lower()]].fillna("").astype(str).str.strip()
        loc = raw_loc.where(_norm(raw_loc) != "", "")
    else:
        loc = pd.Series("all", index=df.index)
    left: dict[str, int] = {}

    def drop(mask: pd.Series, reason: str) -> pd.Series:
        k = int(mask.sum())
        if k:
            left[reason] = left.get(reason, 0) + k
        return ~mask

    keep = pd.Series(True, index=df.index)
    keep &= drop(keep & (race == ""), "race missing")
    wanted = [g.strip().lower() for g in groups] if groups else None
    if wanted is not None:
        keep &= drop(keep & ~race.isin(wanted), "race not among --groups")
    else:
        keep &= drop(keep & race.isin(NOT_A_GROUP), "race other or unknown")
    keep &= drop(keep & searched.isna(), f"{search_col} missing or not TRUE/FALSE")
    keep &= drop(keep & (searched == True) & found.isna(), f"searched, {hit_col} missing")  # noqa: E712
    keep &= drop(keep & (searched == False) & (found == True), f"{hit_col} TRUE without a search")  # noqa: E712
    if location_col:
        keep &= drop(keep & (loc == ""), f"{location_col} missing")
    d = pd.DataFrame({"group": race[keep], "location": loc[keep],
                      "searched": searched[keep].astype(bool), "hit": (found[keep] == True)})  # noqa: E712
    d["hit"] &= d["searched"]
    cells = (d.groupby(["group", "location"], sort=True)
             .agg(stops=("searched", "size"), searches=("searched", "sum"), hits=("hit", "sum"))
             .reset_index())
    cells[["stops", "searches", "hits"]] = cells[["stops", "searches", "hits"]].astype("int64")
    return Prepared(cells=cells, n_read=n, left_out=left, location_column=location_col)


# ----------------------------------------------------------------------------- generative process

def rates(phi, delta, t):
    """Search and hit rates of the model for signal-space parameters (numpy, broadcasting)."""
    from scipy.stats import norm

    hit_part = phi * norm.sf(t - delta)
    search = hit_part + (1 - phi) * norm.sf(t)
    return search, hit_part / search


def signal_to_probability(t, phi, delta):
    """Probability of contraband at signal ``t`` (OPP's ``signal_to_percent``)."""
    from scipy.stats import norm

    a = phi * norm.pdf(t, delta, 1)
    return a / (a + (1 - phi) * norm.pdf(t, 0, 1))


def simulate_stops(truth: pd.DataFrame, seed: int) -> pd.DataFrame:
    """One row per stop drawn from the model: contraband ~ Bernoulli(phi), signal ~ N(delta * contraband, 1),
    search when signal > t, hit when searched and carrying. ``truth``: group, location, stops, phi, delta, t."""
    rng = np.random.default_rng(seed)
    frames = []
    for r in truth.itertuples(index=False):
        carry = rng.random(r.stops) < r.phi
        signal = rng.normal(np.where(carry, r.delta, 0.0), 1.0)
        search = signal > r.t
        frames.append(pd.DataFrame({"subject_race": r.group, "district": r.location,
                                    "search_conducted": np.where(search, "TRUE", "FALSE"),
                                    # OPP leaves contraband empty when there was no search
                                    "contraband_found": np.where(search, np.where(carry, "TRUE", "FALSE"), "NA")}))
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------- fit

@dataclass
class ThresholdResult:
    reference: str
    location_column: str | None
    n_read: int
    n_used: int
    left_out: dict[str, int]
    method: str
    draws: int
    chains: int
    seed: int
    groups: pd.DataFrame  # group, stops, searches, hits, threshold mean/lo/hi, diff mean/lo/hi, p_lower
    cells: pd.DataFrame  # per cell: observed and predicted search and hit rates, threshold
    ppc: dict[str, Any]
    diagnostics: dict[str, Any]
    caveats: tuple[str, ...] = CAVEATS

    def to_dict(self) -> dict[str, Any]:
        def plain(v: Any) -> Any:
            v = v.item() if hasattr(v, "item") else v
            return None if isinstance(v, float) and np.isnan(v) else v  # NaN is not JSON: a rate with no searches

        def rows(df: pd.DataFrame) -> list[dict[str, Any]]:
            return [{k: plain(v) for k, v in r.items()} for r in df.to_dict("records")]

        return {"test": "threshold", "reference": self.reference, "location_column": self.location_column,
                "n_read": self.n_read, "n_used": self.n_used, "left_out": self.left_out, "method": self.method,
                "draws": self.draws, "chains": self.chains, "seed": self.seed, "groups": rows(self.groups),
                "cells": rows(self.cells), "posterior_predictive": self.ppc, "diagnostics": self.diagnostics,
                "caveats": list(self.caveats)}


def build_model(cells: pd.DataFrame):
    """The PyMC model of OPP's ``threshold_test.stan`` for the given cells."""
    import pymc as pm
    import pytensor.tensor as pt

    g_codes, g_names = pd.factorize(cells["group"], sort=True)
    l_codes, l_names = pd.factorize(cells["location"], sort=True)
    n_cells, n_g, n_l = len(cells), len(g_names), len(l_names)
    coords = {"group": list(g_names), "cell": list(range(n_cells))}
    with pm.Model(coords=coords) as model:
        sigma_t = pm.HalfNormal("sigma_threshold", 1.0)
        t_group = pm.Normal("threshold_group", 0.0, 1.0, dims="group")
        t_raw = pm.Normal("threshold_raw", 0.0, 1.0, dims="cell")
        mu_phi = pm.Normal("mu_phi", 0.0, 1.0)
        mu_delta = pm.Normal("mu_delta", 0.0, 1.0)
        phi_group = pm.Normal("phi_group", mu_phi, 0.1, dims="group")
        delta_group = pm.Normal("delta_group", mu_delta, 0.1, dims="group")
        # the first location is pinned at 0 so group and location effects are identified
        if n_l > 1:
            phi_loc = pt.concatenate([pt.zeros(1), pm.Normal("phi_location_raw", 0.0, 0.1, shape=n_l - 1)])
            delta_loc = pt.concatenate([pt.zeros(1), pm.Normal("delta_location_raw", 0.0, 0.1, shape=n_l - 1)])
        else:
            phi_loc = pt.zeros(1)
            delta_loc = pt.zeros(1)
        phi = pm.Deterministic("phi", pm.math.invlogit(phi_group[g_codes] + phi_loc[l_codes]), dims="cell")
        delta = pm.Deterministic("delta", pt.exp(delta_group[g_codes] + delta_loc[l_codes]), dims="cell")
        t = pm.Deterministic("threshold", t_group[g_codes] + t_raw * sigma_t, dims="cell")

        def sf(x):  # 1 - Phi(x), written with erfc so the tails keep their precision
            return 0.5 * pt.erfc(x / np.sqrt(2.0))

        hit_part = phi * sf(t - delta)
        search_rate = pm.Deterministic("search_rate", hit_part + (1 - phi) * sf(t), dims="cell")
        hit_rate = pm.Deterministic("hit_rate", hit_part / search_rate, dims="cell")
        eps = 1e-12  # keeps log(0) out of the likelihood when a rate underflows during warm-up
        pm.Binomial("searches", n=cells["stops"].to_numpy(), p=pt.clip(search_rate, eps, 1 - eps),
                    observed=cells["searches"].to_numpy(), dims="cell")
        pm.Binomial("hits", n=cells["searches"].to_numpy(), p=pt.clip(hit_rate, eps, 1 - eps),
                    observed=cells["hits"].to_numpy(), dims="cell")
    return model


def _interval(x: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    a = (1 - level) / 2
    return float(np.quantile(x, a)), float(np.quantile(x, 1 - a))


def fit_threshold(prep: Prepared, *, reference: str = "white", method: str = "nuts", draws: int = 1000,
                  tune: int = 1000, chains: int = 2, seed: int = 0, target_accept: float = 0.95,
                  advi_iterations: int = 30000) -> ThresholdResult:
    """Fit the model and summarise thresholds, differences from ``reference`` and the posterior predictive check."""
    import logging

    import pymc as pm

    cells = prep.cells
    reference = reference.strip().lower()
    if cells.empty:
        raise HarmlensError("no stops left for the threshold test (see the reasons for leaving stops out)")
    groups = sorted(cells["group"].unique())
    if reference not in groups:
        raise HarmlensError(f"reference group {reference!r} has no stops here; groups: {', '.join(groups)}")
    if len(groups) < 2:
        raise HarmlensError("the threshold test compares groups: only one group has stops")
    if int(cells["searches"].sum()) == 0:
        raise HarmlensError("no searches recorded: the threshold test needs searches and their outcomes")
    if method not in ("nuts", "advi"):
        raise HarmlensError(f"--method {method!r}: want nuts or advi")

    model = build_model(cells)
    logging.getLogger("pymc").setLevel(logging.ERROR)
    with model:
        if method == "nuts":
            idata = pm.sample(draws=draws, tune=tune, chains=chains, cores=1, random_seed=seed,
                              target_accept=target_accept, progressbar=False, compute_convergence_checks=False)
        else:
            approx = pm.fit(n=advi_iterations, method="advi", random_seed=seed, progressbar=False)
            idata = approx.sample(draws * chains, random_seed=seed)
    post = idata.posterior
    flat = lambda name: post[name].values.reshape(-1, *post[name].shape[2:])  # noqa: E731
    phi, delta, t = flat("phi"), flat("delta"), flat("threshold")
    sr, hr = flat("search_rate"), flat("hit_rate")
    prob = signal_to_probability(t, phi, delta)  # draws x cells
    n_draws = prob.shape[0]

    # OPP's group threshold: average over the group's locations weighted by its stops there
    w = cells["stops"].to_numpy(dtype=float)
    by_group = {}
    for g in groups:
        m = (cells["group"] == g).to_numpy()
        by_group[g] = (prob[:, m] * w[m]).sum(axis=1) / w[m].sum()
    rows = []
    for g in groups:
        sub = cells[cells["group"] == g]
        lo, hi = _interval(by_group[g])
        diff = by_group[g] - by_group[reference]
        dlo, dhi = _interval(diff)
        rows.append({"group": g, "stops": int(sub["stops"].sum()), "searches": int(sub["searches"].sum()),
                     "hits": int(sub["hits"].sum()), "threshold": float(by_group[g].mean()), "threshold_lo": lo,
                     "threshold_hi": hi, "diff_vs_reference": float(diff.mean()), "diff_lo": dlo, "diff_hi": dhi,
                     "p_lower_than_reference": float((diff < 0).mean()) if g != reference else None})
    gtab = pd.DataFrame(rows)

    # posterior predictive check: replicate search and hit counts per cell and compare with what was recorded
    rng = np.random.default_rng(seed)
    stops = cells["stops"].to_numpy()
    rep_s = rng.binomial(stops, sr)
    rep_h = rng.binomial(rep_s, hr)
    obs_s, obs_h = cells["searches"].to_numpy(), cells["hits"].to_numpy()
    rep_sr = rep_s / stops
    with np.errstate(invalid="ignore", divide="ignore"):
        rep_hr = np.where(rep_s > 0, rep_h / np.maximum(rep_s, 1), np.nan)
    obs_sr = obs_s / stops
    obs_hr = np.where(obs_s > 0, obs_h / np.maximum(obs_s, 1), np.nan)
    s_lo, s_hi = np.quantile(rep_s, 0.025, axis=0), np.quantile(rep_s, 0.975, axis=0)
    h_lo, h_hi = np.quantile(rep_h, 0.025, axis=0), np.quantile(rep_h, 0.975, axis=0)
    ctab = cells.copy()
    ctab["search_rate"] = obs_sr
    ctab["search_rate_predicted"] = sr.mean(axis=0)
    ctab["hit_rate"] = obs_hr
    ctab["hit_rate_predicted"] = hr.mean(axis=0)
    ctab["threshold"] = prob.mean(axis=0)
    ctab["searches_in_95pct_ppi"] = (obs_s >= s_lo) & (obs_s <= s_hi)
    ctab["hits_in_95pct_ppi"] = (obs_h >= h_lo) & (obs_h <= h_hi)
    has_search = obs_s > 0
    # Pierson et al. report root-mean-square differences between predicted and observed rates over cells
    rms_s = float(np.sqrt(np.mean((ctab["search_rate_predicted"] - obs_sr) ** 2)))
    rms_h = float(np.sqrt(np.mean((ctab["hit_rate_predicted"][has_search] - obs_hr[has_search]) ** 2))) if has_search.any() else None
    # posterior predictive p-values of each group's total search and hit counts (near 0 or 1: misfit)
    ppp = {}
    for g in groups:
        m = (cells["group"] == g).to_numpy()
        ppp[g] = {"searches": float((rep_s[:, m].sum(axis=1) >= obs_s[m].sum()).mean()),
                  "hits": float((rep_h[:, m].sum(axis=1) >= obs_h[m].sum()).mean()),
                  "search_rate": float(obs_s[m].sum() / stops[m].sum()),
                  "search_rate_predicted": float((sr[:, m] * stops[m]).sum(axis=1).mean() / stops[m].sum()),
                  "hit_rate": float(obs_h[m].sum() / obs_s[m].sum()) if obs_s[m].sum() else None,
                  "hit_rate_predicted": float(((sr[:, m] * hr[:, m] * stops[m]).sum(axis=1)
                                               / (sr[:, m] * stops[m]).sum(axis=1)).mean())}
    ppc = {"rms_search_rate_error": rms_s, "rms_hit_rate_error": rms_h, "cells": int(len(cells)),
           "cells_searches_in_95pct_interval": int(ctab["searches_in_95pct_ppi"].sum()),
           "cells_hits_in_95pct_interval": int(ctab["hits_in_95pct_ppi"].sum()), "by_group": ppp,
           "replications": int(n_draws)}

    diag: dict[str, Any] = {}
    if method == "nuts":
        import arviz as az

        diag["divergences"] = int(idata.sample_stats["diverging"].values.sum())
        if chains > 1:
            rhat = az.rhat(idata, var_names=["threshold_group", "phi_group", "delta_group", "sigma_threshold"])
            diag["max_rhat"] = float(max(float(rhat[v].max()) for v in rhat.data_vars))
        ess = az.ess(idata, var_names=["threshold_group"])
        diag["min_ess_threshold_group"] = float(ess["threshold_group"].min())
    else:
        diag["note"] = "ADVI: an approximation; intervals are usually too narrow. Use NUTS for reported figures."
    return ThresholdResult(reference=reference, location_column=prep.location_column, n_read=prep.n_read,
                           n_used=prep.n_used, left_out=prep.left_out, method=method, draws=draws, chains=chains,
                           seed=seed, groups=gtab, cells=ctab, ppc=ppc, diagnostics=diag)
