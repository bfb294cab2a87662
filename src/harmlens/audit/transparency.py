"""A transparency record in the style of the UK Algorithmic Transparency Recording Standard (ATRS).

Built from the same facts as the model card: the registry row of the model (target, data window,
features, validation metrics, data hash) and the card's fixed text (intended use, not-for list,
limitations) from ``harmlens.risk.card``, plus the latest audit of a list made with it (flags,
group error rates). Nothing is typed in twice, so the record cannot drift from the card.

Sections follow ATRS tier 1 (summary for the public) and tier 2 (owner, description and
rationale, decision-making process, tool and model specification, data, risks and mitigations).
Fields only the deploying organisation can answer (its name, senior responsible owner, contact)
come from ``organisation`` and are marked "to be completed by the deploying organisation"
when not given: the record says what it does not know rather than inventing it.
"""

from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from typing import Any
from duckdb import DuckDBPyConnection

from harmlens.engine import Engine, as_engine

__all__ = ["build_record", "record_markdown", "record_html", "store_record", "ATRS_VERSION"]

ATRS_VERSION = "ATRS v3.0 (UK Algorithmic Transparency Recording Standard), structure followed"
TO_COMPLETE = "to be completed by the deploying organisation"

V100_DESCRIPTION = (
    "A rule, not a trained model: the summed Cambridge Crime Harm Index weight (days of custody) of the VAWG "
    "allegations naming each person in the 365 days before the list date, highest first (the Met's V100 method)."
)


def _card_text() -> tuple[str, list[str], list[str]]:
    try:
        from harmlens.risk.card import INTENDED_USE, LIMITATIONS, NOT_FOR
    except ImportError:  # the risk area is optional for table-mode users
        return ("Decision support for human review of people suspected of violence against women and girls.",
                ["Automatic decisions of any kind."], ["The label is recorded offending, not offending."])
    return INTENDED_USE, list(NOT_FOR), list(LIMITATIONS)


def build_record(model: dict[str, Any] | None, audit: Any = None, *,
                 organisation: dict[str, str] | None = None) -> dict[str, Any]:
    """The record as a JSON-safe dict of sections -> fields.

    ``model`` is a registry row (``harmlens.risk.registry.get_model``) or None for the V100 rule;
    ``audit`` an ``AuditResult`` of a list made with it (optional).
    """
    org = dict(organisation or {})
    intended, not_for, limits = _card_text()
    target = (model or {}).get("target") or {}
    window = (model or {}).get("data_window") or {}
    metrics = (model or {}).get("metrics") or {}
    feats = (model or {}).get("features") or []
    if isinstance(feats, dict):
        feats = list(feats)
    primary = metrics.get("primary") or (model or {}).get("primary_model")
    val = (metrics.get("validation") or {}).get(primary or "", {})
    version = (model or {}).get("version")
    name = f"harmlens VAWG priority list (risk model {version})" if version else "harmlens VAWG priority list (V100 rule)"
    perf = _performance_words(val, int(metrics.get("validation_n") or (metrics.get("validation") or {}).get("n") or 0))
    flags = [f["text"] for f in getattr(audit, "flags", [])] if audit is not None else []
    near = [f["text"] for f in getattr(audit, "near_misses", [])] if audit is not None else []
    rec: dict[str, Any] = {
        "standard": ATRS_VERSION,
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "model_version": version,
        "tier_1": {
            "name": name,
            "description": (
                "Ranks people recorded as suspects of violence against women and girls so that analysts and "
                "partner agencies can choose whom to review first. Each entry shows why (factors), on what evidence "
                "(allegations, charges, convictions) and as of when."),
            "how_it_is_used": intended,
            "why_it_is_used": ("Serious and repeat VAWG perpetrators are a small share of suspects but cause most "
                               "of the harm; a consistent, audited ranking helps target scarce proactive resources."),
            "contact": org.get("contact", TO_COMPLETE),
        },
        "owner_and_responsibility": {
            "organisation": org.get("organisation", TO_COMPLETE),
            "team": org.get("team", TO_COMPLETE),
            "senior_responsible_owner": org.get("senior_responsible_owner", TO_COMPLETE),
            "supplier": "harmlens (open source); configured and run by the organisation",
        },
        "description_and_rationale": {
            "detailed_description": (V100_DESCRIPTION if not version else
                                     f"Predicts the probability that a person is named in a {target.get('category')} "
                                     f"offence ({target.get('threshold')}) within {target.get('horizon_days')} days; "
                                     "people at large are ranked by risk times expected harm."),
            "scope": "People with a suspect or offender record before the list date; never anyone else.",
            "not_for": not_for,
            "alternatives_considered": "V100 (harm sum) and RFH (recency, frequency, harm) matrices, "
                                       "compared side by side at validation.",
        },
        "decision_making_process": {
            "process_integration": "The list is an input to a human tasking meeting (e.g. MATAC); it triggers nothing.",
            "information_provided": ("Rank, chance of a VAWG allegation within a year, expected harm (days of custody "
                                     "equivalent), the main factors in words, the VAWG allegations of the last 3 years with "
                                     "what became of each (convicted, charged and awaiting trial, acquitted, no further action, "
                                     "victim withdrew, ongoing), last allegation date."),
            "harm_policy_by_outcome": _harm_policy(),
            "human_decisions_and_review": "An analyst checks each entry against the records before any action; "
                                          "entries expire and are re-made each cycle.",
            "appeals_and_review": org.get("appeals", TO_COMPLETE),
        },
        "tool_specification": {
            "model_name": name,
            "model_version": version or "v100 rule",
            "model_task": "binary risk prediction and ranking" if version else "ranking by recorded harm",
            "model_inputs": ([_input_words(f) for f in feats] if feats
                             else ["VAWG allegations in the last 365 days and their harm weights (Cambridge Crime Harm Index)"]),
            "model_output": "probability within the horizon; expected harm; rank" if version else "harm sum; rank",
            "model_architecture": primary or "rule",
            "model_performance": perf or "not validated (rule)",
            "data_window": window,
            "training_data_sha256": (model or {}).get("data_hash"),
        },
        "data_specification": {
            "source_data": "Police records in the POLE shape (events, people mentioned in them), linked into persons.",
            "sensitive_attributes": ("Self-defined ethnicity, sex and age are held for the audit only; ethnicity and "
                                     "other protected characteristics are never model inputs."),
            "completeness_and_representativeness": ("Records cover reported and recorded offending only; reporting "
                                                    "and recording differ between groups and areas."),
            "retention": org.get("retention", "list entries expire at the next cycle; source records follow MoPI"),
        },
        "risks_mitigations_and_impact": {
            "impact_assessments": org.get("impact_assessments", TO_COMPLETE + " (DPIA and equality impact assessment)"),
            "risks": limits,
            "mitigations": [
                "Bias audit of every list (harmlens audit): error rates, calibration and list composition by "
                "ethnicity, age band, sex and borough with 95% intervals; proxy scan; label bias; outcome monitoring.",
                "Human review of every entry; every count of allegations is shown with what became of each.",
                "Every view and export is recorded in a tamper-evident access log.",
            ],
            "latest_audit": ({"list": getattr(audit, "list_id", None), "as_of": getattr(audit, "as_of", None),
                              "headline": _headline(audit, flags, near),
                              "flags": flags or ["none"], "near_misses": near or ["none"]}
                             if audit is not None else "no audit run yet"),
        },
    }
    return rec


def _harm_policy() -> str:
    try:
        from harmlens.harm.policy import DEFAULT_POLICY
    except ImportError:
        return "every allegation counts (V100 definition)"
    return DEFAULT_POLICY.describe()


def _input_words(feature: str) -> str:
    """A model input in plain words with its unit, for the public record."""
    from harmlens.features.catalogue import label, unit

    u = unit(feature)
    return f"{label(feature)} ({u})" if u and u not in ("yes/no",) else label(feature)


def _performance_words(val: dict[str, Any], n: int) -> str:
    """Validation figures in plain words; measures "at k" only where k is at most a fifth of the people validated."""
    from harmlens.features.catalogue import label

    parts = []
    for k, v in (val or {}).items():
        if not isinstance(v, (int, float)):
            continue
        _, at, kk = str(k).partition("@")
        if at and kk.isdigit() and not (n and int(kk) <= 0.2 * n):
            continue
        parts.append(f"{label(str(k))}: {v:.2f}")
    return "; ".join(parts) + (f" (on {n:,} people at the holdout date)" if n and parts else "")


def _key(k: Any) -> str:
    from harmlens.features.catalogue import label

    return label(str(k))


def _headline(audit: Any, flags: list[str], near: list[str]) -> str:
    # the same sentence as the audit report's, so the public record cannot say "nothing flagged"
    # while a listed disparity's interval excludes parity
    from harmlens.audit.core import headline

    h = getattr(audit, "headline", None)
    if isinstance(h, str):
        return h
    if callable(h):
        return h()
    return headline(list(getattr(audit, "flags", [])), list(getattr(audit, "near_misses", [])))


def _fmt_value(v: Any) -> str:
    if isinstance(v, list):
        return "\n".join(f"- {x}" for x in v) if v else "(none)"
    if isinstance(v, dict):
        return "\n".join(f"- {_key(k)}: {json.dumps(x) if isinstance(x, (dict, list)) else x}" for k, x in v.items())
    return "" if v is None else str(v)


def record_markdown(rec: dict[str, Any]) -> str:
    lines = [f"# Algorithmic transparency record: {rec['tier_1']['name']}", "",
             f"{rec['standard']}. Generated {rec['generated_at']} from the model registry and the latest audit.", ""]
    for section, fields in rec.items():
        if not isinstance(fields, dict) or section in ("standard",):
            continue
        lines += [f"## {section.replace('_', ' ').capitalize()}", ""]
        for k, v in fields.items():
            txt = _fmt_value(v)
            lines += [f"**{k.replace('_', ' ')}**", "", txt, ""]
    return "\n".join(lines)


def record_html(rec: dict[str, Any]) -> str:
    """The record body as HTML (for ``harmlens.reports.render_html``)."""
    esc = html.escape
    parts = [f"<p>{esc(rec['standard'])}. Generated {esc(rec['generated_at'])} from the model registry and the "
             "latest audit, so it states the same facts as the model card.</p>"]
    for section, fields in rec.items():
        if not isinstance(fields, dict):
            continue
        parts.append(f"<h2>{esc(section.replace('_', ' ').capitalize())}</h2><dl>")
        for k, v in fields.items():
            if isinstance(v, list):
                val = "<ul>" + "".join(f"<li>{esc(str(x))}</li>" for x in v) + "</ul>"
            elif isinstance(v, dict):
                val = "<ul>" + "".join(f"<li>{esc(_key(a))}: {esc(_fmt_value(b))}</li>" for a, b in v.items()) + "</ul>"
            else:
                val = esc("" if v is None else str(v))
                if TO_COMPLETE in str(v):
                    val = f"<em>{val}</em>"
            parts.append(f"<dt><strong>{esc(k.replace('_', ' '))}</strong></dt><dd>{val}</dd>")
        parts.append("</dl>")
    return "\n".join(parts)


def store_record(con: Engine | DuckDBPyConnection, rec: dict[str, Any], *, html_path: str | None = None) -> None:
    """Keep the record in the warehouse (table ``transparency_records``) so lists can link to it."""
    eng = as_engine(con)
    key = rec.get("model_version") or "v100"
    eng.execute("DELETE FROM transparency_records WHERE model_version = ?", [key])
    eng.execute("INSERT INTO transparency_records VALUES (?, ?, ?, ?, ?)",
                [key, datetime.now(timezone.utc).replace(tzinfo=None), json.dumps(rec), record_markdown(rec),
                 html_path])
