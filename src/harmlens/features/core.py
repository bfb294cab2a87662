"""Point-in-time person features, evidence summaries and labels, built in DuckDB SQL.

Point in time means: as of a date ``as_of``, only what the police knew before it is used.

* An event is known when ``occurred_at < as_of`` and, where recorded, ``reported_at < as_of``.
* A charge or conviction counts when its own ``charge``/``conviction`` event is known (the
  synthetic city and most court feeds link it to the offence through the extra column
  ``crime_ref``). An outcome written on the offence row itself (``outcome = charged|convicted``)
  carries no date of its own, so it is only trusted once the offence is ``outcome_lag_days`` old
  (default 180): before that, reading it would leak a later court decision into the past.
* Custody and order periods are clipped at ``as_of``: their later end is never read, only whether
  they were still running on the date.

The scored population as of a date is every linked person (table ``links``) named as ``suspect``
or ``offender`` in at least one known event. Everyone else has no criminal history to score.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable

import numpy as np
import pandas as pd
from duckdb import DuckDBPyConnection

from harmlens.engine import Engine, SQLPipeline, as_engine
from harmlens.errors import HarmlensError, WarehouseError
from harmlens.features.catalogue import CATEGORIES, DESISTANCE_HAZARD, FEATURES, RATE_PRIOR_SHAPE, RATE_PRIOR_YEARS
from harmlens.features.steps import (
    CRIME_REF_FROM_EXTRA, CUSTODY_TYPE_FROM_EXTRA, MIN_PLAUSIBLE_DOB, NOT_SUBJECT_ROLES, SUSPECT_ROLES, base_steps,
)
from harmlens.features.steps import features_pipeline as _features_pipeline

log = logging.getLogger(__name__)

THRESHOLDS = ("allegation", "charged", "convicted")


class FeaturesError(HarmlensError):
    """Bad arguments to a features function, or the warehouse lacks what features need."""


@dataclass(frozen=True)
class FeatureSettings:
    """Knobs of the point-in-time rules (defaults documented in docs/features.md)."""

    outcome_lag_days: int = 180
    """An undated outcome on an offence row is trusted only this many days after the offence."""


DEFAULT_SETTINGS = FeatureSettings()


# --------------------------------------------------------------------------------------------
# argument checks


def parse_as_of(as_of: object) -> datetime:
    """A date, datetime, pandas Timestamp or ISO string -> naive datetime (midnight for dates).

    One rule for every command: see :mod:`harmlens.asof` (words like ``today`` are refused)."""
    from harmlens.asof import parse_as_of as _parse

    if not isinstance(as_of, (str, date, datetime, np.datetime64)):
        raise FeaturesError(f"as_of must be a date or YYYY-MM-DD string, not {type(as_of).__name__}")
    return _parse(as_of, error=FeaturesError)


def _check_category(category: str) -> str:
    if category not in CATEGORIES:
        raise FeaturesError(f"unknown category {category!r}: choose one of {', '.join(CATEGORIES)}")
    return category


def _check_threshold(threshold: str) -> str:
    if threshold not in THRESHOLDS:
        raise FeaturesError(f"unknown threshold {threshold!r}: choose one of {', '.join(THRESHOLDS)}")
    return threshold


def _tables(con: Engine | DuckDBPyConnection) -> set[str]:
    return as_engine(con).tables()


def check_warehouse(con: Engine | DuckDBPyConnection) -> None:
    """Raise a one-line error naming the missing stage if a table features need is absent."""
    eng = as_engine(con)
    if eng.name == "duckdb":
        # DuckDB draws a progress bar for long queries; library calls must not write to the terminal
        eng.execute("SET enable_progress_bar = false")
    have = _tables(con)
    for table, stage in [
        ("events", "harmlens ingest DIR"),
        ("people", "harmlens ingest DIR"),
        ("links", "harmlens link"),
        ("event_harm", "harmlens harm apply"),
    ]:
        if table not in have:
            raise WarehouseError(f"the warehouse has no {table} table: run '{stage}' first")
    n_off = _scalar(con, "SELECT count(*) FROM events WHERE event_type = 'offence'")
    if n_off and not _scalar(con, "SELECT count(*) FROM event_harm"):
        raise WarehouseError("offences have no harm weights (event_harm is empty): run 'harmlens harm apply' first")
    if _scalar(con, "SELECT count(*) FROM people") and not _scalar(con, "SELECT count(*) FROM links"):
        raise WarehouseError("no mention is linked to a person (links is empty): run 'harmlens link' first")


def _scalar(con: Engine | DuckDBPyConnection, sql: str) -> object:
    """One value; fetches every row so the connection is free for the next statement (DuckDB 2)."""
    eng = as_engine(con)
    rows = eng.rows(sql)
    return rows[0][0] if rows else None


def _has_risk_assessments(con: Engine | DuckDBPyConnection) -> bool:
    return "risk_assessments" in _tables(con)


# --------------------------------------------------------------------------------------------
# SQL building blocks (all parameterised by $as_of; no other input is interpolated but our own
# constants, never user text)


def event_column_sql(con: Engine | DuckDBPyConnection, name: str, alias: str = "") -> str:
    """SQL for an optional event column (``crime_ref``, ``custody_type``): a real column if ingest
    made one, else the passed-through extra JSON."""
    cols = set(as_engine(con).columns("events"))
    a = f"{alias}." if alias else ""
    return f"{a}{name}" if name in cols else f"json_extract_string({a}extra, '$.{name}')"


def crime_ref_sql(con: Engine | DuckDBPyConnection, alias: str = "") -> str:
    """SQL for an event's ``crime_ref`` (the offence a charge, conviction or custody is about)."""
    return event_column_sql(con, "crime_ref", alias)


def _base_ctes(
    settings: FeatureSettings, crime_ref: str = CRIME_REF_FROM_EXTRA, ids: str | None = None,
    custody_type: str = CUSTODY_TYPE_FROM_EXTRA,
) -> str:
    """The base steps (:func:`harmlens.features.steps.base_steps`) as CTE text binding ``$as_of``
    by name, for the evidence and label queries that add their own steps after them."""
    p = SQLPipeline()
    base_steps(p, outcome_lag_days=settings.outcome_lag_days, crime_ref=crime_ref, ids=ids, custody_type=custody_type)
    return p.ctes()


def features_pipeline(
    con: Engine | DuckDBPyConnection, at: datetime, *, settings: FeatureSettings = DEFAULT_SETTINGS, ids: str | None = None
) -> SQLPipeline:
    """The feature query as of ``at`` for this warehouse, as named steps (see :mod:`.steps`)."""
    return _features_pipeline(
        at, outcome_lag_days=settings.outcome_lag_days, with_dash=_has_risk_assessments(con),
        crime_ref=crime_ref_sql(con), custody_type=event_column_sql(con, "custody_type"), ids=ids,
    )


def _bayes_activity(df: pd.DataFrame) -> pd.DataFrame:
    """The Bayes activity features from the helper columns of the features query.

    Signs of activity (allegations, intelligence) arrive at the person's unknown yearly rate r
    while the career lasts; careers end at hazard h a year; r has a gamma(shape a, rate b) prior.
    Given n signs over T years at large since the first and the last one S years ago, with
    k = n - 1 + a (the first sign only starts the clock):

        P(still active) ∝ exp(-h T) (b + T)^-k
        P(ended in the silence) ∝ integral over u in (T - S, T) of h exp(-h u) (b + u)^-k du

    Unlike p_still_offending_given_allegations (one rate estimate), this weighs every rate the
    record allows, so a short record's long silence counts for less than a long record's.
    """
    h, a, b = DESISTANCE_HAZARD, RATE_PRIOR_SHAPE, RATE_PRIOR_YEARS
    n = df["_n_sig"].to_numpy(dtype=float)
    t = df["_sig_years_at_large"].to_numpy(dtype=float)
    s = np.minimum(df["_silence_years_at_large"].to_numpy(dtype=float), t)
    k = np.maximum(n - 1, 0) + a
    log_active = -h * t - k * np.log(b + t)
    grid = np.linspace(0.0, 1.0, 41)[:, None]
    u = (t - s)[None, :] + grid * s[None, :]
    log_f = np.log(h) - h * u - k[None, :] * np.log(b + u)
    top = log_f.max(axis=0) if len(n) else np.zeros(0)
    with np.errstate(divide="ignore"):
        log_ended = top + np.log(np.trapezoid(np.exp(log_f - top), dx=1 / 40, axis=0) * s)
    p_active = 1.0 / (1.0 + np.exp(np.clip(log_ended - log_active, -700, 700)))
    out = df.drop(columns=["_n_sig", "_sig_years_at_large", "_silence_years_at_large"])
    out["p_still_offending_given_allegations_and_intel"] = p_active
    out["expected_vawg_allegations_per_year_shrunk"] = p_active * (a + df["n_vawg_ever"].to_numpy(dtype=float)) / (b + t)
    out["expected_allegations_and_intel_per_year"] = p_active * (a + n) / (b + t)
    return out


def finish_features(raw: pd.DataFrame) -> pd.DataFrame:
    """Rows of the feature query (:func:`features_pipeline`) -> the feature frame: the Bayes
    activity features added, indexed by ``person_id`` (sorted), the columns of ``FEATURES`` as
    floats. Row by row, so it gives the same answer on any batch of the rows (the spark engine
    runs it on its executors, :meth:`harmlens.engine.Engine.map_batches`)."""
    df = _bayes_activity(raw).set_index("person_id").sort_index()
    return df[list(FEATURES)].astype("float64")


def _ids_frame(person_ids: Iterable[object] | None) -> pd.DataFrame | None:
    if person_ids is None:
        return None
    ids = pd.Index(pd.Series(list(person_ids), dtype="object").astype(str)).unique()
    return pd.DataFrame({"person_id": ids})


def _run(con: Engine | DuckDBPyConnection, sql: str, as_of: datetime, person_ids: Iterable[object] | None) -> pd.DataFrame:
    """Run a query whose rows carry person_id; filter to person_ids when given."""
    eng = as_engine(con)
    ids = _ids_frame(person_ids)
    if ids is not None:
        name = f"_hl_ids_{id(ids):x}"
        eng.register_frame(name, ids)
        try:
            df = con.execute(
                f"SELECT q.* FROM ({sql}) q SEMI JOIN {name} i ON i.person_id = q.person_id", {"as_of": as_of}
            ).df()
        finally:
            eng.unregister(name)
    else:
        df = con.execute(sql, {"as_of": as_of}).df()
    return df


# --------------------------------------------------------------------------------------------
# public functions


def build_features(
    con: Engine | DuckDBPyConnection,
    as_of: object,
    person_ids: Iterable[object] | None = None,
    *,
    settings: FeatureSettings = DEFAULT_SETTINGS,
) -> pd.DataFrame:
    """Point-in-time features for every scored person as of a date.

    Parameters
    ----------
    con : an open warehouse connection with ``events``, ``people``, ``links`` and ``event_harm``.
    as_of : the date (or datetime); only what was known strictly before it is used.
    person_ids : optional subset of person ids; persons outside the scored population are absent.
    settings : point-in-time rules (see :class:`FeatureSettings`).

    Returns
    -------
    DataFrame indexed by ``person_id`` (sorted), one float column per entry of ``FEATURES``,
    in that order, no missing values. Ethnicity and sex are never used.
    """
    eng = as_engine(con)
    check_warehouse(con)
    at = parse_as_of(as_of)
    ids = _ids_frame(person_ids)
    name = f"_hl_ids_{id(ids):x}" if ids is not None else None
    if ids is not None:
        eng.register_frame(name, ids)
    try:
        return finish_features(eng.frame(features_pipeline(con, at, settings=settings, ids=name)))
    finally:
        if name:
            eng.unregister(name)


def evidence_summary(
    con: Engine | DuckDBPyConnection,
    as_of: object,
    person_ids: Iterable[object] | None = None,
    *,
    category: str = "vawg",
    settings: FeatureSettings = DEFAULT_SETTINGS,
) -> pd.DataFrame:
    """What the police knew about each scored person before ``as_of``, for one offence category.

    Returns a DataFrame indexed by ``person_id`` with ``allegations`` (offences naming the
    person as suspect/offender), ``charges`` (crimes charged, including those later convicted),
    ``convictions``, ``distinct_victims`` and ``last_event_at`` (the latest such allegation,
    NaT if none), so every list entry can say on what evidence it stands.
    """
    eng = as_engine(con)
    check_warehouse(con)
    pred = CATEGORIES[_check_category(category)]
    at = parse_as_of(as_of)
    ids = _ids_frame(person_ids)
    name = f"_hl_ev_ids_{id(ids):x}" if ids is not None else None
    sql = f"""
    WITH {_base_ctes(settings, crime_ref_sql(con), name)},
    a AS (SELECT person_id, count(*) AS allegations, max(occurred_at) AS last_event_at
          FROM off WHERE {pred} GROUP BY person_id),
    c AS (SELECT person_id, count(DISTINCT crime_key) AS charges,
                 count(DISTINCT crime_key) FILTER (WHERE kind = 'conviction') AS convictions
          FROM evid_cat WHERE {pred} GROUP BY person_id),
    v AS (SELECT person_id, count(DISTINCT victim_id) AS distinct_victims FROM vic WHERE {pred} GROUP BY person_id)
    SELECT pop.person_id,
           coalesce(a.allegations, 0)::BIGINT AS allegations,
           coalesce(c.charges, 0)::BIGINT AS charges,
           coalesce(c.convictions, 0)::BIGINT AS convictions,
           coalesce(v.distinct_victims, 0)::BIGINT AS distinct_victims,
           a.last_event_at
    FROM pop LEFT JOIN a USING (person_id) LEFT JOIN c USING (person_id) LEFT JOIN v USING (person_id)
    """
    if ids is None:
        df = con.execute(sql, {"as_of": at}).df()
    else:  # evidence is per person: restrict from the start (cheap for a short list of people)
        eng.register_frame(name, ids)
        try:
            df = con.execute(sql, {"as_of": at}).df()
        finally:
            eng.unregister(name)
    return df.set_index("person_id").sort_index()


def scored_population(con: Engine | DuckDBPyConnection, as_of: object) -> pd.Index:
    """Person ids of the scored population as of a date (see the module docstring)."""
    check_warehouse(con)
    at = parse_as_of(as_of)
    sql = f"WITH {_base_ctes(DEFAULT_SETTINGS)} SELECT person_id FROM pop ORDER BY person_id"
    return pd.Index(con.execute(sql, {"as_of": at}).df()["person_id"], name="person_id")


def build_labels(
    con: Engine | DuckDBPyConnection,
    as_of: object,
    horizon_days: int = 365,
    category: str = "vawg",
    threshold: str = "allegation",
    *,
    person_ids: Iterable[object] | None = None,
    censor_at: object | None = None,
) -> pd.DataFrame:
    """What happened in the horizon after ``as_of``, for the scored population as of that date.

    An outcome event is an ``offence`` naming the person as suspect/offender, of the chosen
    ``category``, that occurred in ``[as_of, as_of + horizon_days)``. With ``threshold``:

    * ``allegation``: every such offence counts;
    * ``charged``: only if the offence's recorded outcome is ``charged``/``convicted`` or a
      ``charge``/``conviction`` event refers to it (``crime_ref``) naming this person (or nobody);
    * ``convicted``: likewise with ``convicted`` / ``conviction`` only.

    Labels look at the future by design; the court outcome may be dated after the horizon.
    With ``censor_at`` only offences that occurred and were reported before it count (the follow-up
    ends there even when the horizon runs on): what was known on that date, for training on partly
    observed years.

    Returns a DataFrame indexed by ``person_id`` with ``label`` (0/1), ``days_to_event`` (days
    from ``as_of`` to the first such offence, NaN if none) and ``harm_next`` (summed harm weight
    of those offences).
    """
    check_warehouse(con)
    pred = CATEGORIES[_check_category(category)]
    _check_threshold(threshold)
    try:
        horizon = int(horizon_days)
    except (TypeError, ValueError) as exc:
        raise FeaturesError(f"horizon_days must be a whole number of days, not {horizon_days!r}") from exc
    if horizon <= 0:
        raise FeaturesError(f"horizon_days must be positive, not {horizon}")
    at = parse_as_of(as_of)
    # the follow-up ends at the horizon or at the censoring date, whichever comes first
    follow_end = at + pd.Timedelta(days=horizon)
    if censor_at is not None:
        c = parse_as_of(censor_at)
        if c <= at:
            raise FeaturesError(f"censor_at {c:%Y-%m-%d} is not after as_of {at:%Y-%m-%d}: no follow-up to label")
        follow_end = min(follow_end, c)
    # censored labels are what was known on censor_at: an offence reported later is not
    known = "" if censor_at is None else (
        f"AND coalesce(e.reported_at, e.occurred_at) < TIMESTAMP '{pd.Timestamp(parse_as_of(censor_at)).isoformat(sep=' ')}'")
    if threshold == "allegation":
        thr = "TRUE"
    else:
        outcomes = "('charged', 'convicted')" if threshold == "charged" else "('convicted')"
        kinds = "('charge', 'conviction')" if threshold == "charged" else "('conviction')"
        thr = f"""(f.outcome IN {outcomes} OR EXISTS (
            SELECT 1 FROM events c
            WHERE c.event_type IN {kinds} AND {crime_ref_sql(con, "c")} = f.event_id
              AND (EXISTS (SELECT 1 FROM people cp JOIN links cl ON cl.mention_id = cp.mention_id
                           WHERE cp.event_id = c.event_id AND CAST(cl.person_id AS VARCHAR) = f.person_id
                             AND cp.role NOT IN {NOT_SUBJECT_ROLES})
                   OR NOT EXISTS (SELECT 1 FROM people cq WHERE cq.event_id = c.event_id
                                  AND cq.role NOT IN {NOT_SUBJECT_ROLES}))))"""
    sql = f"""
    WITH {_base_ctes(DEFAULT_SETTINGS, crime_ref_sql(con))},
    fut AS (
        SELECT DISTINCT CAST(l.person_id AS VARCHAR) AS person_id, e.event_id, e.occurred_at, e.outcome,
               coalesce(h.vawg, FALSE) AS vawg, coalesce(h.sexual, FALSE) AS sexual,
               coalesce(h.domestic, e.domestic, FALSE) AS domestic, coalesce(h.violent, FALSE) AS violent,
               coalesce(h.harm_weight, 0.0) AS harm
        FROM events e
        JOIN people p ON p.event_id = e.event_id AND p.role IN {SUSPECT_ROLES}
        JOIN links l ON l.mention_id = p.mention_id
        LEFT JOIN event_harm h ON h.event_id = e.event_id
        WHERE e.event_type = 'offence' AND e.occurred_at >= $as_of
          AND e.occurred_at < TIMESTAMP '{pd.Timestamp(follow_end).isoformat(sep=" ")}'
          {known}
    ),
    q AS (SELECT * FROM fut f WHERE {pred} AND {thr}),
    agg AS (
        SELECT person_id, min(occurred_at) AS first_at, sum(harm) AS harm_next
        FROM q GROUP BY person_id
    )
    SELECT pop.person_id,
           CASE WHEN agg.first_at IS NULL THEN 0 ELSE 1 END AS label,
           (epoch(agg.first_at) - epoch($as_of)) / 86400.0 AS days_to_event,
           coalesce(agg.harm_next, 0.0) AS harm_next
    FROM pop LEFT JOIN agg USING (person_id)
    """
    df = _run(con, sql, at, person_ids).set_index("person_id").sort_index()
    df["label"] = df["label"].astype("int64")
    df["days_to_event"] = df["days_to_event"].astype("float64")
    df["harm_next"] = df["harm_next"].astype("float64")
    return df


def snapshot_dates(start: object, end: object, freq_months: int = 1) -> list[datetime]:
    """Dates from ``start`` to ``end`` inclusive, every ``freq_months`` calendar months."""
    s, e = parse_as_of(start), parse_as_of(end)
    if freq_months < 1:
        raise FeaturesError(f"freq_months must be at least 1, not {freq_months}")
    if e < s:
        raise FeaturesError(f"snapshot end {e:%Y-%m-%d} is before start {s:%Y-%m-%d}")
    out: list[datetime] = []
    k = 0
    while True:
        d = (pd.Timestamp(s) + pd.DateOffset(months=k * freq_months)).to_pydatetime()
        if d > e:
            return out
        out.append(d)
        k += 1


def data_end(con: Engine | DuckDBPyConnection) -> datetime | None:
    """The latest recorded event date in the warehouse (None when empty)."""
    v = _scalar(con, "SELECT max(greatest(occurred_at, coalesce(reported_at, occurred_at))) FROM events")
    return v


def snapshot_dataset(
    con: Engine | DuckDBPyConnection,
    start: object,
    end: object,
    *,
    freq_months: int = 1,
    horizon_days: int = 365,
    category: str = "vawg",
    threshold: str = "allegation",
    allow_censored: bool = False,
    censor_at: object | None = None,
    settings: FeatureSettings = DEFAULT_SETTINGS,
) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """Training data: features and labels as of each snapshot date, stacked.

    Snapshots are taken every ``freq_months`` months from ``start`` to ``end`` inclusive. A
    person appears once per snapshot at which they are in the scored population.

    A snapshot whose horizon runs past the last recorded event would label people 0 only because
    the data stops (censoring); that raises unless ``allow_censored=True`` (then ``meta.censored``
    says which rows are affected and ``meta.followup_days`` how many days of the horizon were seen).
    ``censor_at`` (default: the last recorded event) is where follow-up ends: no label uses an
    offence on or after it, so a model trained as of that date sees nothing later.

    Returns
    -------
    X : DataFrame of features (columns as ``FEATURES``), RangeIndex aligned with ``y`` and ``meta``.
    y : Series ``label`` (0/1).
    meta : DataFrame with ``person_id``, ``as_of``, ``days_to_event``, ``harm_next``, ``censored``,
        ``followup_days``.
    """
    check_warehouse(con)
    _check_category(category)
    _check_threshold(threshold)
    dates = snapshot_dates(start, end, freq_months)
    last = data_end(con)
    if last is None:
        raise FeaturesError("the warehouse has no events to build snapshots from")
    cutoff = last if censor_at is None else parse_as_of(censor_at)
    if censor_at is not None and cutoff > last:
        raise FeaturesError(f"censor_at {cutoff:%Y-%m-%d} is after the last recorded event ({last:%Y-%m-%d})")
    censored_dates = [d for d in dates if d + pd.Timedelta(days=int(horizon_days)) > cutoff]
    if censor_at is not None and censored_dates and censored_dates[-1] >= cutoff:
        raise FeaturesError(f"snapshot {censored_dates[-1]:%Y-%m-%d} is not before the end of follow-up ({cutoff:%Y-%m-%d})")
    if censored_dates and not allow_censored:
        raise FeaturesError(
            f"snapshot {censored_dates[0]:%Y-%m-%d} + {horizon_days} days runs past the last recorded event "
            f"({last:%Y-%m-%d}): end the snapshots by "
            f"{(pd.Timestamp(last) - pd.Timedelta(days=int(horizon_days))):%Y-%m-%d} or allow censoring"
        )
    xs, metas = [], []
    for d in dates:
        X = build_features(con, d, settings=settings)
        L = build_labels(con, d, horizon_days, category, threshold, censor_at=censor_at)
        L = L.reindex(X.index)
        seen = min(float(horizon_days), (pd.Timestamp(cutoff) - pd.Timestamp(d)).total_seconds() / 86400.0)
        meta = pd.DataFrame(
            {
                "person_id": X.index.to_numpy(),
                "as_of": pd.Timestamp(d),
                "label": L["label"].to_numpy(dtype="int64"),
                "days_to_event": L["days_to_event"].to_numpy(dtype="float64"),
                "harm_next": L["harm_next"].to_numpy(dtype="float64"),
                "censored": d in censored_dates,
                "followup_days": seen if d in censored_dates else float(horizon_days),
            }
        )
        xs.append(X.reset_index(drop=True))
        metas.append(meta)
        log.info("snapshot %s: %d persons, %d positive", f"{d:%Y-%m-%d}", len(X), int(meta["label"].sum()))
    if not xs:
        raise FeaturesError("no snapshot dates between start and end")
    X_all = pd.concat(xs, ignore_index=True)
    meta_all = pd.concat(metas, ignore_index=True)
    y = meta_all.pop("label").astype("int64").rename("label")
    if not len(X_all):
        X_all = pd.DataFrame(np.zeros((0, len(FEATURES))), columns=list(FEATURES))
    return X_all, y, meta_all
