"""`make demo` end to end (on a small city): every stage ran and left what a newcomer opens."""

from __future__ import annotations

import csv
import json

import duckdb

EXPECTED = [
    "harmlens.duckdb",
    "harmlens.ops.sqlite",
    "report/lists/offenders.html",
    "report/lists/offenders.csv",
    "report/lists/victims.html",
    "report/audit/audit.pdf",
    "report/audit_followup/audit.json",
    "report/transparency/transparency.html",
    "report/stops/stops_report.pdf",
    "report/network_i2/network_links.csv",
    "report/v100_baseline.csv",
]


def test_demo_leaves_every_artefact(demo_out):
    missing = [p for p in EXPECTED if not (demo_out / p).is_file()]
    assert missing == []
    assert list((demo_out / "report/referrals").glob("referral_*.pdf")), "a referral pack"
    assert list((demo_out / "report/model_card").rglob("model_card.html")), "a model card"


def test_demo_warehouse_holds_each_stage(demo_out):
    con = duckdb.connect(str(demo_out / "harmlens.duckdb"), read_only=True)
    try:
        counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in ("people", "links", "event_harm", "risk_scores", "priority_entries", "stops", "referral_packs", "audit_runs")}
    finally:
        con.close()
    assert all(n > 0 for n in counts.values()), counts


def test_demo_list_and_audit_say_what_they_used(demo_out):
    with (demo_out / "report/lists/offenders.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows, "the offender list has entries"
    audit = json.loads((demo_out / "report/audit_followup/audit.json").read_text())
    assert audit["list_size"] > 0 and audit["scored_size"] >= audit["list_size"]
    assert audit["headline"], "the audit says its finding in words"
    assert audit["outcomes"], "the follow-up audit has error rates by group (the city has the follow-up)"
