"""The truth conditions on the generator state at the cut only, and matches fresh futures from it.

The generator draws career length, death and whole justice paths in advance; a truth that read
those would know, say, that a career stops in three months. These tests prove the truth does not
(changing only post-cut draws changes nothing), that its closed forms match the generator's own
draws, and that futures replayed from the cut state with fresh draws happen as often as it says.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from harmlens.synth import SynthConfig
from harmlens.synth import offending as of
from harmlens.synth import pending
from harmlens.synth.population import DAY, build_population
from harmlens.synth.truth import activity_survival, month_mids, true_probabilities

CUT = int(np.datetime64("2025-01-01T00:00:00", "s").astype(np.int64))


def _select(off: of.Offenders, idx: np.ndarray) -> of.Offenders:
    return of.Offenders(**{n: getattr(off, n)[idx] for n in off.__dataclass_fields__})


def _prolific_world(n_src: int = 60, history_years: int = 2, seed: int = 5):
    """High-rate VAWG offenders with careers running through a short history: many custody
    decisions still pending at the cut, some careers inside their first year."""
    cfg = SynthConfig(people=3000, seed=seed, history_years=history_years)
    rng = np.random.default_rng(seed)
    n_hist = history_years * 12
    t0 = CUT - n_hist * of.STEP_S
    pop = build_population(rng, cfg.people, CUT, int(n_hist * of.STEP_S))
    off = choose_offenders(rng, pop, cfg, t0)
    src = np.flatnonzero(off.vawg_share > 0)[:n_src]
    off = _select(off, src)
    off.base = 0.05 + 0.35 * rng.random(len(src))
    off.vawg_share = np.maximum(off.vawg_share, 0.6)
    off.onset = t0 + rng.random(len(src)) * (CUT - t0)  # a third start within a year of the cut
    off.end = np.full(len(src), np.inf)   # running through the history; the future is redrawn
    off.death = np.full(len(src), np.inf)
    hist = of.simulate(np.random.default_rng(seed + 1), pop, off, cfg, t0, n_hist)
    return cfg, pop, off, hist, t0, n_hist


def choose_offenders(rng, pop, cfg, t0):
    return of.choose_offenders(rng, pop, cfg, t0, CUT + 12 * of.STEP_S)


def _fresh_end(rng: np.random.Generator, off: of.Offenders, cfg: SynthConfig, t0: float) -> tuple[np.ndarray, np.ndarray]:
    """Career end and death drawn as choose_offenders draws them, kept only when consistent with
    "running and alive at the cut" (rejection: no formula of the truth is reused)."""
    t_end = CUT + 12 * of.STEP_S
    n = off.k
    end = np.full(n, np.nan)
    died = np.full(n, np.nan)
    todo = np.arange(n)
    p_die = 1 - np.exp(-cfg.death_rate * (t_end - t0) / of.YEAR_S)
    while len(todo):
        career = rng.exponential(cfg.career_years_mean, len(todo)) * of.YEAR_S + of.YEAR_S
        death = np.where(rng.random(len(todo)) < p_die, t0 + rng.random(len(todo)) * (t_end - t0), np.inf)
        e = np.minimum(off.onset[todo] + career, death)
        ok = (off.onset[todo] + career > CUT) & (death > CUT)
        end[todo[ok]] = e[ok]
        died[todo[ok]] = death[ok]
        todo = todo[~ok]
    return end, died


def test_decided_custody_replays_to_the_simulated_state():
    cfg, pop, off, hist, t0, n_hist = _prolific_world()
    c = hist.cols
    r = np.flatnonzero(c["month"] < n_hist)
    cs, ce = pending.replay_custody(c["k"][r], c["month"][r], c["cust_start"][r][None].astype(float),
                                    c["cust_end"][r][None].astype(float), off.k, t0)
    assert np.array_equal(cs[0], hist.snapshot["cs"]) and np.array_equal(ce[0], hist.snapshot["ce"])
    # and the world exercises every kind of undecided case
    und = pending.undecided(c, n_hist, CUT)
    assert und.sum() >= 20
    assert (und & (c["reported"] > CUT)).any() and (und & (c["court"] > CUT) & (c["decision"] <= CUT)).any()
    assert (und & (c["reported"] <= CUT) & (c["decision"] > CUT)).any()


def test_truth_ignores_draws_that_come_true_after_the_cut():
    cfg, pop, off, hist, t0, n_hist = _prolific_world()
    base = true_probabilities(pop, off, cfg, hist, CUT, np.random.default_rng(9))
    rng = np.random.default_rng(4)
    off2 = _select(off, np.arange(off.k))
    off2.end = CUT + rng.random(off.k) * 3 * of.YEAR_S + 1      # careers now stop at other times after the cut
    off2.death = np.where(rng.random(off.k) < 0.5, CUT + rng.random(off.k) * of.YEAR_S + 1, np.inf)
    c = {k: v.copy() for k, v in hist.cols.items()}
    und = pending.undecided(c, n_hist, CUT)
    unrep = und & (c["reported"] > CUT)
    no_decision = und & (c["decision"] > CUT)  # includes the unreported

    def later(mask: np.ndarray) -> np.ndarray:
        return CUT + 1 + (rng.random(int(mask.sum())) * 300 * DAY).astype(np.int64)

    # hidden while unreported: when it will be reported, whether recorded, any arrest
    c["reported"][unrep] = later(unrep)
    c["recorded"][unrep] = ~c["recorded"][unrep]
    c["arrest"][unrep] = later(unrep)
    # hidden while no decision: its date (after the cut), the charge, remand, trial date
    c["decision"][no_decision] = later(no_decision)
    c["arrest"][no_decision & (c["arrest"] > CUT)] = of.NEVER  # a later arrest is not seen either way
    c["remanded"][no_decision] = ~c["remanded"][no_decision]
    c["charge"][no_decision] = later(no_decision)
    c["court"][no_decision] = later(no_decision) + 100 * DAY
    # hidden until the trial: verdict, sentence, custody
    c["convicted"][und] = ~c["convicted"][und]
    c["custodial"][und] = ~c["custodial"][und]
    c["release"][und] = later(und) + 400 * DAY
    c["cust_start"][und] = np.where(rng.random(int(und.sum())) < 0.5, later(und), of.NEVER)
    c["cust_end"][und] = c["cust_start"][und] + 200 * DAY
    hist2 = of.History(cols=c, snapshot={"e": hist.snapshot["e"], "cs": np.full(off.k, np.inf),
                                         "ce": np.full(off.k, -np.inf)})
    same = true_probabilities(pop, off2, cfg, hist2, CUT, np.random.default_rng(9))
    for key in base:
        assert np.array_equal(base[key], same[key]), key
    # a fact known at the cut does change it: one career ended just before the cut
    busy = int(np.argmax(base["p_vawg_365"]))
    off2.end[busy] = CUT - 1
    moved = true_probabilities(pop, off2, cfg, hist2, CUT, np.random.default_rng(9))
    assert moved["p_vawg_365"][busy] == 0 and base["p_vawg_365"][busy] > 0.5


def test_activity_survival_matches_the_generators_career_and_death_draws():
    cfg = SynthConfig(people=100_000, seed=2, death_rate=0.05)  # more deaths: the death part has power
    rng = np.random.default_rng(7)
    n_hist = cfg.history_years * 12
    t0 = CUT - n_hist * of.STEP_S
    pop = build_population(rng, cfg.people, CUT, int(n_hist * of.STEP_S))
    stayed = np.zeros(12)
    expected = np.zeros(12)
    var = np.zeros(12)
    for _ in range(3):
        off = choose_offenders(rng, pop, cfg, t0)
        s = activity_survival(off, cfg, CUT)
        running = (off.onset <= CUT) & (off.end > CUT)
        stayed += (off.end[running][None, :] > month_mids(CUT)[:, None]).sum(axis=1)
        expected += s[:, running].sum(axis=1)
        var += (s * (1 - s))[:, running].sum(axis=1)
    assert expected[-1] < expected[0] - 100  # careers do end inside the year
    assert np.all(np.abs(stayed - expected) < 4 * np.sqrt(var) + 1), (stayed, expected)


def _generated_paths(n: int, seed: int):
    """Pre-cut VAWG offences with their full justice paths, drawn by the generator itself."""
    cfg = SynthConfig(people=1000)
    rng = np.random.default_rng(seed)
    codes = np.flatnonzero(of.IS_VAWG_CODE & (of.CHARGE_SHARE > 0))
    code = rng.choice(codes, n)
    k = rng.integers(0, 50, n)
    prec = np.clip(rng.random((50, len(of.CHARGE_SHARE))), 0.2, 0.9)
    t = CUT - rng.random(n) * 500 * DAY
    month = np.floor((t - (CUT - 24 * of.STEP_S)) / of.STEP_S).astype(np.int64)
    month_end = CUT - 24 * of.STEP_S + (month + 1) * of.STEP_S
    recorded = rng.random(n) < prec[k, code]
    vawg = np.ones(n, bool)
    path = of._justice_path(rng, cfg, k, t, code, np.zeros(n, np.int64), recorded, vawg, month_end)
    cols = {"k": k, "t": t, "code": code, "recorded": recorded, "vawg": vawg, "month": month, **path}
    return cfg, SimpleNamespace(prec=prec), cols


def test_undecided_draws_reproduce_the_generators_paths():
    """Redrawing the undecided part of generator-drawn paths, given what is known at the cut,
    leaves the distribution of custody unchanged (a correct conditional is a stationary step)."""
    cfg, off, c = _generated_paths(400_000, seed=3)
    und = np.flatnonzero(pending.undecided(c, 24, CUT))
    start, end = pending.sample_undecided(np.random.default_rng(8), off, cfg, c, und, CUT, 1)
    orig_s, orig_e = c["cust_start"][und].astype(float), c["cust_end"][und].astype(float)
    kinds = {
        "unreported": c["reported"][und] > CUT,
        "pending, arrest seen": (c["reported"][und] <= CUT) & (c["decision"][und] > CUT) & (c["arrest"][und] <= CUT),
        "pending, no arrest seen": (c["reported"][und] <= CUT) & (c["decision"][und] > CUT) & (c["arrest"][und] > CUT),
        "awaiting trial": c["decision"][und] <= CUT,
    }
    for name, sel in kinds.items():
        assert sel.sum() > 300, name
        for label, f in (
            ("custody", lambda s, e: s < pending.NONE_F),
            ("started by the cut", lambda s, e: s <= CUT),
            ("starts within 30 days", lambda s, e: s < CUT + 30 * DAY),
            ("starts within 90 days", lambda s, e: s < CUT + 90 * DAY),
            ("held at +180 days", lambda s, e: (s <= CUT + 180 * DAY) & (CUT + 180 * DAY < e)),
            ("held at +365 days", lambda s, e: (s <= CUT + 365 * DAY) & (CUT + 365 * DAY < e)),
        ):
            a, b = f(orig_s[sel], orig_e[sel]).mean(), f(start[0][sel], end[0][sel]).mean()
            se = np.sqrt((a * (1 - a) + b * (1 - b)) / sel.sum()) + 1e-9
            assert abs(a - b) < 4.5 * se + 1e-3, (name, label, a, b)


def test_late_report_dates_reproduce_the_generators():
    """Report dates redrawn for offences still unreported at the cut follow the generator's."""
    _, _, c = _generated_paths(400_000, seed=4)
    late = c["reported"] > CUT
    assert late.sum() > 3000
    redrawn = pending._report_after_cut(np.random.default_rng(5), c["t"][late], of.SEXUAL[c["code"][late]], CUT)
    assert (redrawn > CUT).all()
    for days in (3, 30, 90, 180, 365):
        a = (c["reported"][late] <= CUT + days * DAY).mean()
        b = (redrawn <= CUT + days * DAY).mean()
        assert abs(a - b) < 4.5 * np.sqrt((a * (1 - a) + b * (1 - b)) / late.sum()) + 1e-3, (days, a, b)


def test_truth_matches_futures_replayed_from_the_cut():
    """Copies of each offender's cut state, futures with fresh draws (career end and death by
    rejection from the generator's own draw, undecided cases redrawn, the forecast year
    simulated): outcomes happen as often as the truth says, in total and in quintiles."""
    cfg, pop, off, hist, t0, n_hist = _prolific_world()
    truth = true_probabilities(pop, off, cfg, hist, CUT, np.random.default_rng(3))
    reps = 300
    rng = np.random.default_rng(11)
    idx = np.repeat(np.arange(off.k), reps)
    clones = _select(off, idx)
    clones.end, clones.death = _fresh_end(rng, clones, cfg, t0)
    cs, ce = pending.custody_samples(rng, off, cfg, hist.cols, np.arange(off.k), CUT, reps)
    start = {"e": hist.snapshot["e"][idx], "cs": cs.T.ravel(), "ce": ce.T.ravel()}
    fut = of.simulate(rng, pop, clones, cfg, t0, n_hist, start=start).cols
    assert (fut["month"] >= n_hist).all()
    for key, mask in (("p_vawg_365", fut["vawg"]), ("p_vawg_recorded_365", fut["vawg"] & fut["recorded"])):
        y = np.zeros(clones.k, bool)
        y[fut["k"][mask]] = True
        hits = y.reshape(off.k, reps).sum(axis=1)
        p = truth[key]
        v = reps * p * (1 - p)
        assert abs(hits.sum() - reps * p.sum()) < 4 * np.sqrt(v.sum()) + 2, (key, hits.sum(), reps * p.sum())
        for part in np.array_split(np.argsort(p, kind="stable"), 5):
            assert abs(hits[part].sum() - reps * p[part].sum()) < 4 * np.sqrt(v[part].sum()) + 2, key
    # careers really end inside the year here, so a truth that ignored it would fail above
    assert (clones.end < CUT + 12 * of.STEP_S).mean() > 0.05
