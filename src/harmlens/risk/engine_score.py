"""Scoring everyone on an engine that holds more than one machine can (Spark on a lake).

:func:`harmlens.risk.pipeline.score` on the embedded warehouse reads every person's features
into pandas. At national scale that frame alone outgrows the driver, so here each part runs where
it belongs:

1. the feature query runs on the engine (the same named SQL steps, translated);
2. the last feature step (a numerical integral per person) and the model's predictions run on
   the engine's workers, batch by batch (:meth:`~harmlens.engine.Engine.map_batches`): the fitted
   model travels to them, the features never come back;
3. only the top ``top`` people come to the driver, with the rows about them
   (:func:`harmlens.harm.driver_subset.listed_on_driver`), for their evidence, the RFH score and
   the top factors: the explanations a reviewer reads;
4. every person's risk is written to ``risk_scores`` on the engine, the top ones with their
   factors (as the embedded path stores them).

The model itself is trained on one machine (a sample is enough for a model of this size); it is
read from the registry as on the embedded warehouse.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from harmlens.engine import Engine

RISK_SCHEMA = {"person_id": "VARCHAR", "risk": "DOUBLE", "expected_harm": "DOUBLE"}
"""Columns of the per-person risk table the workers write."""


def _predictor(bundle: Any):
    """A batch function for the workers: raw feature rows -> person_id, risk, expected_harm.

    A module-level factory (not a closure over the caller's frame) so only the bundle travels."""
    from harmlens.features import finish_features

    def predict(batch: pd.DataFrame) -> pd.DataFrame:
        X = finish_features(batch)
        risk = bundle.predict_risk(X) if len(X) else np.zeros(0)
        return pd.DataFrame({"person_id": X.index.astype(str), "risk": np.asarray(risk, dtype=float),
                             "expected_harm": np.asarray(bundle.expected_harm(risk), dtype=float)})

    return predict


def score_on_engine(eng: Engine, at: datetime, *, bundle: Any, version: str, top: int, save: bool = True) -> tuple[pd.DataFrame, int]:
    """Risk for the whole scored population as of ``at``; returns (the top ``top`` rows with
    their explanations, highest first, in the columns of :func:`harmlens.risk.pipeline.score`;
    how many people were scored)."""
    from harmlens.features.core import check_warehouse, features_pipeline

    check_warehouse(eng)
    uid = uuid.uuid4().hex[:10]
    feat, risk, ids = f"_score_features_{uid}", f"_score_risk_{uid}", f"_score_top_{uid}"
    made: list[str] = []
    try:
        eng.run(features_pipeline(eng, at), into=feat, temporary=True)
        made.append(feat)
        eng.map_batches(feat, _predictor(bundle), RISK_SCHEMA, into=risk)
        made.append(risk)
        n = int(eng.scalar(f"SELECT count(*) FROM {risk}"))
        # ties broken by person id, as the embedded path does
        head = eng.frame(f"SELECT person_id, risk, expected_harm FROM {risk} ORDER BY risk DESC, person_id LIMIT ?", [int(top)])
        head["person_id"] = head["person_id"].astype(str)
        out = _explain(eng, at, head, bundle, feat, ids)
        out["model_version"] = version
        if save:
            _save(eng, at, version, risk, out, ids)
        return out, n
    finally:
        for t in reversed(made):
            eng.drop(t)


def _explain(eng: Engine, at: datetime, head: pd.DataFrame, bundle: Any, feat: str, ids: str) -> pd.DataFrame:
    """Evidence, RFH score and top factors for the people in ``head`` (read on the driver)."""
    from harmlens.features import finish_features
    from harmlens.harm.baselines import rfh_scores
    from harmlens.harm.driver_subset import listed_on_driver
    from harmlens.harm.evidence import evidence_table, summary_text
    from harmlens.risk.explain import top_factors_text

    cols = ["person_id", "as_of", "risk", "expected_harm", "rfgv_score", "allegations", "charges", "convictions",
            "last_event_at", "evidence", "top_factors"]
    if head.empty:
        return pd.DataFrame(columns=cols)
    people = head["person_id"].tolist()
    eng.register_frame(ids, pd.DataFrame({"person_id": pd.Series(people, dtype="string")}))
    try:
        raw = eng.frame(f"SELECT f.* FROM {feat} f WHERE f.person_id IN (SELECT person_id FROM {ids})")
    finally:
        eng.unregister(ids)
    X = finish_features(raw).reindex(people)
    with listed_on_driver(eng, people) as con:
        ev = evidence_table(con, at, people).reindex(people)
        rfh = rfh_scores(con, at)
    rfh_by = rfh.set_index(rfh["person_id"].astype(str))["score"] if len(rfh) else pd.Series(dtype=float)
    return pd.DataFrame({
        "person_id": people, "as_of": f"{at:%Y-%m-%d}", "risk": head["risk"].to_numpy(dtype=float),
        "expected_harm": head["expected_harm"].to_numpy(dtype=float),
        "rfgv_score": rfh_by.reindex(people).fillna(0.0).to_numpy(dtype=float),
        "allegations": ev["allegations"].to_numpy(), "charges": ev["charges"].to_numpy(), "convictions": ev["convictions"].to_numpy(),
        "last_event_at": pd.to_datetime(ev["last_event_at"]).dt.strftime("%Y-%m-%d").to_numpy(),
        "evidence": [summary_text(r) for r in ev.to_dict("records")],
        "top_factors": top_factors_text(bundle.model, X[bundle.features]),
    })[cols]


def _save(eng: Engine, at: datetime, version: str, risk: str, out: pd.DataFrame, ids: str) -> None:
    """Every person's risk into ``risk_scores`` (replacing this version and date), the top ones
    with their factors."""
    factors = out[["person_id", "top_factors"]].astype({"person_id": "string", "top_factors": "string"})
    eng.register_frame(ids, factors)
    when = pd.Timestamp(at).to_pydatetime()
    now = datetime.utcnow().replace(microsecond=0)
    select = (f"SELECT CAST(? AS VARCHAR) AS version, CAST(? AS TIMESTAMP) AS as_of, r.person_id, r.risk, r.expected_harm, "
              f"NULLIF(f.top_factors, '') AS top_factors, CAST(? AS TIMESTAMP) AS scored_at "
              f"FROM {risk} r LEFT JOIN {ids} f ON f.person_id = r.person_id")
    try:
        with eng.transaction():
            if eng.has_table("risk_scores"):
                eng.execute("DELETE FROM risk_scores WHERE version = ? AND as_of = ?", [version, when])
                eng.execute(f"INSERT INTO risk_scores {select}", [version, when, now])
            else:  # a lake exported before any scoring: the table starts here
                eng.execute(f"CREATE TABLE risk_scores AS {select}", [version, when, now])
    finally:
        eng.unregister(ids)
