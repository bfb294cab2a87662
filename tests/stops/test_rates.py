"""Rates, disproportionality ratios, agreement and the outcome test on hand-checked numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harmlens.stops.analyse import agreement_table, disproportionality_table, outcome_table, rate_ratio_ci


def test_rate_ratio_exact_ci_large_counts_agrees_with_log_normal():
    r, lo, hi = rate_ratio_ci(3355, 1088447, 4065, 4881636)
    assert r == pytest.approx((3355 / 1088447) / (4065 / 4881636))
    se = math.sqrt(1 / 3355 + 1 / 4065)
    assert lo == pytest.approx(r * math.exp(-1.96 * se), rel=2e-3)
    assert hi == pytest.approx(r * math.exp(1.96 * se), rel=2e-3)


def test_rate_ratio_small_and_zero_counts():
    r, lo, hi = rate_ratio_ci(0, 1000, 10, 1000)
    assert r == 0 and lo == 0 and 0 < hi < 1
    r, lo, hi = rate_ratio_ci(5, 1000, 5, 1000)
    assert r == 1 and lo < 1 < hi
    assert all(math.isnan(v) for v in rate_ratio_ci(0, 1000, 0, 1000))


@given(st.integers(1, 5000), st.integers(1, 5000), st.integers(10_000, 10**7), st.integers(10_000, 10**7))
def test_rate_ratio_ci_contains_estimate(a, b, pa, pb):
    r, lo, hi = rate_ratio_ci(a, pa, b, pb)
    assert lo <= r <= hi


def test_disproportionality_hand_example():
    counts = pd.Series({"White": 100, "Black": 60, "Asian": 10, "Not stated": 40})
    pop = pd.Series({"White": 100_000, "Black": 20_000, "Asian": 10_000})
    gf, t = disproportionality_table(counts, pop, n_boot=400)
    assert list(t.index) == ["Asian", "Black", "White"]
    assert t.loc["White", "rate_per_1000"] == pytest.approx(1.0)
    assert t.loc["Black", "rate_per_1000"] == pytest.approx(3.0)
    assert t.loc["Black", "ratio_vs_white"] == pytest.approx(3.0)
    assert t.loc["Asian", "ratio_vs_white"] == pytest.approx(1.0)
    assert t.loc["Black", "ratio_low"] < 3 < t.loc["Black", "ratio_high"]
    assert np.isnan(t.loc["White", "ratio_low"])
    assert "Not stated" not in t.index
    assert gf.by_group.loc["Black", "stops_per_1000"] == pytest.approx(3.0)
    assert gf.ratio("White").loc["Black", "stops_per_1000"] == pytest.approx(3.0)


def test_agreement_and_kappa_by_hand():
    ct = pd.DataFrame({"White": {"White": 40, "Black": 5, "Mixed": 5, "Not stated": 3},
                       "Black": {"White": 0, "Black": 45, "Mixed": 5, "Not stated": 2}})
    m, s = agreement_table(ct)
    assert s["n_both_recorded"] == 100
    assert s["agreement"] == pytest.approx(0.85)
    # kappa: po = .85; row totals W40 B50 M10; col totals W50 B50 -> pe = (40*50 + 50*50)/100^2 = .45
    assert s["cohens_kappa"] == pytest.approx((0.85 - 0.45) / 0.55)
    assert s["by_self_defined_group"]["Mixed"]["officer_agrees"] == 0
    assert m.loc["Not stated", "White"] == 3


def test_outcome_test():
    searched = pd.Series({"White": 1000, "Black": 1000, "Asian": 5})
    found = pd.Series({"White": 300, "Black": 200, "Asian": 1})
    gf, t = outcome_table(searched, found)
    assert t.loc["Black", "hit_rate"] == pytest.approx(0.2)
    assert t.loc["Black", "diff_vs_white"] == pytest.approx(-0.1)
    assert t.loc["Black", "diff_high"] < 0 and t.loc["Black", "p_value"] < 1e-6
    assert t.loc["Black", "hit_low"] < 0.2 < t.loc["Black", "hit_high"]
    assert any("Asian" in w for w in gf.warnings)  # 5 searches: flagged as too few


def test_legislation_filter_section_references():
    import duckdb

    from harmlens.stops.analyse import StopFilter

    con = duckdb.connect()
    con.execute("CREATE TABLE stops (legislation VARCHAR)")
    con.execute("INSERT INTO stops VALUES ('Police and Criminal Evidence Act 1984 (section 1)'), "
                "('Criminal Justice Act 1988 (section 139B)'), ('s163 Road Traffic Act 1988'), "
                "('Road Traffic Act 1988 (section 163)'), ('s1 PACE'), ('S.163 RTA'), ('Misuse of Drugs Act 1971 (section 23)')")

    def match(*terms):
        return sorted(r[0] for r in con.execute("SELECT legislation FROM stops" + StopFilter(legislation=terms).where()).fetchall())

    assert match("s163") == ["Road Traffic Act 1988 (section 163)", "S.163 RTA", "s163 Road Traffic Act 1988"]
    assert match("s1") == ["Police and Criminal Evidence Act 1984 (section 1)", "s1 PACE"]
    assert match("section 139b") == ["Criminal Justice Act 1988 (section 139B)"]
    assert match("misuse of drugs", "s1") == ["Misuse of Drugs Act 1971 (section 23)", "Police and Criminal Evidence Act 1984 (section 1)",
                                              "s1 PACE"]
    assert match("it's") == []  # quotes are escaped, not SQL


STOP = st.tuples(
    st.sampled_from(["W1", "W5", "B1", "B2", "A1", "M3", "O9", "not_stated", None]),
    st.sampled_from(["IC1", "IC3", "IC4", "IC6", "IC9", None]),
    st.integers(0, 700),  # day offset
    st.integers(0, 1439),  # minute
    st.sampled_from(["Lambeth", "Camden", None]),
    st.booleans(), st.booleans(),
)


@settings(max_examples=10, deadline=None)
@given(st.lists(STOP, min_size=1, max_size=40))
def test_every_stop_is_counted_once_in_every_table(stops):
    from datetime import datetime, timedelta

    from harmlens.stops.analyse import AnalyseSettings, StopFilter, analyse_stops
    from harmlens.warehouse import connect

    con = connect(":memory:")
    rows = [(f"s{i}", datetime(2023, 1, 1) + timedelta(days=d, minutes=m), "s163", self_, off, bor, sea, sea and fnd)
            for i, (self_, off, d, m, bor, sea, fnd) in enumerate(stops)]
    con.executemany("INSERT INTO stops (stop_id, occurred_at, legislation, self_defined_ethnicity, officer_defined_ethnicity, "
                    "borough, searched, found) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    pop = pd.DataFrame({"area": "X", "ethnicity_group": ["White", "Black", "Asian", "Mixed", "Other"], "population": 1000})
    a = analyse_stops(con, StopFilter(), AnalyseSettings(place=(51.5, -0.1), n_boot=50), pop)
    n = len(stops)
    assert a.n_stops == n and a.counts["stops"].sum() == n
    assert a.counts["share"].sum() == pytest.approx(1.0)
    assert int(a.agreement.to_numpy().sum()) == n
    for name, b in a.breakdowns.items():
        assert b["total"].sum() == n, name
    stated = sum(1 for s in stops if s[0] not in (None, "not_stated"))
    assert int(a.disproportionality["stops"].sum()) == stated
    assert sum(a.excluded_from_rates.values()) == n - stated
    if a.outcome_test is not None:
        assert a.outcome_test["searches"].sum() == sum(1 for s in stops if s[5] and s[0] not in (None, "not_stated"))
    con.close()
