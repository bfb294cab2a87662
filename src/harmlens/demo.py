"""``make demo``: the whole pipeline on a synthetic London, through the same commands a user runs.

Each step is a ``harmlens`` command run as a user would run it; its output is shown as it comes.
Everything lands in one folder (default ``demo-out/``): the synthetic extract and its truth, the
warehouse, and a ``report/`` folder with the lists, model card, audit, network export and stop
analysis. The path of that folder is printed at the end.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

PEOPLE = 100_000
SEED = 7
CUT = "2025-01-01"
# The extract holds events before CUT, so a list as of CUT is the day after the last event: the span
# rule refuses that without --force (it cannot tell a cut extract from stale data), hence --force below.
BACKTEST = "2024-01-01"


def run(title: str, *args: str) -> None:
    print(f"\n=== {title}\n$ harmlens {' '.join(args)}", flush=True)
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "harmlens.cli", *args])
    if r.returncode != 0:
        print(f"demo stopped: step '{title}' failed (exit {r.returncode})", file=sys.stderr)
        sys.exit(r.returncode)
    print(f"({time.perf_counter() - t:.1f} s)", flush=True)


def late_extract(src: Path, dest: Path) -> None:
    """A second, later extract as forces send them: a correction to one outcome (upserted and
    recorded in ``changes``) and a few broken rows (quarantined with reasons)."""
    dest.mkdir(parents=True, exist_ok=True)
    ev = pd.read_parquet(src / "events.parquet")
    pe = pd.read_parquet(src / "people.parquet")
    fixed = ev[(ev.event_type == "offence") & (ev.outcome == "ongoing")].head(1).copy()
    if fixed.empty:
        fixed = ev[ev.event_type == "offence"].head(1).copy()
    fixed["outcome"] = "charged"
    broken = pd.DataFrame([
        {"event_id": "LATE-1", "source": "crime", "event_type": "offence", "occurred_at": "2024-02-30"},
        {"event_id": "LATE-2", "source": "crime", "event_type": "burglary", "occurred_at": "2024-03-01"},
        {"event_id": "LATE-3", "source": "", "event_type": "offence", "occurred_at": "2024-03-02"},
        {"event_id": "LATE-4", "source": "custody", "event_type": "custody", "occurred_at": "2024-03-05", "ends_at": "2024-01-01"},
    ])
    out_ev = pd.concat([fixed.astype(str).replace({"NaT": "", "nan": "", "None": "", "<NA>": ""}), broken], ignore_index=True).fillna("")
    out_ev.to_csv(dest / "events.csv", index=False)
    people = pd.DataFrame([
        {"mention_id": "LATE-M1", "event_id": "NO-SUCH-EVENT", "role": "suspect", "sex": "male"},
        {"mention_id": "LATE-M2", "event_id": "LATE-1", "role": "victim", "sex": "female"},
        {"mention_id": pe.mention_id.iloc[0], "event_id": pe.event_id.iloc[0], "role": "offender", "sex": "unknown", "date_of_birth": "31/12/1980"},
    ])
    people.to_csv(dest / "people.csv", index=False)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="demo-out", help="output folder (replaced)")
    ap.add_argument("--people", type=int, default=PEOPLE)
    ap.add_argument("--seed", type=int, default=SEED)
    a = ap.parse_args(argv)
    out = Path(a.out).resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    db = str(out / "harmlens.duckdb")
    extract, report = out / "extract", out / "report"
    report.mkdir()
    started = time.perf_counter()

    run("1. A synthetic London in the data-contract format, with ground truth", "synth", "--people", str(a.people), "--seed", str(a.seed),
        "--out", str(extract), "--cut-date", CUT)
    run("2. Ingest the extract (bad rows would be quarantined; read = loaded + quarantined)", "ingest", str(extract), "--db", db)
    late_extract(extract, out / "late_extract")
    run("3. A later extract: one corrected outcome is upserted, broken rows are quarantined", "ingest", str(out / "late_extract"), "--db", db)
    run("   ...why each row was rejected", "quarantine", "--db", db)
    run("4. Link every mention to one city-wide person", "link", "--db", db)
    run("5. Offence map and harm weights (CCHI)", "harm", "apply", "--db", db)
    run(f"6. Baseline: V100 top 20 as of {CUT} (summed CCHI harm of VAWG allegations in 365 days)",
        "rank", "--method", "v100", "--as-of", CUT, "--force", "--top", "20", "--db", db)
    run("7. Train the forecast (monthly snapshots, temporal holdout, model card, registry)",
        "train", "--n-boot", "100", "--db", db)
    run("   A supervisor promotes the validated model for scoring", "models", "promote", "v1", "--db", db)
    run(f"8. Priority offenders at large as of {CUT}: expected harm = P(offend) x expected harm",
        "rank", "--as-of", CUT, "--force", "--top", "20", "--db", db)
    check_evidence(db)
    run("   ...and the V100 baseline beside it", "rank", "--method", "v100", "--as-of", CUT, "--force", "--top", "100", "--format", "csv",
        "--out", str(report / "v100_baseline.csv"), "--db", db)
    run("9. Women and children most at risk of being victimised again", "victims", "--as-of", CUT, "--top", "20", "--db", db)
    run("10. The network between them: serial perpetrators, victims with several perpetrators, groups",
        "network-summary", "--as-of", CUT, "--top", "10", "--i2", str(report / "network_i2"),
        "--graphml", str(report / "network.graphml"), "--db", db)
    top = pd.read_csv(report / "v100_baseline.csv")
    if len(top):
        person = str(top.iloc[0]["person_id"])
        run("11. A referral pack for the Probation Service about the top person (only the fields probation needs; recorded)",
            "referral", person, "--partner", "probation", "--purpose", "Demo: MATAC tasking of a priority offender",
            "--by", "demo-analyst", "--as-of", CUT, "--out", str(report / "referrals"), "--db", db)
    # the current list has no follow-up yet, so its audit cannot show error rates: audit the list the
    # model would have made a year earlier too, whose year of outcomes is in the data
    run(f"12. Back-test: the model's list as of {BACKTEST}, a year before the data ends", "score", "--as-of", BACKTEST,
        "--top", "5", "--db", db)
    run("   ...its bias audit with a year of outcomes: error rates and calibration by group, with intervals",
        "audit", "--model", "v1", "--as-of", BACKTEST, "--out", str(report / "audit_followup"), "--n-boot", "200", "--db", db)
    run("   Bias audit of the current priority list (composition, error rates by group, proxies, label bias, outcomes)",
        "audit", "--out", str(report / "audit"), "--n-boot", "200", "--db", db)
    run("13. Transparency record (ATRS style) from the same facts as the model card",
        "transparency", "--out", str(report / "transparency"), "--db", db)
    run("   The stored lists (offenders and victims) as CSV and HTML for the report folder", "lists", "export",
        "--out", str(report / "lists"), "--top", "100", "--db", db)
    run("14. s163 traffic stops: rates against census-like populations, disproportionality, veil of darkness",
        "stops", "analyse", "--area", "all", "--report", str(report / "stops"), "--db", db)
    run("   Model registry", "models", "list", "--db", db)
    _copy_model_cards(out, report)
    check_layout(report)
    web_users(db)
    run("   Warehouse summary", "status", "--db", db)
    print(f"\ndemo finished in {time.perf_counter() - started:.0f} s.")
    print(f"Report folder: {report}")
    for p in sorted(report.rglob("*")):
        if p.is_file() and p.suffix in (".html", ".csv", ".pdf", ".graphml", ".md"):
            print(f"  {p.relative_to(report)}")


def check_evidence(db: str, top: int = 20) -> None:
    """The list, the profile and the API show the same evidence for every top-``top`` person (stops the demo if not)."""
    import duckdb

    from harmlens.harm.evidence import check_agreement
    from harmlens.web.data import Warehouse

    print(f"\n=== Check: evidence on the list, the profile and the API agree for the top {top}", flush=True)
    con = duckdb.connect(db, read_only=True)
    try:
        lid = con.execute("SELECT list_id FROM priority_lists WHERE kind = 'offenders' ORDER BY as_of DESC, refreshed_at DESC LIMIT 1").fetchone()
        bad = check_agreement(con, lid[0], top=top) if lid else ["no offenders list stored"]
    finally:
        con.close()
    wh = Warehouse(db, read_only=True)
    try:
        items = (wh.priority_list(size=top) or {"items": []})["items"][:top]
        for it in items:
            ev = (wh.person(it["person_id"]) or {}).get("evidence") or {}
            if (ev.get("allegations"), ev.get("outcomes")) != (it["allegations"], it["outcomes"]):
                bad.append(f"{it['person_id']}: list {it['evidence']}; profile {ev}")
    finally:
        wh.close()
    if bad or not items:
        print("demo stopped: evidence disagrees between views:\n  " + "\n  ".join(bad or ["the list is empty"]), file=sys.stderr)
        sys.exit(1)
    print(f"list, profile and API agree for {len(items)} people; first: {items[0]['evidence']}", flush=True)


def check_layout(report: Path) -> None:
    """Every PDF the demo wrote: no page without body content, nothing wider than the page (stops the demo if not)."""
    try:
        from harmlens.reports.layout import problems
    except ImportError:
        print("layout check skipped: pdfplumber is not installed (pip install -e '.[test]')", flush=True)
        return
    print("\n=== Check: every PDF has body content on each page and nothing wider than the page", flush=True)
    pdfs = sorted(report.rglob("*.pdf"))
    bad = [f"{p.relative_to(report)}: {x}" for p in pdfs for x in problems(p)]
    if bad:
        print("demo stopped: report layout problems:\n  " + "\n  ".join(bad), file=sys.stderr)
        sys.exit(1)
    print(f"{len(pdfs)} PDFs lay out right", flush=True)


DEMO_PASSWORD_ENV = "HARMLENS_DEMO_PASSWORD"
DEMO_PASSWORD = "harmlens-demo-only-password"  # documented in the README; set HARMLENS_DEMO_PASSWORD to choose another
DEMO_USERS = (("demo-analyst", "analyst", None), ("demo-supervisor", "supervisor", None), ("demo-supervisor2", "supervisor", None),
              ("demo-partner", "partner", "probation"), ("demo-officer", "officer", None), ("demo-auditor", "auditor", None))


def web_users(db: str) -> None:
    """One web user per role and the newest offenders and victims lists published, so 'harmlens serve' shows them."""
    import os

    from harmlens.web.store import open_store

    os.environ.setdefault(DEMO_PASSWORD_ENV, DEMO_PASSWORD)
    s = open_store(None, Path(db))
    try:
        have = {u["username"] for u in s.fetchall("SELECT username FROM web_users")}
    finally:
        s.close()
    for name, role, agency in DEMO_USERS:
        if name not in have:
            run(f"15. Web user {name} ({role})", "users", "add", name, "--role", role, *(["--agency", agency] if agency else []),
                "--password-env", DEMO_PASSWORD_ENV, "--db", db)
    import duckdb

    con = duckdb.connect(db, read_only=True)
    try:
        newest = con.execute("SELECT kind, arg_max(list_id, as_of) FROM priority_lists WHERE method = 'risk' OR kind = 'victims'"
                             " GROUP BY kind ORDER BY kind").fetchall()
    finally:
        con.close()
    for kind, list_id in newest:
        run(f"16. The supervisor publishes the {kind} list: it is the one the web app opens", "publish", list_id,
            "--by", "demo-supervisor", "--note", "demo", "--db", db)


def _copy_model_cards(out: Path, report: Path) -> None:
    """The model card lives beside the registered model; the report folder gets a copy."""
    for card in sorted(out.glob("harmlens_models/*/model_card.*")):
        dest = report / "model_card" / card.parent.name
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(card, dest / card.name)


if __name__ == "__main__":
    main()
