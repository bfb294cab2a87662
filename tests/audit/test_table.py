"""Table mode: the safe expression language, the table audit, ProPublica's COMPAS figures, the CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harmlens.groupmetrics.expr import ExpressionError, evaluate
from harmlens.audit.table import AuditInputError, audit_table, read_table


@pytest.fixture
def df():
    return pd.DataFrame({
        "score_text": ["High", "Medium", "Low", "N/A", "High", "Low"],
        "decile": [9, 5, 2, 1, 8, 4],
        "decile_txt": ["9", "5", "2", "1", "8", "4"],
        "flag": [True, False, True, False, True, False],
        "risk band": ["a", "b", "a", "c", "b", "c"],
    })


@pytest.mark.parametrize("expr, want", [
    ("score_text in ('High', 'Medium')", [1, 1, 0, 0, 1, 0]),
    ("score_text not in ['Low', 'N/A']", [1, 1, 0, 0, 1, 0]),
    ("decile >= 5", [1, 1, 0, 0, 1, 0]),
    ("decile_txt >= 5", [1, 1, 0, 0, 1, 0]),  # numbers read as text still compare as numbers
    ("4 < decile <= 8", [0, 1, 0, 0, 1, 0]),
    ("flag", [1, 0, 1, 0, 1, 0]),
    ("not flag and decile > 1", [0, 1, 0, 0, 0, 1]),
    ("`risk band` == 'a' or (decile == 4)", [1, 0, 1, 0, 0, 1]),
    ("score_text == 'N/A'", [0, 0, 0, 1, 0, 0]),
])
def test_expressions(df, expr, want):
    assert evaluate(expr, df).astype(int).tolist() == want


@pytest.mark.parametrize("expr, msg", [
    ("__import__('os').system('true')", "not allowed"),
    ("decile + 1 > 5", "not allowed"),
    ("decile.max() > 5", "not allowed"),
    ("[x for x in decile]", "not allowed"),
    ("nope > 1", "unknown column 'nope'"),
    ("score_text", "not true/false"),
    ("decile >", "cannot parse"),
    ("'a' == 'a'", "must involve a column"),
    ("", "empty"),
])
def test_rejected_expressions(df, expr, msg):
    with pytest.raises(ExpressionError, match=msg):
        evaluate(expr, df)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(-5, 15), min_size=1, max_size=30), st.integers(-5, 15))
def test_threshold_expression_matches_pandas(values, t):
    d = pd.DataFrame({"v": values})
    assert evaluate(f"v >= {t}", d).tolist() == (d["v"] >= t).tolist()
    assert (evaluate(f"not v >= {t}", d) == ~(d["v"] >= t)).all()


def test_table_audit_written_down_truth():
    # group A: 10 people, outcome for 5; flagged: 4 of the 5 with outcome, 2 of the 5 without
    # group B: 10 people, outcome for 5; flagged: 1 of the 5 with outcome, 0 of the 5 without
    t = pd.DataFrame({
        "g": ["A"] * 10 + ["B"] * 10,
        "y": [1] * 5 + [0] * 5 + [1] * 5 + [0] * 5,
        "s": [9, 9, 9, 9, 1, 9, 9, 1, 1, 1] + [9, 1, 1, 1, 1] + [1] * 5,
    })
    ta = audit_table(t, outcome="y", group="g", positive="s >= 5", reference="B", n_boot=50, min_group_size=5,
                     min_support=1)
    bg = ta.errors.by_group
    assert bg.loc["A", "false_positive_rate"] == pytest.approx(0.4)
    assert bg.loc["A", "false_negative_rate"] == pytest.approx(0.2)
    assert bg.loc["B", "false_positive_rate"] == 0.0
    assert bg.loc["B", "false_negative_rate"] == pytest.approx(0.8)
    assert ta.shares.by_group.loc["A", "flagged"] == pytest.approx(6 / 7)
    assert ta.shares.by_group.loc["A", "all_rows"] == pytest.approx(0.5)
    assert ta.shares.by_group.loc["A", "with_outcome"] == pytest.approx(0.5)
    d = ta.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["reference"] == "B" and d["n_used"] == 20


def test_missing_outcomes_are_left_out_and_counted():
    t = pd.DataFrame({"g": ["A", "A", "B", "B"], "y": [1, None, 0, 1], "f": [1, 1, 0, 1]})
    ta = audit_table(t, outcome="y", group="g", positive="f == 1", n_boot=10)
    assert ta.n_used == 3
    assert any("1 rows without an outcome" in n for n in ta.notes)


@pytest.mark.parametrize("kwargs, msg", [
    ({"outcome": "zz"}, "--outcome column 'zz'"),
    ({"group": "zz"}, "--group column 'zz'"),
    ({"outcome": "g"}, "must be 0/1"),
    ({"reference": "C"}, "--reference 'C' is not a group"),
    ({"score": "g"}, "non-numeric"),
])
def test_table_audit_bad_input(kwargs, msg):
    t = pd.DataFrame({"g": ["A", "B"], "y": [1, 0], "f": [1, 0]})
    args = {"outcome": "y", "group": "g", "positive": "f == 1", "n_boot": 5}
    args.update(kwargs)
    with pytest.raises(AuditInputError, match=msg):
        audit_table(t, **args)


def test_read_table_errors(tmp_path):
    with pytest.raises(AuditInputError, match="no such file"):
        read_table(tmp_path / "missing.csv")
    p = tmp_path / "x.xlsx"
    p.write_text("x")
    with pytest.raises(AuditInputError, match="unsupported file type"):
        read_table(p)


COMPAS = "compas/compas-scores-two-years.csv"


def test_compas_reproduces_propublica(shared_data):
    """All 7,214 rows, High or Medium flagged: ProPublica's published error rates, to the digit."""
    df = read_table(shared_data / COMPAS)
    assert len(df) == 7214
    assert df["score_text"].notna().all()
    ta = audit_table(df, outcome="two_year_recid", group="race", positive="score_text in ('High', 'Medium')",
                     score="decile_score", reference="Caucasian", n_boot=200)
    bg = ta.errors.by_group
    assert round(100 * bg.loc["African-American", "false_positive_rate"], 2) == 44.85
    assert round(100 * bg.loc["Caucasian", "false_positive_rate"], 2) == 23.45
    assert round(100 * bg.loc["African-American", "false_negative_rate"], 2) == 27.99
    assert round(100 * bg.loc["Caucasian", "false_negative_rate"], 2) == 47.72
    assert ta.n_used == 7214
    # the disparity is flagged with an interval that excludes parity
    lo, hi = ta.errors.ratio_ci(reference="Caucasian").loc[("African-American", "false_positive_rate")]
    assert lo > 1.5
    assert any(f.startswith("race African-American: false positive rate 44.8%") for f in ta.findings())
    # tiny groups are named, not silently compared
    assert any("'Native American': only 18 people" in w for w in ta.warnings)
    # decile_score is not a probability: AUC, but no calibration
    assert "auc" in ta.errors.metrics and "calibration_oe" not in ta.errors.metrics


def test_cli_compas_end_to_end(shared_data, tmp_path):
    from typer.testing import CliRunner

    from harmlens.cli import app

    out = tmp_path / "rep"
    res = CliRunner().invoke(app, [
        "audit", "--scores", str(shared_data / COMPAS), "--outcome", "two_year_recid", "--group", "race",
        "--positive", "score_text in ('High','Medium')", "--reference", "Caucasian", "--n-boot", "50",
        "--out", str(out), "--print", "json",
    ])
    assert res.exit_code == 0, res.output
    d = json.loads((out / "audit.json").read_text())
    assert round(100 * d["errors"]["by_group"]["African-American"]["false_positive_rate"], 2) == 44.85
    assert round(100 * d["errors"]["by_group"]["Caucasian"]["false_negative_rate"], 2) == 47.72
    page = (out / "audit.html").read_text()
    assert "<svg" in page and "44.8%" in page and "http://" not in page.replace("http://www.w3.org", "")
    assert (out / "audit.pdf").read_bytes()[:5] == b"%PDF-"


def test_cli_errors_are_one_line(tmp_path):
    import subprocess
    import sys

    csv = tmp_path / "t.csv"
    pd.DataFrame({"g": ["A", "B"], "y": [1, 0], "f": [1, 0]}).to_csv(csv, index=False)
    exe = [sys.executable, "-m", "harmlens.cli", "audit", "--scores", str(csv), "--outcome", "y", "--group", "g"]
    r = subprocess.run(exe + ["--positive", "__import__('os')"], capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.startswith("error: ") and len(r.stderr.strip().splitlines()) == 1
    r = subprocess.run(exe, capture_output=True, text=True)
    assert r.returncode == 1 and "--scores needs --positive" in r.stderr
