"""The forecast-year truth: what the generator's state at the cut implies, and nothing later.

A forecaster who could see the whole generator state at the cut would know each offender's
latent rate, escalation, gravity, relationship mix, victims, recording probabilities, Hawkes
excitation, whether the career is still running (and since when), whether the offender is alive,
and every justice decision taken by then. It would *not* know draws the generator made in advance
for later: when a running career ends, when a living offender dies, how pending cases turn out.
:func:`true_probabilities` integrates over those:

* career end: onset + 1 year + exponential(mean), so given the career runs at the cut it ends
  after ``max(cut, onset + 1 year)`` at a constant hazard (memoryless);
* natural death: with probability ``1 - exp(-rate * window)`` uniform on the simulated window,
  so given alive at the cut the survival is linear in time;
* undecided justice (``pending.py``): Monte Carlo over fresh conditional draws, reduced to the
  distinct at-large patterns of the 12 forecast months and their frequencies;
* the offences given the activity path: exact branching-process recursion. For month j of the
  forecast year, immigrants are Poisson with mean ``lam0_j = b_j (1 + e_cut decay^j)`` and each
  offence in month i triggers Poisson(``b_j alpha decay^(j-1-i)``) offences in month j > i; an
  offence in month j is a "hit" with probability ``p_j``. With ``q_i`` the chance that an offence
  in month i has no hit among its descendants, ``q_i = prod_{j>i} exp(-mu_ij (1 - (1-p_j) q_j))``
  and ``P(no hit) = prod_j exp(-lam0_j (1 - (1-p_j) q_j))``. Exact because only a hit (a
  recorded VAWG offence) can change the rates (by custody) before the first hit. Activity is
  a random last active month L (careers only stop), so the no-hit probability is averaged over
  L with weights from the survival curve.

The only approximation is the Monte Carlo over undecided justice (``n_samples`` draws each, for
the few offenders with an undecided case); everything else is closed form.
"""

from __future__ import annotations

import numpy as np

from harmlens.synth import pending
from harmlens.synth import reference as ref
from harmlens.synth.config import SynthConfig
from harmlens.synth.offending import STEP_S, YEAR_S, History, Offenders, code_probs, gravity, trend, victim_class
from harmlens.synth.population import Population

N_SAMPLES = 2000


def month_mids(cut_s: float) -> np.ndarray:
    """Midpoints of the 12 forecast months: the generator decides activity and custody there."""
    return cut_s + (np.arange(12) + 0.5) * STEP_S


def death_survival(cfg: SynthConfig, cut_s: float, x: np.ndarray) -> np.ndarray:
    """P(no natural death by x | alive at the cut), for x >= cut (the draw in choose_offenders)."""
    t0 = cut_s - cfg.history_years * 12 * STEP_S
    t_end = cut_s + 12 * STEP_S
    span = t_end - t0
    p_die = 1 - np.exp(-cfg.death_rate * span / YEAR_S)
    return (1 - p_die * (np.minimum(x, t_end) - t0) / span) / (1 - p_die * (cut_s - t0) / span)


def activity_survival(off: Offenders, cfg: SynthConfig, cut_s: float) -> np.ndarray:
    """(12, K): P(career still running and alive at each forecast month's midpoint | state at the cut)."""
    running = (off.onset <= cut_s) & (off.end > cut_s)  # state at the cut, not the future end itself
    mids = month_mids(cut_s)[:, None]
    free_from = np.maximum(cut_s, off.onset + YEAR_S)[None, :]  # careers last at least a year
    career = np.exp(-np.maximum(mids - free_from, 0.0) / (cfg.career_years_mean * YEAR_S))
    return career * death_survival(cfg, cut_s, mids) * running[None, :]


def _check_onsets(off: Offenders, cut_s: float) -> None:
    # choose_offenders draws onsets up to the cut; a later onset would be a future draw too
    late = off.onset > cut_s + STEP_S / 2
    if late.any():
        raise ValueError(f"{int(late.sum())} careers start after the cut; the truth assumes onsets by the cut")


def custody_patterns(rng: np.random.Generator, off: Offenders, cfg: SynthConfig, hist: History, cut_s: float,
                     n_samples: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows (offender, at-large mask over the 12 months, probability): one row per offender whose
    custody is decided, one per distinct sampled pattern for those with an undecided case; and
    per offender whether decided custody leaves them at large at the cut instant."""
    kk = off.k
    mids = month_mids(cut_s)
    c = hist.cols
    und_k = np.unique(c["k"][pending.undecided(c, cfg.history_years * 12, cut_s)]) if c else np.zeros(0, np.int64)
    # decided custody only (undecided cases left out): exact for everybody without an undecided case
    cs, ce = pending.custody_samples(rng, off, cfg, _decided_only(c, cfg, cut_s), np.arange(kk), cut_s, 1)
    free = ~((cs[0][:, None] <= mids) & (mids < ce[0][:, None]))
    settled = np.setdiff1d(np.arange(kk), und_k)
    out_k, out_mask, out_w = [settled], [free[settled]], [np.ones(len(settled))]
    if len(und_k):
        cs_s, ce_s = pending.custody_samples(rng, off, cfg, c, und_k, cut_s, n_samples)
        free_s = ~((cs_s[..., None] <= mids) & (mids < ce_s[..., None]))  # (samples, offenders, 12)
        code = (free_s * (1 << np.arange(12))).sum(axis=2)                   # 12-bit at-large pattern
        key = np.arange(len(und_k))[None, :] * 4096 + code
        uniq, counts = np.unique(key.ravel(), return_counts=True)
        out_k.append(und_k[uniq // 4096])
        out_mask.append(((uniq % 4096)[:, None] >> np.arange(12)) & 1 == 1)
        out_w.append(counts / n_samples)
    free_now = ~((cs[0] <= cut_s) & (cut_s < ce[0]))
    return np.concatenate(out_k), np.concatenate(out_mask), np.concatenate(out_w), free_now


def _decided_only(cols: dict[str, np.ndarray], cfg: SynthConfig, cut_s: float) -> dict[str, np.ndarray]:
    """The offences without the undecided ones (their custody is what the Monte Carlo draws)."""
    if not cols:
        return cols
    keep = ~pending.undecided(cols, cfg.history_years * 12, cut_s)
    return {name: v[keep] for name, v in cols.items()}


def _branching(b: np.ndarray, e0: np.ndarray, ps: list[np.ndarray], alpha: float, decay: float) -> tuple[list[np.ndarray], np.ndarray]:
    """P(no hit) for each hit probability in ``ps`` and the expected offences per month (12, R)."""
    lam0 = b * (1 + e0[None, :] * decay ** np.arange(12)[:, None])
    none = []
    for p in ps:
        q = np.ones_like(b)
        for i in range(10, -1, -1):
            acc = np.zeros(b.shape[1])
            for j in range(i + 1, 12):
                acc += b[j] * alpha * decay ** (j - 1 - i) * (1 - (1 - p[j]) * q[j])
            q[i] = np.exp(-acc)
        none.append(np.exp(-(lam0 * (1 - (1 - p) * q)).sum(axis=0)))
    mean = np.zeros_like(b)
    for j in range(12):
        mean[j] = lam0[j] + sum(mean[i] * b[j] * alpha * decay ** (j - 1 - i) for i in range(j))
    return none, mean


def _marks(pop: Population, off: Offenders, cut_s: float) -> tuple[np.ndarray, np.ndarray]:
    """(12, K): chance an offence is a recorded VAWG offence, and its expected VAWG harm days."""
    kk = off.k
    p_rec = np.zeros((12, kk))
    harm = np.zeros((12, kk))
    allk = np.arange(kk)
    for j, mid in enumerate(month_mids(cut_s)):
        tm = np.full(kk, mid)
        h = gravity(off, allk, tm)
        for r in range(5):
            w = off.rel_p[:, r]
            if not (w > 0).any():
                continue
            vict = off.victims[:, 2] if r == 2 else np.full(kk, -1)
            cp = code_probs(np.full(kk, r), victim_class(pop, vict, tm, off.opp_female), h)
            p_rec[j] += w * (cp * off.prec).sum(axis=1)
            harm[j] += w * (cp @ ref.HARM_DAYS)
    return off.vawg_share * p_rec, off.vawg_share * harm


def true_probabilities(pop: Population, off: Offenders, cfg: SynthConfig, hist: History, cut_s: float,
                       rng: np.random.Generator, n_samples: int = N_SAMPLES) -> dict[str, np.ndarray]:
    """P(at least one VAWG offence in the 365 days after the cut), committed and recorded, the
    expected VAWG offences and harm (days), for every offender, given the generator state at the cut.

    ``rng`` drives only the Monte Carlo over undecided justice. The expected harm ignores
    incapacitation by custody that starts inside the forecast year (an upper bound).
    """
    _check_onsets(off, cut_s)
    kk = off.k
    alpha, decay = cfg.excitation, cfg.excitation_decay
    mids = month_mids(cut_s)
    e0 = hist.snapshot["e"]
    bfree = np.stack([np.minimum(off.base * trend(off, np.arange(kk), np.full(kk, m)), cfg.max_rate) for m in mids])
    surv = activity_survival(off, cfg, cut_s)
    p_rec, harm = _marks(pop, off, cut_s)
    p_com = np.broadcast_to(off.vawg_share, (12, kk))

    rk, rmask, rw, free_now = custody_patterns(rng, off, cfg, hist, cut_s, n_samples)
    live = (surv[0, rk] > 0) & (off.vawg_share[rk] > 0) & (rw > 0)
    rk, rmask, rw = rk[live], rmask[live], rw[live]
    b_row = bfree[:, rk] * rmask.T
    s_row = surv[:, rk]
    # last active month L: P(L = l) = S(mid_l) - S(mid_{l+1}); L = -1 (ended before mid_0) has no offences
    w_last = s_row - np.vstack([s_row[1:], np.zeros((1, len(rk)))])
    none_com, none_rec = 1 - s_row[0], 1 - s_row[0]
    exp_off, exp_harm = np.zeros(len(rk)), np.zeros(len(rk))
    for last in range(12):
        b_l = b_row * (np.arange(12) <= last)[:, None]
        (n_com, n_rec), mean = _branching(b_l, e0[rk], [p_com[:, rk], p_rec[:, rk]], alpha, decay)
        none_com = none_com + w_last[last] * n_com
        none_rec = none_rec + w_last[last] * n_rec
        exp_off += w_last[last] * (mean * p_com[:, rk]).sum(axis=0)
        exp_harm += w_last[last] * (mean * harm[:, rk]).sum(axis=0)

    def per_offender(v: np.ndarray) -> np.ndarray:
        return np.bincount(rk, weights=rw * v, minlength=kk)

    # the rate at the cut instant: running, at large (decided custody only) and excited
    at_cut = np.minimum(off.base * trend(off, np.arange(kk), np.full(kk, float(cut_s))), cfg.max_rate)
    running = (off.onset <= cut_s) & (off.end > cut_s)
    return {
        "p_vawg_365": np.clip(per_offender(1 - none_com), 0, 1),
        "p_vawg_recorded_365": np.clip(per_offender(1 - none_rec), 0, 1),
        "expected_vawg_offences_365": per_offender(exp_off),
        "expected_harm_365": per_offender(exp_harm),
        "rate_at_cut": at_cut * running * free_now * (1 + e0),
    }
