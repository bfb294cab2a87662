"""Hostile files given to the loaders: crafted headers, patterns, dates and shapes.

Each test builds the attack by hand and runs the real command; the Hypothesis test at the end
throws random and hostile shapes at every loader and checks the one rule that covers them all:
exit 0 or one line and exit 1, never a traceback, never a hang, the warehouse unchanged on error.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src") + os.pathsep + str(REPO)}


def cli(*args: str, timeout: float = 120, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The real CLI in a child process, so a hang is cut off by ``timeout`` instead of hanging the suite."""
    return subprocess.run([sys.executable, "-m", "harmlens.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=ENV, cwd=cwd)


def one_line_error(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 1, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    err = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(err) == 1 and err[0].startswith("error: "), r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    return err[0]


# A small list Splink can estimate a model from: three near-duplicates, a true pair, and padding.
PEOPLE = [("john", "smith", "1980-02-03", "SE15 4AB"), ("jon", "smith", "1980-03-02", "SE15 4AB"),
          ("john", "smyth", "1980-02-03", "SE15 4AB"), ("mary", "jones", "1975-06-07", "N1 1AA"),
          ("mary", "jones", "1975-06-07", "N1 1AA"), ("ahmed", "khan", "1990-01-15", "N1 1AA")] + [
    (["paul", "rita", "sam", "omar", "lucy", "tariq"][i % 6] + chr(97 + i % 26), "pad" + chr(97 + i % 26) + chr(97 + i // 26),
     f"19{60 + i % 30}-0{1 + i % 9}-1{i % 9}", f"E{i % 20} 1AB") for i in range(60)]
MAP = "forename=fn,surname=sn,dob=d,postcode=p"

# ---------------------------------------------------------------------------------------------
# link-file: a CSV header is an identifier, never SQL


def test_link_file_header_cannot_read_a_local_file(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-harmlens-canary\n")
    # Unquoted, the first header closes CAST("...") and appends a subquery calling read_text(); its
    # second copy (the alias) is made valid by the second header, a real column named ", 2 AS".
    # The cast to INTEGER fails and, on the old code, DuckDB's message printed the file's content.
    a = ", 2 AS"
    evil = a + f'" AS VARCHAR)), \'\') AS z, CAST((SELECT content FROM read_text(\'{secret}\')) AS INTEGER) AS w, 1 AS'
    f = tmp_path / "people.csv"

    def q(s: str) -> str:
        return '"' + s.replace('"', '""') + '"'

    f.write_text(f"{q(evil)},{q(a)},id,fn,sn,d,p\n" + "".join(f"v{i},u{i},r{i},{','.join(row)}\n" for i, row in enumerate(PEOPLE)))
    r = cli("link-file", str(f), "--id", "id", "--map", MAP)
    assert "TOPSECRET" not in r.stdout + r.stderr
    assert r.returncode == 0, r.stderr[-2000:]
    assert "r3," in r.stdout  # the list was linked as usual; the header was just a column name


def test_link_file_map_value_and_id_are_identifiers(tmp_path):
    f = tmp_path / "people.csv"
    f.write_text("id,fn,sn,d,p\n" + "".join(f"r{i},{','.join(row)}\n" for i, row in enumerate(PEOPLE)))
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-harmlens-canary\n")
    evil = f'fn" || (SELECT content FROM read_text(\'{secret}\')) || "'
    for args in (["--id", "id", "--map", f"forename={evil},surname=sn"], ["--id", evil, "--map", "forename=fn"],
                 ["--id", "id", "--map", "forename=fn", "--truth", evil]):
        r = cli("link-file", str(f), *args)
        assert "TOPSECRET" not in r.stdout + r.stderr
        assert "not in the file" in one_line_error(r)


# ---------------------------------------------------------------------------------------------
# harm apply --map: user regexes run on RE2 (linear time)


def _offence_world(path: Path, desc: str) -> None:
    from harmlens.warehouse import connect
    from tests.harm.world import World

    con = connect(path)
    World(con).offence("e1", "2024-03-01", "ZZ9", "P1", "V1", desc=desc)
    con.close()


def test_redos_pattern_in_offence_map_finishes(tmp_path):
    db = tmp_path / "wh.duckdb"
    _offence_world(db, "a" * 40 + "!")
    m = tmp_path / "map.csv"
    m.write_text("pattern_type,pattern,category\nregex,(a+)+$,stalking\n")
    t0 = time.monotonic()
    r = cli("harm", "apply", "--db", str(db), "--map", str(m), timeout=60)
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - t0 < 60


def test_unsupported_pattern_is_one_line(tmp_path):
    db = tmp_path / "wh.duckdb"
    _offence_world(db, "stalking by ex")
    m = tmp_path / "map.csv"
    m.write_text("pattern_type,pattern,category\nregex,(a)\\1,stalking\n")
    line = one_line_error(cli("harm", "apply", "--db", str(db), "--map", str(m), timeout=60))
    assert "RE2" in line and "row 2" in line


def test_compile_user_regex_is_linear():
    from harmlens.userregex import compile_user_regex

    rx = compile_user_regex("(a+)+$")
    t0 = time.monotonic()
    assert rx.search("a" * 100_000 + "!") is None
    assert time.monotonic() - t0 < 2


# ---------------------------------------------------------------------------------------------
# Tracebacks where one line is promised


def test_ingest_without_key_column_names_file_and_column(tmp_path):
    d = tmp_path / "extract"
    d.mkdir()
    (d / "events.csv").write_text("source,event_type,occurred_at\ncrime,offence,2024-01-01\n")
    (d / "people.csv").write_text("mention_id,event_id,role\nm1,e1,suspect\n")
    line = one_line_error(cli("ingest", str(d), "--db", str(tmp_path / "wh.duckdb")))
    assert "events.csv" in line and "event_id" in line


@pytest.mark.parametrize("shape", ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000])
def test_stops_import_of_deeply_nested_json_is_one_line(tmp_path, shape):
    f = tmp_path / "stops.json"
    f.write_text(shape)
    line = one_line_error(cli("stops", "import", str(f), "--db", str(tmp_path / "wh.duckdb"), timeout=60))
    assert "stops.json" in line and "nested" in line
