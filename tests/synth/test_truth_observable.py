"""The observable oracle: a proper probability below the running-career truth, and its posterior
that a career still runs happens as often as it says, within any group the evidence defines."""

from __future__ import annotations

import numpy as np
import pytest

from harmlens.synth import SynthConfig
from harmlens.synth import offending as of
from harmlens.synth.observable import observable_probabilities, p_running
from harmlens.synth.population import build_population
from harmlens.synth.truth import true_probabilities

CUT = int(np.datetime64("2025-01-01T00:00:00", "s").astype(np.int64))


def _world(seed: int, people: int = 60_000):
    cfg = SynthConfig(people=people, seed=seed)
    rng = np.random.default_rng(seed)
    n_hist = cfg.history_years * 12
    t0 = CUT - n_hist * of.STEP_S
    pop = build_population(rng, cfg.people, CUT, int(n_hist * of.STEP_S))
    off = of.choose_offenders(rng, pop, cfg, t0, CUT + 12 * of.STEP_S)
    hist = of.simulate(rng, pop, off, cfg, t0, n_hist)
    return cfg, pop, off, hist, n_hist


@pytest.fixture(scope="module")
def worlds():
    out = []
    for seed in (21, 22, 23):
        cfg, pop, off, hist, n_hist = _world(seed)
        full = true_probabilities(pop, off, cfg, hist, CUT, np.random.default_rng(seed))
        obs = observable_probabilities(pop, off, cfg, hist, CUT, np.random.default_rng(seed))
        c = hist.cols
        pre = c["month"] < n_hist
        last = np.full(off.k, -1)
        np.maximum.at(last, c["k"][pre], c["month"][pre])
        out.append(dict(off=off, full=full["p_vawg_recorded_365"], obs=obs, running=(off.onset <= CUT) & (off.end > CUT),
                        silent=np.where(last >= 0, n_hist - 1 - last, 10_000),
                        prior=p_running(off, cfg, hist, CUT, evidence=False)))
    return out


def _cat(worlds, key):
    return np.concatenate([w[key] if key in w else w["obs"][key] for w in worlds])


def test_a_proper_probability_between_zero_and_the_running_truth(worlds):
    for w in worlds:
        o = w["obs"]
        assert np.all((0 <= o["p_running"]) & (o["p_running"] <= 1))
        assert np.all((0 <= o["p_vawg_recorded_365"]) & (o["p_vawg_recorded_365"] <= o["p_given_running"] + 1e-15))
        # for a running career the full truth is the running-career truth, same Monte Carlo draws
        r = w["running"]
        assert np.array_equal(o["p_given_running"][r], w["full"][r])
        assert np.all(o["p_vawg_recorded_365"][r] <= w["full"][r] + 1e-15)
        assert (w["full"][~r] == 0).all() and (o["p_vawg_recorded_365"][~r] > 0).any()


def _calibrated(p: np.ndarray, y: np.ndarray, groups: np.ndarray) -> list[tuple]:
    """Groups where the count of ``y`` is off the probabilities' sum by more than 4 sd."""
    bad = []
    for g in np.unique(groups):
        s = groups == g
        sd = np.sqrt((p[s] * (1 - p[s])).sum())
        if abs(y[s].sum() - p[s].sum()) > 4 * sd + 2:
            bad.append((int(g), int(s.sum()), float(y[s].sum()), float(p[s].sum())))
    return bad


def test_running_posterior_happens_as_often_as_it_says(worlds):
    pr, y, silent = _cat(worlds, "p_running"), _cat(worlds, "running").astype(float), _cat(worlds, "silent")
    # groups by what the evidence says (months since the last offence) and by the posterior itself
    by_silence = np.digitize(silent, [1, 3, 12, 36, 72])
    by_level = np.digitize(pr, [0.1, 0.3, 0.5, 0.7, 0.9, 0.97])
    assert not _calibrated(pr, y, by_silence)
    assert not _calibrated(pr, y, by_level)
    # the check has power: the prior alone (onset, death window) is right on average but not given the evidence
    prior = _cat(worlds, "prior")
    assert _calibrated(prior, y, by_silence)
    assert abs(prior.mean() - y.mean()) < 0.03


def test_observable_oracle_averages_to_the_full_oracle(worlds):
    full, obs = _cat(worlds, "full"), _cat(worlds, "p_vawg_recorded_365")
    given, pr = _cat(worlds, "p_given_running"), _cat(worlds, "p_running")
    # E[full | evidence] = P(running | evidence) * truth given running = the observable oracle
    sd = np.sqrt((given ** 2 * pr * (1 - pr)).sum())
    assert abs(full.sum() - obs.sum()) < 4 * sd + 1, (full.sum(), obs.sum(), sd)
    assert obs.sum() > 50
