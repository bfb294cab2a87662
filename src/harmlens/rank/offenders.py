"""The ``risk`` ranking method: priority offenders at large, ranked by expected harm.

Expected harm in the horizon = P(offending) x the harm this person's offending is expected to
carry:

* **P(offending)**: the registered forecast model (the promoted version, else the newest) applied
  to the point-in-time features as of the date;
* **harm if offending**: the person's own yearly harm rate in the target category (harm of their
  allegations ever / years since their first record), shrunk towards the model's severity for
  people of the same risk (mean harm in the horizon of training people of similar risk who did
  offend) with ``history_weight`` (default 2) pseudo-years. A long record of grave harm counts
  fully; a newcomer mostly looks like their risk peers. (A per-allegation mean was tried first and
  ranked worse than V100 on the synthetic city: it ignores how often a person offends.)

People not at large (custody, dead) are scored but listed separately by :func:`harmlens.harm.rank`.
Each entry carries bands from calibrated risk, its top factors in words, its evidence
(allegations, charges, convictions: allegations are not findings of guilt), the model version,
and, against the previous stored list, what changed and why.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Iterable

import duckdb
import numpy as np
import pandas as pd

from harmlens.features.catalogue import CATEGORIES, WINDOWS
from harmlens.harm.policy import DEFAULT_POLICY, OutcomePolicy
from harmlens.rank.lists import (
    RankError,
    StoredList,
    change_tags,
    compute_changes,
    list_entries,
    previous_list,
    save_list,
)

log = logging.getLogger(__name__)

METHOD = "risk"
SCORER_COLUMNS = [
    "person_id", "score", "risk", "expected_harm", "rfgv_score", "band", "top_factors", "last_event_at",
    "allegations", "charges", "convictions", "distinct_victims", "weight_table", "model_version",
    "at_large", "not_at_large_reason", "not_at_large_until",
    "ev_charged", "ev_acquitted", "ev_nfa", "ev_withdrawn", "ev_ongoing", "ev_cautioned",
]


@dataclass(frozen=True)
class RiskRankSettings:
    """How the risk list is built (defaults documented in docs/rank.md)."""

    bands: tuple[tuple[float, str], ...] | None = None
    """(lowest calibrated risk, band name), highest first: a band is a statement about probability.
    None (the default): the bands stored with the model, cut from its validation (risk/bands.py);
    a version registered without validation falls back to ``FALLBACK_BANDS``."""
    history_weight: float = 2.0
    """Pseudo-years given to the model's severity when blending with the person's own yearly harm rate."""
    explain_top: int = 300
    """How many of the highest expected-harm people get their factors worked out (costly for boosting)."""
    keep: int = 1000
    """How many people at large are stored per list (churn is measured within them). Evidence is
    looked up for the top ``keep`` at large and the top ``keep`` not at large (blank below)."""
    expiry_days: int = 90
    outcome_policy: OutcomePolicy = DEFAULT_POLICY
    """How much of an allegation's harm counts by its outcome (harm/policy.py; docs/harm.md)."""
    save: bool = True


DEFAULT = RiskRankSettings()

FALLBACK_BANDS: tuple[tuple[float, str], ...] = ((0.5, "very high"), (0.25, "high"), (0.1, "medium"), (0.0, "standard"))
"""Fixed thresholds for a model with no validated bands (e.g. registered with --no-validate)."""


def bands_for(bundle: Any, settings: RiskRankSettings) -> tuple[tuple[float, str], ...]:
    """The bands a list uses: the settings' if given, else the model's validated ones, else the fallback."""
    if settings.bands is not None:
        return tuple(settings.bands)
    stored = getattr(bundle, "bands", None) or []  # bundles saved before bands were stored have none
    if stored:
        return tuple((float(b["low"]), str(b["name"])) for b in stored)
    return FALLBACK_BANDS

_CAT_WORD = {"vawg": "VAWG", "sexual": "sexual", "domestic": "domestic abuse", "violent": "violent", "any": "all"}
_WIN_WORD = {"90d": "in 90 days", "365d": "in past year", "3y": "in 3 years", "ever": "ever"}


def short_label(feature: str) -> str:
    """A few words for a feature, from the plain-words catalogue (the full description is in FEATURES)."""
    from harmlens.features.catalogue import label

    return label(feature)


def _fmt_value(v: float) -> str:
    if pd.isna(v):
        return "missing"
    v = float(v)
    if v.is_integer():
        return f"{int(v):,}"
    return f"{v:,.1f}"


def value_text(feature: str, v: float) -> str:
    """A feature's value in its unit, as a reviewer would say it (days as weeks, months or years)."""
    from harmlens.features.catalogue import HARM_UNIT, unit
    from harmlens.harm.custody import span_words

    if pd.isna(v):
        return "not recorded"
    v = float(v)
    u = unit(feature)
    if u == "days":
        return span_words(v) if v < 3650 else "10 years or more (none recorded)"
    if u == "yes/no":
        return "yes" if v >= 0.5 else "no"
    if u == "share":
        return f"{100 * v:.0f}%"
    if u == HARM_UNIT:
        return f"{v:,.0f} days of custody equivalent"
    if u == "years":
        return f"{v:.0f}" if feature.startswith("age") else f"{v:.0f} years"
    return _fmt_value(v) + (f" {u}" if u and u not in ("allegations", "victims", "people", "times") and not u.startswith("DASH") else "")


def factor_texts(model: Any, X: pd.DataFrame, *, top: int = 3, custody: dict[str, str] | None = None) -> list[str]:
    """Per row, the factors that raised the risk most, with the person's values, in words.

    A custody factor is said as what it is (``custody``: words per person id, e.g. "released 3 months
    ago after 4 years in prison (sentence)"), never as a count of days in custody.
    """
    from harmlens.harm.custody import CUSTODY_FEATURES
    from harmlens.risk.explain import contributions

    if not len(X):
        return []
    c = contributions(model, X)
    names = np.asarray(c.columns)
    M = c.to_numpy()
    V = X[list(names)].to_numpy(dtype=float)
    out = []
    ids = [str(p) for p in X.index]
    for i in range(len(X)):
        order = np.argsort(-M[i], kind="stable")[:top]
        parts: list[str] = []
        for j in order:
            if M[i, j] <= 0:
                continue
            if names[j] in CUSTODY_FEATURES:
                words = (custody or {}).get(ids[i], "custody history")
                if words not in parts:
                    parts.append(words)
            else:
                parts.append(f"{short_label(names[j])}: {value_text(names[j], V[i, j])}")
        out.append("; ".join(parts) if parts else "no factor above typical")
    return out


def _band(risk: np.ndarray, bands: tuple[tuple[float, str], ...]) -> np.ndarray:
    out = np.full(len(risk), bands[-1][1], dtype=object)
    for lo, name in reversed(bands):
        out[risk >= lo] = name
    return out


def _model_severity(bundle: Any, risk: np.ndarray, fallback: float) -> np.ndarray:
    edges = np.asarray(getattr(bundle, "severity_edges", []) or [], dtype=float)
    means = np.asarray(getattr(bundle, "severity_means", []) or [], dtype=float)
    if not len(means):
        return np.full(len(risk), fallback)
    b = np.clip(np.searchsorted(edges, risk, side="right") - 1, 0, len(means) - 1)
    return means[b]


def expected_harm_if_offending(
    bundle: Any, X: pd.DataFrame, risk: np.ndarray, history_weight: float, discount: np.ndarray | None = None
) -> np.ndarray:
    """The harm this person is expected to cause in the horizon if they offend (see the module docstring).

    ``(own harm in the target category, ever - discount + w x model severity) / (years of record + w)``, where
    ``discount`` is the harm the outcome policy does not count (harm/policy.py): the
    person's own yearly harm rate shrunk towards the model's severity (mean harm in the horizon of
    training people of similar risk who did offend) with ``w = history_weight`` pseudo-years.
    """
    cat = str(bundle.target.get("category", "vawg"))
    years = X["years_since_first_record"].to_numpy(dtype=float) if "years_since_first_record" in X.columns else np.zeros(len(X))
    years = np.clip(years, 0.0, None)
    if cat in ("vawg", "any") and f"harm_{cat}_ever" in X.columns:
        h = X[f"harm_{cat}_ever"].to_numpy(dtype=float)
        if discount is not None:  # the harm the outcome policy does not count (e.g. acquittals)
            h = np.clip(h - np.nan_to_num(np.asarray(discount, dtype=float)), 0.0, None)
    else:  # no per-category harm history among the features: the model's severity alone
        h = np.zeros(len(X))
        years = np.zeros(len(X))
    fallback = float(h.sum() / years.sum()) if years.sum() > 0 else 0.0
    sev_model = _model_severity(bundle, risk, fallback)
    k = max(0.0, float(history_weight))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(years + k > 0, (h + k * sev_model) / (years + k), sev_model)


def _weight_table(con: duckdb.DuckDBPyConnection) -> str:
    rows = con.execute("SELECT DISTINCT weight_table FROM event_harm WHERE weight_table IS NOT NULL ORDER BY 1").fetchall()
    return ",".join(str(r[0]) for r in rows)


def _rfh(con: duckdb.DuckDBPyConnection, at: datetime, index: pd.Index) -> np.ndarray:
    """The RFH baseline score beside the model's (``rfgv_score``), NaN where the harm area has none."""
    try:
        from harmlens.harm import rfh_scores

        df = rfh_scores(con, at)
    except Exception as exc:  # the baseline is context, never a reason to fail the list
        log.warning("RFH baseline unavailable: %s", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return np.full(len(index), np.nan)
    if "person_id" not in df.columns or "score" not in df.columns:
        return np.full(len(index), np.nan)
    s = df.assign(person_id=df["person_id"].astype(str)).set_index("person_id")["score"]
    return s.reindex(index.astype(str)).to_numpy(dtype=float)


def new_allegations_since(
    con: duckdb.DuckDBPyConnection, person_ids: Iterable[str], since: datetime, until: datetime, category: str
) -> pd.Series:
    """Words per person: allegations (of the category) that became known in [since, until)."""
    from harmlens.features.core import SUSPECT_ROLES

    ids = pd.DataFrame({"person_id": pd.Series(list(person_ids), dtype="object").astype(str).unique()})
    if not len(ids):
        return pd.Series(dtype=object)
    pred = {"vawg": "h.vawg", "sexual": "h.sexual", "domestic": "coalesce(h.domestic, e.domestic)",
            "violent": "h.violent", "any": "TRUE"}[category]
    con.register("_rank_new_ids", ids)
    try:
        df = con.execute(
            f"""
            SELECT CAST(l.person_id AS VARCHAR) AS person_id, count(DISTINCT e.event_id) AS n, max(e.occurred_at) AS last
            FROM events e JOIN people p ON p.event_id = e.event_id AND p.role IN {SUSPECT_ROLES}
            JOIN links l ON l.mention_id = p.mention_id
            JOIN _rank_new_ids i ON i.person_id = CAST(l.person_id AS VARCHAR)
            LEFT JOIN event_harm h ON h.event_id = e.event_id
            WHERE e.event_type = 'offence' AND coalesce({pred}, FALSE)
              AND e.occurred_at < $until AND coalesce(e.reported_at, e.occurred_at) < $until
              AND greatest(e.occurred_at, coalesce(e.reported_at, e.occurred_at)) >= $since
            GROUP BY 1
            """,
            {"since": since, "until": until},
        ).df()
    finally:
        con.unregister("_rank_new_ids")
    word = _CAT_WORD[category] if category != "any" else "recorded"
    return pd.Series(
        [f"{int(n)} new {word} allegation{'s' if n != 1 else ''} (latest {pd.Timestamp(t):%Y-%m-%d})" for n, t in zip(df["n"], df["last"])],
        index=df["person_id"].to_numpy(),
        dtype=object,
    )


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in SCORER_COLUMNS})


def score_people(
    con: duckdb.DuckDBPyConnection,
    as_of: Any,
    *,
    version: str | None = None,
    settings: RiskRankSettings = DEFAULT,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Risk, expected harm, band, evidence and factors for everyone scored as of a date.

    Returns (frame of ``SCORER_COLUMNS`` plus ``at_large``/``not_at_large_reason``, sorted by
    expected harm), and context (bundle, registry record, features, category).
    """
    from harmlens.features import build_features, parse_as_of
    from harmlens.harm.evidence import ENTRY_STATUS_COLUMNS, entry_columns, evidence_table
    from harmlens.harm import at_large
    from harmlens.risk import load_bundle

    from harmlens.risk import RegistryError

    at = parse_as_of(as_of)
    try:
        bundle, rec = load_bundle(con, version)
    except RegistryError as exc:
        if "no model in the registry" in str(exc):
            raise RankError("no forecast model is registered: run 'harmlens train' first, or rank with --method v100|rfg|rfh") from exc
        raise
    X = build_features(con, at)
    ctx: dict[str, Any] = {"bundle": bundle, "record": rec, "as_of": at, "X": X,
                           "category": str(bundle.target.get("category", "vawg"))}
    if X.empty:
        return _empty().assign(at_large=pd.Series(dtype=bool), not_at_large_reason=pd.Series(dtype=object)), ctx
    risk = bundle.predict_risk(X)
    from harmlens.harm.policy import discounted_harm

    cut = discounted_harm(con, at, settings.outcome_policy).reindex(X.index.astype(str)).fillna(0.0).to_numpy()
    sev = expected_harm_if_offending(bundle, X, risk, settings.history_weight, discount=cut)
    eh = risk * sev
    status = at_large(con, at).assign(person_id=lambda d: d["person_id"].astype(str)).set_index("person_id")
    status = status.reindex(X.index.astype(str))
    # evidence for the people who can appear on a list: the top `keep` at large and not at large
    free = status["at_large"].fillna(True).astype(bool).to_numpy()
    order_all = np.lexsort((X.index.to_numpy(), -eh))
    shown = np.concatenate([order_all[free[order_all]][: settings.keep], order_all[~free[order_all]][: settings.keep]])
    # one evidence definition for lists, profiles, packs and the API (harm/evidence.py)
    ev = entry_columns(evidence_table(con, at, X.index[shown])).reindex(X.index.astype(str))
    df = pd.DataFrame({
        "person_id": X.index.astype(str),
        "score": eh,
        "risk": risk,
        "expected_harm": eh,
        "rfgv_score": _rfh(con, at, X.index),
        "band": _band(risk, bands_for(bundle, settings)),
        "top_factors": "",
        "last_event_at": pd.to_datetime(ev["last_event_at"]).to_numpy(),
        "allegations": ev["allegations"].astype("Int64").to_numpy(),
        "charges": ev["charges"].astype("Int64").to_numpy(),
        "convictions": ev["convictions"].astype("Int64").to_numpy(),
        "distinct_victims": ev["distinct_victims"].astype("Int64").to_numpy(),
        **{c: ev[c].astype("Int64").to_numpy() for c in ENTRY_STATUS_COLUMNS.values()},
        "weight_table": _weight_table(con),
        "model_version": rec["version"],
        "at_large": status["at_large"].fillna(True).astype(bool).to_numpy(),
        "not_at_large_reason": status["reason"].to_numpy(),
        "not_at_large_until": pd.to_datetime(status["until"]).to_numpy(),
    })
    order = np.lexsort((df["person_id"].to_numpy(), -df["score"].to_numpy()))
    df = df.iloc[order].reset_index(drop=True)
    n_explain = min(max(0, settings.explain_top), len(df))
    if n_explain:
        from harmlens.harm.custody import custody_words

        Xe = X.loc[df["person_id"].iloc[:n_explain].to_numpy(), bundle.features]
        held = custody_words(con, at, [str(p) for p in Xe.index])
        df.loc[: n_explain - 1, "top_factors"] = factor_texts(bundle.model, Xe, custody=held)
    if n_explain < len(df):
        df.loc[n_explain:, "top_factors"] = "not explained (below the top by expected harm)"
    return df, ctx


def build_offender_list(
    con: duckdb.DuckDBPyConnection,
    as_of: Any,
    *,
    version: str | None = None,
    settings: RiskRankSettings = DEFAULT,
) -> dict[str, Any]:
    """Score, rank the people at large, compare with the previous list and store it.

    Returns ``{"scores": all scored people, "entries": the stored list (top ``keep`` at large),
    "changes": churn against the previous list, "previous": StoredList | None, "list_id": ...}``.
    """
    scores, ctx = score_people(con, as_of, version=version, settings=settings)
    at = ctx["as_of"]
    free = scores[scores["at_large"]].copy()
    free["rank"] = free["score"].rank(method="first", ascending=False).astype(int)
    entries = free[free["rank"] <= settings.keep].copy()
    from harmlens.harm.linkwarn import link_warnings

    entries["link_warning"] = link_warnings(con, entries, at).reindex(entries["person_id"].astype(str)).to_numpy()
    prev = previous_list(con, "offenders", METHOD, at)
    changes = pd.DataFrame(columns=["person_id", "change", "previous_rank", "new_rank", "reason"])
    if prev is not None:
        prev_entries = list_entries(con, prev.list_id)
        status = scores.set_index("person_id")[["risk"]].copy()
        status["reason"] = scores.set_index("person_id")["not_at_large_reason"]
        status["scored"] = True
        status["rank"] = free.set_index("person_id")["rank"].reindex(status.index)
        status["previous_risk"] = prev_entries.set_index("person_id")["risk"].reindex(status.index)
        gone = prev_entries.loc[~prev_entries["person_id"].isin(status.index), "person_id"]
        if len(gone):
            status = pd.concat([status, pd.DataFrame({"scored": False}, index=pd.Index(gone, name="person_id"))])
        new_ids = entries.loc[~entries["person_id"].isin(prev_entries["person_id"]), "person_id"]
        new_ev = new_allegations_since(con, new_ids, prev.as_of, at, ctx["category"])
        changes = compute_changes(prev_entries, entries, previous_as_of=prev.as_of, status=status, new_evidence=new_ev)
    list_id = None
    if settings.save:
        params = {k: v for k, v in asdict(settings).items() if k != "save"}
        # the bands actually used, with what each meant on the model's validation date
        params["bands"] = list(getattr(ctx["bundle"], "bands", None) or []) if settings.bands is None else settings.bands
        if not params["bands"]:
            params["bands"] = FALLBACK_BANDS
        list_id = save_list(
            con, kind="offenders", method=METHOD, as_of=at, entries=entries, changes=changes, previous=prev,
            model_version=ctx["record"]["version"], params=params, expiry_days=settings.expiry_days,
            cohort=pd.DataFrame({"person_id": scores["person_id"], "score": scores["risk"], "rank_value": scores["score"]}),
        )
    return {"scores": scores, "entries": entries.reset_index(drop=True), "changes": changes, "previous": prev,
            "list_id": list_id, "context": ctx}


def risk_scores(con: duckdb.DuckDBPyConnection, as_of: Any, *, version: str | None = None) -> pd.DataFrame:
    """Scorer registered with ``harmlens.harm.ranking`` as method ``risk`` (the default).

    Builds and stores the list (see :func:`build_offender_list`) and returns one row per scored
    person for :func:`harmlens.harm.rank`; ``top_factors`` starts with the change against the
    previous list (``[new]``, ``[up 3]``, ``[down 1]``, ``[=]``) and ends with the model version.
    """
    res = build_offender_list(con, as_of, version=version)
    df = res["scores"]
    if not len(df):
        return _empty()
    tags = change_tags(res["changes"]) if res["previous"] is not None else {}
    ver = res["context"]["record"]["version"]
    df = df.copy()
    df["top_factors"] = [
        f"{tags[p] + ' ' if p in tags else ''}{t} (model {ver})" for p, t in zip(df["person_id"], df["top_factors"])
    ]
    return df[SCORER_COLUMNS]


def stored_previous(con: duckdb.DuckDBPyConnection, as_of: datetime) -> StoredList | None:
    return previous_list(con, "offenders", METHOD, as_of)
