"""One --as-of rule for every command: ISO dates only, no words, 1900 .. ten years ahead.

Each command is run in-process on a small warehouse; a refused date must be a HarmlensError (the
CLI prints it as one line, exit 1) naming the flag, never another exception (a traceback).
"""

from __future__ import annotations

from datetime import date, datetime

import pytest
from typer.testing import CliRunner

from harmlens.asof import AsOfError, check_flags, parse_as_of
from harmlens.cli import app
from harmlens.errors import HarmlensError


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    from harmlens.warehouse import connect
    from tests.harm.world import World

    path = tmp_path_factory.mktemp("asof") / "wh.duckdb"
    con = connect(path)
    w = World(con)
    w.offence("r1", "2024-03-01", "019/07", "P1", "V1", outcome="charged")
    w.offence("a2", "2024-01-02", "008/06", "P2", "V3", domestic=True)
    w.offence("a3", "2024-05-02", "008/06", "P2", "V3", domestic=True)
    con.close()
    r = CliRunner().invoke(app, ["harm", "apply", "--db", str(path)])
    assert r.exit_code == 0, r.output
    return path


COMMANDS = [
    ["rank", "--method", "v100"], ["rank", "--method", "rfg"], ["rank", "--method", "rfh"],
    ["victims", "--method", "rules", "--no-validate"], ["score"], ["evaluate"], ["risk", "explain", "P1"], ["audit"],
    ["referral", "P1", "--partner", "probation", "--purpose", "test", "--no-pdf"], ["network-summary"],
    ["network", "P1"], ["retention", "apply"],
]


def _ids(c):
    return " ".join(c)


@pytest.mark.parametrize("cmd", COMMANDS, ids=_ids)
@pytest.mark.parametrize("value, says", [("today", "is not a date"), ("now", "is not a date"), ("0001-01-01", "outside 1900-01-01"),
                                         ("9999-12-31", "outside 1900-01-01"), ("1 Jan 2024", "is not a date")])
def test_every_command_refuses_the_same_way(db, tmp_path, cmd, value, says):
    r = CliRunner().invoke(app, [*cmd, "--as-of", value, "--db", str(db)], catch_exceptions=True)
    assert isinstance(r.exception, HarmlensError), (r.exception, r.output)
    msg = str(r.exception)
    assert msg.startswith("--as-of ") and says in msg
    assert "\n" not in msg


def test_other_date_flags_name_themselves(db):
    r = CliRunner().invoke(app, ["train", "--until", "now", "--db", str(db)])
    assert isinstance(r.exception, HarmlensError) and str(r.exception).startswith("--until 'now'")
    r = CliRunner().invoke(app, ["stops", "analyse", "--from", "0001-01-01", "--db", str(db)])
    assert isinstance(r.exception, HarmlensError) and str(r.exception).startswith("--from 0001-01-01 is outside")


def test_a_good_date_still_ranks(db):
    # inside the span of the fixture's events (the span rule is tested in tests/rank/test_cli.py)
    r = CliRunner().invoke(app, ["rank", "--method", "v100", "--as-of", "2024-05-01", "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert "P1" in r.output


@pytest.mark.parametrize("value, want", [
    ("2024-03-01", datetime(2024, 3, 1)), (" 2024-03-01 ", datetime(2024, 3, 1)),
    ("2024-03-01T10:30", datetime(2024, 3, 1, 10, 30)),
    ("2024-07-01T10:30+01:00", datetime(2024, 7, 1, 10, 30)),  # BST: London wall clock
    ("2024-01-01T10:30Z", datetime(2024, 1, 1, 10, 30)),
    (date(2024, 3, 1), datetime(2024, 3, 1)), ("1900-01-01", datetime(1900, 1, 1)),
])
def test_parse(value, want):
    assert parse_as_of(value) == want


@pytest.mark.parametrize("value", ["today", "now", "yesterday", "", "2024-02-30", "2024-13-01", "1899-12-31", "20240301x", "NaT", "0001-01-01"])
def test_refused(value):
    with pytest.raises(AsOfError):
        parse_as_of(value)


def test_window_edge_is_ten_years_ahead():
    t = date.today()
    ok = t.replace(year=t.year + 10, day=28 if (t.month, t.day) == (2, 29) else t.day)
    assert parse_as_of(ok.isoformat()).date() == ok
    with pytest.raises(AsOfError, match="outside"):
        parse_as_of(ok.replace(year=ok.year + 1).isoformat())


def test_check_flags_names_the_flag_and_lets_none_pass():
    check_flags(**{"--as-of": None, "--until": "2024-01-01"})
    with pytest.raises(AsOfError, match="^--until 'now'"):
        check_flags(**{"--as-of": None, "--until": "now"})


def test_one_time_zone_rule_the_warehouse_local_time():
    from datetime import datetime, timezone

    from harmlens.asof import WAREHOUSE_TZ, local_now, local_today

    assert WAREHOUSE_TZ == "Europe/London"
    # an aware input is converted to London wall time: 23:30 UTC in summer is 00:30 the next day there
    assert parse_as_of("2024-07-01T23:30:00+00:00") == datetime(2024, 7, 2, 0, 30)
    assert parse_as_of(datetime(2024, 1, 15, 12, 0, tzinfo=timezone.utc)) == datetime(2024, 1, 15, 12, 0)
    assert local_now().tzinfo is None and local_today() == local_now().date()


def test_the_one_parser_is_the_only_one():
    # dates users type go through harmlens.asof: no other strptime/fromisoformat in the commands
    import re
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src" / "harmlens"
    allowed = {
        "asof.py",
        "casework/records.py",  # a dated casework action from a web form, not a command's date
        "web/security.py", "web/referral_flow.py",  # the app's own signed timestamps
        "link/fileshape.py", "link/prepare.py",  # SQL try_strptime of dates of birth in source files
    }
    found = {str(p.relative_to(src)) for p in src.rglob("*.py")
             if re.search(r"strptime\(|fromisoformat\(", p.read_text(encoding="utf-8"))}
    assert found <= allowed, sorted(found - allowed)
