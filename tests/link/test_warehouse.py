"""Linking the warehouse: quality on a small city with truth, stable ids, incremental runs,
reviewer decisions, placeholders, and the commands."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from .cliapp import app
from harmlens.errors import HarmlensError
from harmlens.link.evaluate import pairwise_scores
from harmlens.link.warehouse import decide, link_warehouse

from .smallcity import load_into, make_people


def _scores(con, rows):
    con.register("truth_df", pd.DataFrame([(r["mention_id"], r["truth"]) for r in rows], columns=["unique_id", "truth"]))
    con.execute("CREATE OR REPLACE TEMP TABLE a AS SELECT l.mention_id AS unique_id, l.person_id AS pred, t.truth FROM links l JOIN truth_df t ON t.unique_id = l.mention_id")
    return pairwise_scores(con, "a")


def _links(con) -> dict[str, str]:
    return dict(con.execute("SELECT mention_id, person_id FROM links").fetchall())


@pytest.fixture
def city(warehouse):
    rows = make_people(150)
    return warehouse, rows


def test_empty_warehouse_is_a_clear_error(warehouse):
    with pytest.raises(HarmlensError, match="people table is empty"):
        link_warehouse(warehouse)


def test_quality_and_incremental_keeps_ids(city):
    con, rows = city
    first = [r for r in rows if r["mention_id"] < "M00450"]
    later = [r for r in rows if r["mention_id"] >= "M00450"]
    load_into(con, first)
    s1 = link_warehouse(con)
    assert s1.mode == "retrain" and s1.mentions == len(first)
    sc = _scores(con, first)
    assert sc.f1 >= 0.95, sc.text()
    assert sc.false_merge_pairs <= 5, sc.text()
    before = _links(con)
    assert con.execute("SELECT count(*) FROM link_models WHERE active").fetchall()[0][0] == 1
    # the review queue holds near-threshold pairs that are kept apart, and none already decided
    q = con.execute("""SELECT r.match_probability, la.person_id = lb.person_id FROM link_review r
                       JOIN links la ON la.mention_id = r.mention_a JOIN links lb ON lb.mention_id = r.mention_b""").fetchall()
    assert q and all(0.5 <= p < 0.99 and not same for p, same in q)
    a, b = con.execute("SELECT mention_a, mention_b FROM link_review LIMIT 1").fetchall()[0]
    decide(con, a, b, "different", "analyst")
    assert con.execute("SELECT count(*) FROM link_review WHERE mention_a = ? AND mention_b = ?", [a, b]).fetchall()[0][0] == 0

    load_into(con, later)
    s2 = link_warehouse(con)
    assert s2.mode == "incremental" and s2.new_mentions == len(later) and s2.model_id == s1.model_id
    after = _links(con)
    assert set(after) == {r["mention_id"] for r in rows}
    # an existing mention's person id changes only through a recorded merge
    merged_away = {p for (b,) in con.execute("SELECT before FROM link_history WHERE change = 'merge'").fetchall() for p in json.loads(b)}
    for m, p in before.items():
        assert after[m] == p or p in merged_away
    sc = _scores(con, rows)
    assert sc.f1 >= 0.95, sc.text()

    # a run with nothing new changes nothing
    s3 = link_warehouse(con)
    assert s3.new_mentions == 0 and _links(con) == after and s3.merges == s3.splits == 0


def _splink_tables(con) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, '__splink__') "
        "UNION ALL SELECT view_name FROM duckdb_views() WHERE starts_with(view_name, '__splink__')").fetchall()]


def test_no_splink_working_tables_left_in_the_warehouse(city):
    """Splink's EM, scoring and term-frequency tables hold names and dates of birth: none may
    outlive a run (first or incremental) or an explanation in the warehouse file."""
    con, rows = city
    load_into(con, [r for r in rows if r["mention_id"] < "M00450"])
    link_warehouse(con)
    assert _splink_tables(con) == []
    load_into(con, [r for r in rows if r["mention_id"] >= "M00450"])
    assert link_warehouse(con).mode == "incremental"
    assert _splink_tables(con) == []
    from harmlens.link.explain import explain_link

    a, b = con.execute("SELECT mention_a, mention_b FROM link_review LIMIT 1").fetchall()[0]
    explain_link(con, a, b)
    assert _splink_tables(con) == []


def test_full_relink_keeps_person_ids(city):
    con, rows = city
    load_into(con, rows)
    link_warehouse(con)
    before = _links(con)
    s = link_warehouse(con, full=True)
    assert s.mode == "full"
    assert _links(con) == before


def test_reviewer_decisions_split_and_merge_with_history(city):
    con, rows = city
    load_into(con, rows)
    link_warehouse(con)
    links = _links(con)
    by_person: dict[str, list[str]] = {}
    for m, p in links.items():
        by_person.setdefault(p, []).append(m)
    big = max(by_person, key=lambda p: (len(by_person[p]), p))
    ms = sorted(by_person[big])
    # a reviewer says two of its mentions are different people: every pair between them is cut
    decide(con, ms[0], ms[1], "different", "analyst1", "checked custody photo")
    s = link_warehouse(con)
    now = _links(con)
    assert now[ms[0]] != now[ms[1]]
    hist = con.execute("SELECT change, before, after, reason FROM link_history WHERE change = 'split'").fetchall()
    assert any(big in json.loads(b) for _, b, _, _ in hist)
    assert any("reviewer decision" in r for _, _, _, r in hist)
    assert s.splits >= 1
    # the person id stays with the larger part; the other part gets a new id never used before
    assert big in {now[ms[0]], now[ms[1]]}

    # and says two singletons / different persons are the same: merged, recorded
    others = sorted(p for p in by_person if p != big)
    a, b = by_person[others[0]][0], by_person[others[1]][0]
    decide(con, a, b, "same", "analyst1")
    s = link_warehouse(con)
    now2 = _links(con)
    assert now2[a] == now2[b]
    assert s.merges >= 1
    assert con.execute("SELECT count(*) FROM link_history WHERE change = 'merge'").fetchall()[0][0] >= 1
    # later runs keep respecting both decisions
    link_warehouse(con, full=True)
    now3 = _links(con)
    assert now3[a] == now3[b] and now3[ms[0]] != now3[ms[1]]


def test_decision_on_unknown_mention(city):
    con, rows = city
    load_into(con, rows[:10])
    with pytest.raises(HarmlensError, match="no such mention"):
        decide(con, rows[0]["mention_id"], "nope", "same", "x")


def test_placeholders_never_glue_different_people(warehouse):
    rows = make_people(80, seed=3)
    # eight different people recorded with every placeholder at once: UNKNOWN surname,
    # 01/01/1900, NFA or a custody suite's postcode, empty forename
    pool = ["NFA", "SW1A 2AA"]
    for i in range(8):
        rows.append({"mention_id": f"PH{i}", "event_id": f"EPH{i}", "role": "suspect", "forename": "" if i % 2 else "UNKNOWN",
                     "surname": "UNKNOWN", "date_of_birth": "1900-01-01", "sex": "male", "postcode": pool[i % 2], "person_ref": None,
                     "truth": f"PH{i}"})
    # and 35 real people arrested at the same custody suite, recorded with its postcode
    for i in range(35):
        rows.append({"mention_id": f"CS{i}", "event_id": f"ECS{i}", "role": "subject", "forename": "Lee",
                     "surname": "Custody" + chr(97 + i % 26) + chr(97 + i // 26), "date_of_birth": f"19{60 + i}-0{1 + i % 9}-1{i % 9}",
                     "sex": "male", "postcode": "SW1A 2AA", "person_ref": None, "truth": f"CS{i}"})
    load_into(warehouse, rows)
    link_warehouse(warehouse)
    links = _links(warehouse)
    assert len({links[f"PH{i}"] for i in range(8)}) == 8
    assert len({links[f"CS{i}"] for i in range(35)}) == 35
    model = json.loads(warehouse.execute("SELECT model FROM link_models WHERE active").fetchall()[0][0])
    assert "SW1A2AA" in model["harmlens_detected"]["postcodes"]


def test_cli_commands(city, tmp_path):
    con, rows = city
    load_into(con, rows)
    db = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]
    con.close()
    run = CliRunner().invoke
    r = run(app, ["link", "--db", db])
    assert r.exit_code == 0, r.output
    assert "persons" in r.output
    r = run(app, ["export", "links", "--db", db])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(__import__("io").StringIO(r.stdout), dtype=str)
    assert list(df.columns) == ["mention_id", "person_id"] and len(df) == len(rows)
    pid = df["person_id"].value_counts().index[0]
    r = run(app, ["person", pid, "--db", db, "--format", "json"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert len(got) == (df["person_id"] == pid).sum() and {"event_id", "role", "occurred_at"} <= set(got[0])
    ms = sorted(df.loc[df["person_id"] == pid, "mention_id"])
    chart = tmp_path / "w.svg"
    r = run(app, ["explain-link", ms[0], ms[1], "--db", db, "--chart", str(chart)])
    assert r.exit_code == 0, r.output
    assert "total match weight" in r.output and "forename" in r.output and "date_of_birth" in r.output
    assert chart.read_text().lstrip().startswith("<svg")
    spec_file = tmp_path / "w.json"
    r = run(app, ["explain-link", ms[0], ms[1], "--db", db, "--chart", str(spec_file), "--hide-values"])
    values = json.loads(spec_file.read_text())["data"]["values"]
    assert {v["column_name"] for v in values} >= {"Prior", "forename", "date_of_birth", "Final score"}
    r = run(app, ["explain-link", ms[0], ms[1], "--db", db, "--format", "json", "--hide-values"])
    e = json.loads(r.stdout)
    total = e["prior_weight"] + sum(f["match_weight"] for f in e["fields"])
    assert abs(total - e["match_weight"]) < 1e-6
    assert all(f["value_a"] is None for f in e["fields"])
    r = run(app, ["link-review", "list", "--db", db, "--format", "csv"])
    assert r.exit_code == 0, r.output
    r = run(app, ["link-review", "decide", ms[0], ms[1], "maybe", "--by", "x", "--db", db])
    assert r.exit_code != 0 and "'same' or 'different'" in str(r.exception or r.output)
    r = run(app, ["person", "PNOPE", "--db", db])
    assert r.exit_code != 0 and "no such person" in str(r.exception or r.output)
    r = run(app, ["link-history", "--db", db])
    assert r.exit_code == 0, r.output
