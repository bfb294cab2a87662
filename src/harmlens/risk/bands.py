"""Risk bands chosen from a model's temporal validation, so a band tells the reader something.

A band is a range of calibrated risk. Fixed thresholds (50/25/10%) said nothing on a city where
the top of the list sits far above 50%: every listed person was "very high". Here the thresholds
are cut from the validation date's predicted risk (the holdout the model card reports):

1. candidate cuts at the 50th, 75th and 90th percentile of predicted risk on the validation date
   (the bottom half "low", the next quarter "medium", the next 15% "high", the top tenth "very high");
2. a band is kept only when, on the validation date, it holds at least ``min_people`` people and
   the share of them who went on to offend lies inside the band's own range of predicted risk;
   otherwise the cut it fails on is dropped (merging it with its neighbour) and the bands are
   checked again. So each band's stated range is one the validation bore out, and a model whose
   validation cannot tell people apart ends with fewer bands, down to one.

A band is named by the percentile cut it starts from; merging keeps the name of the lower band.
The bands are stored with the model (``RiskBundle.bands``), shown in the model card, and used by
the offenders list (rank/offenders.py); docs/rank.md says what each means.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

# (percentile of validation risk where a band starts, band name), highest first; below the last: LOWEST
CUTS: tuple[tuple[float, str], ...] = ((0.90, "very high"), (0.75, "high"), (0.50, "medium"))
LOWEST = "low"
MIN_PEOPLE = 20


def _summarise(p: np.ndarray, y: np.ndarray, edges: list[float], names: list[str], base: float) -> list[dict[str, Any]]:
    """One dict per band, highest first: name, low/high risk, people, went on to offend, observed rate."""
    bounds = [1.0] + edges + [0.0]
    out = []
    for i, name in enumerate(names):
        hi, lo = bounds[i], bounds[i + 1]
        m = (p >= lo) & ((p < hi) if i > 0 else (p <= hi))
        n = int(m.sum())
        k = int(y[m].sum())
        out.append({"name": name, "low": float(lo), "high": float(hi), "people": n, "offended": k,
                    "observed": (k / n) if n else float("nan"), "base_rate": float(base)})
    return out


def _ok(b: dict[str, Any], min_people: int) -> bool:
    return b["people"] >= min_people and b["low"] <= b["observed"] <= b["high"]


def derive_bands(risk: Sequence[float], outcome: Sequence[int], *, cuts: Sequence[tuple[float, str]] = CUTS,
                 lowest: str = LOWEST, min_people: int = MIN_PEOPLE) -> list[dict[str, Any]]:
    """Bands (highest first) from predicted risk and what followed on a validation date (see module doc)."""
    p = np.asarray(risk, dtype=float)
    y = np.asarray(outcome, dtype=float)
    keep = ~np.isnan(p)
    p, y = p[keep], y[keep]
    base = float(y.mean()) if len(y) else float("nan")
    if not len(p):
        return []
    # a cut equal to the lowest risk would leave an empty band below it
    edges, names = [], []
    for q, name in cuts:
        e = float(np.quantile(p, q))
        if e > p.min() and (not edges or e < edges[-1]):
            edges.append(e)
            names.append(name)
    names.append(lowest)
    while True:
        bands = _summarise(p, y, edges, names, base)
        bad = next((i for i, b in enumerate(bands) if not _ok(b, min_people)), None)
        if bad is None or not edges:
            return bands
        b = bands[bad]
        # too few people or fewer offended than the band's floor: merge into the band below (drop its lower
        # cut); more offended than its ceiling: merge into the band above (drop its upper cut)
        if bad < len(edges) and not (b["people"] >= min_people and b["observed"] > b["high"]):
            del edges[bad]
            del names[bad]  # the merged band keeps the lower band's name
        else:
            del edges[bad - 1]
            del names[bad - 1]


def assign(risk: Sequence[float], bands: Sequence[dict[str, Any]]) -> np.ndarray:
    """The band name for each risk (bands highest first, each from its ``low``)."""
    r = np.asarray(risk, dtype=float)
    out = np.full(len(r), bands[-1]["name"], dtype=object)
    for b in reversed(bands):
        out[r >= b["low"]] = b["name"]
    return out


def band_text(b: dict[str, Any]) -> str:
    """What a band means, in one line (for the model card, the list and docs)."""
    from harmlens.features.catalogue import probability_text

    if b["low"] <= 0:
        rng = f"a chance below {probability_text(b['high'])}"
    elif b["high"] >= 1:
        rng = f"a chance of {probability_text(b['low'])} or more"
    else:
        rng = f"a chance from {probability_text(b['low'])} to {probability_text(b['high'])}"
    obs = (f"; on the validation date {b['offended']:,} of {b['people']:,} people in this band "
           f"({probability_text(b['observed'])}) went on to offend, against {probability_text(b['base_rate'])} of everyone")
    return f"{b['name']}: {rng}{obs}"


def meanings(stored: Any) -> dict[str, str]:
    """Band name -> what it means, from the bands stored with a list (``priority_lists.params.bands``).

    Validated bands (dicts from :func:`derive_bands`) say their range and what followed on the
    validation date; fixed thresholds (``[low, name]`` pairs) say their range only.
    """
    from harmlens.features.catalogue import probability_text

    out: dict[str, str] = {}
    if not isinstance(stored, (list, tuple)):
        return out
    pairs = []
    for b in stored:
        if isinstance(b, dict) and {"name", "low", "high"} <= set(b):
            out[str(b["name"])] = band_text(b).split(": ", 1)[1] if "people" in b else ""
        elif isinstance(b, (list, tuple)) and len(b) == 2:
            pairs.append((float(b[0]), str(b[1])))
    pairs.sort(reverse=True)
    for i, (lo, name) in enumerate(pairs):
        hi = pairs[i - 1][0] if i else 1.0
        out[name] = (f"a chance of {probability_text(lo)} or more" if i == 0 else
                     f"a chance below {probability_text(hi)}" if lo <= 0 else
                     f"a chance from {probability_text(lo)} to {probability_text(hi)}") + " (fixed thresholds, not validated)"
    return out
