"""explain-link with the term frequencies a link run stored gives exactly what standardising every
mention gives (the path before they were stored), on a first run, after a second extract (new
mentions and mentions corrected in place) linked incrementally, and after a retrain; without
usable stored frequencies it falls back to that path and says so on stderr."""

from __future__ import annotations

import dataclasses

import pytest
from typer.testing import CliRunner

from harmlens.link.explain import ExplainError, explain_link
from harmlens.link.warehouse import link_warehouse

from .cliapp import app
from .smallcity import load_into, make_people


def _pairs(con, run_id: int | None = None) -> list[tuple[str, str]]:
    """Scored pairs of a run across the probability range (strongest, weakest, nearest the threshold)."""
    where = "" if run_id is None else f"WHERE run_id = {int(run_id)}"
    q = f"SELECT mention_a, mention_b FROM link_pairs {where} ORDER BY {{}}, mention_a, mention_b LIMIT 2"
    out = []
    for order in ("match_probability DESC", "match_probability", "abs(match_probability - 0.95)"):
        out += [tuple(r) for r in con.execute(q.format(order)).fetchall()]
    return list(dict.fromkeys(out))


def _namesakes(rows) -> tuple[str, str]:
    """A mention of each of the two namesakes smallcity makes (same name, different people): not a scored pair."""
    a = min(r["mention_id"] for r in rows if r["truth"] == "T0000")
    b = min(r["mention_id"] for r in rows if r["truth"] == "T0001")
    return a, b


def _assert_same(con, pairs) -> dict:
    """Stored and recounted explanations agree on every field (weights, levels, values, chart)."""
    got = {}
    for a, b in pairs:
        new = dataclasses.asdict(explain_link(con, a, b, frequencies="stored"))
        old = dataclasses.asdict(explain_link(con, a, b, frequencies="recount"))
        assert new == old, (a, b)
        got[(a, b)] = new
    return got


def test_stored_frequencies_explain_exactly_as_a_recount(warehouse, capsys):
    con = warehouse
    rows = make_people(150)
    first = [r for r in rows if r["mention_id"] < "M00450"]
    load_into(con, first)
    s1 = link_warehouse(con)
    assert con.execute("SELECT model_id, run_id FROM link_tf_state").fetchall() == [(s1.model_id, s1.run_id)]
    # values are stored as hashes: no names in the table
    assert {r[0] for r in con.execute("SELECT data_type FROM duckdb_columns() WHERE table_name = 'link_tf'").fetchall()} == {
        "VARCHAR", "UHUGEINT", "BIGINT"}
    assert con.execute("SELECT count(*) FROM link_tf WHERE column_name NOT IN ('fn', 'sn', 'pc')").fetchall()[0][0] == 0
    pairs1 = _pairs(con) + [_namesakes(first)]
    assert len(pairs1) >= 6
    before = _assert_same(con, pairs1)
    probs = [e["match_probability"] for e in before.values()]
    assert max(probs) > 0.99 and min(probs) < 0.6
    assert explain_link(con, *pairs1[0]).match_weight == before[pairs1[0]]["match_weight"]
    assert capsys.readouterr().err == ""  # stored ones used: no fallback note

    # a second extract: new mentions, and two existing mentions corrected in place
    later = [r for r in rows if r["mention_id"] >= "M00450"]
    load_into(con, later)
    changed = sorted(r["mention_id"] for r in first)[:2]
    con.execute("UPDATE people SET surname = 'Okafor', postcode = 'SE15 9ZZ' WHERE mention_id IN (?, ?)", changed)
    # not linked yet: the stored counts no longer describe people, so they are not used
    with pytest.raises(ExplainError, match="people changed since the last link run"):
        explain_link(con, *pairs1[0], frequencies="stored")
    e = dataclasses.asdict(explain_link(con, *pairs1[0]))
    assert e == dataclasses.asdict(explain_link(con, *pairs1[0], frequencies="recount"))
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no usable stored term frequencies" in err[0]

    # the incremental run brings them up to date, counted as people is now (the corrected
    # mentions too, which the run itself does not re-read) and with the model's placeholders
    # (not a postcode added for this run only)
    common_pc = con.execute("SELECT postcode FROM people WHERE postcode IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchall()[0][0]
    s2 = link_warehouse(con, placeholder_postcodes={common_pc})
    assert s2.mode == "incremental" and s2.new_mentions == len(later)
    assert con.execute("SELECT model_id, run_id FROM link_tf_state").fetchall() == [(s1.model_id, s2.run_id)]
    new_pairs = _pairs(con, s2.run_id)
    assert new_pairs
    after = _assert_same(con, pairs1 + new_pairs + [(changed[0], pairs1[0][0]), (changed[1], changed[0])])
    # the new mentions changed term frequencies, so explanations of the same pairs changed
    assert any(after[p]["match_weight"] != before[p]["match_weight"] for p in pairs1)
    assert capsys.readouterr().err == ""

    # a retrain re-estimates the model (its placeholders too): the counts follow it
    s3 = link_warehouse(con, retrain=True)
    assert con.execute("SELECT model_id FROM link_tf_state").fetchall() == [(s3.model_id,)] and s3.model_id != s1.model_id
    _assert_same(con, pairs1[:3])


def test_a_warehouse_linked_before_stored_frequencies(warehouse, tmp_path):
    con = warehouse
    rows = make_people(60, seed=3)
    load_into(con, rows)
    link_warehouse(con)
    a, b = _pairs(con)[0]
    expected = explain_link(con, a, b, frequencies="recount").text()
    con.execute("DELETE FROM link_tf; DELETE FROM link_tf_state")  # as a warehouse linked before them
    db = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()[0][0]
    con.close()
    run = CliRunner().invoke
    r = run(app, ["explain-link", a, b, "--db", db])
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == expected
    err = r.stderr.strip().splitlines()
    assert len(err) == 1 and "linked before they were" in err[0] and "harmlens link" in err[0]
    # the next link run (nothing new to link) stores them; the command then reads them silently
    assert run(app, ["link", "--db", db]).exit_code == 0
    r = run(app, ["explain-link", a, b, "--db", db])
    assert r.exit_code == 0 and r.stdout.strip() == expected and r.stderr == ""
