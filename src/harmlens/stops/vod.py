"""The veil-of-darkness test, as the Stanford Open Policing Project codes it.

Idea (Grogger and Ridgeway 2006; Pierson et al. 2020): if officers see a driver's ethnicity
less well after dark, then at the *same clock time* the minority share of stops should fall
from daylight to darkness when daylight stops are biased. Clock time is held fixed by using
the seasons: 19:00 is light in June and dark in December.

Steps, following the project's code:

1. Sunset and the end of civil twilight (dusk, sun 6 degrees below the horizon) for each date,
   for the place, with ``astral``; clock minutes in local time (Europe/London for the warehouse).
2. Keep stops in the inter-twilight window: clock times between the earliest and the latest
   dusk over the dates analysed.
3. Drop stops between sunset and dusk on their own day (twilight is neither light nor dark).
4. ``is_dark`` = the stop is after that day's dusk.
5. Logistic regression of minority status (minority vs the reference group only) on
   ``is_dark`` plus a natural cubic spline of clock minute with 6 degrees of freedom
   (R's ``ns(minute, df = 6)``), optionally with area fixed effects (location cells or
   boroughs). A negative ``is_dark`` coefficient means a lower minority share after dark.

The fit is exact maximum likelihood on aggregated counts (stops share a minute, darkness and
area), which is what makes millions of stops cheap.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date
from typing import Any, Iterable
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from harmlens.errors import HarmlensError

CAVEATS = (
    "The test assumes that the mix of people driving (or on foot) at a given clock time does not change between the light "
    "and dark halves of the year; seasonal changes in who is out at that hour would bias it either way.",
    "Darkness is a proxy for visibility: street lighting, headlights and lit town centres lessen the veil, which biases "
    "the coefficient towards zero (a null result is weak evidence of no bias).",
    "It speaks only to the decision to stop, and only within the evening inter-twilight window; it says nothing about "
    "stops at other times or about what happens after the stop.",
    "A negative coefficient (fewer minority stops after dark at the same clock time) is consistent with bias in daylight "
    "stops; it is evidence to examine, not proof. Area fixed effects guard against differences in where stops happen "
    "in light and dark; when they remove the effect, place, not visibility, may explain it.",
    "police.uk stop-and-search data are searches of people and vehicles, not traffic stops under s163: the veil is "
    "an assumption about what the officer could see before deciding, which fits traffic stops best.",
)


class VodError(HarmlensError):
    """The veil-of-darkness test cannot be run on these data."""


# ------------------------------------------------------------------------------------------- sun


def sun_minutes(dates: Iterable[date], latitude: float, longitude: float, tz: str = "Europe/London") -> pd.DataFrame:
    """Sunset and civil dusk for each date at a place, as clock minutes after local midnight.

    Returns columns ``date, sunset_minute, dusk_minute`` (minutes are whole: the clock
    time truncated to the minute, as the Stanford code does with ``hour*60 + minute``).
    Dates without a sunset or dusk (polar day or night) are left out.
    """
    rows = []
    for d in sorted({pd.Timestamp(x).date() for x in dates}):
        t = _sun_day(d, round(float(latitude), 6), round(float(longitude), 6), tz)
        if t is not None:
            rows.append((d, t[0], t[1]))
    return pd.DataFrame(rows, columns=["date", "sunset_minute", "dusk_minute"])


@lru_cache(maxsize=65536)
def _sun_day(d: date, latitude: float, longitude: float, tz: str) -> tuple[int, int] | None:
    from astral import Observer
    from astral.sun import dusk as _dusk
    from astral.sun import sunset as _sunset

    zone = ZoneInfo(tz)
    obs = Observer(latitude=latitude, longitude=longitude)
    try:
        ss = _sunset(obs, d, tzinfo=zone)
        du = _dusk(obs, d, tzinfo=zone)
    except ValueError:  # polar day/night: no sunset or dusk that day
        return None
    return ss.hour * 60 + ss.minute, du.hour * 60 + du.minute


# ------------------------------------------------------------------------------ natural spline


def _quantile7(values: np.ndarray, weights: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """R's quantile type 7 of the sample where each ``values[i]`` occurs ``weights[i]`` times."""
    order = np.argsort(values, kind="mergesort")
    v, w = values[order], weights[order].astype(np.int64)
    cum = np.cumsum(w)
    n = int(cum[-1])
    h = (n - 1) * probs
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    vlo = v[np.searchsorted(cum, lo, side="right")]
    vhi = v[np.searchsorted(cum, hi, side="right")]
    return vlo + (h - lo) * (vhi - vlo)


def natural_spline_knots(x: np.ndarray, df: int = 6, weights: np.ndarray | None = None) -> tuple[np.ndarray, tuple[float, float]]:
    """Interior and boundary knots as R's ``ns(x, df)`` places them (quantiles of x)."""
    x = np.asarray(x, dtype=float)
    w = np.ones(len(x), dtype=np.int64) if weights is None else np.asarray(weights)
    n_inner = df - 1
    probs = np.linspace(0, 1, n_inner + 2)[1:-1]
    inner = _quantile7(x, w, probs)
    return inner, (float(x.min()), float(x.max()))


def natural_spline_basis(x: np.ndarray, inner: np.ndarray, boundary: tuple[float, float]) -> np.ndarray:
    """Natural cubic spline basis without intercept, spanning the same space as R's ``ns``.

    B-spline basis on the knots, first column dropped (no intercept), then restricted to the
    null space of the second-derivative constraints at both boundary knots.
    """
    from scipy.interpolate import BSpline

    x = np.asarray(x, dtype=float)
    a, b = boundary
    if b <= a:
        raise VodError("clock times do not vary: the spline of clock time cannot be fitted")
    # Tied quantiles (few distinct clock times) would repeat knots; keep distinct interior ones,
    # which lowers the spline's degrees of freedom (reported by the caller).
    inner = np.unique(np.asarray(inner, dtype=float))
    inner = inner[(inner > a) & (inner < b)]
    t = np.r_[[a] * 4, np.asarray(inner, dtype=float), [b] * 4]
    nb = len(t) - 4
    xs = np.clip(x, a, b)
    B = np.empty((len(xs), nb))
    C = np.empty((2, nb))
    for j in range(nb):
        c = np.zeros(nb)
        c[j] = 1.0
        spl = BSpline(t, c, 3, extrapolate=True)
        B[:, j] = spl(xs)
        d2 = spl.derivative(2)
        C[0, j] = d2(a)
        C[1, j] = d2(b)
    B, C = B[:, 1:], C[:, 1:]
    # Null space of C: the last columns of the full QR of C^T.
    q, _ = np.linalg.qr(C.T, mode="complete")
    return B @ q[:, 2:]


# ------------------------------------------------------------------------- logistic regression


@dataclass
class LogitFit:
    params: np.ndarray
    cov: np.ndarray
    names: list[str]
    n: int
    deviance: float
    converged: bool
    iterations: int

    def coef(self, name: str) -> tuple[float, float]:
        i = self.names.index(name)
        return float(self.params[i]), float(math.sqrt(self.cov[i, i]))


def fit_binomial_logit(X: np.ndarray, successes: np.ndarray, trials: np.ndarray, names: list[str], *,
                       groups: np.ndarray | None = None, max_iter: int = 60, tol: float = 1e-10) -> LogitFit:
    """Maximum likelihood logistic regression on aggregated binomial counts (Newton / IRLS).

    ``X`` (k x p) includes the intercept column. ``groups`` (optional, integer codes 0..G-1)
    adds fixed effects for groups 1..G-1 (group 0 is the reference) without building the
    dummy matrix: the Hessian's blocks are sums by group (``bincount``), so thousands of area
    effects cost little. Standard errors from the inverse Fisher information, as R's
    ``glm(..., family = binomial)`` reports them.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(successes, dtype=float)
    m = np.asarray(trials, dtype=float)
    keep = m > 0
    X, y, m = X[keep], y[keep], m[keep]
    g = None
    n_fe = 0
    if groups is not None:
        g = np.asarray(groups, dtype=np.int64)[keep]
        n_fe = int(g.max()) if len(g) else 0  # effects for groups 1..G-1
    p = X.shape[1]
    fe_names = [f"fe{j}" for j in range(1, n_fe + 1)]

    def linpred(beta: np.ndarray) -> np.ndarray:
        eta = X @ beta[:p]
        if n_fe:
            eta = eta + np.r_[0.0, beta[p:]][g]
        return eta

    def hessian_and_grad(beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        eta = linpred(beta)
        mu = 1.0 / (1.0 + np.exp(-eta))
        w = m * mu * (1 - mu)
        r = y - m * mu
        H_dd = (X * w[:, None]).T @ X
        grad_d = X.T @ r
        if not n_fe:
            return H_dd, grad_d
        G = n_fe + 1
        H_cc = np.bincount(g, weights=w, minlength=G)[1:]
        H_dc = np.vstack([np.bincount(g, weights=w * X[:, j], minlength=G)[1:] for j in range(p)])
        grad_c = np.bincount(g, weights=r, minlength=G)[1:]
        H = np.block([[H_dd, H_dc], [H_dc.T, np.diag(H_cc)]])
        return H, np.r_[grad_d, grad_c]

    def deviance(beta: np.ndarray) -> float:
        eta = linpred(beta)
        return float(-2 * (y * eta - m * np.logaddexp(0, eta)).sum())

    beta = np.zeros(p + n_fe)
    # Start from the overall log-odds on the intercept (column 0) for stable first steps.
    pbar = min(max(y.sum() / m.sum(), 1e-6), 1 - 1e-6)
    beta[0] = math.log(pbar / (1 - pbar))
    converged = False
    dev = deviance(beta)
    it = 0
    for it in range(1, max_iter + 1):
        H, grad = hessian_and_grad(beta)
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, grad, rcond=None)[0]
        # Step halving keeps the deviance falling (the Newton step can overshoot near separation).
        t = 1.0
        while True:
            nd = deviance(beta + t * step)
            if nd <= dev + 1e-12 or t < 1e-4:
                break
            t /= 2
        beta = beta + t * step
        done = abs(dev - nd) < tol * (abs(nd) + 0.1)
        dev = nd
        if done:
            converged = True
            break
    H, _ = hessian_and_grad(beta)
    cov = np.linalg.pinv(H)
    return LogitFit(beta, cov, list(names) + fe_names, int(m.sum()), dev, converged, it)


def _deviance(X: np.ndarray, y: np.ndarray, m: np.ndarray, beta: np.ndarray) -> float:
    eta = X @ beta
    # log(1 + exp(eta)) computed stably
    log1pexp = np.logaddexp(0, eta)
    ll = y * eta - m * log1pexp
    return float(-2 * ll.sum())


# ------------------------------------------------------------------------------------ the test


@dataclass
class VodModel:
    name: str
    coef: float
    se: float
    n: int
    controls: str
    converged: bool
    dropped_areas: int = 0
    areas: int = 0

    @property
    def ci(self) -> tuple[float, float]:
        return self.coef - 1.959964 * self.se, self.coef + 1.959964 * self.se

    @property
    def odds_ratio(self) -> float:
        return math.exp(self.coef)

    @property
    def p_value(self) -> float:
        from scipy.stats import norm

        return float(2 * norm.sf(abs(self.coef / self.se))) if self.se > 0 else float("nan")

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.ci
        return {"name": self.name, "controls": self.controls, "dark_coef": self.coef, "se": self.se, "ci_low": lo,
                "ci_high": hi, "odds_ratio": self.odds_ratio, "p_value": self.p_value, "n": self.n,
                "converged": self.converged, "areas": self.areas, "areas_dropped_no_variation": self.dropped_areas}


@dataclass
class VodResult:
    minority: str
    reference: str
    place: tuple[float, float] | None
    window: tuple[int, int] | None
    n_window: int
    n_light: int
    n_dark: int
    share_light: float
    share_dark: float
    models: list[VodModel] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)
    by_minute: pd.DataFrame | None = None  # minute bin x dark -> minority share, for the chart
    caveats: tuple[str, ...] = CAVEATS
    tz: str | None = None

    def model(self, name: str) -> VodModel:
        for m in self.models:
            if m.name == name:
                return m
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "minority": self.minority, "reference": self.reference,
            "place": list(self.place) if self.place else None,
            "window_minutes": list(self.window) if self.window else None,
            "window_clock": [f"{w // 60:02d}:{w % 60:02d}" for w in self.window] if self.window else None,
            "tz": self.tz, "n_window": self.n_window, "n_light": self.n_light, "n_dark": self.n_dark,
            "minority_share_light": self.share_light, "minority_share_dark": self.share_dark,
            "models": [m.to_dict() for m in self.models], "excluded": dict(self.excluded), "caveats": list(self.caveats),
        }


def vod_fit(counts: pd.DataFrame, *, area_col: str | None = None, df: int = 6, name: str = "time",
            controls: str = "natural spline of clock time (df 6)") -> VodModel:
    """Fit ``minority ~ is_dark + ns(minute, df) [+ area]`` on aggregated counts.

    ``counts`` has columns ``minute, dark (0/1), minority (count), total (count)`` and, for
    fixed effects, ``area_col``. Areas whose stops are all minority or all reference carry no
    information about ``is_dark`` (their fixed effect would run off to infinity) and are
    dropped, as the conditional likelihood would; how many is reported.
    """
    c = counts[counts["total"] > 0].copy()
    if c.empty:
        raise VodError("no stops in the inter-twilight window")
    dropped = 0
    n_areas = 0
    if area_col is not None:
        c = c[c[area_col].notna()]
        agg = c.groupby(area_col)[["minority", "total"]].sum()
        informative = agg.index[(agg["minority"] > 0) & (agg["minority"] < agg["total"])]
        dropped = int(len(agg) - len(informative))
        c = c[c[area_col].isin(informative)]
        n_areas = int(len(informative))
        if c.empty:
            raise VodError("no area has both groups in the window: fixed effects cannot be fitted")
    if c["dark"].nunique() < 2:
        raise VodError("the window has only light or only dark stops: the darkness effect cannot be estimated")
    minutes = c["minute"].to_numpy(dtype=float)
    inner, bnd = natural_spline_knots(minutes, df, c["total"].to_numpy())
    S = natural_spline_basis(minutes, inner, bnd)
    cols = [np.ones(len(c)), c["dark"].to_numpy(dtype=float)] + [S[:, j] for j in range(S.shape[1])]
    names = ["intercept", "is_dark"] + [f"ns{j + 1}" for j in range(S.shape[1])]
    groups = None
    if area_col is not None and n_areas > 1:
        groups = pd.Categorical(c[area_col]).codes.astype(np.int64)
    X = np.column_stack(cols)
    if S.shape[1] < df:
        controls = controls.replace(f"(df {df})", f"(df {S.shape[1]}: too few distinct clock times for {df})")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        fit = fit_binomial_logit(X, c["minority"].to_numpy(), c["total"].to_numpy(), names, groups=groups)
    b, se = fit.coef("is_dark")
    return VodModel(name, b, se, fit.n, controls, fit.converged, dropped, n_areas)


def window_counts(stops: pd.DataFrame, sun: pd.DataFrame, *, drop_boundary_minutes: bool = False
                  ) -> tuple[pd.DataFrame, dict[str, int], tuple[int, int]]:
    """Inter-twilight window: join sun times by date, keep the window, drop twilight, flag dark.

    ``stops`` has ``date, minute, minority (0/1 or count), total`` (aggregated or one row per
    stop with total 1) and any area columns. Returns the windowed rows with ``dark``, the
    counts excluded at each step, and the window (earliest dusk, latest dusk) in minutes.
    """
    d = stops.merge(sun, on="date", how="inner")
    lo, hi = int(sun["dusk_minute"].min()), int(sun["dusk_minute"].max())
    excluded = {}
    tot = int(stops["total"].sum())
    in_win = (d["minute"] >= lo) & (d["minute"] <= hi)
    excluded["outside_window"] = tot - int(d.loc[in_win, "total"].sum())
    d = d[in_win]
    # Stanford's pipeline keeps a stop at exactly the sunset or dusk minute (as light):
    # filter(!(minute > sunset_minute & minute < dusk_minute)), is_dark = minute > dusk_minute.
    # An earlier exploratory version dropped them, (minute < sunset_minute | minute > dusk_minute):
    # drop_boundary_minutes=True reproduces that for comparison.
    if drop_boundary_minutes:
        twilight = (d["minute"] >= d["sunset_minute"]) & (d["minute"] <= d["dusk_minute"])
    else:
        twilight = (d["minute"] > d["sunset_minute"]) & (d["minute"] < d["dusk_minute"])
    excluded["twilight"] = int(d.loc[twilight, "total"].sum())
    d = d[~twilight].copy()
    d["dark"] = (d["minute"] > d["dusk_minute"]).astype(int)
    return d, excluded, (lo, hi)


def location_cells(lat: pd.Series, lon: pd.Series, km: float = 5.0) -> pd.Series:
    """Square cells of about ``km`` km (equirectangular about the mean latitude), as strings."""
    lat0 = float(np.nanmean(lat)) if len(lat) else 0.0
    y = np.floor(lat.to_numpy(dtype=float) * 110.574 / km)
    x = np.floor(lon.to_numpy(dtype=float) * 111.320 * math.cos(math.radians(lat0)) / km)
    ok = ~(np.isnan(x) | np.isnan(y))
    out = np.full(len(lat), None, dtype=object)
    out[ok] = [f"{int(a)}_{int(b)}" for a, b in zip(y[ok], x[ok])]
    return pd.Series(out, index=lat.index)


def veil_of_darkness(stops: pd.DataFrame, *, latitude: float, longitude: float, tz: str = "Europe/London",
                     minority: str = "Black", reference: str = "White", cell_km: float | None = 5.0,
                     area_col: str | None = None, df: int = 6, area_label: str | None = None,
                     min_stops: int = 100, drop_boundary_minutes: bool = False) -> VodResult:
    """Run the test on stops with ``date, minute, group, total`` (+ ``cell`` or ``area_col``).

    ``group`` is the ethnic group; only ``minority`` and ``reference`` rows are used. Rows may
    be single stops (total 1) or counts. ``cell`` (strings, None when unknown) is used for the
    fixed-effects model when ``cell_km`` or ``area_label`` is given (any area code works, e.g.
    boroughs; ``area_label`` names it in the output).
    """
    s = stops[stops["group"].isin([minority, reference])].copy()
    if s.empty:
        raise VodError(f"no stops of {minority} or {reference} people with a recorded clock time")
    s["minority"] = np.where(s["group"] == minority, s["total"], 0)
    s["date"] = pd.to_datetime(s["date"]).dt.date
    sun = sun_minutes(pd.unique(s["date"]), latitude, longitude, tz)
    if sun.empty:
        raise VodError("no sunset/dusk times for these dates at this place")
    w, excluded, window = window_counts(s, sun, drop_boundary_minutes=drop_boundary_minutes)
    keys = ["minute", "dark"]
    fe_col = area_col if area_col is not None else ("cell" if ((cell_km or area_label) and "cell" in w.columns) else None)
    if fe_col:
        keys.append(fe_col)
    agg = w.groupby(keys, dropna=False)[["minority", "total"]].sum().reset_index()
    n_window = int(agg["total"].sum())
    light = agg[agg["dark"] == 0]
    dark = agg[agg["dark"] == 1]
    if n_window < min_stops or min(light["total"].sum(), dark["total"].sum()) < min_stops // 10:
        raise VodError(f"too few {minority} and {reference} stops in the inter-twilight window ({n_window:,}: "
                       f"{int(light['total'].sum()):,} light, {int(dark['total'].sum()):,} dark; the test needs at least "
                       f"{min_stops} with {min_stops // 10} of each)")
    share = lambda a: float(a["minority"].sum() / a["total"].sum()) if a["total"].sum() else float("nan")  # noqa: E731
    res = VodResult(minority, reference, (latitude, longitude), window, n_window, int(light["total"].sum()),
                    int(dark["total"].sum()), share(light), share(dark), excluded=excluded)
    base = agg.groupby(["minute", "dark"])[["minority", "total"]].sum().reset_index()
    if window[1] - window[0] < 60:
        res.caveats = res.caveats + (
            f"Dusk moves only {window[1] - window[0]} minutes over the dates analysed: the test needs stops across the "
            "seasons (ideally a full year) to compare the same clock time in light and dark; this result has little power.",)
    res.models.append(vod_fit(base, df=df))
    if fe_col:
        label = area_label or (f"{cell_km:g} km location cells" if fe_col == "cell" else f"{fe_col} fixed effects")
        fe = agg[agg[fe_col].notna()]
        res.excluded["no_location_for_fixed_effects"] = int(agg.loc[agg[fe_col].isna(), "total"].sum())
        try:
            res.models.append(vod_fit(fe, area_col=fe_col, df=df, name="time+area",
                                      controls=f"natural spline of clock time (df 6) + {label}"))
        except VodError as exc:
            res.excluded["fixed_effects_model_not_fitted"] = 1
            res.caveats = res.caveats + (f"Area fixed-effects model not fitted: {exc}.",)
    # Chart data: minority share by 15-minute bin, light vs dark.
    b = base.assign(bin=(base["minute"] // 15) * 15).groupby(["bin", "dark"])[["minority", "total"]].sum().reset_index()
    b["share"] = b["minority"] / b["total"]
    res.by_minute = b
    return res


def read_window_file(path, *, race_col: str = "subject_race", minority: str = "black", reference: str = "white") -> pd.DataFrame:
    """Read a pre-windowed stop file -> aggregated ``minute, dark, minority, total`` counts.

    Columns: ``minute`` (or ``time`` as HH:MM[:SS]), darkness as ``period`` (day/night) or
    ``is_dark`` (true/false, 1/0), and ``race_col``. Rows of other groups are left out.
    """
    from pathlib import Path

    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise VodError(f"{path}: cannot read CSV ({str(exc).splitlines()[0]})") from None
    if race_col not in df.columns:
        raise VodError(f"{path}: no column {race_col!r} (columns: {', '.join(df.columns)})")
    if "minute" in df.columns:
        minute = pd.to_numeric(df["minute"], errors="coerce")
    elif "time" in df.columns:
        t = df["time"].str.extract(r"^(\d{1,2}):(\d{2})")
        minute = pd.to_numeric(t[0], errors="coerce") * 60 + pd.to_numeric(t[1], errors="coerce")
    else:
        raise VodError(f"{path}: want a 'minute' or 'time' column")
    if "is_dark" in df.columns:
        dark = df["is_dark"].str.strip().str.lower().map({"true": 1, "1": 1, "false": 0, "0": 0})
    elif "period" in df.columns:
        dark = df["period"].str.strip().str.lower().map({"night": 1, "dark": 1, "day": 0, "light": 0})
    else:
        raise VodError(f"{path}: want an 'is_dark' or 'period' (day/night) column")
    race = df[race_col].str.strip().str.lower()
    keep = race.isin([minority.lower(), reference.lower()])
    bad = keep & (minute.isna() | dark.isna())
    if bad.any():
        i = int(bad.idxmax())
        raise VodError(f"{path}: line {i + 2}: unreadable minute/time or darkness")
    out = pd.DataFrame({"minute": minute[keep].astype(int), "dark": dark[keep].astype(int),
                        "minority": (race[keep] == minority.lower()).astype(int), "total": 1})
    if out.empty:
        raise VodError(f"{path}: no rows with {race_col} {minority!r} or {reference!r}")
    return out.groupby(["minute", "dark"])[["minority", "total"]].sum().reset_index()


def read_dated_stop_file(path, *, race_col: str, date_col: str | None = None, time_col: str | None = None,
                         area_col: str | None = None) -> pd.DataFrame:
    """Read a stop file with a local date and clock time per stop (e.g. Stanford Open Policing CSVs).

    Returns one row per stop with ``date, minute, group`` (the race column as written, lower
    case), ``total`` 1 and, when ``area_col`` is given, ``area``. Rows with a date but no time,
    or no race, are left out (counted in ``attrs['left_out']``).
    """
    from pathlib import Path

    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise VodError(f"{path}: cannot read CSV ({str(exc).splitlines()[0]})") from None
    date_col = date_col or next((c for c in ("date", "stop_date") if c in df.columns), None)
    time_col = time_col or next((c for c in ("time", "stop_time") if c in df.columns), None)
    for what, col in (("date", date_col), ("time", time_col), ("race", race_col), ("area", area_col)):
        if what != "area" and col is None:
            raise VodError(f"{path}: no {what} column found (columns: {', '.join(df.columns)})")
        if col is not None and col not in df.columns:
            raise VodError(f"{path}: no column {col!r} (columns: {', '.join(df.columns)})")
    d = pd.to_datetime(df[date_col], format="%Y-%m-%d", errors="coerce")
    t = df[time_col].str.extract(r"^\s*(\d{1,2}):(\d{2})")
    minute = pd.to_numeric(t[0], errors="coerce") * 60 + pd.to_numeric(t[1], errors="coerce")
    race = df[race_col].str.strip().str.lower()
    ok = d.notna() & minute.notna() & (minute < 1440) & ~race.isin(["", "na", "nan"])
    out = pd.DataFrame({"date": d[ok].dt.date, "minute": minute[ok].astype(int), "group": race[ok], "total": 1})
    if area_col is not None:
        out["cell"] = df.loc[ok, area_col].replace({"": None, "NA": None}).values
    out.attrs["left_out"] = int((~ok).sum())
    return out.reset_index(drop=True)
