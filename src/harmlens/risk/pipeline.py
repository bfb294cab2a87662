"""The forecast pipeline on the warehouse: train, evaluate, score.

Time line of ``train`` (``h`` = horizon, ``end`` = last recorded event, or ``--until``):

* validation date ``V = end - h``: the last date whose outcomes are fully observed;
* validation model: trained on monthly snapshots from ``start`` to ``V - h`` (their outcomes are
  all known by ``V``), then scored on everyone in the population on ``V`` and compared with the
  V100 and RFH baselines on the same people (temporal holdout: nothing after ``V`` was seen);
* registered model: refitted on snapshots from ``start`` to ``V`` (outcomes known by ``end``),
  for scoring dates at or after ``end``.

``evaluate`` repeats the holdout comparison for any registered version on any date whose
horizon is observed; ``score`` applies a version as of a date, or to a cohort file.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
from duckdb import DuckDBPyConnection

from harmlens.engine import Engine, as_engine
from harmlens.errors import HarmlensError

log = logging.getLogger(__name__)

MODEL_NAMES = ("logit", "boosting", "cox")
DEFAULT_KS = (100, 1000)


class PipelineError(HarmlensError):
    """The warehouse cannot support the requested training, evaluation or scoring."""


@dataclass(frozen=True)
class TrainSettings:
    """How to train: target definition, snapshot window and models."""

    horizon_days: int = 365
    category: str = "vawg"
    threshold: str = "allegation"
    freq_months: int = 1
    start: str | None = None
    until: str | None = None
    models: tuple[str, ...] = MODEL_NAMES
    primary: str = "boosting"
    backend: str = "lightgbm"
    calibration: str = "sigmoid"
    n_boot: int = 200
    seed: int = 0
    flag_top: int = 1000
    validate: bool = True
    refit: bool = True
    # "drop": train only on snapshots whose whole horizon is observed; "ipcw": also the last
    # horizon's snapshots, their labels censored at the training end and weighted (risk/censoring.py);
    # "hazard": those snapshots too, the boosting as a discrete-time hazard model (risk/hazard.py)
    censoring: str = "drop"


@dataclass
class TrainResult:
    version: str
    artifact: Path
    card_md: Path | None
    card_html: Path | None
    n_rows: int
    n_people: int
    metrics: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    validation: dict[str, pd.DataFrame] = field(default_factory=dict)


def _day(d: Any) -> datetime:
    from harmlens.features import parse_as_of

    try:
        return parse_as_of(d)
    except HarmlensError:
        raise
    except Exception as exc:
        raise PipelineError(f"not a date: {d!r}") from exc


def _month_start_after(d: datetime) -> datetime:
    ts = pd.Timestamp(d)
    first = ts.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first if first == ts else first + pd.DateOffset(months=1)).to_pydatetime()


CENSORING = ("drop", "ipcw", "hazard")


def training_rows(y: pd.Series, meta: pd.DataFrame, follow_end: datetime, settings: TrainSettings) -> tuple[np.ndarray, pd.Series, pd.DataFrame, np.ndarray | None]:
    """The snapshot rows a model trained on ``follow_end`` may learn from, with labels as known then.

    Rows are those dated before ``follow_end``. With ``censoring="drop"`` only those whose horizon
    ends by ``follow_end`` (weights None); with ``"ipcw"`` also the later ones, each label cut at
    ``follow_end`` and the rows weighted by inverse probability of censoring (weight 0 where the
    label is unknown: the Cox model still uses those rows, as censored follow-up); with ``"hazard"``
    the same rows and labels, no weights (the hazard model uses each row's follow-up).
    Returns the row positions, labels, meta (``days_to_event`` and ``followup_days`` censored too) and weights.
    """
    from harmlens.risk.censoring import ipcw_weights

    h = float(settings.horizon_days)
    as_of = pd.to_datetime(meta["as_of"])
    fe = pd.Timestamp(follow_end)
    if settings.censoring == "drop":
        pos = np.flatnonzero((as_of + pd.Timedelta(days=h) <= fe).to_numpy())
        return pos, y.iloc[pos].reset_index(drop=True), meta.iloc[pos].reset_index(drop=True), None
    if settings.censoring not in CENSORING:
        raise PipelineError(f"unknown censoring {settings.censoring!r}: choose from {', '.join(CENSORING)}")
    pos = np.flatnonzero((as_of < fe).to_numpy())
    m = meta.iloc[pos].reset_index(drop=True).copy()
    seen = ((fe - pd.to_datetime(m["as_of"])).dt.total_seconds() / 86400.0).to_numpy()
    follow = np.minimum(m["followup_days"].to_numpy(dtype=float) if "followup_days" in m else h, np.minimum(seen, h))
    T = m["days_to_event"].to_numpy(dtype=float)
    T = np.where(T < follow, T, np.nan)  # an outcome on or after follow_end is not known on it
    label, w = ipcw_weights(T, follow, h)
    m["days_to_event"], m["followup_days"] = T, follow
    return pos, pd.Series(label, name="label"), m, (w if settings.censoring == "ipcw" else None)


def fit_models(X: pd.DataFrame, y: pd.Series, meta: pd.DataFrame, settings: TrainSettings,
               weights: np.ndarray | None = None) -> dict[str, Any]:
    """Fit the requested estimators on stacked snapshots (person ids as clusters/groups).

    ``weights`` (IPCW, see ``training_rows``) weight the logit and the boosting; the Cox model
    needs none: it takes each row's follow-up as its censored duration."""
    from harmlens.risk.estimators import CalibratedBoosting, RiskFactorLogit, TimeToOffenceCox

    X_all, y_all, meta_all = X, y, meta
    hazard = settings.censoring == "hazard"
    if hazard and "followup_days" in meta:
        # the logit has no use for a cut-short follow-up: it keeps the fully followed rows
        weights = (meta["followup_days"].to_numpy(dtype=float) >= settings.horizon_days).astype(float)
    if weights is not None:
        known = np.flatnonzero(np.asarray(weights) > 0)
        X, y, meta = X.iloc[known].reset_index(drop=True), y.iloc[known].reset_index(drop=True), meta.iloc[known].reset_index(drop=True)
        weights = np.asarray(weights)[known]
    groups = meta["person_id"].to_numpy()
    out: dict[str, Any] = {}
    for name in settings.models:
        t = time.perf_counter()
        if name == "logit":
            out[name] = RiskFactorLogit(random_state=settings.seed).fit(X, y, groups=groups, sample_weight=weights)
        elif name == "boosting":
            # small trees, slow learning, big leaves: the scored population is a few thousand people, and on
            # the synthetic city these settings beat the estimator defaults (holdout AUC 0.874 vs 0.845,
            # 1 s vs 14 s; see docs/risk.md)
            # Platt (sigmoid) calibration, not isotonic: isotonic steps fitted on a fifth of a few hundred
            # people gave exact 0s and 1s and tied the top of the list (ties are then broken at random).
            # Cross-fitted over 5 person folds (the estimator's default): every person trains four boosters
            # and calibrates with the fifth's out-of-fold score (AUC/oracle 0.936 -> 0.938 mean of 3 seeds)
            kw = dict(backend=settings.backend, learning_rate=0.05, max_leaf_nodes=8, min_samples_leaf=100,
                      calibration=settings.calibration, random_state=settings.seed)
            if hazard:
                from harmlens.risk.hazard import HazardBoosting

                out[name] = HazardBoosting(horizon_days=settings.horizon_days, booster=kw).fit(
                    X_all, y_all, days_to_event=meta_all["days_to_event"].to_numpy(dtype=float),
                    followup_days=meta_all["followup_days"].to_numpy(dtype=float), groups=meta_all["person_id"].to_numpy())
            else:
                out[name] = CalibratedBoosting(**kw).fit(X, y, groups=groups, sample_weight=None if weights is None else weights)
        elif name == "cox":
            # every row, unweighted: a follow-up cut short is an ordinary censored duration for Cox
            dur = meta_all["days_to_event"].to_numpy(dtype=float)
            if "followup_days" in meta_all:
                dur = np.where(np.isnan(dur), meta_all["followup_days"].to_numpy(dtype=float), dur)
            out[name] = TimeToOffenceCox(horizon_days=settings.horizon_days, random_state=settings.seed).fit(X_all, y_all, durations=dur)
        else:
            raise PipelineError(f"unknown model {name!r}: choose from {', '.join(MODEL_NAMES)}")
        log.info("fitted %s in %.1fs", name, time.perf_counter() - t)
    return out


def baseline_scores(con: Engine | DuckDBPyConnection, as_of: datetime, index: pd.Index) -> tuple[dict[str, np.ndarray], list[str]]:
    """V100 and RFH scores (harm area) for the people in ``index``; 0 for people they do not list."""
    notes: list[str] = []
    out: dict[str, np.ndarray] = {}
    try:
        import harmlens.harm as harm
    except ImportError:
        return out, ["the harm area is not installed: no V100/RFH baselines"]
    for name, fn_name in (("V100", "v100_scores"), ("RFH", "rfh_scores")):
        fn = getattr(harm, fn_name, None)
        if fn is None:
            notes.append(f"harmlens.harm.{fn_name} is not available: no {name} baseline")
            continue
        df = fn(con, as_of)
        out[name] = _score_series(df, name).reindex(index.astype(str)).fillna(0.0).to_numpy(dtype=float)
    return out, notes


def _score_series(df: Any, name: str) -> pd.Series:
    if isinstance(df, pd.Series):
        s = df
    else:
        d = df.set_index("person_id") if "person_id" in getattr(df, "columns", []) else df
        prefer = [c for c in d.columns if c.lower() in ("score", "rfh_score", "v100_score", "rfh", "harm", "harm_365d", "rfgv_score")]
        numeric = [c for c in d.columns if pd.api.types.is_numeric_dtype(d[c]) and c.lower() not in ("rank",)]
        if not prefer and not numeric:
            raise PipelineError(f"the {name} baseline returned no numeric score column")
        s = d["score"] if "score" in d.columns else d[(prefer or numeric)[0]]
    s = pd.to_numeric(s, errors="coerce")
    s.index = s.index.astype(str)
    return s


def person_groups(con: Engine | DuckDBPyConnection, person_ids: Sequence[Any], as_of: datetime) -> pd.DataFrame:
    """Ethnicity group, sex and age band per person, for the error rates in the model card only
    (never a model input). The audit's own grouping is used so that the card and the audit
    put every person in the same group."""
    from harmlens.groupmetrics.groups import person_groups as audit_groups

    g = audit_groups(con, person_ids, as_of)
    return pd.DataFrame({"ethnicity": g["ethnicity"].to_numpy(), "sex": g["sex"].to_numpy(),
                         "age band": g["age_band"].to_numpy()}, index=g.index)


def _severity(risk: np.ndarray, y: np.ndarray, harm: np.ndarray, n_bins: int = 10) -> tuple[list[float], list[float]]:
    """Mean harm of what followed, among those with an outcome, by tenth of predicted risk."""
    pos = y == 1
    if pos.sum() == 0:
        return [], []
    edges = np.unique(np.quantile(risk, np.linspace(0, 1, n_bins + 1)[:-1]))
    b = np.clip(np.searchsorted(edges, risk, side="right") - 1, 0, len(edges) - 1)
    overall = float(harm[pos].mean())
    means = []
    for i in range(len(edges)):
        m = pos & (b == i)
        # few positives in a bin: shrink to the overall mean so one case does not set the bin
        n = int(m.sum())
        means.append(float((harm[m].sum() + 20 * overall) / (n + 20)))
    return [float(e) for e in edges], means


def validate_at(con: Engine | DuckDBPyConnection, models: dict[str, Any], primary: str, as_of: datetime, settings: TrainSettings, features: Sequence[str]) -> dict[str, Any]:
    """Score everyone on ``as_of`` with each model and the baselines; outcomes in the horizon after."""
    from harmlens.features import build_features, build_labels, data_end
    from harmlens.risk.metrics import calibration_table, compare_with_baselines, error_rates_by_group

    last = data_end(con)
    notes: list[str] = []
    horizon_end = as_of + pd.Timedelta(days=settings.horizon_days)
    # the last recorded event falls a little before the end of the period an extract covers, so a
    # shortfall of up to a month is a note, not an error
    if last is not None and last < horizon_end <= last + pd.Timedelta(days=31):
        notes.append(f"the last recorded event ({last:%Y-%m-%d}) is {(horizon_end - last).days} days before the end of the outcome "
                     f"window ({horizon_end:%Y-%m-%d}): outcomes in those days may be missing")
    elif last is None or horizon_end > last:
        raise PipelineError(
            f"outcomes for {as_of:%Y-%m-%d} + {settings.horizon_days} days are not all recorded yet (data end "
            f"{'none' if last is None else f'{last:%Y-%m-%d}'}): evaluate an earlier date")
    X = build_features(con, as_of)
    if X.empty:
        raise PipelineError(f"nobody is in the scored population on {as_of:%Y-%m-%d}")
    L = build_labels(con, as_of, settings.horizon_days, settings.category, settings.threshold).reindex(X.index)
    y = L["label"].fillna(0).to_numpy(dtype=int)
    harm = L["harm_next"].fillna(0).to_numpy(dtype=float)
    if y.sum() == 0:
        raise PipelineError(f"no {settings.category} outcome in the {settings.horizon_days} days after {as_of:%Y-%m-%d}: nothing to validate against")
    from harmlens.risk.registry import structural_zeros

    scores = {primary: structural_zeros(X, models[primary].predict_proba(X[list(features)])[:, 1])}
    for n, m in models.items():
        if n != primary:
            scores[n] = structural_zeros(X, m.predict_proba(X[list(features)])[:, 1])
    base, bnotes = baseline_scores(con, as_of, X.index)
    notes += bnotes
    scores.update(base)
    cmp = compare_with_baselines(y, scores, reference=primary, harm_next=harm, ks=DEFAULT_KS, n_boot=settings.n_boot, seed=settings.seed)
    cal = calibration_table(y, scores[primary])
    from harmlens.risk.bands import derive_bands

    bands = derive_bands(scores[primary], y)
    k = min(settings.flag_top, max(1, len(y) // 10))
    order = np.lexsort((np.random.default_rng(settings.seed).random(len(y)), -scores[primary]))
    flagged = np.zeros(len(y), dtype=bool)
    flagged[order[:k]] = True
    groups = person_groups(con, X.index, as_of)
    by_group = {attr: error_rates_by_group(y, scores[primary], groups[attr].to_numpy(), flagged=flagged) for attr in groups.columns}
    return {"as_of": as_of, "n": int(len(y)), "positives": int(y.sum()), "compare": cmp, "calibration": cal, "bands": bands,
            "groups": by_group, "flag_rule": f"the top {k:,} by predicted risk", "notes": notes}


def _metrics_json(cmp: dict[str, pd.DataFrame]) -> dict[str, Any]:
    long = cmp["metrics"]
    out: dict[str, Any] = {}
    for (score, metric), v in long.set_index(["score", "metric"])["value"].items():
        out.setdefault(score, {})[metric] = None if pd.isna(v) else float(v)
    return out


def train(con: Engine | DuckDBPyConnection, settings: TrainSettings = TrainSettings(), *, models_folder: str | Path | None = None) -> TrainResult:
    """Train, validate on a temporal holdout, write the model card, and register a new version."""
    eng = as_engine(con)
    from harmlens.features import FEATURES, data_end, snapshot_dataset
    from harmlens.risk import card as card_mod
    from harmlens.risk import registry

    if settings.primary not in settings.models:
        raise PipelineError(f"the primary model {settings.primary!r} is not among the models trained ({', '.join(settings.models)})")
    if settings.censoring not in CENSORING:
        raise PipelineError(f"unknown censoring {settings.censoring!r}: choose from {', '.join(CENSORING)}")
    if settings.censoring != "drop" and settings.threshold != "allegation":
        # a charge or conviction is known only when decided, often long after the offence: a label cut at the
        # training end would need those decision dates (and the offence's current outcome field has none)
        raise PipelineError(f"--censoring {settings.censoring} needs --threshold allegation: court decisions after the cut would leak into the labels")
    timings: dict[str, float] = {}
    last = data_end(con)
    if last is None:
        raise PipelineError("the warehouse has no events: run 'harmlens ingest' (and link, harm apply) first")
    end = _day(settings.until) if settings.until else last
    if end > last:
        raise PipelineError(f"--until {end:%Y-%m-%d} is after the last recorded event ({last:%Y-%m-%d})")
    h = pd.Timedelta(days=settings.horizon_days)
    first = eng.scalar("SELECT min(occurred_at) FROM events")
    start = _day(settings.start) if settings.start else _month_start_after(first + pd.Timedelta(days=365))
    V = (pd.Timestamp(end) - h).normalize().to_pydatetime()
    val_train_end = (pd.Timestamp(V) - h).to_pydatetime()
    fit_end = V if settings.refit or not settings.validate else val_train_end
    need_end = val_train_end if settings.validate else fit_end
    if need_end < start:
        raise PipelineError(
            f"not enough history: training snapshots from {start:%Y-%m-%d} must end by {need_end:%Y-%m-%d} so that "
            f"{'validation and ' if settings.validate else ''}outcomes {settings.horizon_days} days later are recorded "
            f"(data end {end:%Y-%m-%d}); pass an earlier --start, a shorter --horizon, or --no-validate")
    ipcw = settings.censoring != "drop"  # snapshots into the last horizon, labels cut at its end
    # follow-up of the final fit ends on the training end (ipcw) or the horizon after its last snapshot (drop)
    follow_end = end if ipcw and (settings.refit or not settings.validate) else (
        V if ipcw else (pd.Timestamp(fit_end) + h).to_pydatetime())
    snap_end = (pd.Timestamp(follow_end) - pd.Timedelta(days=1)).to_pydatetime() if ipcw else fit_end
    t = time.perf_counter()
    X_all, y_all, meta_all = snapshot_dataset(con, start, snap_end, freq_months=settings.freq_months, horizon_days=settings.horizon_days,
                                              category=settings.category, threshold=settings.threshold,
                                              allow_censored=ipcw, censor_at=follow_end if ipcw else None)
    timings["snapshots_s"] = time.perf_counter() - t
    features = list(X_all.columns)
    if y_all.nunique() < 2:
        raise PipelineError("the training snapshots have only one outcome class: nothing to learn (check the category and horizon)")
    validation: dict[str, Any] | None = None
    if settings.validate:
        # the validation model knows only what was recorded before V
        sel, vy, vmeta, vw = training_rows(y_all, meta_all, V, settings)
        if vy[vw > 0 if vw is not None else slice(None)].nunique() < 2:
            raise PipelineError("the validation training window has only one outcome class: pass an earlier --start")
        t = time.perf_counter()
        vmodels = fit_models(X_all.iloc[sel].reset_index(drop=True), vy, vmeta, settings, weights=vw)
        timings["fit_validation_s"] = time.perf_counter() - t
        t = time.perf_counter()
        validation = validate_at(con, vmodels, settings.primary, V, settings, features)
        timings["validate_s"] = time.perf_counter() - t
    sel, y, meta, w = training_rows(y_all, meta_all, follow_end, settings)
    X = X_all.iloc[sel].reset_index(drop=True)
    t = time.perf_counter()
    models = fit_models(X, y, meta, settings, weights=w) if (settings.refit or not settings.validate) else vmodels
    timings["fit_s"] = time.perf_counter() - t
    # severity by risk from fully followed rows only: a cut-short follow-up undercounts the harm that followed
    full = (meta["followup_days"].to_numpy(dtype=float) >= settings.horizon_days) if "followup_days" in meta else np.ones(len(y), bool)
    risk = models[settings.primary].predict_proba(X[full])[:, 1]
    edges, means = _severity(risk, y.to_numpy()[full], meta["harm_next"].to_numpy()[full])
    if w is not None:  # the card, hash and counts describe the rows the model learnt from
        X, y, meta = X[w > 0].reset_index(drop=True), y[w > 0].reset_index(drop=True), meta[w > 0].reset_index(drop=True)
    # with ipcw the snapshots run to the month before the training end (labels cut there)
    last_snap = pd.Timestamp(meta["as_of"].max()) if ipcw and len(meta) else pd.Timestamp(fit_end)
    val_last = pd.Timestamp(vmeta["as_of"].max()) if ipcw and settings.validate else pd.Timestamp(val_train_end)
    window = {"train_start": f"{start:%Y-%m-%d}", "train_end": f"{last_snap:%Y-%m-%d}", "labels_until": f"{end:%Y-%m-%d}",
              "censoring": settings.censoring,
              "freq_months": settings.freq_months, "validation_as_of": f"{V:%Y-%m-%d}" if settings.validate else None,
              "validation_train_end": f"{val_last:%Y-%m-%d}" if settings.validate else None}
    target = {"category": settings.category, "horizon_days": settings.horizon_days, "threshold": settings.threshold}
    bundle = registry.RiskBundle(models=models, primary=settings.primary, features=features, target=target, window=window,
                                 severity_edges=edges, severity_means=means,
                                 bands=validation["bands"] if validation is not None else [])
    version = registry.next_version(con)
    folder = registry.models_dir(con, models_folder) / version
    dhash = registry.data_hash(X, y, meta[["person_id", "as_of"]].astype(str))
    params = {"models": ",".join(settings.models), "primary": settings.primary, "backend": settings.backend,
              "calibration": settings.calibration, "seed": settings.seed, "censoring": settings.censoring,
              "freq_months": settings.freq_months, "n_boot": settings.n_boot}
    metrics: dict[str, Any] = {"primary": settings.primary, "n_train_rows": int(len(y)), "n_train_people": int(meta["person_id"].nunique()),
                               "train_prevalence": float(y.mean()), "timings_s": {k: round(v, 2) for k, v in timings.items()}}
    if validation is not None:
        metrics["validation"] = _metrics_json(validation["compare"])
        metrics["validation_as_of"] = f"{V:%Y-%m-%d}"
        metrics["validation_n"] = validation["n"]
        metrics["bands"] = validation["bands"]
        metrics["differences"] = validation["compare"]["differences"].to_dict(orient="records")
    artifact, sha = registry.save_bundle(bundle, folder)
    ci = card_mod.CardInputs(
        version=version, created_at=f"{datetime.utcnow():%Y-%m-%d %H:%M}", primary=settings.primary, target=target, window=window,
        data_hash=dhash, n_train_rows=int(len(y)), n_train_people=int(meta["person_id"].nunique()), train_prevalence=float(y.mean()),
        features={f: FEATURES.get(f, f) for f in features}, params=params,
        validation_wide=validation["compare"]["wide"] if validation else None,
        differences=validation["compare"]["differences"] if validation else None,
        calibration=validation["calibration"] if validation else None,
        bands=validation["bands"] if validation else [],
        inference=models["logit"].inference_table_ if "logit" in models else None,
        groups=validation["groups"] if validation else {}, flag_rule=validation["flag_rule"] if validation else "",
        notes=(validation["notes"] if validation else ["No temporal validation was run for this version (--no-validate)."]),
        n_boot=settings.n_boot, validation_n=validation["n"] if validation else 0, validation_positives=validation["positives"] if validation else 0,
    )
    md, html_path = card_mod.write_card(ci, folder)
    registry.register(con, version=version, bundle=bundle, artifact=artifact, artifact_sha256=sha, data_hash_=dhash,
                      params=params, metrics=metrics, card_md=md, card_html=html_path)
    if validation is not None:
        _store_evaluation(con, version, validation)
    return TrainResult(version=version, artifact=artifact, card_md=md, card_html=html_path, n_rows=int(len(y)),
                       n_people=int(meta["person_id"].nunique()), metrics=metrics, timings=timings,
                       validation=validation["compare"] if validation else {})


def _store_evaluation(con: Engine | DuckDBPyConnection, version: str, v: dict[str, Any]) -> None:
    eng = as_engine(con)
    import json

    eng.execute("DELETE FROM model_evaluations WHERE version = ? AND as_of = ?", [version, v["as_of"]])
    eng.execute("INSERT INTO model_evaluations VALUES (?, ?, ?, ?, ?, ?, ?)", [
        version, v["as_of"], datetime.utcnow(), v["n"], v["positives"], json.dumps(_metrics_json(v["compare"])),
        v["compare"]["differences"].to_json(orient="records")])


def evaluate(con: Engine | DuckDBPyConnection, as_of: Any, *, version: str | None = None, n_boot: int = 200, seed: int = 0) -> dict[str, Any]:
    """Temporal validation of a registered version on a date: every model in it and the baselines."""
    from harmlens.risk import registry

    bundle, rec = registry.load_bundle(con, version)
    at = _day(as_of)
    tr_end = pd.Timestamp(bundle.window["train_end"]) + pd.Timedelta(days=int(bundle.target["horizon_days"]))
    notes = []
    if pd.Timestamp(at) < tr_end:
        notes.append(f"{at:%Y-%m-%d} is before the end of the training outcomes ({tr_end:%Y-%m-%d}): this is not an out-of-time test")
    settings = TrainSettings(horizon_days=int(bundle.target["horizon_days"]), category=bundle.target["category"],
                             threshold=bundle.target["threshold"], n_boot=n_boot, seed=seed)
    v = validate_at(con, bundle.models, bundle.primary, at, settings, bundle.features)
    v["notes"] = notes + v["notes"]
    v["version"] = rec["version"]
    _store_evaluation(con, rec["version"], v)
    return v


def score(con: Engine | DuckDBPyConnection, as_of: Any, *, version: str | None = None, person_ids: Sequence[Any] | None = None,
          explain_top: int | None = 1000, save: bool = True) -> pd.DataFrame:
    """Risk for every person in the scored population as of a date (or the given people).

    Returns one row per person, highest risk first: person_id, as_of, risk, expected_harm,
    rfgv_score (RFH baseline score, when the harm area provides it), allegations, charges,
    convictions, last_event_at and ``evidence`` (the count with its outcomes, in words): the one
    evidence definition of lists, profiles and packs (harm/evidence.py: VAWG allegations in the
    last 3 years), top_factors, model_version.

    On an engine other than DuckDB (Spark on a lake) everyone is scored there and saved to
    ``risk_scores``; only the top ``explain_top`` rows (default 1000) come back, and
    ``attrs["scored"]`` says how many people were scored (:mod:`harmlens.risk.engine_score`).
    """
    from harmlens.features import build_features
    from harmlens.harm.evidence import evidence_table, summary_text
    from harmlens.risk import registry
    from harmlens.risk.explain import top_factors_text

    bundle, rec = registry.load_bundle(con, version)
    at = _day(as_of)
    eng = as_engine(con)
    if eng.name != "duckdb":
        # a lake may hold more people than the driver: score them where they are, bring back the top
        if person_ids is not None:
            raise PipelineError(f"scoring chosen people (a cohort) runs on the embedded warehouse, not on {eng.name}: "
                                "score everyone as of a date, or import the lake ('harmlens lake import')")
        from harmlens.risk.engine_score import score_on_engine

        head, n = score_on_engine(eng, at, bundle=bundle, version=rec["version"], top=explain_top or 1000, save=save)
        head.attrs["scored"] = n
        return head
    X = build_features(con, at, person_ids)
    if X.empty:
        return pd.DataFrame(columns=["person_id", "as_of", "risk", "expected_harm", "rfgv_score", "allegations", "charges",
                                     "convictions", "last_event_at", "evidence", "top_factors", "model_version"])
    risk = bundle.predict_risk(X)
    ev = evidence_table(con, at, X.index).reindex(X.index.astype(str))
    base, _ = baseline_scores(con, at, X.index)
    out = pd.DataFrame({
        "person_id": X.index.astype(str), "as_of": f"{at:%Y-%m-%d}", "risk": risk, "expected_harm": bundle.expected_harm(risk),
        "rfgv_score": base.get("RFH", np.full(len(X), np.nan)),
        "allegations": ev["allegations"].to_numpy(), "charges": ev["charges"].to_numpy(), "convictions": ev["convictions"].to_numpy(),
        "last_event_at": pd.to_datetime(ev["last_event_at"]).dt.strftime("%Y-%m-%d").to_numpy(),
        "evidence": [summary_text(r) for r in ev.to_dict("records")],
    })
    order = np.lexsort((out["person_id"].to_numpy(), -out["risk"].to_numpy()))
    out = out.iloc[order].reset_index(drop=True)
    n_explain = len(out) if explain_top is None else min(explain_top, len(out))
    texts = [""] * len(out)
    if n_explain:
        Xe = X.iloc[order[:n_explain]]
        texts[:n_explain] = top_factors_text(bundle.model, Xe[bundle.features])
    out["top_factors"] = texts
    out["model_version"] = rec["version"]
    if save:
        _save_scores(con, rec["version"], at, out)
    return out


def _save_scores(con: Engine | DuckDBPyConnection, version: str, at: datetime, out: pd.DataFrame) -> None:
    eng = as_engine(con)
    rows = pd.DataFrame({"version": version, "as_of": pd.Timestamp(at), "person_id": out["person_id"], "risk": out["risk"],
                         "expected_harm": out["expected_harm"], "top_factors": out["top_factors"].replace("", None),
                         "scored_at": pd.Timestamp(datetime.utcnow())})
    eng.register_frame("_risk_scores_new", rows)
    try:
        with as_engine(con).transaction():
            eng.execute("DELETE FROM risk_scores WHERE version = ? AND as_of = ?", [version, pd.Timestamp(at).to_pydatetime()])
            eng.execute("INSERT INTO risk_scores SELECT version, as_of, person_id, risk, expected_harm, top_factors, scored_at FROM _risk_scores_new")
    finally:
        eng.unregister("_risk_scores_new")


def read_cohort(path: str | Path) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise PipelineError(f"no such cohort file: {p}")
    try:
        df = pd.read_parquet(p) if p.suffix.lower() == ".parquet" else pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])
    except Exception as exc:
        raise PipelineError(f"cannot read cohort file {p}: {str(exc).splitlines()[0]}") from exc
    id_cols = [c for c in ("person_id", "mention_id") if c in df.columns]
    if len(id_cols) != 1:
        raise PipelineError("the cohort file needs exactly one of the columns person_id or mention_id")
    if "as_of" not in df.columns:
        raise PipelineError("the cohort file needs an as_of column (the date to score each row as of)")
    return df


def score_cohort(con: Engine | DuckDBPyConnection, cohort: pd.DataFrame, *, version: str | None = None) -> pd.DataFrame:
    """Score each cohort row (person_id or mention_id, as_of) as of its own date.

    Rows whose person is not in the scored population on that date (no suspect or offender
    record before it), whose mention is not linked, or whose date does not parse get no risk and
    a ``reason``.
    """
    eng = as_engine(con)
    from harmlens.features import parse_as_of

    id_col = "person_id" if "person_id" in cohort.columns else "mention_id"
    df = cohort.reset_index(drop=True).copy()
    df["_row"] = np.arange(len(df))
    if id_col == "mention_id":
        m = df[["mention_id"]].astype(str).drop_duplicates()
        eng.register_frame("_risk_cohort_mentions", m)
        try:
            links = eng.frame("SELECT l.mention_id, CAST(l.person_id AS VARCHAR) AS person_id FROM links l "
                                "JOIN _risk_cohort_mentions c ON c.mention_id = l.mention_id")
        finally:
            eng.unregister("_risk_cohort_mentions")
        df = df.merge(links, on="mention_id", how="left")
    else:
        df["person_id"] = df["person_id"].astype(str)
    dates = []
    for v in df["as_of"]:
        try:
            dates.append(parse_as_of(v))
        except Exception:
            dates.append(None)
    df["_as_of"] = pd.to_datetime(pd.Series(dates, dtype=object))
    parts = []
    valid = df[df["_as_of"].notna() & df["person_id"].notna()]
    for at, part in valid.groupby("_as_of"):
        s = score(con, at, version=version, person_ids=part["person_id"].unique().tolist(), explain_top=None, save=False)
        if len(s):
            parts.append(s.drop(columns=["as_of"]).assign(_as_of=pd.Timestamp(at)))
    cols = ["person_id", "_as_of", "risk", "expected_harm", "rfgv_score", "allegations", "charges", "convictions",
            "last_event_at", "top_factors", "model_version"]
    scored = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame({c: pd.Series(dtype=float) for c in cols})
    scored["_as_of"] = pd.to_datetime(scored["_as_of"])
    scored["person_id"] = scored["person_id"].astype(object)
    out = df.merge(scored[cols], on=["person_id", "_as_of"], how="left").sort_values("_row").reset_index(drop=True)
    reason = pd.Series("", index=out.index, dtype=object)
    reason[out["_as_of"].isna()] = "as_of is not a date"
    if id_col == "mention_id":
        reason[(reason == "") & out["person_id"].isna()] = "mention not linked to a person"
    reason[(reason == "") & out["risk"].isna()] = "not in the scored population on as_of (no suspect or offender record before it)"
    out["reason"] = reason
    keep = [id_col] + (["person_id"] if id_col == "mention_id" else []) + ["as_of", "risk", "expected_harm", "rfgv_score", "allegations",
                                                                            "charges", "convictions", "last_event_at", "evidence", "top_factors", "model_version", "reason"]
    return out.sort_values("_row")[[c for c in keep if c in out.columns]].reset_index(drop=True)


def explain_person(con: Engine | DuckDBPyConnection, person_id: str, as_of: Any, *, version: str | None = None, top: int = 8) -> dict[str, Any]:
    """Why one person has the risk they have on a date: risk, evidence, and the factors in words."""
    from harmlens.features import build_features
    from harmlens.harm.evidence import evidence_table, summary_text
    from harmlens.risk import registry
    from harmlens.risk.explain import explain

    bundle, rec = registry.load_bundle(con, version)
    at = _day(as_of)
    X = build_features(con, at, [person_id])
    if X.empty:
        raise PipelineError(f"person {person_id} is not in the scored population on {at:%Y-%m-%d} (no suspect or offender record before it)")
    risk = float(bundle.predict_risk(X)[0])
    ev = evidence_table(con, at, [person_id]).iloc[0]
    evidence: dict[str, Any] = {k: (None if pd.isna(v) else (str(v)[:10] if k == "last_event_at" else int(v))) for k, v in ev.items()}
    evidence["text"] = summary_text(ev)
    return {"person_id": person_id, "as_of": f"{at:%Y-%m-%d}", "model_version": rec["version"], "risk": risk,
            "target": bundle.target, "evidence": evidence,
            "factors": explain(bundle.model, X[bundle.features], top=top)}
