"""The transparency record states the model card's facts and the latest audit's flags, and invents nothing."""

from __future__ import annotations

import json

from harmlens.audit.transparency import TO_COMPLETE, build_record, record_html, record_markdown, store_record


MODEL = {
    "version": "v7",
    "primary_model": "boosting",
    "target": {"category": "vawg", "horizon_days": 365, "threshold": "allegation"},
    "data_window": {"train_start": "2020-01-01", "train_end": "2023-06-01"},
    "data_hash": "abc123",
    "features": ["n_vawg_365d", "harm_vawg_365d"],
    "metrics": {"primary": "boosting", "validation": {"boosting": {"auc": 0.81, "ece": 0.02}}},
}


class _Audit:
    list_id = "offenders:risk:2024-01-01"
    as_of = "2024-01-01"
    flags = [{"text": "ethnicity Black: 25.1% of the list vs 13.5% of residents"}]


def test_record_from_card_facts_and_audit():
    rec = build_record(MODEL, _Audit(), organisation={"organisation": "Example Police"})
    spec = rec["tool_specification"]
    assert spec["model_version"] == "v7" and spec["training_data_sha256"] == "abc123"
    # in plain words with their units: the public reads this record
    assert spec["model_inputs"] == ["VAWG allegations in the last year (allegations)",
                                    "harm of VAWG allegations in the last year (days of custody equivalent, Cambridge Crime Harm Index)"]
    assert "ranking accuracy (AUC): 0.81" in spec["model_performance"] and "calibration error: 0.02" in spec["model_performance"]
    assert "counts nothing when acquitted" in rec["decision_making_process"]["harm_policy_by_outcome"]
    assert "vawg offence (allegation) within 365 days" in rec["description_and_rationale"]["detailed_description"]
    from harmlens.risk.card import INTENDED_USE, LIMITATIONS

    assert rec["tier_1"]["how_it_is_used"] == INTENDED_USE
    assert rec["risks_mitigations_and_impact"]["risks"] == LIMITATIONS
    assert rec["risks_mitigations_and_impact"]["latest_audit"]["flags"] == [_Audit.flags[0]["text"]]
    assert rec["owner_and_responsibility"]["organisation"] == "Example Police"
    assert rec["owner_and_responsibility"]["senior_responsible_owner"] == TO_COMPLETE
    md = record_markdown(rec)
    assert "## Tool specification" in md and "abc123" in md
    assert "train_start" not in md and "n_vawg_365d" not in md and "train start: 2020-01-01" in md
    assert "<em>to be completed" in record_html(rec)
    json.dumps(rec)


def test_v100_rule_record_and_store(warehouse):
    rec = build_record(None, None)
    assert rec["model_version"] is None
    assert rec["tool_specification"]["model_version"] == "v100 rule"
    assert rec["risks_mitigations_and_impact"]["latest_audit"] == "no audit run yet"
    store_record(warehouse, rec)
    store_record(warehouse, rec)  # replaced, not duplicated
    rows = warehouse.execute("SELECT model_version, record FROM transparency_records").fetchall()
    assert len(rows) == 1 and rows[0][0] == "v100" and json.loads(rows[0][1])["tier_1"]["name"].endswith("(V100 rule)")


def test_transparency_command(tmp_path):
    from typer.testing import CliRunner

    from harmlens.cli import app
    from harmlens.warehouse import connect

    db = tmp_path / "wh.duckdb"
    connect(db).close()
    out = tmp_path / "rec"
    res = CliRunner().invoke(app, ["transparency", "--db", str(db), "--out", str(out), "--format", "html,json",
                                   "--organisation", "Example Police", "--contact", "foi@example.org"])
    assert res.exit_code == 0, res.output
    rec = json.loads((out / "transparency.json").read_text())
    assert rec["tier_1"]["contact"] == "foi@example.org"
    assert rec["tool_specification"]["model_version"] == "v100 rule"  # no model registered
    assert "Example Police" in (out / "transparency.html").read_text()
    con = connect(db)
    try:
        assert con.execute("SELECT model_version FROM transparency_records").fetchall() == [("v100",)]
    finally:
        con.close()
