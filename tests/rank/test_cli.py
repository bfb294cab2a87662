"""The rank area's commands: victims, lists list|show|changes, and rank's default method."""

from __future__ import annotations

import re

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from harmlens.cli import app
from harmlens.errors import HarmlensError
from harmlens.warehouse import connect
from tests.rank.test_offenders import make_world as offenders_world
from tests.rank.test_victims import make_world as victims_world
from tests.rank.helpers import register_model

runner = CliRunner()


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "wh.duckdb"
    con = connect(path)
    offenders_world().load(con)
    register_model(con, tmp_path / "models")
    con.close()
    return path


def test_rank_refuses_as_of_outside_the_events_unless_forced(db):
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    first, last = con.execute("SELECT min(occurred_at), max(occurred_at) FROM events").fetchone()
    con.close()
    after = (last + timedelta(days=1)).date().isoformat()
    r = runner.invoke(app, ["rank", "--as-of", after, "--db", str(db)])
    # The CLI's handler prints a HarmlensError as one line and exits 1 (tests/test_cli.py covers the handler).
    assert r.exit_code == 1 and isinstance(r.exception, HarmlensError)
    assert "after the last recorded event" in str(r.exception) and "\n" not in str(r.exception)
    r = runner.invoke(app, ["rank", "--as-of", "1990-01-01", "--db", str(db)])
    assert r.exit_code == 1 and "not after the first recorded event" in str(r.exception)
    r = runner.invoke(app, ["rank", "--as-of", last.date().isoformat(), "--db", str(db)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["rank", "--as-of", after, "--force", "--db", str(db)])
    assert r.exit_code == 0, r.output


def test_rank_defaults_to_risk_and_lists_record_changes(db):
    r = runner.invoke(app, ["rank", "--as-of", "2024-01-01", "--top", "5", "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert "RISK priority list as of 2024-01-01" in r.output and "(model v1)" in r.output
    r = runner.invoke(app, ["rank", "--as-of", "2024-03-01", "--force", "--format", "json", "--db", str(db)])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout[r.stdout.index("{"):])
    assert doc["method"] == "risk" and doc["priority"][0]["person_id"] == "B"
    r = runner.invoke(app, ["lists", "list", "--db", str(db)])
    assert "offenders:risk:2024-01-01" in r.output and "offenders:risk:2024-03-01" in r.output
    r = runner.invoke(app, ["lists", "changes", "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert "against offenders:risk:2024-01-01" in r.output and "+2 allegations" in r.output
    r = runner.invoke(app, ["lists", "show", "offenders:risk:2024-01-01", "--format", "csv", "--db", str(db)])
    assert r.exit_code == 0 and r.output.splitlines()[1].split(",")[:2] == ["1", "A"]
    r = runner.invoke(app, ["lists", "show", "nope", "--db", str(db)])
    assert r.exit_code != 0 and "no stored list 'nope'" in str(r.exception) + r.output
    out = db.parent / "report"
    r = runner.invoke(app, ["lists", "export", "--out", str(out), "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert (out / "offenders.csv").read_text().splitlines()[1].startswith("1,B,")
    page = (out / "offenders.html").read_text()
    assert "Priority offenders at large" in page
    # Every list names its transparency record, or says none is published: never a command for the reader.
    assert "transparency record" in page and "no transparency record has been published" in page and "run 'harmlens" not in page
    # plain words: the evidence count with its outcomes, rounded chances, harm with its unit, no raw names
    assert "VAWG allegations in the last 3 years" in page and "charged, awaiting trial" in page
    assert "days of custody equivalent" in page and "expected_harm" not in page and "person_id" not in page
    assert "new" in (out / "offenders_changes.csv").read_text()


def test_victims_command(tmp_path):
    path = tmp_path / "v.duckdb"
    con = connect(path)
    victims_world().load(con)
    con.close()
    r = runner.invoke(app, ["victims", "--as-of", "2024-01-01", "--method", "rules", "--no-validate", "--db", str(path)])
    assert r.exit_code == 0, r.output
    assert "Victims most at risk as of 2024-01-01" in r.output and "V1" in r.output
    assert "Children in a household with a high-risk suspect" in r.output and "K" in r.output
    r = runner.invoke(app, ["victims", "--as-of", "2024-01-01", "--method", "rules", "--no-validate", "--format", "csv",
                            "--db", str(path)])
    assert r.output.splitlines()[0].startswith("rank,person_id,risk_of_revictimisation")
    r = runner.invoke(app, ["victims", "--as-of", "2024-01-01", "--top", "0", "--db", str(path)])
    assert r.exit_code != 0 and "--top must be at least 1" in str(r.exception or r.output)
    r = runner.invoke(app, ["lists", "export", "--out", str(tmp_path / "rep"), "--db", str(path)])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "rep" / "victims.csv").read_text().splitlines()[1].split(",")[1] == "V1"
    page = (tmp_path / "rep" / "victims.html").read_text()
    heads = re.findall(r"<th>(.*?)</th>", page)
    assert len(heads) == len(set(heads)) and "run '" not in page
