"""Victims most at risk: women and children likely to be victimised again, and children in a
household with a high-risk suspect.

The scored population as of a date is every linked person named as ``victim`` in a known VAWG
offence (before the date), whose recorded sex is female or unknown, or who is under 18. Sex only
sets the scope (violence against women and girls); it is never a model input.

Two scorers, validated the same way (temporal holdout, precision at k):

* ``rules``: transparent points, for when data is thin: prior victimisation (more and more
  recent counts more), DASH level, being repeatedly victimised by the same suspect or a partner,
  and being linked to a high-risk suspect;
* ``model``: a penalised logistic regression on the same point-in-time victim features, trained
  on monthly snapshots whose outcomes are fully observed before the validation date.

``high-risk suspect``: a suspect of one of the victim's offences in the last 3 years with
offender-model risk of at least ``high_risk`` (default 0.25) when a model is registered; without
a model, a suspect with 2+ VAWG allegations in the last year or 2+ victims in 3 years.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from harmlens.engine import as_engine
from harmlens.features.catalogue import RECENCY_CAP_DAYS
from harmlens.rank.lists import RankError, compute_changes, list_entries, previous_list, save_list

log = logging.getLogger(__name__)

VICTIM_FEATURES: dict[str, str] = {
    "victimised_90d": "Times named as victim of a VAWG offence in the 90 days before",
    "victimised_365d": "Times named as victim of a VAWG offence in the year before",
    "victimised_3y": "Times named as victim of a VAWG offence in the 3 years before",
    "victimised_ever": "Times named as victim of a VAWG offence, ever",
    "harm_suffered_365d": "Total harm of VAWG offences against them in the year before (days of custody equivalent)",
    "harm_suffered_ever": "Total harm of VAWG offences against them, ever",
    "days_since_last_victimisation": f"Days since the last VAWG offence against them (capped at {RECENCY_CAP_DAYS})",
    "distinct_suspects_ever": "Different suspects named in VAWG offences against them",
    "partner_victimisations": "VAWG offences against them by a partner or ex-partner",
    "max_by_same_suspect": "Most VAWG offences against them by one and the same suspect",
    "dash_max_score": "Highest DASH score recorded for them (0-27; 0 if never assessed)",
    "dash_high": "1 if any DASH assessment of them was high risk (level high or score 14+)",
    "days_since_last_dash": f"Days since their last DASH assessment (capped at {RECENCY_CAP_DAYS})",
    "suspect_max_vawg_365d": "Most VAWG allegations in the last year against any of their suspects (last 3 years)",
    "suspect_max_victims_3y": "Most distinct victims in 3 years of any of their suspects (serial perpetrators)",
    "suspect_max_harm_365d": "Highest VAWG harm in the last year of any of their suspects",
    "suspects_in_custody": "How many of their suspects were in custody on the date",
    "is_child": "1 if under 18 on the date (by recorded date of birth), else 0",
}

_SHORT = {
    "victimised_90d": "victimised in 90 days", "victimised_365d": "victimised in past year",
    "victimised_3y": "victimised in 3 years", "victimised_ever": "victimised ever",
    "harm_suffered_365d": "harm suffered in past year", "harm_suffered_ever": "harm suffered ever",
    "days_since_last_victimisation": "days since last victimisation", "distinct_suspects_ever": "different suspects",
    "partner_victimisations": "by partner/ex-partner", "max_by_same_suspect": "most by one suspect",
    "dash_max_score": "highest DASH score", "dash_high": "DASH high risk", "days_since_last_dash": "days since DASH",
    "suspect_max_vawg_365d": "suspect's VAWG allegations in past year",
    "suspect_max_victims_3y": "suspect's victims in 3 years", "suspect_max_harm_365d": "suspect's VAWG harm in past year",
    "suspects_in_custody": "suspects in custody", "is_child": "child",
}


@dataclass(frozen=True)
class VictimSettings:
    horizon_days: int = 365
    high_risk: float = 0.25
    """Offender-model risk at or above which a suspect counts as high-risk."""
    train_months: int = 24
    """Months of monthly snapshots the model is trained on (ending one horizon before the date)."""
    min_positives: int = 30
    """Fewer re-victimisations than this in training: fall back to the rules."""
    keep: int = 1000
    expiry_days: int = 90
    save: bool = True
    seed: int = 0


DEFAULT = VictimSettings()
MAX_HOUSEHOLD_PERSONS = 12
"""A household_id shared by more distinct people than this is ignored (placeholder or institution)."""


# ---------------------------------------------------------------------------------------------
# features and labels


def _pairs(con: duckdb.DuckDBPyConnection, at: datetime) -> pd.DataFrame:
    """Known VAWG offences with (victim person, suspect person, relationship, harm, time)."""
    from harmlens.features.core import SUSPECT_ROLES

    return con.execute(
        f"""
        WITH ev AS (
            SELECT e.event_id, e.occurred_at, coalesce(h.harm_weight, 0.0) AS harm
            FROM events e JOIN event_harm h ON h.event_id = e.event_id
            WHERE e.event_type = 'offence' AND h.vawg AND e.occurred_at < $as_of
              AND (e.reported_at IS NULL OR e.reported_at < $as_of)
        )
        SELECT CAST(lv.person_id AS VARCHAR) AS victim_id, ev.event_id, ev.occurred_at, ev.harm,
               pv.relationship_to_suspect AS rel, CAST(ls.person_id AS VARCHAR) AS suspect_id
        FROM ev
        JOIN people pv ON pv.event_id = ev.event_id AND pv.role = 'victim'
        JOIN links lv ON lv.mention_id = pv.mention_id
        LEFT JOIN people ps ON ps.event_id = ev.event_id AND ps.role IN {SUSPECT_ROLES}
        LEFT JOIN links ls ON ls.mention_id = ps.mention_id
        WHERE ls.person_id IS NULL OR CAST(ls.person_id AS VARCHAR) <> CAST(lv.person_id AS VARCHAR)
        """,
        {"as_of": at},
    ).df()


def _person_facts(con: duckdb.DuckDBPyConnection, at: datetime) -> pd.DataFrame:
    """Per person (from mentions known before the date): recorded sex (most frequent) and DOB."""
    from harmlens.features.core import MIN_PLAUSIBLE_DOB

    return con.execute(
        f"""
        WITH m AS (
            SELECT CAST(l.person_id AS VARCHAR) AS person_id, p.sex, p.date_of_birth
            FROM people p JOIN links l ON l.mention_id = p.mention_id JOIN events e ON e.event_id = p.event_id
            WHERE e.occurred_at < $as_of AND (e.reported_at IS NULL OR e.reported_at < $as_of)
        ),
        s AS (SELECT person_id, sex FROM (
                  SELECT person_id, sex, row_number() OVER (PARTITION BY person_id ORDER BY count(*) DESC, sex) AS rn
                  FROM m WHERE sex IN ('male', 'female', 'other') GROUP BY person_id, sex) WHERE rn = 1),
        d AS (SELECT person_id, dob FROM (
                  SELECT person_id, date_of_birth AS dob,
                         row_number() OVER (PARTITION BY person_id ORDER BY count(*) DESC, date_of_birth) AS rn
                  FROM m WHERE date_of_birth >= DATE '{MIN_PLAUSIBLE_DOB}' AND date_of_birth < CAST($as_of AS DATE)
                  GROUP BY person_id, date_of_birth) WHERE rn = 1)
        SELECT p.person_id, s.sex, d.dob
        FROM (SELECT DISTINCT person_id FROM m) p LEFT JOIN s USING (person_id) LEFT JOIN d USING (person_id)
        """,
        {"as_of": at},
    ).df()


def _suspect_risk(con: duckdb.DuckDBPyConnection, at: datetime, F: pd.DataFrame) -> pd.Series | None:
    """Offender-model risk of every scored suspect, or None when no model is registered."""
    try:
        from harmlens.risk import load_bundle

        bundle, _ = load_bundle(con)
    except Exception as exc:  # no registry table or no model: the rule decides who is high-risk
        log.info("no offender model for suspect risk: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return None
    if F.empty:
        return pd.Series(dtype=float)
    return pd.Series(bundle.predict_risk(F), index=F.index.astype(str))


def victim_features(
    con: duckdb.DuckDBPyConnection, as_of: Any, *, settings: VictimSettings = DEFAULT, with_context: bool = False
) -> pd.DataFrame | tuple[pd.DataFrame, dict[str, Any]]:
    """Point-in-time features of the victim population (index ``person_id``, ``VICTIM_FEATURES`` columns)."""
    from harmlens.features import build_features, parse_as_of
    from harmlens.features.core import check_warehouse

    check_warehouse(con)
    at = parse_as_of(as_of)
    pairs = _pairs(con, at)
    facts = _person_facts(con, at).set_index("person_id")
    S = build_features(con, at)  # suspects' point-in-time features
    ctx: dict[str, Any] = {"as_of": at, "pairs": pairs, "suspect_features": S}
    if pairs.empty:
        F = pd.DataFrame(columns=list(VICTIM_FEATURES), dtype=float)
        F.index.name = "person_id"
        return (F, ctx) if with_context else F
    age = (pd.Timestamp(at) - pd.to_datetime(facts["dob"])).dt.days / 365.25
    sex = facts["sex"]
    victims = pd.Index(pairs["victim_id"].unique())
    child = age.reindex(victims) < 18
    in_scope = (sex.reindex(victims).isin(["female"]) | sex.reindex(victims).isna() | child.fillna(False)).to_numpy()
    victims = victims[in_scope]
    pairs = pairs[pairs["victim_id"].isin(victims)]
    ev = pairs.drop_duplicates(["victim_id", "event_id"])
    days_ago = (pd.Timestamp(at) - pd.to_datetime(ev["occurred_at"])).dt.total_seconds() / 86400.0
    g = ev.assign(d=days_ago.to_numpy())
    F = pd.DataFrame(index=victims)
    F.index.name = "person_id"
    grp = g.groupby("victim_id")
    for name, days in (("victimised_90d", 90), ("victimised_365d", 365), ("victimised_3y", 1095)):
        F[name] = g[g["d"] <= days].groupby("victim_id")["event_id"].nunique()
    F["victimised_ever"] = grp["event_id"].nunique()
    F["harm_suffered_365d"] = g[g["d"] <= 365].groupby("victim_id")["harm"].sum()
    F["harm_suffered_ever"] = grp["harm"].sum()
    F["days_since_last_victimisation"] = grp["d"].min().clip(upper=RECENCY_CAP_DAYS)
    sp = pairs.dropna(subset=["suspect_id"])
    F["distinct_suspects_ever"] = sp.groupby("victim_id")["suspect_id"].nunique()
    F["partner_victimisations"] = (
        pairs[pairs["rel"].isin(["partner", "ex_partner"])].drop_duplicates(["victim_id", "event_id"]).groupby("victim_id").size()
    )
    F["max_by_same_suspect"] = sp.groupby(["victim_id", "suspect_id"])["event_id"].nunique().groupby("victim_id").max()
    # DASH assessments of the person (any of their mentions), before the date
    if as_engine(con).has_table("risk_assessments"):
        ra = con.execute(
            """
            SELECT CAST(l.person_id AS VARCHAR) AS person_id, r.score, r.level, r.assessed_at
            FROM risk_assessments r JOIN links l ON l.mention_id = r.mention_id WHERE r.assessed_at < $as_of
            """,
            {"as_of": at},
        ).df()
    else:
        ra = pd.DataFrame(columns=["person_id", "score", "level", "assessed_at"])
    if len(ra):
        ra["high"] = ((ra["level"] == "high") | (ra["score"].fillna(0) >= 14)).astype(float)
        ra["d"] = (pd.Timestamp(at) - pd.to_datetime(ra["assessed_at"])).dt.total_seconds() / 86400.0
        rg = ra.groupby("person_id")
        F["dash_max_score"] = rg["score"].max()
        F["dash_high"] = rg["high"].max()
        F["days_since_last_dash"] = rg["d"].min().clip(upper=RECENCY_CAP_DAYS)
    # their suspects (last 3 years) and how dangerous those suspects look on the date
    recent = sp.merge(g[["victim_id", "event_id", "d"]], on=["victim_id", "event_id"], how="left")
    recent = recent[recent["d"] <= 1095]
    Sx = S.reindex(recent["suspect_id"].astype(str).to_numpy())
    recent = recent.assign(
        s_vawg=Sx["n_vawg_365d"].to_numpy(), s_vic=Sx["distinct_victims_3y"].to_numpy(),
        s_harm=Sx["harm_vawg_365d"].to_numpy(), s_cust=Sx["in_custody_now"].to_numpy(),
    )
    rg = recent.groupby("victim_id")
    F["suspect_max_vawg_365d"] = rg["s_vawg"].max()
    F["suspect_max_victims_3y"] = rg["s_vic"].max()
    F["suspect_max_harm_365d"] = rg["s_harm"].max()
    F["suspects_in_custody"] = recent.drop_duplicates(["victim_id", "suspect_id"]).groupby("victim_id")["s_cust"].sum()
    F["is_child"] = child.reindex(F.index).fillna(False).astype(float)
    for c in VICTIM_FEATURES:
        if c not in F.columns:
            F[c] = np.nan
    fill_cap = {"days_since_last_victimisation", "days_since_last_dash"}
    for c in VICTIM_FEATURES:
        F[c] = F[c].astype(float).fillna(float(RECENCY_CAP_DAYS) if c in fill_cap else 0.0)
    F = F[list(VICTIM_FEATURES)].sort_index()
    ctx["recent_suspects"] = recent
    return (F, ctx) if with_context else F


def victim_labels(con: duckdb.DuckDBPyConnection, as_of: Any, horizon_days: int = 365, person_ids: Any = None) -> pd.DataFrame:
    """1 if the person is named as victim of a VAWG offence in ``[as_of, as_of + horizon)``."""
    from harmlens.features import parse_as_of

    at = parse_as_of(as_of)
    df = con.execute(
        f"""
        SELECT CAST(l.person_id AS VARCHAR) AS person_id, min(e.occurred_at) AS first_at
        FROM events e JOIN event_harm h ON h.event_id = e.event_id AND h.vawg
        JOIN people p ON p.event_id = e.event_id AND p.role = 'victim'
        JOIN links l ON l.mention_id = p.mention_id
        WHERE e.event_type = 'offence' AND e.occurred_at >= $as_of AND e.occurred_at < $as_of + INTERVAL {int(horizon_days)} DAY
        GROUP BY 1
        """,
        {"as_of": at},
    ).df().set_index("person_id")
    out = pd.DataFrame(index=pd.Index(person_ids if person_ids is not None else df.index, name="person_id"))
    out["label"] = out.index.isin(df.index).astype("int64")
    out["days_to_event"] = ((df["first_at"] - pd.Timestamp(at)).dt.total_seconds() / 86400.0).reindex(out.index)
    return out


# ---------------------------------------------------------------------------------------------
# scorers


def rules_points(F: pd.DataFrame, suspect_high: pd.Series | None = None) -> pd.DataFrame:
    """Transparent points per victim; each column is one rule, ``total`` their sum.

    * prior victimisation: 1 per VAWG offence against them in the last year (at most 3), +1 if any in the last 90 days;
    * DASH: 3 if ever assessed high, 1 if a score of 10-13 (medium);
    * repeat by the same suspect (2+ offences): 1; by a partner or ex-partner: 1;
    * linked to a high-risk suspect (``suspect_high``; else a suspect with 2+ VAWG allegations
      in the last year or 2+ victims in 3 years): 3; a child victim: 1.
    """
    P = pd.DataFrame(index=F.index)
    P["prior"] = F["victimised_365d"].clip(upper=3)
    P["recent"] = (F["victimised_90d"] > 0).astype(float)
    P["dash"] = np.where(F["dash_high"] > 0, 3.0, np.where(F["dash_max_score"] >= 10, 1.0, 0.0))
    P["repeat"] = (F["max_by_same_suspect"] >= 2).astype(float)
    P["partner"] = (F["partner_victimisations"] > 0).astype(float)
    if suspect_high is None:
        high = (F["suspect_max_vawg_365d"] >= 2) | (F["suspect_max_victims_3y"] >= 2)
    else:
        high = suspect_high.reindex(F.index).fillna(False).astype(bool)
    P["high_risk_suspect"] = 3.0 * high.astype(float)
    P["child"] = F["is_child"]
    P["total"] = P.sum(axis=1)
    return P


def _tiebreak_score(points: pd.Series, F: pd.DataFrame) -> np.ndarray:
    # ties broken by recency so the rules give a strict order (recency is itself a documented rule)
    return points.to_numpy(dtype=float) + (1.0 - F["days_since_last_victimisation"].to_numpy(dtype=float) / (RECENCY_CAP_DAYS + 1)) * 0.5


def _transform(F: pd.DataFrame) -> np.ndarray:
    M = F[list(VICTIM_FEATURES)].to_numpy(dtype=float)
    return np.log1p(np.clip(M, 0, None))


def fit_victim_model(X: pd.DataFrame, y: np.ndarray, seed: int = 0) -> Any:
    """Penalised logistic regression on log-transformed victim features (scikit-learn)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    model = make_pipeline(
        FunctionTransformer(_transform, validate=False),
        StandardScaler(),
        LogisticRegression(C=1.0, max_iter=1000, random_state=seed),
    )
    model.fit(X, y)
    return model


def _snapshots(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime, horizon: int, settings: VictimSettings):
    from harmlens.features import snapshot_dates

    xs, ys = [], []
    for d in snapshot_dates(start, end, 1):
        F = victim_features(con, d, settings=settings)
        if F.empty:
            continue
        L = victim_labels(con, d, horizon, person_ids=F.index)
        xs.append(F)
        ys.append(L["label"].to_numpy())
    if not xs:
        return pd.DataFrame(columns=list(VICTIM_FEATURES)), np.zeros(0, dtype=int)
    return pd.concat(xs, ignore_index=True), np.concatenate(ys)


def train_window(at: datetime, settings: VictimSettings) -> tuple[datetime, datetime]:
    """Snapshots from ``at - horizon - train_months`` to ``at - horizon`` (outcomes known by ``at``)."""
    end = (pd.Timestamp(at) - pd.Timedelta(days=settings.horizon_days)).normalize()
    start = end - pd.DateOffset(months=settings.train_months - 1)
    return start.to_pydatetime(), end.to_pydatetime()


def train_for(con: duckdb.DuckDBPyConnection, at: datetime, settings: VictimSettings) -> tuple[Any | None, dict[str, Any]]:
    """A victim model usable on ``at``: trained only on outcomes observed before ``at``."""
    start, end = train_window(at, settings)
    X, y = _snapshots(con, start, end, settings.horizon_days, settings)
    info = {"train_start": f"{start:%Y-%m-%d}", "train_end": f"{end:%Y-%m-%d}", "rows": int(len(y)), "positives": int(y.sum())}
    if y.sum() < settings.min_positives or y.sum() == len(y):
        info["why_rules"] = f"only {int(y.sum())} re-victimisations in the training window (need {settings.min_positives})"
        return None, info
    return fit_victim_model(X, y, settings.seed), info


def validate_victims(
    con: duckdb.DuckDBPyConnection, as_of: Any = None, *, settings: VictimSettings = DEFAULT, ks: tuple[int, ...] = (100, 1000),
    n_boot: int = 100,
) -> dict[str, Any]:
    """Temporal holdout: train before ``as_of - horizon``, score on ``as_of``, compare with what followed.

    ``as_of`` defaults to the last date whose horizon is fully recorded (data end - horizon).
    Returns ``{"as_of", "n", "positives", "metrics": DataFrame(score, metric, value, ci_low, ci_high), "train": {...}}``
    for the model (when trainable), the rules, and a naive recency baseline (most recently victimised first).
    """
    from harmlens.features import data_end, parse_as_of
    from harmlens.risk.metrics import evaluate_scores

    last = data_end(con)
    if last is None:
        raise RankError("the warehouse has no events")
    at = parse_as_of(as_of) if as_of is not None else (pd.Timestamp(last) - pd.Timedelta(days=settings.horizon_days)).normalize().to_pydatetime()
    if at + pd.Timedelta(days=settings.horizon_days) > last:
        raise RankError(f"outcomes {settings.horizon_days} days after {at:%Y-%m-%d} are not all recorded (data end {last:%Y-%m-%d})")
    model, info = train_for(con, at, settings)
    F, ctx = victim_features(con, at, settings=settings, with_context=True)
    if F.empty:
        raise RankError(f"no victims in scope on {at:%Y-%m-%d}")
    y = victim_labels(con, at, settings.horizon_days, person_ids=F.index)["label"].to_numpy()
    if y.sum() == 0:
        raise RankError(f"nobody in scope was victimised again in the {settings.horizon_days} days after {at:%Y-%m-%d}")
    scores: dict[str, np.ndarray] = {}
    if model is not None:
        scores["model"] = model.predict_proba(F)[:, 1]
    scores["rules"] = _tiebreak_score(rules_points(F)["total"], F)
    scores["recency"] = -F["days_since_last_victimisation"].to_numpy(dtype=float)
    rows = []
    for name, s in scores.items():
        m = evaluate_scores(y, s, ks=ks, n_boot=n_boot, seed=settings.seed, probabilistic=(name == "model"))
        m.insert(0, "score", name)
        rows.append(m)
    metrics = pd.concat(rows, ignore_index=True)
    return {"as_of": at, "n": int(len(y)), "positives": int(y.sum()), "metrics": metrics, "train": info}


# ---------------------------------------------------------------------------------------------
# the list


def _factor_words(F: pd.DataFrame, P: pd.DataFrame, model: Any | None, top: int = 3) -> list[str]:
    """Why each victim ranks where they do: the model's largest raising factors, else the rules that fired."""
    texts: list[str] = []
    if model is not None:
        lr = model[-1]
        Z = model[:-1].transform(F)
        C = Z * lr.coef_[0]
        names = list(VICTIM_FEATURES)
        for i in range(len(F)):
            order = np.argsort(-C[i], kind="stable")[:top]
            parts = [f"{_SHORT[names[j]]}: {F.iloc[i, j]:,.0f}" for j in order if C[i, j] > 0]
            texts.append("; ".join(parts) if parts else "no factor above typical")
        return texts
    rule_words = {
        "prior": "victimised {v:.0f}x in past year", "recent": "victimised in last 90 days", "dash": "DASH {d}",
        "repeat": "repeatedly by the same suspect", "partner": "by a partner/ex-partner",
        "high_risk_suspect": "linked to a high-risk suspect", "child": "a child",
    }
    for i in range(len(F)):
        p = P.iloc[i]
        parts = []
        for r, w in rule_words.items():
            if p[r] > 0:
                parts.append(w.format(v=F.iloc[i]["victimised_365d"], d="high" if p["dash"] >= 3 else "medium"))
        texts.append("; ".join(parts) if parts else "prior victimisation only")
    return texts


def choose_method(validation: dict[str, Any] | None) -> tuple[str | None, str]:
    """From a :func:`validate_victims` result: ``model`` only if it beat the rules on AUC there."""
    if not validation:
        return None, ""
    m = validation["metrics"].set_index(["score", "metric"])["value"]
    if ("model", "auc") not in m.index:
        return "rules", "the model could not be trained for validation"
    a, r = float(m[("model", "auc")]), float(m[("rules", "auc")])
    if a > r:
        return "model", f"the model beat the rules on the holdout (AUC {a:.3f} vs {r:.3f})"
    return "rules", f"the rules did as well as the model on the holdout (AUC {r:.3f} vs {a:.3f}); transparent rules preferred"


def build_victim_list(
    con: duckdb.DuckDBPyConnection,
    as_of: Any,
    *,
    method: str = "auto",
    settings: VictimSettings = DEFAULT,
    validation: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Victims most at risk as of a date, and children in a household with a high-risk suspect.

    ``method``: ``model`` (trained now on outcomes observed before the date), ``rules``, or
    ``auto``: given a ``validation`` (from :func:`validate_victims`), the model only if it beat the
    rules there; without one, the model when the training window has enough re-victimisations.

    Returns ``{"entries": ranked victims, "children": children in a household with a high-risk
    suspect, "changes": churn against the previous victims list, "method": used, "train": info,
    "list_id": ...}``. Entries have the contract ``victims`` columns (rank, person_id,
    risk_of_revictimisation, linked_high_risk_suspects, last_event_at, top_factors) plus
    ``points`` (rules) and ``dash_high``.
    """
    from harmlens.features import parse_as_of

    if method not in ("auto", "model", "rules"):
        raise RankError(f"unknown victims method {method!r}: choose auto, model or rules")
    at = parse_as_of(as_of)
    F, ctx = victim_features(con, at, settings=settings, with_context=True)
    S = ctx["suspect_features"]
    srisk = _suspect_risk(con, at, S)
    if srisk is None:
        high_ids = set(S.index[(S["n_vawg_365d"] >= 2) | (S["distinct_victims_3y"] >= 2)].astype(str))
        high_rule = "2+ VAWG allegations in the last year or 2+ victims in 3 years"
    else:
        high_ids = set(srisk.index[srisk >= settings.high_risk])
        high_rule = f"offender-model risk of {settings.high_risk:.0%} or more"
    recent = ctx.get("recent_suspects", pd.DataFrame(columns=["victim_id", "suspect_id"]))
    linked = (
        recent[recent["suspect_id"].astype(str).isin(high_ids)].groupby("victim_id")["suspect_id"]
        .apply(lambda s: ",".join(sorted(set(s.astype(str)))))
        if len(recent) else pd.Series(dtype=object)
    )
    suspect_high = pd.Series(F.index.isin(linked.index), index=F.index)
    # every suspect of the last 3 years, the high-risk ones marked, so each entry names who is involved
    everyone = (
        recent.drop_duplicates(["victim_id", "suspect_id"]).assign(
            s=lambda d: d["suspect_id"].astype(str) + np.where(d["suspect_id"].astype(str).isin(high_ids), " (high-risk)", ""))
        .sort_values(["victim_id", "s"]).groupby("victim_id")["s"].apply(", ".join)
        if len(recent) else pd.Series(dtype=object)
    )
    P = rules_points(F, suspect_high) if len(F) else pd.DataFrame(columns=["total"])
    choice, why = choose_method(validation) if method == "auto" else (None, "")
    if choice == "rules":
        method = "rules"
    model, info = (None, {"why_rules": why or "rules requested"}) if method == "rules" else train_for(con, at, settings)
    if why and model is not None:
        info["chosen_because"] = why
    if method == "model" and model is None:
        raise RankError(f"cannot train the victims model: {info.get('why_rules', 'not enough data')}")
    used = "model" if model is not None else "rules"
    if len(F):
        risk = model.predict_proba(F)[:, 1] if model is not None else np.full(len(F), np.nan)
        score = risk if model is not None else _tiebreak_score(P["total"], F)
        last = ctx["pairs"].groupby("victim_id")["occurred_at"].max().reindex(F.index)
        entries = pd.DataFrame({
            "person_id": F.index.astype(str), "score": score, "risk_of_revictimisation": risk,
            "points": P["total"].to_numpy(), "linked_high_risk_suspects": linked.reindex(F.index).fillna("").to_numpy(),
            "suspects": everyone.reindex(F.index).fillna("").to_numpy(),
            "last_event_at": last.to_numpy(), "dash_high": F["dash_high"].to_numpy(), "is_child": F["is_child"].to_numpy(),
        })
        entries["top_factors"] = _factor_words(F, P, model)
        entries = entries.sort_values(["score", "person_id"], ascending=[False, True], kind="mergesort").reset_index(drop=True)
        entries["rank"] = np.arange(1, len(entries) + 1)
        entries = entries[entries["rank"] <= settings.keep]
        entries["top_factors"] = [
            t + (f"; suspects involved: {s}" if s else "") for t, s in zip(entries["top_factors"], entries["suspects"])
        ]
    else:
        entries = pd.DataFrame(columns=["rank", "person_id", "score", "risk_of_revictimisation", "points",
                                        "linked_high_risk_suspects", "suspects", "last_event_at", "dash_high", "is_child",
                                        "top_factors"])
    children = household_children(con, at, high_ids, srisk)
    prev = previous_list(con, "victims", used, at)
    changes = pd.DataFrame(columns=["person_id", "change", "previous_rank", "new_rank", "reason"])
    std = entries.rename(columns={"risk_of_revictimisation": "risk"})
    if prev is not None:
        changes = compute_changes(list_entries(con, prev.list_id), std, previous_as_of=prev.as_of)
    list_id = None
    if settings.save:
        store = std.assign(linked_suspects=std["linked_high_risk_suspects"], band=None)
        list_id = save_list(con, kind="victims", method=used, as_of=at, entries=store, changes=changes, previous=prev,
                            model_version=None, params={**{k: v for k, v in asdict(settings).items() if k != "save"},
                                                        "train": info, "high_risk_rule": high_rule},
                            expiry_days=settings.expiry_days)
    return {"entries": entries.reset_index(drop=True), "children": children, "changes": changes, "method": used,
            "train": info, "high_risk_rule": high_rule, "list_id": list_id, "as_of": at}


def household_children(
    con: duckdb.DuckDBPyConnection, at: datetime, high_ids: set[str], srisk: pd.Series | None
) -> pd.DataFrame:
    """Children (under 18 on the date) recorded in the same household as a high-risk suspect.

    Households come from the ``household_id`` extra column on people mentions known before the
    date; without it this returns no rows (the data does not show households).
    """
    cols = ["person_id", "household_id", "suspects", "suspect_risk", "why"]
    hid = "NULLIF(trim(json_extract_string(p.extra, '$.household_id')), '')"
    has = con.execute(f"SELECT count(*) FROM people p WHERE {hid} IS NOT NULL").fetchall()[0][0]
    if not has or not high_ids:
        return pd.DataFrame(columns=cols)
    hh = con.execute(
        f"""
        WITH m AS (
            SELECT DISTINCT CAST(l.person_id AS VARCHAR) AS person_id, {hid} AS household_id
            FROM people p JOIN links l ON l.mention_id = p.mention_id JOIN events e ON e.event_id = p.event_id
            WHERE {hid} IS NOT NULL AND e.occurred_at < $as_of AND (e.reported_at IS NULL OR e.reported_at < $as_of)
        )
        -- more distinct people than a household holds: a placeholder, hostel or refuge, not a home
        SELECT * FROM m WHERE household_id IN (
            SELECT household_id FROM m GROUP BY household_id HAVING count(*) <= {MAX_HOUSEHOLD_PERSONS})
        """,
        {"as_of": at},
    ).df()
    facts = _person_facts(con, at).set_index("person_id")
    age = (pd.Timestamp(at) - pd.to_datetime(facts["dob"])).dt.days / 365.25
    kids = set(age.index[age < 18])
    hs = hh[hh["person_id"].isin(high_ids)]
    hk = hh[hh["person_id"].isin(kids)]
    m = hk.merge(hs, on="household_id", suffixes=("", "_suspect"))
    m = m[m["person_id"] != m["person_id_suspect"]]
    if m.empty:
        return pd.DataFrame(columns=cols)
    m["r"] = m["person_id_suspect"].map(srisk) if srisk is not None else np.nan
    out = m.groupby(["person_id", "household_id"]).agg(
        suspects=("person_id_suspect", lambda s: ",".join(sorted(set(s)))), suspect_risk=("r", "max")
    ).reset_index()
    out["why"] = [
        f"under 18, same household as high-risk suspect(s) {s}" + ("" if pd.isna(r) else f" (highest risk {r:.0%})")
        for s, r in zip(out["suspects"], out["suspect_risk"])
    ]
    return out.sort_values(["suspect_risk", "person_id"], ascending=[False, True], na_position="last").reset_index(drop=True)[cols]
