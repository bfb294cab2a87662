"""End to end: hostile text in an extract and in the web forms never reaches a CSV as a formula.

Hypothesis chooses formula payloads (a formula character, then any text); the extract's text
fields and ids carry them through the real loaders (tests/csvsafe/hostile.py); the web forms
(a recorded stop, a purpose reference, a sign-in name) carry them through the app. Then every
export runs, as a user would run it, and each CSV is opened with a CSV reader: no cell may start
with a formula character unless it is a plain number, the numeric columns still parse as
numbers, and the payloads did arrive (quoted), so the test cannot pass by exporting nothing.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from harmlens.csvsafe import FORMULA_LEAD
from tests.csvsafe.hostile import CLASSIC, CUT, build, run, synth

PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# columns that must come out as numbers wherever they appear
NUMERIC = {"rank", "score", "risk", "expected_harm", "allegations", "charges", "convictions", "rows", "n", "line",
           "Offences As Suspect", "Offences As Victim", "Strength", "seq", "latitude", "longitude"}


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory):
    return synth(tmp_path_factory.mktemp("synth") / "extract")


def hostile_text():
    """Optional tab/CR/space, a formula character, any text: still formula-leading after a form strips it."""
    body = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"), max_size=25)
    lead = st.sampled_from(sorted(FORMULA_LEAD - {"\t", "\r"}))
    pre = st.sampled_from(["", "\t", "\r", " "])
    return st.tuples(pre, lead, body).map("".join).filter(lambda s: not PLAIN_NUMBER.fullmatch(s.strip()))


def _cells(name: str, text: str) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows, f"{name}: empty export"
    header, body = rows[0], rows[1:]
    for cell in header:
        assert not cell or cell[0] not in FORMULA_LEAD, f"{name}: header {cell!r}"
    out = []
    for r in body:
        assert len(r) == len(header), f"{name}: ragged row {r!r}"
        out.append(dict(zip(header, r)))
    return out


def _cli_exports(db: Path, tmp: Path) -> dict[str, str]:
    d = str(db)
    out: dict[str, str] = {}
    out["status"] = run("status", "--db", d, "--format", "csv")
    out["quarantine"] = run("quarantine", "--db", d, "--format", "csv")
    out["export links (stdout)"] = run("export", "links", "--db", d)
    run("export", "links", "--db", d, "--out", str(tmp / "links.csv"))
    out["export links --out"] = (tmp / "links.csv").read_text(encoding="utf-8")
    out["harm unmapped"] = run("harm", "unmapped", "--db", d, "--format", "csv")
    run("rank", "--method", "v100", "--as-of", CUT, "--force", "--format", "csv", "--out", str(tmp / "v100.csv"), "--db", d)
    out["rank v100 --out"] = (tmp / "v100.csv").read_text(encoding="utf-8")
    out["victims csv"] = run("victims", "--as-of", CUT, "--format", "csv", "--db", d)
    out["lists show"] = run("lists", "show", "--format", "csv", "--db", d)
    out["lists changes"] = run("lists", "changes", "--format", "csv", "--db", d)
    run("lists", "export", "--out", str(tmp / "lists"), "--db", d)
    for p in sorted((tmp / "lists").glob("*.csv")):
        out[f"lists export {p.name}"] = p.read_text(encoding="utf-8")
    run("score", "--as-of", CUT, "--out", str(tmp / "score.csv"), "--db", d)
    out["score --out"] = (tmp / "score.csv").read_text(encoding="utf-8")
    out["score csv"] = run("score", "--as-of", CUT, "--format", "csv", "--top", "20", "--db", d)
    run("network-summary", "--as-of", CUT, "--i2", str(tmp / "i2"), "--db", d)
    for p in sorted((tmp / "i2").glob("*.csv")):
        out[f"network i2 {p.name}"] = p.read_text(encoding="utf-8")
    first = _cells("links", out["export links (stdout)"])[0]["person_id"]
    out["person csv"] = run("person", first, "--format", "csv", "--db", d)
    out["link-history csv"] = run("link-history", "--format", "csv", "--db", d)
    out["retention csv"] = run("retention", "apply", "--as-of", "2031-01-01", "--format", "csv", "--db", d)
    return out


def _table_exports(tmp: Path, payloads: list[str]) -> dict[str, str]:
    """link-file and table-mode audit read a user's file: hostile ids and group labels."""
    import pandas as pd

    from harmlens.csvsafe import write_csv

    n = 60
    people = pd.DataFrame({
        "id": [payloads[i % len(payloads)] + f"#{i}" for i in range(n)],
        "fn": ["Ann", "Bea", "Cat"] * (n // 3), "sn": ["Jones", "Khan", "Lee"] * (n // 3),
        "dob": ["1990-01-01", "1985-05-05", "1979-09-09"] * (n // 3),
    })
    # the user's own file, hostile on purpose (Parquet: DuckDB's CSV sniffer gives up on a CR inside a field)
    people.to_parquet(tmp / "people_in.parquet", index=False)
    run("link-file", str(tmp / "people_in.parquet"), "--id", "id", "--map", "forename=fn,surname=sn,dob=dob",
        "--out", str(tmp / "lf.csv"))
    out = {"link-file --out": (tmp / "lf.csv").read_text(encoding="utf-8")}
    scores = pd.DataFrame({"grp": [payloads[i % 2] for i in range(200)], "y": [i % 3 == 0 for i in range(200)],
                           "s": [(i % 10) / 10 for i in range(200)]})
    write_csv(scores, tmp / "scores.csv")
    out["audit --print csv"] = run("audit", "--scores", str(tmp / "scores.csv"), "--outcome", "y", "--group", "grp",
                                   "--positive", "s >= 0.5", "--score", "s", "--n-boot", "0", "--print", "csv")
    return out


def _web_exports(db: Path, tmp: Path, payloads: list[str]) -> dict[str, str]:
    """Hostile form input (a stop, a purpose reference, a sign-in name), then the app's and the CLI's exports of it."""
    from fastapi.testclient import TestClient

    from harmlens.web.app import WebSettings, create_app
    from harmlens.web.auth import add_user

    person = _cells("links", run("export", "links", "--db", str(db)))[0]["person_id"]
    url = f"sqlite:///{tmp / 'ops.sqlite'}"
    app = create_app(WebSettings(warehouse=db, store_url=url))
    pw = "a-long-test-password"
    for name, role in (("ana", "analyst"), ("olly", "officer")):
        add_user(app.state.store, name, pw, role)
    out: dict[str, str] = {}
    try:
        with TestClient(app) as c:
            r = c.post("/api/v1/session", json={"username": "olly", "password": pw})
            csrf = r.json()["csrf_token"]
            for i, p in enumerate(payloads[:3]):
                r = c.post("/api/v1/stops", headers={"X-CSRF-Token": csrf}, json={
                    "occurred_at": f"2024-0{i + 1}-02T10:00", "legislation": "s163 Road Traffic Act 1988",
                    "borough": "Camden", "reason": p[:500], "outcome": "no further action"})
                assert r.status_code in (201, 422), r.text
            # a sign-in attempt under a hostile name is logged as a denial under that name
            c.post("/api/v1/session", json={"username": payloads[0][:200], "password": "wrong-password-here"})
            r = c.post("/api/v1/session", json={"username": "ana", "password": pw})
            csrf = r.json()["csrf_token"]
            r = c.post(f"/persons/{person}/purpose", data={"purpose": "investigation", "reference": payloads[1][:200], "csrf_token": csrf},
                       follow_redirects=False)
            assert r.status_code in (303, 200, 404), r.text
            r = c.get("/priority.csv")
            assert r.status_code == 200, r.text
            out["web priority.csv"] = r.text
        ops = ["--store", url]
        run("recorded-stops", "export", str(tmp / "stops_out"), *ops)
        out["recorded-stops export"] = (tmp / "stops_out" / "stops.csv").read_text(encoding="utf-8")
        out["access-log search csv"] = run("access-log", "search", "--format", "csv", "--limit", "1000", *ops)
    finally:
        app.state.store.close()
        app.state.warehouse.close()
    return out


def check(exports: dict[str, str]) -> None:
    quoted = 0
    for name, text in exports.items():
        for row in _cells(name, text):
            for col, cell in row.items():
                if cell and cell[0] in FORMULA_LEAD:
                    assert PLAIN_NUMBER.fullmatch(cell), f"{name}: column {col!r} cell {cell!r} starts with a formula character"
                if cell.startswith("'") and len(cell) > 1 and cell[1] in FORMULA_LEAD:
                    quoted += 1
                if col in NUMERIC and cell not in ("", "nan"):
                    float(cell)  # numbers stay numbers
    assert quoted > 0


# one generated example besides the classic payloads, and no shrinking: each example builds a warehouse (~20 s)
@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck), database=None,
          phases=[Phase.explicit, Phase.generate])
@given(payloads=st.lists(hostile_text(), min_size=3, max_size=5))
@example(payloads=CLASSIC)
def test_every_export_neutralises_hostile_text(synth_dir, tmp_path_factory, payloads):
    tmp = tmp_path_factory.mktemp("e2e")
    db = build(tmp / "wh", synth_dir, payloads)
    exports = {**_cli_exports(db, tmp), **_table_exports(tmp, payloads), **_web_exports(db, tmp, payloads)}
    check(exports)
    # the payloads reached the exports that carry extract and form text (quoted), so this checks something
    for name in ("export links (stdout)", "quarantine", "network i2 network_links.csv", "link-file --out", "audit --print csv",
                 "recorded-stops export", "access-log search csv", "web priority.csv"):
        text = exports[name]
        assert "'" in text and any(row and any(c.startswith("'") and len(c) > 1 and c[1] in FORMULA_LEAD for c in row.values())
                                   for row in _cells(name, text)), f"{name}: no hostile text reached it"
