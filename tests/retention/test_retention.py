"""Retention on a hand-made warehouse, as of 2025-01-01 (default policy):

- o3: burglary 2015-01-01 by S1, nothing since -> group 3, 6 years clear since 2015 -> archive
  (with its charge event c3, their mentions, links and event_harm rows)
- o2: harassment 2016-01-01 by S2, but S2 has a burglary 2020-06-01 -> clear only since 2020 -> kept
- o1: rape 2010-01-01 by S3 -> group 1, 10 years clear -> review only, never archived
- pack RP-old refreshed 100 days before -> expire (files deleted); RP-new 10 days before -> kept
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from harmlens.cli import app
from harmlens.harm import apply_offence_map
from harmlens.retention import RetentionPolicy, apply_retention, plan
from harmlens.retention.policy import RetentionError
from harmlens.warehouse import connect
from tests.harm.world import World

AS_OF = "2025-01-01"


def _world(con, tmp_path):
    w = World(con)
    w.offence("o3", "2015-01-01", "028/01", "S1", "V1")
    w.event("c3", "charge", "2015-02-01", crime_ref="o3"); w.person("c3", "subject", "S1")
    w.offence("o2", "2016-01-01", "008/10", "S2", "V2")
    w.offence("o2b", "2020-06-01", "028/01", "S2", "V2")
    w.offence("o1", "2010-01-01", "019/07", "S3", "V3")
    apply_offence_map(con)
    for pid, days in (("RP-old", 100), ("RP-new", 10)):
        html = tmp_path / f"{pid}.html"
        html.write_text("x")
        con.execute(
            "INSERT INTO referral_packs VALUES (?, 'S1', 'idva', 'p', 'a', TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-01', '[]', NULL, ?, 'h', NULL, NULL, "
            "TIMESTAMP '2025-01-01' - to_days(?))",
            [pid, str(html), days],
        )


def test_dry_run_lists_and_changes_nothing(warehouse, tmp_path):
    _world(warehouse, tmp_path)
    before = warehouse.execute("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM people), (SELECT count(*) FROM referral_packs)").fetchall()
    res = apply_retention(warehouse, AS_OF)
    got = {(r.action, r.table_name, r.row_id, r.group if r.group == r.group else None) for r in res.actions.itertuples()}
    assert got == {("expire", "referral_packs", "RP-old", None), ("archive", "events", "o3", 3), ("review", "events", "o1", 1)}
    assert warehouse.execute("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM people), (SELECT count(*) FROM referral_packs)").fetchall() == before
    assert warehouse.execute("SELECT count(*) FROM retention_runs").fetchall()[0][0] == 0


def test_execute_archives_deletes_and_records(warehouse, tmp_path):
    _world(warehouse, tmp_path)
    res = apply_retention(warehouse, AS_OF, execute=True, by="records_manager")
    assert res.removed["events"] == 2 and res.removed["people"] == 3 and res.removed["links"] == 3
    assert res.removed["event_harm"] == 1 and res.removed["referral_packs"] == 1 and res.files_deleted == 1
    assert not (tmp_path / "RP-old.html").exists() and (tmp_path / "RP-new.html").exists()
    left = {r[0] for r in warehouse.execute("SELECT event_id FROM events").fetchall()}
    assert left == {"o2", "o2b", "o1"}  # the rape is kept (group 1: review only)
    arch = warehouse.execute("SELECT table_name, row_id, row_json FROM retention_archive ORDER BY 1, 2").fetchall()
    assert ("events", "c3") in {(a, b) for a, b, _ in arch} and json.loads(arch[0][2])
    run = warehouse.execute("SELECT run_by, counts FROM retention_runs").fetchall()
    assert run[0][0] == "records_manager" and json.loads(run[0][1]) == {"archive": 1, "expire": 1, "review": 1}
    assert warehouse.execute("SELECT count(*) FROM retention_log").fetchall()[0][0] == 3
    # running again: only the review remains due
    assert plan(warehouse, AS_OF)["action"].tolist() == ["review"]


def test_deleting_mentions_drops_the_stored_name_counts(warehouse, tmp_path):
    _world(warehouse, tmp_path)
    warehouse.execute("INSERT INTO link_tf VALUES ('surname', 12345, 2)")
    warehouse.execute("INSERT INTO link_tf_state VALUES (1, 1, 5, 99, TIMESTAMP '2024-12-01')")
    apply_retention(warehouse, AS_OF)  # a dry run keeps them
    assert warehouse.execute("SELECT count(*) FROM link_tf").fetchall()[0][0] == 1
    apply_retention(warehouse, AS_OF, execute=True)
    assert warehouse.execute("SELECT (SELECT count(*) FROM link_tf) + (SELECT count(*) FROM link_tf_state)").fetchall()[0][0] == 0


def test_policy_file(warehouse, tmp_path):
    _world(warehouse, tmp_path)
    p = tmp_path / "ret.toml"
    p.write_text("list_entry_days = 5\nreview_years_group3 = 20\nmopi = true\n")
    acts = plan(warehouse, AS_OF, RetentionPolicy.from_file(p))
    assert set(acts.loc[acts["table_name"] == "referral_packs", "row_id"]) == {"RP-old", "RP-new"}
    assert "o3" not in set(acts["row_id"])


@pytest.mark.parametrize("body,msg", [("list_entry_days = 0\n", "positive"), ("keep_forever = true\n", "unknown"), ("x = [\n", "TOML")])
def test_bad_policy(tmp_path, body, msg):
    p = tmp_path / "ret.toml"
    p.write_text(body)
    with pytest.raises(RetentionError, match=msg):
        RetentionPolicy.from_file(p)


def test_cli_dry_run_then_execute(tmp_path):
    db = tmp_path / "wh.duckdb"
    con = connect(db)
    _world(con, tmp_path)
    con.close()
    r = CliRunner().invoke(app, ["retention", "apply", "--as-of", AS_OF, "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert "dry run" in r.stdout and "archive 1" in r.stdout
    r = CliRunner().invoke(app, ["retention", "apply", "--as-of", AS_OF, "--execute", "--by", "rm1", "--db", str(db)])
    assert r.exit_code == 0 and "executed" in r.stdout
    con = connect(db)
    assert con.execute("SELECT count(*) FROM events WHERE event_id = 'o3'").fetchall()[0][0] == 0
    con.close()


def test_other_areas_register_list_tables(warehouse, tmp_path):
    from harmlens.retention import register_list_table
    from harmlens.retention.policy import _LIST_TABLES

    _world(warehouse, tmp_path)
    warehouse.execute("CREATE TABLE test_list (entry_id VARCHAR, person_id VARCHAR, refreshed_at TIMESTAMP)")
    warehouse.execute("INSERT INTO test_list VALUES ('L1', 'S1', '2024-09-01'), ('L2', 'S2', '2024-12-20')")
    try:
        register_list_table("test_list", "entry_id", "refreshed_at")
        acts = plan(warehouse, AS_OF)
        assert acts.loc[acts["table_name"] == "test_list", "row_id"].tolist() == ["L1"]  # 122 days; L2 is 12 days old
        with pytest.raises(RetentionError):
            register_list_table("x; DROP TABLE events", "id", "at")
    finally:
        _LIST_TABLES.remove(("test_list", "entry_id", "refreshed_at"))


def test_tables_with_their_own_expiry_and_children(warehouse, tmp_path):
    _world(warehouse, tmp_path)
    warehouse.execute("CREATE TABLE t_lists (list_id VARCHAR, expires_at TIMESTAMP)")
    warehouse.execute("CREATE TABLE t_entries (list_id VARCHAR, person_id VARCHAR)")
    warehouse.execute("INSERT INTO t_lists VALUES ('L-old', '2024-12-31'), ('L-new', '2025-03-01')")
    warehouse.execute("INSERT INTO t_entries VALUES ('L-old', 'S1'), ('L-old', 'S2'), ('L-new', 'S1')")
    p = tmp_path / "ret.toml"
    p.write_text(
        'mopi = false\n[[expiring_tables]]\ntable = "t_lists"\nid_column = "list_id"\nexpires_column = "expires_at"\n'
        '[[expiring_tables.children]]\ntable = "t_entries"\ncolumn = "list_id"\n'
    )
    pol = RetentionPolicy.from_file(p)
    acts = plan(warehouse, AS_OF, pol)
    assert acts.loc[acts["table_name"] == "t_lists", "row_id"].tolist() == ["L-old"]
    res = apply_retention(warehouse, AS_OF, pol, execute=True, by="rm")
    assert res.removed["t_lists"] == 1 and res.removed["t_entries"] == 2
    assert warehouse.execute("SELECT list_id FROM t_entries").fetchall() == [("L-new",)]
    # the rank area's stored lists are covered by the default policy
    assert ("priority_lists", "list_id", "expires_at") == RetentionPolicy().expiring_tables[0][:3]
