"""Custody as known at the cut: decided custody exactly, undecided custody by fresh draws.

The generator draws an offence's whole justice path when the offence happens (report date,
charge decision, remand, trial date, verdict, sentence), so its custody intervals at the cut
already hold verdicts of trials still to come. What the generator state *at the cut* says about a
pre-cut VAWG offence is only what has happened by then:

* not yet reported (``reported > cut``): the commit time, code and nothing else;
* reported, decision still pending (``decision > cut``): whether it was recorded, the report date
  and whether an arrest has happened (an arrest makes a charge more likely: every charged case
  is arrested);
* charged, trial still to come (``court > cut``): charge date, remand, trial date.

:func:`sample_undecided` draws the rest from the generator's own distributions conditioned on
those facts (memoryless exponentials make the conditioning closed-form), and
:func:`replay_custody` merges decided and drawn custody exactly as ``simulate`` does.
"""

from __future__ import annotations

import numpy as np

from harmlens.synth import offending as of
from harmlens.synth.config import SynthConfig
from harmlens.synth.population import DAY

NONE_F = float(of.NEVER)  # "no custody" as a float, as simulate() compares it


def undecided(cols: dict[str, np.ndarray], n_hist: int, cut_s: float) -> np.ndarray:
    """Pre-cut VAWG offences whose custody (if any) is not decided at the cut."""
    if not cols:
        return np.zeros(0, bool)
    pre = (cols["month"] < n_hist) & cols["vawg"]
    unreported = cols["reported"] > cut_s
    undecided_charge = ~unreported & cols["recorded"] & (cols["decision"] > cut_s)
    untried = ~unreported & (cols["decision"] <= cut_s) & (cols["charge"] < of.NEVER) & (cols["court"] > cut_s)
    return pre & (unreported | undecided_charge | untried)


def _exp_tail_split(r: np.ndarray, m1: float, m2: float) -> tuple[np.ndarray, np.ndarray]:
    """log P(E1 > r) and log P(E1 + E2 > r) for independent exponentials with means m1 < m2, r >= 0."""
    log_s1 = -r / m1
    # P(E1+E2 > r) = (m2 e^{-r/m2} - m1 e^{-r/m1}) / (m2 - m1), in logs so long silences do not underflow
    log_s12 = -r / m2 + np.log(m2 - m1 * np.exp(-r / m1 + r / m2)) - np.log(m2 - m1)
    return log_s1, log_s12


def _report_after_cut(rng: np.random.Generator, t: np.ndarray, sexual: np.ndarray, cut_s: float) -> np.ndarray:
    """Report dates of offences committed at ``t`` and still unreported at the cut.

    The lag is LAG_MIN + E1 (+ E2 for the late share of sexual offences), E1, E2 exponential.
    Given lag >= cut + 1 - t (the whole-second report date is after the cut): the late
    indicator by Bayes, then whether E1 is still running (memoryless), then fresh remainders.
    """
    n = len(t)
    r = np.maximum(cut_s + 1 - t - of.LAG_MIN, 0.0)
    log_s1, log_s12 = _exp_tail_split(r, of.LAG_MEAN, of.LATE_MEAN)
    log_odds_late = np.log(of.LATE_SHARE) + log_s12 - np.log1p(-of.LATE_SHARE) - log_s1
    late = sexual & (rng.random(n) < 1 / (1 + np.exp(-log_odds_late)))
    # late: P(E1 still running | E1 + E2 > r) = P(E1 > r) / P(E1 + E2 > r)
    in_first = ~late | (rng.random(n) < np.exp(np.minimum(log_s1 - log_s12, 0.0)))
    e1 = rng.exponential(of.LAG_MEAN, n)
    e2 = rng.exponential(of.LATE_MEAN, n)
    # the lag from its start: already elapsed part (the threshold) + remainder
    remainder = np.where(in_first, e1, 0.0) + np.where(late, e2, 0.0)
    lag = of.LAG_MIN + r + remainder
    # r = 0 (threshold not binding): an unconditioned draw, which is the same expression
    return (t + lag).astype(np.int64)


def sample_undecided(rng: np.random.Generator, off: of.Offenders, cfg: SynthConfig, cols: dict[str, np.ndarray],
                     rows: np.ndarray, cut_s: float, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """(n_samples, len(rows)) custody start and end (NONE_F when none) for undecided offences.

    Reads only what is known at the cut (see the module docstring); every other part of the path
    is drawn afresh.
    """
    n = len(rows)
    rep = lambda a: np.tile(np.asarray(a)[rows], n_samples)  # noqa: E731 (sample-major order)
    code, k, t = rep(cols["code"]), rep(cols["k"]), rep(cols["t"])
    reported_c, decision_c, recorded_c = rep(cols["reported"]), rep(cols["decision"]), rep(cols["recorded"])
    nn = n * n_samples
    vawg = np.ones(nn, bool)  # undecided() keeps VAWG offences only
    unreported = reported_c > cut_s
    pending_charge = ~unreported & (decision_c > cut_s)
    decided = ~unreported & ~pending_charge  # charged, trial after the cut

    reported = np.where(unreported, _report_after_cut(rng, t, of.SEXUAL[code], cut_s), reported_c)
    recorded = np.where(unreported, rng.random(nn) < off.prec[k, code], recorded_c)

    c = of.CHARGE_SHARE[code]
    pa = of.arrest_share(cfg, vawg)
    # an arrest seen by the cut says the case is more likely charged (charged cases are all arrested)
    arrest_c = rep(cols["arrest"])
    seen = arrest_c <= cut_s
    s_a = np.exp(-np.maximum(cut_s + 1 - reported - of.ARREST_MIN, 0.0) / of.ARREST_MEAN)  # P(arrest later | arrested)
    p_seen = c / (c + (1 - c) * pa)
    p_unseen = c * s_a / (c * s_a + (1 - c) * (1 - pa * (1 - s_a)))
    p_charge = np.where(pending_charge, np.where(seen, p_seen, p_unseen), c)
    charged = np.where(decided, True, recorded & (rng.random(nn) < p_charge))
    # decision = reported + floor(DECISION_MIN + E); still pending means it falls after the cut
    wait = np.where(pending_charge, np.maximum(of.DECISION_MIN, cut_s + 1 - reported), of.DECISION_MIN)
    decision = reported + (wait + rng.exponential(of.DECISION_MEAN, nn)).astype(np.int64)
    remanded = np.where(decided, rep(cols["remanded"]), charged & (rng.random(nn) < of._SERIOUS[code]))
    # an undecided charge falls after the cut, so after the offence's month end: charge = decision
    charge = np.where(decided, rep(cols["charge"]), decision)
    court = np.where(decided, rep(cols["court"]), charge + of.trial_delay(rng, nn))
    _, custodial, served = of.trial_outcome(rng, code, vawg, charged)
    release = court + (served * DAY).astype(np.int64)
    start = np.where(remanded, charge, np.where(custodial, court, of.NEVER))
    end = np.where(custodial, release, np.where(remanded, court, of.NEVER))
    has = charged & recorded & (remanded | custodial)
    start = np.where(has, start, of.NEVER).astype(float)
    end = np.where(has, end, of.NEVER).astype(float)
    return start.reshape(n_samples, n), end.reshape(n_samples, n)


def replay_custody(slot: np.ndarray, month: np.ndarray, start: np.ndarray, end: np.ndarray, n_slots: int,
                   t0: float) -> tuple[np.ndarray, np.ndarray]:
    """The custody interval (cs, ce) at the cut, shape (samples, n_slots), merged as simulate() does.

    ``start``/``end`` are (samples, rows) with NONE_F for rows without custody; rows belong to
    ``slot`` and were committed in grid ``month``. In month m an interval that ended before the
    month began is replaced, otherwise the new custody widens it.
    """
    s = start.shape[0]
    cs = np.full(s * n_slots, np.inf)
    ce = np.full(s * n_slots, -np.inf)
    flat_all = np.arange(s)[:, None] * n_slots + slot[None, :]
    for m in np.unique(month):
        cols = np.flatnonzero(month == m)
        cust = start[:, cols] < NONE_F
        if not cust.any():
            continue
        f = flat_all[:, cols][cust]
        over = ce[f] < t0 + m * of.STEP_S
        cs[f[over]] = np.inf
        ce[f[over]] = -np.inf
        np.minimum.at(cs, f, start[:, cols][cust])
        np.maximum.at(ce, f, end[:, cols][cust])
    return cs.reshape(s, n_slots), ce.reshape(s, n_slots)


def custody_samples(rng: np.random.Generator, off: of.Offenders, cfg: SynthConfig, cols: dict[str, np.ndarray],
                    who: np.ndarray, cut_s: float, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """(n_samples, len(who)) custody intervals (cs, ce) at the cut of offenders ``who``: decided
    custody as it is, undecided cases drawn afresh, merged as simulate() merges them."""
    n_hist = cfg.history_years * 12
    t0 = cut_s - n_hist * of.STEP_S
    slot_of = np.full(off.k, -1)
    slot_of[who] = np.arange(len(who))
    if not cols:
        return np.full((n_samples, len(who)), np.inf), np.full((n_samples, len(who)), -np.inf)
    pre = (cols["month"] < n_hist) & (slot_of[cols["k"]] >= 0)
    und = undecided(cols, n_hist, cut_s)
    r = np.flatnonzero(pre & (und | (cols["cust_start"] < of.NEVER)))
    start = np.where(und[r], NONE_F, cols["cust_start"][r].astype(float))  # never read an undecided value
    end = np.where(und[r], NONE_F, cols["cust_end"][r].astype(float))
    start = np.broadcast_to(start, (n_samples, len(r))).copy()
    end = np.broadcast_to(end, (n_samples, len(r))).copy()
    ur = np.flatnonzero(und[r])
    if len(ur):
        start[:, ur], end[:, ur] = sample_undecided(rng, off, cfg, cols, r[ur], cut_s, n_samples)
    return replay_custody(slot_of[cols["k"][r]], cols["month"][r], start, end, len(who), t0)
