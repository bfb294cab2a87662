"""Write stored lists as CSV and HTML (for `make demo`'s report folder and for analysts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from harmlens.engine import as_engine
from harmlens.csvsafe import write_csv
from harmlens.rank.lists import RankError, list_changes, list_entries, stored_lists, summarise_changes

OFFENDER_COLUMNS = ["rank", "person_id", "risk", "expected_harm", "band", "allegations", "charges", "convictions",
                    "ev_charged", "ev_acquitted", "ev_nfa", "ev_withdrawn", "ev_ongoing", "ev_cautioned",
                    "distinct_victims", "last_event_at", "model_version", "top_factors"]
VICTIM_COLUMNS = ["rank", "person_id", "risk", "score", "linked_high_risk_suspects", "last_event_at", "top_factors"]


def _readable(kind: str, e: pd.DataFrame) -> pd.DataFrame:
    """The list as people read it: plain columns, rounded chances, harm with its unit, the evidence
    count with what became of each allegation, and no column that repeats another."""
    from harmlens.features.catalogue import harm_text, probability_text
    from harmlens.harm.evidence import LABEL, summary_text

    v = pd.DataFrame({"rank": e["rank"], "person reference": e["person_id"]})
    v["chance of a VAWG allegation within a year" if kind == "offenders" else "chance of being victimised again"] = \
        [probability_text(x) for x in e["risk"]]
    if kind == "offenders":
        v["expected harm in the next year"] = [harm_text(x) for x in e["expected_harm"]]
        v["risk band"] = e["band"]
        v[LABEL] = [summary_text(r) for r in e.to_dict("records")]
        v["different victims"] = e["distinct_victims"]
    elif "score" in e.columns and not e["score"].equals(e["risk"]):
        v["score"] = e["score"]
    if "linked_high_risk_suspects" in e.columns:
        v["linked high-risk suspects"] = e["linked_high_risk_suspects"]
    v["last allegation" if kind == "offenders" else "last offence against them"] = \
        pd.to_datetime(e["last_event_at"]).dt.strftime("%Y-%m-%d").fillna("")
    v["why (main factors)"] = e["top_factors"]
    return v


def _latest(con: duckdb.DuckDBPyConnection, kind: str) -> pd.Series | None:
    df = stored_lists(con, kind)
    return None if df.empty else df.sort_values(["as_of", "refreshed_at"]).iloc[-1]


def _transparency_link(con: duckdb.DuckDBPyConnection, version: str) -> str:
    """Where the list's transparency record is (every list links to one), or how to make it."""
    if as_engine(con).has_table("transparency_records"):
        rows = con.execute("SELECT html_path FROM transparency_records WHERE model_version = ?", [version]).fetchall()
        if rows and rows[0][0]:
            return str(rows[0][0])
    return "no transparency record has been published for this list yet"


def export_lists(con: duckdb.DuckDBPyConnection, out_dir: str | Path, *, top: int = 100, pdf: bool = False) -> dict[str, Path]:
    """The latest offenders and victims lists (and the offenders churn) as CSV and HTML in ``out_dir``.

    Returns the written paths by name. Raises when no list is stored.
    """
    from harmlens.csvsafe import write_csv
    from harmlens.reports import render_html, table_html, write_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    found = False
    for kind, cols in (("offenders", OFFENDER_COLUMNS), ("victims", VICTIM_COLUMNS)):
        row = _latest(con, kind)
        if row is None:
            continue
        found = True
        e = list_entries(con, row["list_id"]).head(top)
        e = e.rename(columns={"linked_suspects": "linked_high_risk_suspects"})[cols]
        csv = out / f"{kind}.csv"
        write_csv(e, csv, date_format="%Y-%m-%d")
        written[f"{kind}_csv"] = csv
        meta: dict[str, Any] = {"as of": f"{pd.Timestamp(row['as_of']):%Y-%m-%d} (events before this date)",
                                "method": row["method"], "list": row["list_id"],
                                "expires": f"{pd.Timestamp(row['expires_at']):%Y-%m-%d} unless refreshed"}
        if isinstance(row["model_version"], str):
            meta["model version"] = row["model_version"]
        meta["transparency record"] = _transparency_link(con, row["model_version"] if isinstance(row["model_version"], str) else row["method"])
        body = ["<p>Allegations are not findings of guilt: every entry shows its evidence, what became of each "
                "allegation, and the factors behind it. Chances are rounded to what the model's validation supports; "
                "expected harm is in days of custody equivalent (Cambridge Crime Harm Index).</p>",
                table_html(_readable(kind, e), plain=False)]
        ch = list_changes(con, row["list_id"])
        if len(ch):
            s = summarise_changes(ch)
            body += [f"<h2>Changes since the previous list</h2><p>{s['new']} new, {s['left']} left, {s['up']} up, "
                     f"{s['down']} down, {s['same']} unchanged.</p>", table_html(ch[ch["change"] != "same"])]
            chp = out / f"{kind}_changes.csv"
            write_csv(ch, chp)
            written[f"{kind}_changes_csv"] = chp
        title = "Priority offenders at large" if kind == "offenders" else "Victims most at risk"
        paths = write_report(render_html(title, "\n".join(body), meta=meta), out, kind, pdf=pdf)
        written.update({f"{kind}_{k}": v for k, v in paths.items()})
    if not found:
        raise RankError("no stored list to export: run 'harmlens rank' or 'harmlens victims' first")
    return written
