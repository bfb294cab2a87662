"""Synthetic registers: shapes, truth, families, and no duplicates within a source in the link profile."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from harmlens.synth.registers import DOB_SHAPES, RegisterConfig, link_map, registers, write_registers


def test_link_profile_has_no_duplicate_within_a_source_and_overlaps():
    files = registers(RegisterConfig(people=600, seed=3, profile="link", dob="year"))
    a, b = (pd.DataFrame(files[k]) for k in ("A", "B"))
    assert a["person_id"].is_unique and b["person_id"].is_unique
    both = set(a["person_id"]) & set(b["person_id"])
    assert 0.4 * 600 < len(both) < 0.7 * 600  # share_a * share_b = 0.56
    assert set(a.columns) == set(b.columns) and "birth_year" in a.columns and "dob" not in a.columns


def test_families_share_surname_and_address_with_namesakes_a_generation_apart():
    recs = pd.DataFrame(registers(RegisterConfig(people=2000, seed=1, profile="dedupe", dob="full"))["records"])
    fam = recs.groupby(["surname", "postcode"])["person_id"].nunique()
    assert (fam >= 3).sum() > 50
    # same forename, surname and address, different people born 15+ years apart: fathers and sons
    r = recs[recs["dob"] != ""].assign(y=lambda d: d["dob"].str[:4].astype(int))
    g = r.groupby(["forename", "surname", "postcode"]).agg(n=("person_id", "nunique"), span=("y", lambda s: s.max() - s.min()))
    assert ((g["n"] >= 2) & (g["span"] >= 15)).sum() >= 5


def test_dedupe_profile_duplicates_a_share_of_people():
    recs = registers(RegisterConfig(people=1000, seed=2, profile="dedupe", dob="split", dup_share=0.1))["records"]
    assert len(recs) == 1100
    c = Counter(r["person_id"] for r in recs)
    assert sum(n - 1 for n in c.values()) == 100
    assert {"dob_year", "dob_month", "dob_day"} <= set(recs[0])


@pytest.mark.parametrize("dob", DOB_SHAPES)
def test_each_shape_is_written_and_deterministic(tmp_path, dob):
    cfg = RegisterConfig(people=150, seed=5, dob=dob)
    p1 = write_registers(cfg, tmp_path / "a")
    p2 = write_registers(cfg, tmp_path / "b")
    assert p1["A"].read_bytes() == p2["A"].read_bytes() and p1["B"].read_bytes() == p2["B"].read_bytes()
    cols = pd.read_csv(p1["A"], dtype=str).columns
    for kv in link_map(dob).split(","):
        assert kv.split("=")[1] in cols


def test_synth_registers_command_writes_files_and_prints_the_link_command(tmp_path):
    import typer
    from typer.testing import CliRunner

    from harmlens.synth.cli import register

    app = typer.Typer(pretty_exceptions_enable=False)
    register(app)
    res = CliRunner().invoke(app, ["synth-registers", "--out", str(tmp_path), "--people", "50", "--dob", "split"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "A.csv").exists() and (tmp_path / "B.csv").exists()
    assert "--link-only --one-to-one" in res.output and "dob_year=dob_year" in res.output
    bad = CliRunner().invoke(app, ["synth-registers", "--out", str(tmp_path), "--dob", "month"])
    assert bad.exit_code != 0 and "--dob must be one of" in str(bad.exception)
