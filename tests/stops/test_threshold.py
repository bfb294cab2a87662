"""Threshold test: counting with reasons, the model's rates, parameter recovery, the Oakland OPP sample.

Truth for recovery is simulated here, independently of harmlens' own simulator: cell parameters
are drawn from the model's priors (OPP's ``threshold_test.stan``) with the group thresholds fixed,
stops are drawn one by one (contraband ~ Bernoulli(phi), signal ~ N(delta * contraband, 1),
search when signal > t), and each group's threshold probability is computed here with scipy.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from typer.testing import CliRunner

from harmlens.cli import app
from harmlens.errors import HarmlensError
from harmlens.stops.threshold import fit_threshold, prepare, rates, signal_to_probability, simulate_stops

runner = CliRunner()
DRAWS = 250  # few draws keep the fits to seconds; the checks below hold at this size


# ----------------------------------------------------------------------------- counting


def test_prepare_counts_and_reasons():
    """12 rows, each used or left out for one written-down reason."""
    rows = [
        # race, district, searched, found
        ("white", "A", "TRUE", "TRUE"),
        ("white", "A", "TRUE", "FALSE"),
        ("white", "A", "FALSE", "NA"),  # no search, contraband empty: a stop without a hit
        ("white", "B", "FALSE", "FALSE"),
        ("black", "A", "TRUE", "TRUE"),
        ("black", "B", "TRUE", "TRUE"),
        ("black", "B", "FALSE", "NA"),
        ("NA", "A", "TRUE", "TRUE"),  # race missing
        ("other", "A", "FALSE", "NA"),  # not a group
        ("black", "A", "NA", "NA"),  # search missing
        ("white", "B", "TRUE", "NA"),  # searched, outcome missing
        ("black", "B", "FALSE", "TRUE"),  # found without a search (OPP drops these)
    ]
    df = pd.DataFrame(rows, columns=["subject_race", "district", "search_conducted", "contraband_found"])
    p = prepare(df)
    assert p.location_column == "district"
    assert p.n_read == 12 and p.n_used == 7
    assert p.left_out == {"race missing": 1, "race other or unknown": 1, "search_conducted missing or not TRUE/FALSE": 1,
                          "searched, contraband_found missing": 1, "contraband_found TRUE without a search": 1}
    assert p.n_used + sum(p.left_out.values()) == p.n_read
    got = {(r.group, r.location): (r.stops, r.searches, r.hits) for r in p.cells.itertuples()}
    assert got == {("white", "A"): (3, 2, 1), ("white", "B"): (1, 0, 0), ("black", "A"): (1, 1, 1), ("black", "B"): (2, 1, 1)}
    one = prepare(df, no_location=True)
    assert set(one.cells["location"]) == {"all"} and one.n_used == 7


def test_prepare_groups_and_errors():
    df = pd.DataFrame({"subject_race": ["white", "black", "hispanic"], "precinct": ["1", "1", "2"],
                       "search_conducted": ["TRUE", "FALSE", "TRUE"], "contraband_found": ["FALSE", "NA", "TRUE"]})
    p = prepare(df, groups=["White", "hispanic"])
    assert p.location_column == "precinct" and p.left_out == {"race not among --groups": 1}
    with pytest.raises(HarmlensError, match="contraband_found"):
        prepare(df.drop(columns="contraband_found"))
    with pytest.raises(HarmlensError, match="reference group"):
        fit_threshold(prepare(df), reference="asian/pacific islander")


_VALUES = st.sampled_from(["TRUE", "FALSE", "NA", "", "yes", "Traffic Violation"])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["white", "black", "hispanic", "other", "NA", ""]), st.sampled_from(["A", "B", "NA"]),
                          _VALUES, _VALUES), min_size=1, max_size=40))
def test_prepare_every_row_counted(rows):
    """Whatever the values: stops used + left out = rows read; hits <= searches <= stops in every cell."""
    df = pd.DataFrame(rows, columns=["subject_race", "district", "search_conducted", "contraband_found"])
    p = prepare(df, location_col="district")
    assert p.n_used + sum(p.left_out.values()) == p.n_read == len(rows)
    assert ((p.cells["hits"] <= p.cells["searches"]) & (p.cells["searches"] <= p.cells["stops"])).all()


# ----------------------------------------------------------------------------- the model's rates


@settings(max_examples=60, deadline=None)
@given(st.floats(0.01, 0.99), st.floats(0.1, 3.0), st.floats(-2.0, 3.0), st.floats(0.01, 1.0))
def test_rates_invariants(phi, delta, t, dt):
    """Raising the threshold lowers the search rate and raises the hit rate and the threshold probability;
    the hit rate exceeds the share carrying (searches pick the riskier) and the threshold probability
    lies between 0 and the hit rate (every searched driver is at least that risky)."""
    s1, h1 = rates(phi, delta, t)
    s2, h2 = rates(phi, delta, t + dt)
    assert 0 < s2 < s1 < 1
    assert phi < h1 < h2 <= 1
    p1, p2 = signal_to_probability(t, phi, delta), signal_to_probability(t + dt, phi, delta)
    assert 0 < p1 < p2 < 1
    assert p1 < h1


def test_simulator_matches_rates():
    """harmlens' stop-level simulator reproduces the closed-form rates (200,000 stops, 4 standard errors)."""
    truth = pd.DataFrame([{"group": "g", "location": "L", "stops": 200_000, "phi": 0.2, "delta": 1.8, "t": 1.2}])
    d = simulate_stops(truth, seed=5)
    s, h = rates(0.2, 1.8, 1.2)
    searched = d["search_conducted"] == "TRUE"
    hit = d["contraband_found"] == "TRUE"
    assert abs(searched.mean() - s) < 4 * np.sqrt(s * (1 - s) / len(d))
    assert abs(hit[searched].mean() - h) < 4 * np.sqrt(h * (1 - h) / searched.sum())
    assert (d.loc[~searched, "contraband_found"] == "NA").all()


# ----------------------------------------------------------------------------- parameter recovery


def _simulate(threshold_group: dict[str, float], n_loc: int, stops: int, seed: int):
    """Independent draw from the model's generative process; returns (stops frame, true group thresholds)."""
    rng = np.random.default_rng(seed)
    mu_phi, mu_delta, sigma_t = -1.5, 0.5, 0.2
    phi_g = {g: rng.normal(mu_phi, 0.1) for g in threshold_group}
    delta_g = {g: rng.normal(mu_delta, 0.1) for g in threshold_group}
    phi_l = np.r_[0.0, rng.normal(0, 0.1, n_loc - 1)]
    delta_l = np.r_[0.0, rng.normal(0, 0.1, n_loc - 1)]
    frames, true_p = [], {}
    for g, tg in threshold_group.items():
        ps = []
        for i in range(n_loc):
            phi = 1 / (1 + np.exp(-(phi_g[g] + phi_l[i])))
            delta = np.exp(delta_g[g] + delta_l[i])
            t = tg + sigma_t * rng.normal()
            a = phi * norm.pdf(t - delta)
            ps.append(a / (a + (1 - phi) * norm.pdf(t)))
            carry = rng.random(stops) < phi
            search = rng.normal(np.where(carry, delta, 0.0), 1.0) > t
            frames.append(pd.DataFrame({"subject_race": g, "district": f"d{i}",
                                        "search_conducted": np.where(search, "TRUE", "FALSE"),
                                        "contraband_found": np.where(search, np.where(carry, "TRUE", "FALSE"), "NA")}))
        true_p[g] = float(np.mean(ps))  # equal stops per location: the stop-weighted mean is the plain mean
    return pd.concat(frames, ignore_index=True), true_p


def test_recovers_known_thresholds():
    """Two groups x 6 locations x 3,000 stops; black drivers searched at a lower threshold (signal 1.0 vs 1.8).
    The true group thresholds lie in their 95% credible intervals, the lower threshold is found with
    posterior probability > 0.95, the estimated gap is within 0.08 of the true one, the sampler reports no
    trouble, and the observed counts sit inside the posterior predictive intervals.

    Why 0.08 and not "inside the 95% interval" for the gap: over 12 further datasets
    (bench/bench_stops_threshold.py) the gap's interval covered the truth 11 times, as a 95% interval
    should, and missed narrowly once; this dataset is also a narrow miss (true -0.215, interval -0.359
    to -0.228). The largest error of the posterior mean over all 13 was 0.072."""
    df, true_p = _simulate({"white": 1.8, "black": 1.0}, n_loc=6, stops=3000, seed=11)
    res = fit_threshold(prepare(df), reference="white", draws=DRAWS, tune=DRAWS, chains=2, seed=1)
    g = res.groups.set_index("group")
    assert res.n_used == 36_000 and res.left_out == {}
    for grp in ("white", "black"):
        assert g.loc[grp, "threshold_lo"] <= true_p[grp] <= g.loc[grp, "threshold_hi"], (grp, true_p, g)
    true_diff = true_p["black"] - true_p["white"]
    assert true_diff < -0.1  # the simulated gap is large enough to be worth finding
    assert abs(g.loc["black", "diff_vs_reference"] - true_diff) < 0.08
    assert g.loc["black", "p_lower_than_reference"] > 0.95
    assert res.diagnostics["divergences"] <= 5 and res.diagnostics["max_rhat"] < 1.1
    assert res.ppc["cells_searches_in_95pct_interval"] >= 11 and res.ppc["cells_hits_in_95pct_interval"] >= 11
    assert res.ppc["rms_search_rate_error"] < 0.01


def test_equal_thresholds_not_called_different():
    """Same threshold for both groups, different locations' risk: the difference's interval covers 0."""
    df, true_p = _simulate({"white": 1.2, "black": 1.2}, n_loc=6, stops=3000, seed=23)
    res = fit_threshold(prepare(df), reference="white", draws=DRAWS, tune=DRAWS, chains=2, seed=2)
    b = res.groups.set_index("group").loc["black"]
    assert b["diff_lo"] <= 0 <= b["diff_hi"], b
    assert b["diff_lo"] <= true_p["black"] - true_p["white"] <= b["diff_hi"]


# ----------------------------------------------------------------------------- Oakland OPP sample


@pytest.mark.shared_data
def test_oakland_sample_posterior_predictive(shared_data):
    """98-row Oakland excerpt. Counted by hand from the file: 1 row without race (a shifted row), 4 'other';
    black 66 stops / 17 searches, hispanic 16 / 5, white 7 / 2, asian/pacific islander 4 / 0; no search
    found contraband. No beat is filled in (97 of 98 empty), so all stops are one location. With no hits
    the thresholds rest on the priors: wide intervals, and no group called different."""
    path = shared_data / "stops" / "opp" / "ca_oakland_2020_04_01_SHORT.csv"
    r = runner.invoke(app, ["stops", "threshold", str(path), "--draws", "200", "--tune", "200", "--seed", "3", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output, parse_constant=lambda c: pytest.fail(f"{c} in JSON output"))
    assert out["n_read"] == 98 and out["n_used"] == 93 and out["location_column"] is None
    assert out["left_out"] == {"race missing": 1, "race other or unknown": 4}
    got = {c["group"]: (c["stops"], c["searches"], c["hits"]) for c in out["cells"]}
    assert got == {"black": (66, 17, 0), "hispanic": (16, 5, 0), "white": (7, 2, 0), "asian/pacific islander": (4, 0, 0)}
    assert next(c for c in out["cells"] if c["searches"] == 0)["hit_rate"] is None
    ppc = out["posterior_predictive"]
    assert ppc["cells_searches_in_95pct_interval"] == 4 and ppc["cells_hits_in_95pct_interval"] == 4
    for g in out["groups"]:
        assert g["threshold_hi"] - g["threshold_lo"] > 0.1
        if g["group"] != "white":
            assert g["diff_lo"] < 0 < g["diff_hi"]


def test_cli_text_and_errors(tmp_path):
    df, _ = _simulate({"white": 1.5, "black": 1.0}, n_loc=3, stops=800, seed=4)
    f = tmp_path / "stops.csv"
    df.to_csv(f, index=False)
    r = runner.invoke(app, ["stops", "threshold", str(f), "--draws", "50", "--tune", "50", "--chains", "1", "--seed", "1"])
    assert r.exit_code == 0, r.output
    assert "4,800 of 4,800 stops used in 6 group x location cells (location: district); left out: none" in r.output
    assert "black: 2,400 stops" in r.output and "vs white" in r.output and "posterior predictive check" in r.output
    for args, msg in ((["--reference", "hispanic"], "reference group 'hispanic'"), (["--method", "mcmc"], "want nuts or advi"),
                      (["--location-column", "precinct"], "no column 'precinct'")):
        bad = runner.invoke(app, ["stops", "threshold", str(f), *args])
        assert bad.exit_code == 1 and isinstance(bad.exception, HarmlensError) and msg in str(bad.exception), (args, bad.exception)
    missing = runner.invoke(app, ["stops", "threshold", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 1 and "no such file" in str(missing.exception)


def test_advi_runs_and_says_it_is_an_approximation():
    df, _ = _simulate({"white": 1.8, "black": 1.0}, n_loc=4, stops=2000, seed=7)
    res = fit_threshold(prepare(df), method="advi", draws=200, chains=1, seed=1, advi_iterations=3000)
    assert "approximation" in res.diagnostics["note"]
    b = res.groups.set_index("group").loc["black"]
    assert b["diff_vs_reference"] < 0  # the direction survives even the approximation
