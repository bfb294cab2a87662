"""The observable oracle: the truth without knowing whether a career has already ended.

``truth.true_probabilities`` knows, for every offender, whether the career is still running at the
cut. Nothing in any record shows that: an offender whose career ended a month before the cut
looks exactly like one who goes on. This module replaces that one fact by its posterior given
everything else the generator knows at the cut (onset, latent rate, escalation, every committed
offence recorded or not, custody, Hawkes excitation), so its AUC is a ceiling for any model of
records that is not inflated by the unknowable.

The posterior is exact on the generator's month grid. Career end is ``min(onset + 1 year +
exponential(mean), death)`` with death uniform on the simulated window with probability
``1 - exp(-rate * window)``; month m is active iff ``onset <= mid_m < end``; while active the month's
count is Poisson(``b_m (1 + e_m)``) and otherwise 0, with ``e_m`` and custody following from the
counts and justice paths, which do not depend on the end. So with the last history month that has
an offence ``f``, an end after ``mid_j`` and at or before ``mid_{j+1}`` (j >= f) has likelihood ratio
``exp(sum_{m>j} lam_m)`` against "still running" (the silent months are certain when inactive and
have chance ``exp(-lam_m)`` each when active); the prior weight is the survival drop over that
interval. Ignored: death bounds offence times within their month (seconds, not counts).
"""

from __future__ import annotations

import numpy as np

from harmlens.synth.config import SynthConfig
from harmlens.synth.offending import NEVER, STEP_S, YEAR_S, History, Offenders, trend
from harmlens.synth.population import Population
from harmlens.synth.truth import N_SAMPLES, true_probabilities


def end_survival(onset: np.ndarray, cfg: SynthConfig, cut_s: float, x: np.ndarray) -> np.ndarray:
    """P(career end > x) under the prior of choose_offenders; ``onset`` and ``x`` broadcast."""
    n_hist = cfg.history_years * 12
    t0 = cut_s - n_hist * STEP_S
    t_end = cut_s + 12 * STEP_S
    span = t_end - t0
    p_die = 1 - np.exp(-cfg.death_rate * span / YEAR_S)
    career = np.exp(-np.maximum(x - onset - YEAR_S, 0.0) / (cfg.career_years_mean * YEAR_S))
    death = 1 - p_die * np.clip((x - t0) / span, 0.0, 1.0)
    return career * death


def history_rates(off: Offenders, cfg: SynthConfig, hist: History, cut_s: float) -> tuple[np.ndarray, np.ndarray]:
    """(K, n_hist) rates ``lam_m`` an offender had in each history month were the career running,
    and the counts of offences committed; replays excitation and custody exactly as simulate()."""
    kk = off.k
    n_hist = cfg.history_years * 12
    t0 = cut_s - n_hist * STEP_S
    c = hist.cols
    counts = np.zeros((kk, n_hist))
    lam = np.zeros((kk, n_hist))
    pre = c["month"] < n_hist if c else np.zeros(0, bool)
    if c:
        np.add.at(counts, (c["k"][pre], c["month"][pre]), 1)
    # custody is replayed from the realised paths: it is history at every pre-cut month midpoint
    cust = np.flatnonzero(pre & (c["cust_start"] < NEVER)) if c else np.zeros(0, np.int64)
    if len(cust) and np.any(np.diff(c["month"][cust]) < 0):
        raise ValueError("history rows must be in month order, as simulate() writes them")
    by_month = np.split(cust, np.searchsorted(c["month"][cust], np.arange(1, n_hist))) if len(cust) else []
    e = np.zeros(kk)
    cs, ce = np.full(kk, np.inf), np.full(kk, -np.inf)
    allk = np.arange(kk)
    for m in range(n_hist):
        ts = t0 + m * STEP_S
        mid = ts + STEP_S / 2
        at_large = ~((cs <= mid) & (mid < ce))
        b = np.minimum(off.base * trend(off, allk, np.full(kk, mid)), cfg.max_rate) * at_large * (off.onset <= mid)
        lam[:, m] = b * (1 + e)
        e = cfg.excitation_decay * e + cfg.excitation * counts[:, m]
        rows = by_month[m] if by_month else cust[:0]
        if len(rows):
            ck = c["k"][rows]
            over = ce[ck] < ts
            cs[ck[over]], ce[ck[over]] = np.inf, -np.inf
            np.minimum.at(cs, ck, c["cust_start"][rows].astype(float))
            np.maximum.at(ce, ck, c["cust_end"][rows].astype(float))
    return lam, counts


def p_running(off: Offenders, cfg: SynthConfig, hist: History, cut_s: float, evidence: bool = True) -> np.ndarray:
    """P(career still running at the cut | everything the generator knows at the cut but that).

    ``evidence=False`` gives the prior alone (onset and the death window only): a control that
    shows how much the offences themselves say.
    """
    n_hist = cfg.history_years * 12
    t0 = cut_s - n_hist * STEP_S
    lam, counts = history_rates(off, cfg, hist, cut_s)
    if not evidence:
        lam, counts = np.zeros_like(lam), np.zeros_like(counts)
    mids = t0 + (np.arange(n_hist) + 0.5) * STEP_S
    # interval j = -1..n_hist-1: end in (mid_j, mid_{j+1}], with mid_-1 = -inf and mid_{n_hist} = the cut
    hi = np.concatenate([mids, [float(cut_s)]])
    s_lo = np.ones((off.k, n_hist + 1))
    s_lo[:, 1:] = end_survival(off.onset[:, None], cfg, cut_s, mids[None, :])
    s_hi = end_survival(off.onset[:, None], cfg, cut_s, hi[None, :])
    prior = np.maximum(s_lo - s_hi, 0.0)
    # sum of lam over months after j: the silent stretch an end inside interval j explains
    tail = np.concatenate([np.cumsum(lam[:, ::-1], axis=1)[:, ::-1], np.zeros((off.k, 1))], axis=1)
    last = np.where(counts.any(axis=1), n_hist - 1 - np.argmax(counts[:, ::-1] > 0, axis=1), -1)
    possible = np.arange(-1, n_hist)[None, :] >= last[:, None]
    s_cut = end_survival(off.onset, cfg, cut_s, np.full(off.k, float(cut_s)))
    with np.errstate(divide="ignore"):
        log_w = np.where(possible & (prior > 0), np.log(np.where(prior > 0, prior, 1.0)) + tail, -np.inf)
        log_run = np.log(s_cut)
    top = np.maximum(log_w.max(axis=1), log_run)
    top = np.where(np.isfinite(top), top, 0.0)
    w_end = np.exp(log_w - top[:, None]).sum(axis=1)
    w_run = np.exp(log_run - top)
    with np.errstate(invalid="ignore"):
        return np.where(w_run + w_end > 0, w_run / (w_run + w_end), 0.0)


def observable_probabilities(pop: Population, off: Offenders, cfg: SynthConfig, hist: History, cut_s: float,
                             rng: np.random.Generator, n_samples: int = N_SAMPLES) -> dict[str, np.ndarray]:
    """``p_running``, the truth given a running career (``p_given_running``) and their product
    ``p_vawg_recorded_365`` (the observable oracle), per offender.

    ``rng`` must be in the state ``true_probabilities`` got to reproduce its Monte Carlo draws.
    """
    running_all = Offenders(**{n: getattr(off, n) for n in off.__dataclass_fields__})
    running_all.end = np.full(off.k, np.inf)  # everybody's career runs at the cut ...
    given = true_probabilities(pop, running_all, cfg, hist, cut_s, rng, n_samples)["p_vawg_recorded_365"]
    pr = p_running(off, cfg, hist, cut_s)  # ... weighted by how likely that is
    return {"p_running": pr, "p_given_running": given, "p_vawg_recorded_365": pr * given}


def city_observable(cfg: SynthConfig) -> dict[str, np.ndarray]:
    """Per resident (the order of ``truth/persons``): the full truth and the observable oracle of
    the city ``generate(cfg, ...)`` writes, rebuilt from the same random streams.

    Mirrors generate()'s stream layout (nine spawned streams: population, offenders, simulation
    first, the truth's Monte Carlo last); callers compare ``full`` with ``truth/persons`` to catch drift.
    """
    from harmlens.synth.generate import _seconds
    from harmlens.synth.offending import choose_offenders, simulate
    from harmlens.synth.population import build_population

    cfg = cfg.validate()
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(cfg.seed).spawn(9)]
    r_pop, r_off, r_sim, r_truth = streams[0], streams[1], streams[2], streams[8]
    cut_s = _seconds(cfg.cut_date)
    n_hist = cfg.history_years * 12
    t0 = cut_s - n_hist * STEP_S
    pop = build_population(r_pop, cfg.people, cut_s, int(n_hist * STEP_S))
    off = choose_offenders(r_off, pop, cfg, t0, cut_s + 12 * STEP_S)
    hist = simulate(r_sim, pop, off, cfg, t0, n_hist)
    state = r_truth.bit_generator.state
    full = true_probabilities(pop, off, cfg, hist, cut_s, r_truth)["p_vawg_recorded_365"]
    r_truth.bit_generator.state = state  # the same Monte Carlo draws for the running-career truth
    obs = observable_probabilities(pop, off, cfg, hist, cut_s, r_truth)

    def per_resident(v: np.ndarray) -> np.ndarray:
        a = np.zeros(pop.n)
        a[off.person] = v
        return a

    running = (off.onset <= cut_s) & (off.end > cut_s)
    return {"full": per_resident(full), "observable": per_resident(obs["p_vawg_recorded_365"]),
            "p_running": per_resident(obs["p_running"]), "running": per_resident(running) > 0}
