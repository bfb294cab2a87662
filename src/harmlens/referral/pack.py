"""Partner referral packs: HTML and PDF with only the fields the partner needs, recorded."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from duckdb import DuckDBPyConnection

from harmlens.engine import Engine, as_engine
from harmlens.errors import HarmlensError
from harmlens.referral.fields import FIELD_LABELS, PARTNER_FIELDS, PARTNER_LABELS

LOOKBACK_DAYS = 1095


class ReferralError(HarmlensError):
    """Unknown partner or person, missing purpose, or a warehouse not linked yet."""


@dataclass(frozen=True)
class Pack:
    pack_id: str
    person_id: str
    partner: str
    fields: tuple[str, ...]
    facts: dict[str, Any]
    paths: dict[str, Path]
    hashes: dict[str, str]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _d(v: Any) -> str | None:
    return None if v is None or pd.isna(v) else pd.Timestamp(v).date().isoformat()


def model_card_reference(con: Engine | DuckDBPyConnection) -> str:
    """The promoted (else newest) model's card path from the risk registry, or 'no model trained'."""
    try:
        from harmlens.risk.registry import get_model
    except ImportError:
        return "no model trained"
    try:
        rec = get_model(con)
    except (HarmlensError, duckdb.Error):
        return "no model trained"
    card = rec.get("card_html") or rec.get("card_md")
    # The version only: the card's file path is a server detail no partner may see.
    return f"model {rec.get('version')}" + ("" if card else " (no card recorded)")


def person_facts(con: Engine | DuckDBPyConnection, person_id: str, as_of: str | date | datetime) -> dict[str, Any]:
    """Every fact any partner may receive, computed once; the pack then keeps only its partner's fields."""
    eng = as_engine(con)
    from harmlens.harm.baselines import as_of_timestamp
    from harmlens.harm.custody import at_large

    t = as_of_timestamp(as_of)
    start = t - pd.Timedelta(days=LOOKBACK_DAYS)
    if not as_engine(con).has_table("links"):
        raise ReferralError("the warehouse has no links table: run 'harmlens link' first")
    known = eng.scalar("SELECT count(*) FROM links WHERE person_id = ?", [person_id])
    if not known:
        raise ReferralError(f"unknown person {person_id!r}")
    from harmlens.harm.baselines import evidence, harm_source, suspect_offences
    from harmlens.harm.offence_map import stale_offences

    # event_harm as applied when it is current; else the built-in map with CCHI, computed on the fly
    weights = None if stale_offences(con) == 0 else "cchi"
    facts: dict[str, Any] = {"person_id": person_id, "as_of": t.date().isoformat()}
    with harm_source(con, weights) as (harm, _name):
        rows = con.execute(
            f"""
            SELECT DISTINCT e.event_id, e.occurred_at, COALESCE(e.domestic, FALSE) AS domestic,
                   CASE WHEN p.role IN ('suspect', 'offender') THEN 'suspect' ELSE p.role END AS side,
                   h.offence_category AS category, COALESCE(h.vawg, FALSE) AS vawg
            FROM people p JOIN links l ON l.mention_id = p.mention_id JOIN events e ON e.event_id = p.event_id
            LEFT JOIN {harm} h ON h.event_id = e.event_id
            WHERE l.person_id = $pid AND e.event_type = 'offence' AND p.role IN ('suspect', 'offender', 'victim')
              AND e.occurred_at >= $start AND e.occurred_at < $t AND (e.reported_at IS NULL OR e.reported_at < $t)
            """,
            {"pid": person_id, "start": start, "t": t},
        ).df()
        evs = {}
        for days in (LOOKBACK_DAYS, 365):
            so = suspect_offences(con, harm, t, days, "vawg")
            try:
                ev = evidence(con, so, t)
            finally:
                eng.execute(f"DROP TABLE IF EXISTS {so}")
            evs[days] = ev[ev["person_id"] == person_id]
    sus = rows[(rows["side"] == "suspect") & rows["vawg"].astype(bool)]
    vic = rows[rows["side"] == "victim"]
    me, me365 = evs[LOOKBACK_DAYS], evs[365]
    # the counts every screen shows (harm/evidence.py), with what became of each allegation
    from harmlens.harm.evidence import evidence_table, summary_text

    mine = evidence_table(con, t, [person_id]).loc[str(person_id)]
    facts["suspect_allegations"] = summary_text(mine)
    facts["suspect_last_offence"] = _d(sus["occurred_at"].max()) if len(sus) else "none"
    facts["suspect_categories"] = ", ".join(f"{c} ({k})" for c, k in sus["category"].value_counts().sort_index().items()) or "none"
    facts["suspect_charges"] = int(mine["charges"])
    facts["suspect_convictions"] = int(mine["convictions"])
    facts["distinct_victims"] = int(mine["distinct_victims"])
    facts["harm_sum_365d"] = float(me365["harm_sum"].iloc[0]) if len(me365) else 0.0
    facts["domestic_incidents"] = int(rows[rows["domestic"].astype(bool)]["event_id"].nunique())
    facts["victim_offences"] = int(vic["event_id"].nunique())
    facts["victim_last_offence"] = _d(vic["occurred_at"].max()) if len(vic) else "none"
    facts["victim_suspects"] = int(
        con.execute(
            """
            SELECT count(DISTINCT l2.person_id)
            FROM people pv JOIN links lv ON lv.mention_id = pv.mention_id JOIN events e ON e.event_id = pv.event_id
            JOIN people ps ON ps.event_id = e.event_id AND ps.role IN ('suspect', 'offender')
            JOIN links l2 ON l2.mention_id = ps.mention_id
            WHERE lv.person_id = $pid AND pv.role = 'victim' AND e.event_type = 'offence'
              AND e.occurred_at >= $start AND e.occurred_at < $t AND l2.person_id <> $pid
            """,
            {"pid": person_id, "start": start, "t": t},
        ).fetchall()[0][0]
    )
    rel = con.execute(
        """
        SELECT pv.relationship_to_suspect AS r, count(DISTINCT e.event_id) AS n
        FROM people ps JOIN links ls ON ls.mention_id = ps.mention_id JOIN events e ON e.event_id = ps.event_id
        JOIN people pv ON pv.event_id = e.event_id AND pv.role = 'victim'
        WHERE ls.person_id = $pid AND ps.role IN ('suspect', 'offender') AND e.event_type = 'offence'
          AND e.occurred_at >= $start AND e.occurred_at < $t AND pv.relationship_to_suspect IS NOT NULL
        GROUP BY 1 ORDER BY 1
        """,
        {"pid": person_id, "start": start, "t": t},
    ).fetchall()
    facts["victim_relationships"] = ", ".join(f"{r} ({k})" for r, k in rel) or "none recorded"
    orders = con.execute(
        """
        SELECT DISTINCT COALESCE(e.offence_description, 'order') AS what, e.occurred_at, e.ends_at
        FROM people p JOIN links l ON l.mention_id = p.mention_id JOIN events e ON e.event_id = p.event_id
        WHERE l.person_id = $pid AND e.event_type = 'order' AND e.occurred_at <= $t AND (e.ends_at IS NULL OR e.ends_at > $t)
        ORDER BY e.occurred_at
        """,
        {"pid": person_id, "t": t},
    ).fetchall()
    facts["active_orders"] = "; ".join(
        f"{w} from {_d(s)}" + (f" to {_d(e)}" if e is not None and not pd.isna(e) else " (open)") for w, s, e in orders
    ) or "none"
    st = at_large(con, t, [person_id]).iloc[0]
    facts["custody_status"] = "at large" if st["at_large"] else (
        f"{st['reason']}" + (f" until {_d(st['until'])}" if st["until"] is not None and not pd.isna(st["until"]) else "")
    )
    dash = con.execute(
        """
        SELECT r.level, r.assessed_at FROM risk_assessments r JOIN links l ON l.mention_id = r.mention_id
        WHERE l.person_id = $pid AND r.assessed_at < $t ORDER BY r.assessed_at DESC LIMIT 1
        """,
        {"pid": person_id, "t": t},
    ).fetchall()
    facts["latest_dash_level"] = (dash[0][0] or "not recorded") if dash else "no assessment"
    facts["latest_dash_date"] = _d(dash[0][1]) if dash else "none"
    pc = con.execute(
        """
        SELECT upper(trim(p.postcode)) FROM people p JOIN links l ON l.mention_id = p.mention_id JOIN events e ON e.event_id = p.event_id
        WHERE l.person_id = $pid AND p.postcode IS NOT NULL AND trim(p.postcode) <> '' AND e.occurred_at < $t
          AND e.event_type NOT IN ('custody', 'arrest') AND upper(trim(p.postcode)) NOT IN ('NFA', 'UNKNOWN')
        ORDER BY e.occurred_at DESC LIMIT 1
        """,
        {"pid": person_id, "t": t},
    ).fetchall()
    facts["postcode_district"] = pc[0][0].split()[0] if pc and pc[0][0].split() else "not recorded"
    facts["model_card"] = model_card_reference(con)
    return facts


def _render(partner: str, facts: dict[str, Any], fields: tuple[str, ...], made_by: str, pack_id: str) -> str:
    from harmlens.reports import render_html
    from harmlens.reports.render import escape

    rows = "".join(f"<tr><th>{escape(FIELD_LABELS[f])}</th><td>{escape(_show(facts.get(f)))}</td></tr>" for f in fields)
    body = (
        f"<p>Referral to: <strong>{escape(PARTNER_LABELS[partner])}</strong>. This pack holds only the information "
        "this partner type needs. Allegations are not findings of guilt. Handle as OFFICIAL-SENSITIVE; "
        "do not forward.</p>"
        f"<table class=\"data\"><tbody>{rows}</tbody></table>"
        f"<p>Pack {escape(pack_id)}, made {('by ' + escape(made_by)) if made_by else 'at the command line'}. "
        "The making of this pack is recorded.</p>"
    )
    return render_html(
        f"Referral pack: {PARTNER_LABELS[partner]}",
        body,
        subtitle=f"Person {facts['person_id']}",
        meta={"As of": facts["as_of"], "Partner": partner, "Pack": pack_id},
    )


def _show(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.2f}".rstrip("0").rstrip(".")
    return "" if v is None else str(v)


def make_pack(
    con: Engine | DuckDBPyConnection,
    person_id: str,
    partner: str,
    purpose: str,
    *,
    made_by: str,
    out_dir: str | Path,
    as_of: str | date | datetime | None = None,
    pdf: bool = True,
    shown_by: str | None = None,
) -> Pack:
    """Build, write (HTML, and PDF unless ``pdf=False``) and record a referral pack."""
    eng = as_engine(con)
    if partner not in PARTNER_FIELDS:
        raise ReferralError(f"unknown partner {partner!r}: use one of {', '.join(PARTNER_FIELDS)}")
    if not purpose or not purpose.strip():
        raise ReferralError("--purpose is required: say why this partner needs the information")
    if not made_by or not made_by.strip():
        raise ReferralError("--by is required: who is making the referral")
    from harmlens.asof import local_today

    when = as_of or local_today()
    facts = person_facts(con, person_id, when)
    facts["reason"] = purpose.strip()
    fields = PARTNER_FIELDS[partner]
    from harmlens.referral.fields import nothing_needed_message

    refusal = nothing_needed_message(person_id, partner, facts)
    if refusal:
        raise ReferralError(refusal)
    pack_id = f"RP-{uuid.uuid4().hex[:12]}"
    # The pack names the harmlens user who made it (``shown_by``), never an operating-system login.
    html = _render(partner, facts, fields, shown_by or "", pack_id)
    from harmlens.reports import write_report

    paths = write_report(html, out_dir, f"referral_{partner}_{person_id}_{pack_id}", pdf=pdf)
    hashes = {k: _sha256(p) for k, p in paths.items()}
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    eng.execute(
        "INSERT INTO referral_packs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [pack_id, person_id, partner, purpose.strip(), made_by.strip(), now, pd.Timestamp(facts["as_of"]).to_pydatetime(),
         json.dumps(list(fields)), facts["model_card"], str(paths["html"]), hashes["html"],
         str(paths["pdf"]) if "pdf" in paths else None, hashes.get("pdf"), now],
    )
    return Pack(pack_id, person_id, partner, fields, {f: facts.get(f) for f in fields}, paths, hashes)


def packs(con: Engine | DuckDBPyConnection, person_id: str | None = None) -> pd.DataFrame:
    """The record of packs made (optionally for one person), newest first."""
    eng = as_engine(con)
    q = "SELECT pack_id, person_id, partner, purpose, made_by, made_at, as_of, html_sha256, pdf_sha256 FROM referral_packs"
    if person_id:
        return eng.frame(q + " WHERE person_id = ? ORDER BY made_at DESC", [person_id])
    return eng.frame(q + " ORDER BY made_at DESC")
