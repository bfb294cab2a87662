"""train -> registry -> model card -> evaluate -> score -> cohort -> promote, on a small random city."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from harmlens.risk import PipelineError, RegistryError, TrainSettings, evaluate, explain, list_models, load_bundle, promote, score, score_cohort, train
from harmlens.warehouse import connect
from tests.risk.city import load_city, make_city


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("risk")
    db = d / "city.duckdb"
    con = connect(db)
    city = make_city(n_suspects=250, months=72, seed=0)
    load_city(con, city)
    res = train(con, TrainSettings(freq_months=6, n_boot=20))
    yield {"con": con, "db": db, "res": res, "city": city}
    con.close()


def test_train_registers_a_version_with_hash_params_metrics_and_card(trained):
    con, res = trained["con"], trained["res"]
    assert res.version == "v1"
    models = list_models(con)
    assert models["version"].tolist() == ["v1"] and models["status"].tolist() == ["candidate"]
    row = con.execute("SELECT data_hash, params, metrics, data_window FROM models").fetchall()[0]
    assert len(row[0]) == 64
    metrics, window = json.loads(row[2]), json.loads(row[3])
    # temporal holdout: the validation model's training outcomes end by the validation date
    assert pd.Timestamp(window["validation_train_end"]) + pd.Timedelta(days=365) <= pd.Timestamp(window["validation_as_of"])
    assert pd.Timestamp(window["validation_as_of"]) + pd.Timedelta(days=365) <= pd.Timestamp(window["labels_until"]) + pd.Timedelta(days=1)
    val = metrics["validation"]
    assert set(val) >= {"boosting", "logit", "cox"}
    # history predicts the future in this city: every model clearly beats chance
    for m in ("boosting", "logit", "cox"):
        assert val[m]["auc"] > 0.65
    assert res.artifact.exists() and res.card_md.exists() and res.card_html.exists()
    assert res.artifact.parent.parent.name == "city_models"


def test_model_card_has_every_section(trained):
    md = trained["res"].card_md.read_text()
    for head in ("## Intended use", "## Target and label", "## Data window", "## Validation on the holdout date",
                 "## Calibration", "## Statistically tested risk factors", "## Error rates by ethnicity",
                 "## Error rates by sex", "## Error rates by age band", "## Features", "## Known limitations"):
        assert head in md, head
    html = trained["res"].card_html.read_text()
    assert "<svg" in html and "Error rates by ethnicity" in html
    # ethnicity is audited, never an input
    assert "ethnicity" not in json.loads(trained["con"].execute("SELECT features FROM models").fetchall()[0][0])


def test_evaluate_and_out_of_time_note(trained):
    con = trained["con"]
    v = evaluate(con, "2021-06-01", n_boot=10)
    assert v["n"] > 50 and v["positives"] > 0
    assert any("not an out-of-time test" in n for n in v["notes"])
    with pytest.raises(PipelineError, match="not all recorded"):
        evaluate(con, "2022-12-01")


def test_score_orders_by_risk_with_evidence_and_factors(trained):
    con, city = trained["con"], trained["city"]
    s = score(con, "2023-01-01")
    assert s["risk"].is_monotonic_decreasing
    assert s["risk"].between(0, 1).all()
    assert (s["expected_harm"] >= 0).all()
    assert {"allegations", "charges", "convictions", "last_event_at", "top_factors", "model_version"} <= set(s.columns)
    assert (s["top_factors"] != "").all()
    # the people the model ranks highest really offend more (written-down truth)
    truth = city["truth"].set_index("person_id")["rate"]
    top, rest = s["person_id"].head(30), s["person_id"].iloc[30:]
    assert truth.reindex(top).mean() > 2 * truth.reindex(rest).mean()
    stored = con.execute("SELECT count(*) FROM risk_scores WHERE version = 'v1'").fetchall()[0][0]
    assert stored == len(s)


def test_explain_in_words(trained):
    con = trained["con"]
    bundle, _ = load_bundle(con)
    from harmlens.features import build_features

    X = build_features(con, "2023-01-01")
    top = score(con, "2023-01-01", save=False)["person_id"].iloc[0]
    factors = explain(bundle.model, X.loc[[top], bundle.features])
    assert factors and all(isinstance(w, str) and "(typical" in w and ("raised" in w or "lowered" in w) for _, _, w in factors)
    assert abs(factors[0][1]) >= abs(factors[-1][1])
    lg = explain(bundle.models["logit"], X.loc[[top], bundle.features])
    assert "log-odds" in lg[0][2]


def test_cohort_by_mention_and_person(trained):
    con = trained["con"]
    m = con.execute("SELECT p.mention_id, l.person_id FROM people p JOIN links l USING (mention_id) "
                    "JOIN events e USING (event_id) WHERE p.role = 'suspect' ORDER BY e.occurred_at LIMIT 1").fetchall()[0]
    cohort = pd.DataFrame({"mention_id": [m[0], m[0], "nope"], "as_of": ["2023-01-01", "2000-01-01", "2023-01-01"]})
    out = score_cohort(con, cohort)
    assert out["mention_id"].tolist() == [m[0], m[0], "nope"]
    assert out.loc[0, "person_id"] == m[1] and 0 <= out.loc[0, "risk"] <= 1 and out.loc[0, "reason"] == ""
    assert "not in the scored population" in out.loc[1, "reason"] and np.isnan(out.loc[1, "risk"])
    assert out.loc[2, "reason"] == "mention not linked to a person"
    byp = score_cohort(con, pd.DataFrame({"person_id": [m[1]], "as_of": ["2023-01-01"]}))
    assert byp.loc[0, "risk"] == pytest.approx(out.loc[0, "risk"])


def test_a_recorded_death_makes_the_risk_zero(trained):
    """Nobody offends after death: the model's learnt risk is overruled, everyone else's is untouched."""
    con = trained["con"]
    before = score(con, "2023-01-01", save=False).set_index("person_id")["risk"]
    top = before.index[0]
    con.execute("INSERT INTO events (event_id, source, event_type, occurred_at) VALUES ('DEATH1', 'coroner', 'death', '2022-12-01')")
    con.execute("INSERT INTO people (mention_id, event_id, role) VALUES ('MDEATH1', 'DEATH1', 'subject')")
    con.execute("INSERT INTO links (mention_id, person_id, method, linked_at) VALUES ('MDEATH1', ?, 'test', now())", [top])
    try:
        after = score(con, "2023-01-01", save=False).set_index("person_id")["risk"]
        assert before[top] > 0.1 and after[top] == 0
        assert after.drop(top).sort_index().equals(before.drop(top).sort_index())
    finally:
        con.execute("DELETE FROM links WHERE mention_id = 'MDEATH1'")
        con.execute("DELETE FROM people WHERE mention_id = 'MDEATH1'")
        con.execute("DELETE FROM events WHERE event_id = 'DEATH1'")


def test_promote_and_tamper_detection(trained, tmp_path):
    con = trained["con"]
    assert promote(con, "v1") is None
    assert list_models(con)["status"].tolist() == ["promoted"]
    with pytest.raises(RegistryError, match="no model version"):
        promote(con, "v9")
    art = trained["res"].artifact
    original = art.read_bytes()
    try:
        art.write_bytes(original + b"x")
        with pytest.raises(RegistryError, match="sha256"):
            load_bundle(con, "v1")
    finally:
        art.write_bytes(original)


def test_cli_models_score_and_errors(trained, tmp_path):
    from harmlens.cli import app

    trained["con"].close()
    try:
        r = CliRunner()
        db = str(trained["db"])
        out = r.invoke(app, ["models", "list", "--db", db])
        assert out.exit_code == 0 and "v1" in out.output
        out = r.invoke(app, ["models", "show", "v1", "--db", db, "--card"])
        assert out.exit_code == 0 and "# Model card" in out.output
        out = r.invoke(app, ["score", "--as-of", "2023-01-01", "--db", db, "--top", "5", "--format", "csv"])
        assert out.exit_code == 0
        lines = out.output.strip().splitlines()
        assert lines[0].startswith("person_id,as_of,risk") and len(lines) == 6
        cohort = tmp_path / "cohort.csv"
        cohort.write_text("person_id,as_of\nS1,2023-01-01\n")
        out = r.invoke(app, ["score", "--cohort", str(cohort), "--db", db, "--format", "json"])
        assert out.exit_code == 0 and json.loads(out.output)[0]["person_id"] == "S1"
        out = r.invoke(app, ["risk", "explain", "S1", "--as-of", "2023-01-01", "--db", db, "--top", "3"])
        assert out.exit_code == 0, out.output
        assert "risk" in out.output and "allegations" in out.output and out.output.count("\n- ") == 3
        out = r.invoke(app, ["risk", "explain", "nobody", "--as-of", "2023-01-01", "--db", db])
        assert out.exit_code != 0 and "not in the scored population" in str(out.exception)
        bad = tmp_path / "bad.csv"
        bad.write_text("who,as_of\nS1,2023-01-01\n")
        out = r.invoke(app, ["score", "--cohort", str(bad), "--db", db])
        assert out.exit_code != 0 and "person_id or mention_id" in str(out.exception or out.output)
    finally:
        trained["con"] = connect(trained["db"])


def test_not_enough_history_is_a_clear_error(warehouse):
    city = make_city(n_suspects=40, months=18, seed=1)
    load_city(warehouse, city)
    with pytest.raises(PipelineError, match="not enough history"):
        train(warehouse, TrainSettings(n_boot=0))


def test_score_evidence_agrees_with_the_list(trained):
    """`harmlens score` counts evidence by the one definition of lists and profiles (harm/evidence.py)."""
    from harmlens.rank import build_offender_list
    from harmlens.rank.offenders import RiskRankSettings

    con = trained["con"]
    s = score(con, "2023-01-01", explain_top=0, save=False).set_index("person_id")
    lst = build_offender_list(con, "2023-01-01", settings=RiskRankSettings(save=False, explain_top=0))["entries"].set_index("person_id")
    both = lst.index.intersection(s.index)
    assert len(both) >= 20
    for col in ("allegations", "charges", "convictions"):
        assert (s.loc[both, col].astype(int).to_numpy() == lst.loc[both, col].astype(int).to_numpy()).all(), col
    assert s["evidence"].str.contains(" VAWG allegations? in the last 3 years \\(\\d+ convicted; ", regex=True).all()
