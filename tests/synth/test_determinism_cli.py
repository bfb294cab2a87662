"""Same seed, same bytes; different seed, different data; the CLI and its errors."""

from __future__ import annotations

import hashlib
import sys
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harmlens.synth import SynthConfig, SynthError, generate


def _digest(folder) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_same_seed_same_bytes(tmp_path, fmt):
    cfg = SynthConfig(people=1500, seed=9, fmt=fmt)
    generate(cfg, tmp_path / "a")
    generate(cfg, tmp_path / "b")
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a == b and len(a) >= 14


def test_different_seed_differs(tmp_path):
    generate(SynthConfig(people=1500, seed=1), tmp_path / "a")
    generate(SynthConfig(people=1500, seed=2), tmp_path / "b")
    a, b = _digest(tmp_path / "a"), _digest(tmp_path / "b")
    assert a["events.parquet"] != b["events.parquet"]
    assert a["people.parquet"] != b["people.parquet"]


@pytest.mark.parametrize(
    "kw, msg",
    [
        (dict(people=5), "--people"),
        (dict(fmt="xlsx"), "--format"),
        (dict(stop_disparity=0.0), "stop-disparity"),
        (dict(darkness_effect=-1.0), "darkness-effect"),
        (dict(policing_group_multipliers={"Martian": 2.0}), "policing group"),
        (dict(excitation=0.5, max_rate=0.9), "explodes"),
    ],
)
def test_bad_settings_raise_one_line(tmp_path, kw, msg):
    with pytest.raises(SynthError, match=msg):
        generate(SynthConfig(**kw), tmp_path / "x")


def test_output_path_is_a_file(tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    with pytest.raises(SynthError, match="not a folder"):
        generate(SynthConfig(people=200), f)


def _run_cli(monkeypatch, capsys, args):
    from harmlens import cli

    monkeypatch.setattr(sys, "argv", ["harmlens", *args])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_cli_writes_the_city(tmp_path, monkeypatch, capsys):
    code, out, err = _run_cli(monkeypatch, capsys, ["synth", "--people", "600", "--seed", "3", "--out", str(tmp_path / "c"),
                                                     "--format", "csv", "--cut-date", "2024-06-30", "--no-policing-bias",
                                                     "--stop-disparity", "1.8", "--darkness-effect", "1.0"])
    assert code == 0, err
    assert "events\t" in out
    for name in ("events", "people", "risk_assessments", "stops", "population"):
        assert (tmp_path / "c" / f"{name}.csv").is_file()
    import json

    prm = json.loads((tmp_path / "c" / "truth" / "params.json").read_text())["config"]
    assert prm["cut_date"] == "2024-06-30" and prm["policing_bias"] is False and prm["stop_disparity"] == 1.8


@pytest.mark.parametrize("args, msg", [(["--cut-date", "01/02/2024"], "--cut-date"), (["--people", "3"], "--people")])
def test_cli_bad_input_is_one_line(tmp_path, monkeypatch, capsys, args, msg):
    code, out, err = _run_cli(monkeypatch, capsys, ["synth", "--out", str(tmp_path / "c"), *args])
    assert code == 1
    assert err.startswith("error:") and msg in err and "Traceback" not in err


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    people=st.integers(200, 900),
    seed=st.integers(0, 2**32 - 1),
    bias=st.booleans(),
    cut=st.dates(min_value=date(2015, 1, 1), max_value=date(2030, 12, 31)),
)
def test_invariants_hold_for_any_settings(tmp_path_factory, people, seed, bias, cut):
    import pandas as pd

    out = tmp_path_factory.mktemp("h")
    try:
        generate(SynthConfig(people=people, seed=seed, policing_bias=bias, cut_date=cut, history_years=3, stop_years=1), out)
    except SynthError as exc:  # a tiny city may have no offence at all: a clear error, not a crash
        assert "no offences" in str(exc)
        return
    ev = pd.read_parquet(out / "events.parquet")
    pp = pd.read_parquet(out / "people.parquet")
    tm = pd.read_parquet(out / "truth" / "mentions.parquet")
    fp = pd.read_parquet(out / "truth" / "future_people.parquet")
    assert pp["event_id"].isin(ev["event_id"]).all()
    assert set(tm["mention_id"]) == set(pp["mention_id"]) | set(fp["mention_id"])
    assert (ev["occurred_at"] <= pd.Timestamp(cut)).all()
    persons = pd.read_parquet(out / "truth" / "persons.parquet")
    assert len(persons) == people and persons["p_vawg_365"].between(0, 1).all()


def test_rewriting_in_the_other_format_leaves_no_stale_tables(tmp_path):
    out = tmp_path / "c"
    generate(SynthConfig(people=400, seed=1), out)
    generate(SynthConfig(people=400, seed=1, fmt="csv"), out)
    assert not list(out.rglob("*.parquet"))
    assert (out / "events.csv").is_file() and (out / "truth" / "persons.csv").is_file()


@pytest.mark.parametrize("seed", range(12))
def test_tiny_cities_write_or_explain(tmp_path, seed):
    """A city too small to have any recorded offence still writes valid (near-empty) tables."""
    import pandas as pd

    try:
        s = generate(SynthConfig(people=120, seed=seed, history_years=1, stop_years=1), tmp_path / "t")
    except SynthError as exc:
        assert "no offences" in str(exc)
        return
    ev = pd.read_parquet(tmp_path / "t" / "events.parquet")
    assert len(ev) == s.counts["events"]
    assert pd.read_parquet(tmp_path / "t" / "people.parquet")["event_id"].isin(ev["event_id"]).all()
