"""link-file on registers of other shapes: partial or missing dates of birth, two sources,
relatives, bounded blocking, maps that cannot link, and the help screen."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from .cliapp import app
from harmlens.errors import HarmlensError
from harmlens.link.linkfile import link_file, parse_mapping
from harmlens.synth.registers import RegisterConfig, link_map, write_registers


@pytest.fixture(scope="module")
def regs(tmp_path_factory):
    root = tmp_path_factory.mktemp("regs")
    return {dob: write_registers(RegisterConfig(people=500, seed=11, dob=dob), root / dob) for dob in ("year", "age", "none", "split")}


@pytest.mark.parametrize("dob", ["year", "age", "none", "split"])
def test_link_only_one_to_one_on_every_date_shape(regs, dob):
    p = regs[dob]
    r = link_file([p["A"]], "record_id", parse_mapping(link_map(dob)), files_b=[p["B"]], one_to_one=True, truth="person_id")
    a, b = pd.read_csv(p["A"], dtype=str), pd.read_csv(p["B"], dtype=str)
    assert r.scores.true_pairs == len(set(a["person_id"]) & set(b["person_id"]))
    assert r.scores.precision >= 0.9 and r.scores.f1 >= 0.85, (dob, r.scores.text())
    assert "re-estimated from scored pairs" in r.notes.prior_method
    # one to one: no record is in a person with two records of the other source
    persons: dict[str, list[str]] = {}
    for m, pid in r.assignments:
        persons.setdefault(pid, []).append(m)
    assert all(sum(m.startswith("0:") for m in g) <= 1 and sum(m.startswith("1:") for m in g) <= 1 for g in persons.values())
    assert len(r.assignments) == len(a) + len(b)


def test_prior_falls_back_to_expected_matches_when_no_pair_meets_a_rule(tmp_path):
    # no forename+surname agrees exactly across the sources: the deterministic prior has nothing to count
    rng = __import__("random").Random(4)
    first = ["john", "mary", "ahmed", "lucy", "omar", "rita", "sam", "paul", "nadia", "tariq", "grace", "kofi"]
    rows_a, rows_b = [], []
    for i in range(120):
        fn, sn = rng.choice(first), f"sur{i:03d}name"
        rows_a.append({"id": f"a{i}", "fn": fn, "sn": sn, "town": rng.choice(["leeds", "hull", "derby"]), "who": i})
        rows_b.append({"id": f"b{i}", "fn": fn + "e", "sn": sn[:-1], "town": rng.choice(["leeds", "hull", "derby"]), "who": i})
    pa, pb = tmp_path / "a.csv", tmp_path / "b.csv"
    pd.DataFrame(rows_a).to_csv(pa, index=False)
    pd.DataFrame(rows_b).to_csv(pb, index=False)
    r = link_file([pa], "id", parse_mapping("forename=fn,surname=sn,birthplace=town"), files_b=[pb], one_to_one=True, truth="who")
    assert r.notes.prior_method.startswith("expected matches")  # and no 'math domain error'
    lines = r.summary_lines()
    assert any(line.startswith("prior (chance two random records match)") and "expected matches" in line for line in lines)
    # with no exact agreement anywhere there is nothing for EM either, and the output says so
    assert any("no EM session" in line for line in lines)
    assert r.scores.precision == 1.0


def _family_rows() -> list[dict]:
    """Two households with written-down truth: each person recorded twice (keying slips)."""
    people = [  # truth, forename, middle, surname, year, month, day, postcode
        ("F1", "john", "paul", "hartley", 1950, 3, 4, "LS6 2AB"),   # father
        ("S1", "john", "paul", "hartley", 1978, 9, 12, "LS6 2AB"),  # son named after him, same middle name
        ("B1", "mark", "james", "hartley", 1980, 5, 1, "LS6 2AB"),  # brothers a year apart
        ("B2", "luke", "james", "hartley", 1981, 7, 30, "LS6 2AB"),
        ("T1", "amina", "noor", "rahman", 1990, 1, 15, "E1 4QQ"),   # twins: same date, different names
        ("T2", "aisha", "noor", "rahman", 1990, 1, 15, "E1 4QQ"),
    ]
    rows = []
    for k, (t, fn, mid, sn, y, m, d, pc) in enumerate(people):
        rows.append({"id": f"{t}a", "fn": fn, "mid": mid, "sn": sn, "y": y, "m": m, "d": d, "pc": pc, "truth": t})
        rows.append({"id": f"{t}b", "fn": fn.upper(), "mid": mid[0], "sn": sn[:-1] + sn[-1], "y": y, "m": d if d <= 12 else m,
                     "d": m if d <= 12 else d, "pc": pc, "truth": t})
    return rows


def test_fathers_sons_brothers_and_twins_kept_apart(tmp_path):
    pad = pd.read_csv(write_registers(RegisterConfig(people=400, seed=2, profile="dedupe", dob="split"), tmp_path / "pad")["records"], dtype=str)
    pad = pad.rename(columns={"record_id": "id", "forename": "fn", "middle_name": "mid", "surname": "sn", "dob_year": "y", "dob_month": "m",
                              "dob_day": "d", "postcode": "pc", "person_id": "truth"})[["id", "fn", "mid", "sn", "y", "m", "d", "pc", "truth"]]
    df = pd.concat([pad, pd.DataFrame(_family_rows()).astype(str)])
    p = tmp_path / "fam.csv"
    df.to_csv(p, index=False)
    r = link_file([p], "id", parse_mapping("forename=fn,middle_name=mid,surname=sn,dob_year=y,dob_month=m,dob_day=d,postcode=pc"))
    pid = dict(r.assignments)
    for t in ("F1", "S1", "B1", "B2", "T1", "T2"):
        assert pid[f"{t}a"] == pid[f"{t}b"], t  # each person's two records together
    assert len({pid[f"{t}a"] for t in ("F1", "S1", "B1", "B2", "T1", "T2")}) == 6  # and no two relatives merged
    assert any("relatives kept apart" in m for m in r.notes.messages)


def test_over_limit_rules_are_tightened_or_dropped_with_a_message(regs):
    p = regs["year"]
    r = link_file([p["A"]], "record_id", parse_mapping(link_map("year")), files_b=[p["B"]], one_to_one=True, max_pairs=300)
    assert any("tightened" in m or "dropped" in m for m in r.notes.messages)
    assert r.notes.rules and all(n <= 300 for _, n in r.notes.rules)


def test_a_map_that_cannot_link_says_so_in_one_line(tmp_path):
    p = tmp_path / "one.csv"
    pd.DataFrame({"id": [f"r{i}" for i in range(30)], "s": ["sex" + str(i % 2) for i in range(30)]}).to_csv(p, index=False)
    with pytest.raises(HarmlensError, match="cannot link"):
        link_file([p], "id", {"sex": "s"})
    res = CliRunner().invoke(app, ["link-file", str(p), "--id", "id", "--map", "sex=s"])
    assert res.exit_code != 0 and "cannot link" in str(res.exception)


def test_zero_links_are_reported(tmp_path):
    p = tmp_path / "distinct.csv"
    rows = [{"id": f"r{i}", "f": f"name{chr(97 + i % 26)}{chr(97 + i // 26)}", "s": f"sur{chr(97 + (i * 7) % 26)}{chr(97 + i // 26)}x",
             "y": 1900 + i} for i in range(80)]
    pd.DataFrame(rows).to_csv(p, index=False)
    r = link_file([p], "id", parse_mapping("forename=f,surname=s,dob=y"))
    assert r.n_links == 0 and any(line.startswith("0 links") for line in r.summary_lines())


def test_help_wraps_the_map_description_between_words():
    res = CliRunner().invoke(app, ["link-file", "--help"], terminal_width=80, env={"COLUMNS": "80"})
    assert res.exit_code == 0
    assert "…" not in res.output
    text = " ".join(res.output.replace("│", " ").split())
    assert "any other key (middle_name, forename2, birthplace ...) is an extra comparison" in text


def test_cli_link_only_writes_source_mention_person(regs, tmp_path):
    p = regs["year"]
    out = tmp_path / "links.csv"
    res = CliRunner().invoke(app, ["link-file", str(p["A"]), str(p["B"]), "--link-only", "--one-to-one", "--id", "record_id",
                                   "--map", link_map("year"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out, dtype=str)
    assert list(df.columns) == ["source", "mention_id", "person_id"]
    assert set(df["source"]) == {str(p["A"]), str(p["B"])}


def test_a_record_matching_two_people_kept_apart_about_equally_stays_alone():
    from harmlens.link.linkfile import drop_ambiguous

    # x (no date, no middle name) matches father f and son s alike; f and s must stay apart
    edges = [("f", "x", 0.97), ("s", "x", 0.96), ("f", "s", 0.9), ("y", "f", 0.99)]
    kept = drop_ambiguous(edges, [("f", "s")], threshold=0.5)
    assert ("f", "x", 0.97) not in kept and ("s", "x", 0.96) not in kept and ("y", "f", 0.99) in kept
    # one match clearly better (0.9999 against 0.6): only the weaker edge goes
    kept = drop_ambiguous([("f", "x", 0.9999), ("s", "x", 0.6)], [("f", "s")], threshold=0.5)
    assert kept == [("f", "x", 0.9999)]


def test_one_to_one_invariants():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from harmlens.link.linkfile import _one_to_one

    ids = [f"0:{i}" for i in range(6)] + [f"1:{i}" for i in range(6)]

    @settings(max_examples=80, deadline=None)
    @given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5), st.floats(0.5, 1.0)), max_size=25, unique_by=lambda e: (e[0], e[1])))
    def check(raw):
        edges = [(f"0:{a}", f"1:{b}", p) for a, b, p in raw]
        rep = _one_to_one(edges, ids)
        groups: dict[str, list[str]] = {}
        for m, r in rep.items():
            groups.setdefault(r, []).append(m)
        assert all(len(g) <= 2 for g in groups.values())
        pairs = {tuple(sorted(g)) for g in groups.values() if len(g) == 2}
        assert pairs <= {tuple(sorted((a, b))) for a, b, _ in edges}
        # greedy: the best edge overall is always taken
        if edges:
            best = max(p for _, _, p in edges)
            top = [e for e in edges if e[2] == best]
            assert any(rep[x] == rep[y] for x, y, _ in top)

    check()


def test_one_to_one_needs_two_sources(tmp_path):
    from harmlens.link.linkfile import LinkFileError

    p = tmp_path / "x.csv"
    pd.DataFrame({"id": ["1", "2"], "f": ["a", "b"], "s": ["c", "d"]}).to_csv(p, index=False)
    with pytest.raises(LinkFileError, match="two sources"):
        link_file([p], "id", {"forename": "f", "surname": "s"}, one_to_one=True)


def test_missing_markers_read_as_missing(tmp_path):
    """An R or Excel export writes NA, N/A, NULL ...: they are missing values, not a date or a postcode 'NA'."""
    import duckdb

    from harmlens.link.linkfile import load_files

    f = tmp_path / "a.csv"
    f.write_text("id,first,last,dob,pc\n1,John,Smith,NA,AB1 2CD\n2,John,Smith,1980-01-02,n/a\n3,Ann,Lee, NULL ,.\n4,NA_x,Lee,#N/A,NaN\n")
    con = duckdb.connect()
    load_files(con, [f], "t")
    got = con.execute("SELECT id, first, dob, pc FROM t ORDER BY id").fetchall()
    assert got == [("1", "John", None, "AB1 2CD"), ("2", "John", "1980-01-02", None), ("3", "Ann", None, None), ("4", "NA_x", None, None)]
