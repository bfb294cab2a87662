"""Threshold chosen for a stated precision from match probabilities alone."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harmlens.link.threshold import HIGHEST, LOWEST, choose_threshold, expected_at, given_threshold


def _con(ps: list[float]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE TABLE s (p DOUBLE)")
    con.executemany("INSERT INTO s VALUES (?)", [[p] for p in ps])
    return con


def test_expected_precision_and_recall_by_hand():
    # pairs at 0.99, 0.99, 0.9, 0.6 and 0.1: at 0.95, sum 1.98 over 2 pairs; all pairs sum 3.58
    con = _con([0.99, 0.99, 0.9, 0.6, 0.1])
    (t, p, r), = expected_at(con, "SELECT p FROM s", [0.95])
    assert p == pytest.approx(0.99)
    assert r == pytest.approx(1.98 / 3.58)
    c = given_threshold(con, "SELECT p FROM s", 0.55)
    assert c.expected_precision == pytest.approx((0.99 + 0.99 + 0.9 + 0.6) / 4)
    assert c.target_precision is None


def test_chooses_lowest_threshold_reaching_the_precision():
    con = _con([0.999] * 100 + [0.9] * 10 + [0.6] * 10)
    # at 0.9: (99.9 + 9) / 110 = 0.990; at 0.6: 0.9325; above 0.9: 0.999
    c = choose_threshold(con, "SELECT p FROM s", 0.989)
    # any threshold above 0.6 and up to 0.9 keeps the same pairs: the lowest is chosen
    assert c.threshold == pytest.approx(0.61)
    assert c.expected_precision == pytest.approx(108.9 / 110)
    assert c.expected_recall == pytest.approx(1.0 - 6.0 / 114.9)
    c2 = choose_threshold(con, "SELECT p FROM s", 0.995)
    assert 0.9 < c2.threshold <= 0.999 and c2.expected_precision >= 0.995


def test_unreachable_precision_gives_highest_threshold():
    c = choose_threshold(_con([0.7, 0.8]), "SELECT p FROM s", 0.995)
    assert c.threshold == pytest.approx(HIGHEST)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=60), st.floats(0.6, 0.999))
def test_choice_meets_target_or_is_highest(ps, target):
    c = choose_threshold(_con(ps), "SELECT p FROM s", target)
    assert LOWEST <= c.threshold <= HIGHEST
    assert c.expected_precision >= target or c.threshold == pytest.approx(HIGHEST)
    assert 0.0 <= c.expected_recall <= 1.0


def test_link_run_chooses_stores_and_reports_the_threshold(warehouse):
    from harmlens.link.warehouse import link_warehouse

    from .smallcity import load_into, make_people

    load_into(warehouse, make_people(150, seed=21))
    s = link_warehouse(warehouse, precision=0.99)
    assert s.target_precision == 0.99 and s.expected_precision >= 0.99
    assert LOWEST <= s.threshold <= HIGHEST
    assert warehouse.execute("SELECT threshold FROM link_models WHERE active").fetchall()[0][0] == s.threshold
    assert "chosen for expected precision 0.99" in s.text()
    # a stricter precision never gives a lower threshold
    s2 = link_warehouse(warehouse, retrain=True, precision=0.999)
    assert s2.threshold >= s.threshold
    # a given threshold is used as is, with the model's expectations at it
    s3 = link_warehouse(warehouse, retrain=True, threshold=0.97)
    assert s3.threshold == 0.97 and s3.target_precision is None and s3.expected_precision is not None
    # an incremental run keeps the stored threshold
    s4 = link_warehouse(warehouse)
    assert s4.threshold == 0.97


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([0.5, 0.951, 0.95099999999999996, 0.9510000000000001, 0.999, 0.7, 0.94]) | st.floats(0.0, 1.0),
                min_size=1, max_size=40))
def test_binned_grid_equals_a_direct_count(ps):
    # the grid path (bins of 0.001) against a plain filtered count at the same thresholds
    con = _con(ps)
    grid = [0.5, 0.7, 0.94, 0.951, 0.999]
    for t, p, r in expected_at(con, "SELECT p FROM s", grid):
        kept = [x for x in ps if x >= t]
        assert p == pytest.approx(sum(kept) / len(kept) if kept else 1.0)
        assert r == pytest.approx(sum(kept) / sum(ps) if sum(ps) else 0.0)
