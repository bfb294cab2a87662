"""s163 Road Traffic Act stops with an injected disparity and a daylight (visibility) effect."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmlens.synth import reference as ref
from harmlens.synth.writer import make_ids
from harmlens.synth.config import SynthConfig
from harmlens.synth.population import DAY, Population

LAT, LON = 51.5, -0.12  # London, for the sun position
REASONS = np.array(["Routine check", "Manner of driving", "Vehicle defect", "Mobile phone use", "Speeding", "Intelligence-led"], dtype=object)
REASON_P = np.array([0.3, 0.25, 0.15, 0.1, 0.15, 0.05])


def sun_elevation(utc_s: np.ndarray, lat: float = LAT, lon: float = LON) -> np.ndarray:
    """Solar elevation in degrees (NOAA approximation, good to a fraction of a degree)."""
    t = np.asarray(utc_s, dtype="int64").astype("datetime64[s]")
    year_start = t.astype("datetime64[Y]").astype("datetime64[s]")
    doy = (t - year_start).astype("int64") / 86400.0  # fractional days since 1 Jan 00:00
    hour = (doy % 1.0) * 24
    g = 2 * np.pi / 365 * (np.floor(doy) + (hour - 12) / 24)
    eqtime = 229.18 * (0.000075 + 0.001868 * np.cos(g) - 0.032077 * np.sin(g) - 0.014615 * np.cos(2 * g) - 0.040849 * np.sin(2 * g))
    decl = (0.006918 - 0.399912 * np.cos(g) + 0.070257 * np.sin(g) - 0.006758 * np.cos(2 * g) + 0.000907 * np.sin(2 * g)
            - 0.002697 * np.cos(3 * g) + 0.00148 * np.sin(3 * g))
    tst = hour * 60 + eqtime + 4 * lon
    ha = np.radians(tst / 4 - 180)
    la = np.radians(lat)
    cosz = np.sin(la) * np.sin(decl) + np.cos(la) * np.cos(decl) * np.cos(ha)
    return 90 - np.degrees(np.arccos(np.clip(cosz, -1, 1)))


def london_local_to_utc(local_s: np.ndarray) -> np.ndarray:
    """Naive Europe/London wall time (seconds) to UTC seconds."""
    idx = pd.DatetimeIndex(np.asarray(local_s, dtype="int64").astype("datetime64[s]").astype("datetime64[ns]"))
    loc = idx.tz_localize("Europe/London", ambiguous=np.zeros(len(idx), dtype=bool), nonexistent="shift_forward")
    return (loc.tz_convert("UTC").tz_localize(None).asi8 // 10**9).astype(np.int64)


def generate_stops(rng: np.random.Generator, pop: Population, cfg: SynthConfig, cut_s: int) -> dict[str, np.ndarray]:
    """Stops of drivers; counts by borough x group follow the synthetic census times the disparity.

    In the dark, a stop's group is drawn with weights ``residents * multiplier`` (multiplier =
    stop_disparity for Black, 1 otherwise). In daylight (sun above the horizon) the non-White
    weights are further multiplied by darkness_effect, so the odds that a stopped driver is
    from a minority group are darkness_effect times higher in daylight than in the dark.
    """
    nb, ng = len(ref.BOROUGHS), len(ref.GROUPS)
    counts = np.zeros((nb, ng))
    np.add.at(counts, (pop.borough, pop.group), 1)
    mult = np.ones(ng)
    mult[ref.GROUPS.index("Black")] = cfg.stop_disparity
    weight = counts * mult[None, :]
    expected = cfg.stops_per_1000 / 1000 * cfg.stop_years * weight.sum()
    n = int(rng.poisson(expected))
    b = rng.choice(nb, size=n, p=weight.sum(axis=1) / weight.sum())
    # time: uniform day over the window; clock time weighted towards day and evening
    start = cut_s - cfg.stop_years * 365 * DAY
    day = start + np.floor(rng.random(n) * cfg.stop_years * 365).astype(np.int64) * DAY
    hour_w = np.array([3, 2, 1.5, 1, 1, 1, 2, 4, 6, 6, 5, 5, 5, 5, 6, 7, 8, 9, 9, 9, 8, 7, 6, 4], dtype=float)
    hour = rng.choice(24, size=n, p=hour_w / hour_w.sum())
    t = day + hour * 3600 + rng.integers(0, 3600, n)
    elev = sun_elevation(london_local_to_utc(t))
    daylight = elev > -0.833
    w = weight[b] / np.maximum(counts[b].sum(axis=1, keepdims=True), 1)
    minority = np.array([g != "White" for g in ref.GROUPS])
    w = np.where(daylight[:, None] & minority[None, :], w * cfg.darkness_effect, w)
    w = w / w.sum(axis=1, keepdims=True)
    grp = np.minimum((rng.random(n)[:, None] > np.cumsum(w, axis=1)).sum(axis=1), ng - 1)
    # code within group from the borough's census mix
    cd = ref.code_distribution()
    code = np.zeros(n, dtype=np.int64)
    u = rng.random(n)
    for gi in range(ng):
        cols = np.flatnonzero(ref.CODE_GROUP_INDEX == gi)
        m = grp == gi
        p = cd[b[m]][:, cols]
        p = p / p.sum(axis=1, keepdims=True)
        code[m] = cols[np.minimum((u[m][:, None] > np.cumsum(p, axis=1)).sum(axis=1), len(cols) - 1)]
    codes = np.array(ref.CODES, dtype=object)
    self_eth = codes[code].copy()
    self_eth[rng.random(n) < 0.12] = "not_stated"
    agree = rng.random(n) < cfg.noise.officer_ethnicity_agree
    main = np.array([ref.IC_MAIN[c] for c in ref.CODES], dtype=object)[code]
    ua = rng.random(n)
    alt = np.array([ref.IC_ALT[ref.CODES[c]][int(a * len(ref.IC_ALT[ref.CODES[c]]))] for c, a in zip(code.tolist(), ua.tolist())], dtype=object) if n else np.zeros(0, object)
    officer = np.where(agree, main, alt)
    officer[rng.random(n) < 0.03] = "IC9"
    sex = np.where(rng.random(n) < 0.8, "male", "female").astype(object)
    age = np.array(["10-17", "18-24", "25-34", "over 34"], dtype=object)[rng.choice(4, size=n, p=[0.01, 0.17, 0.3, 0.52])]
    lat = ref.CENTROIDS[b, 0] + rng.normal(0, 0.012, n)
    lon = ref.CENTROIDS[b, 1] + rng.normal(0, 0.018, n)
    reason = REASONS[rng.choice(len(REASONS), size=n, p=REASON_P)]
    searched = rng.random(n) < cfg.stop_search_share
    found = searched & (rng.random(n) < cfg.stop_find_rate)
    out_opts = np.array(["A no further action disposal", "Summons / charged by post", "Penalty Notice for Disorder", "Community resolution"], dtype=object)
    outcome = out_opts[rng.choice(4, size=n, p=[0.8, 0.08, 0.08, 0.04])]
    outcome[found] = np.where(rng.random(int(found.sum())) < 0.5, "Arrest", "Summons / charged by post")
    order = np.lexsort((b, t))
    sid = make_ids("S", np.arange(1, n + 1), 8)
    return {
        "stop_id": sid,
        "occurred_at": t[order],
        "legislation": np.full(n, "s163 Road Traffic Act 1988", dtype=object),
        "self_defined_ethnicity": self_eth[order],
        "officer_defined_ethnicity": officer[order],
        "sex": sex[order],
        "age_range": age[order],
        "borough": np.array(ref.BOROUGH_NAMES, dtype=object)[b[order]],
        "latitude": np.round(lat[order], 5),
        "longitude": np.round(lon[order], 5),
        "reason": reason[order],
        "outcome": outcome[order],
        "searched": searched[order],
        "found": found[order],
        # truth only
        "_code": codes[code[order]],
        "_group": np.array(ref.GROUPS, dtype=object)[grp[order]],
        "_sun_elevation": np.round(elev[order], 3),
        "_daylight": daylight[order],
    }
