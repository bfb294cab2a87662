"""The rankings police use today, computed exactly: V100 harm sum, RFG and RFH matrices.

All scorers share one definition of the evidence, so the model and every baseline are compared
on the same people, dates and counts:

- **as of** a date means the start of that day (00:00): everything that happened, and was
  reported, strictly before it. A window of ``N`` days is ``[as_of - N days, as_of)``, so an
  offence exactly 365 days before the date is inside the V100 window and one 366 days before is not.
- **allegation**: an offence event naming the person (through ``links``) as ``suspect`` or
  ``offender``, counted once per event however many times the person is mentioned in it.
  Offences reported on or after the as-of date (``reported_at``) are not yet known and not counted.
- **charge / conviction**: an allegation counts as charged if the offence's own ``outcome`` is
  ``charged`` or ``convicted``, or a ``charge`` or ``conviction`` event before the as-of date points
  at it through ``crime_ref``; convicted likewise with ``convicted`` / ``conviction`` events.
  Both sources are combined per offence (logical OR), so an offence with a charge event *and*
  outcome ``charged`` counts once. An outcome event counts for the people it names; one that
  names no linked person counts for every suspect of the offence. Convictions are also charges.
- **distinct victims**: distinct linked persons in the ``victim`` role on those offences (an
  unlinked victim mention counts as its own person; the suspect is never their own victim).
"""

from __future__ import annotations

import math
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from pathlib import Path
from typing import Iterator

import duckdb
import pandas as pd

from harmlens.engine import Engine, as_engine
from harmlens.harm.errors import HarmError
from harmlens.harm.offence_map import offence_harm_table, stale_offences
from harmlens.harm.weights import WeightTable, load_weight_table

INF = math.inf


def as_of_timestamp(as_of: str | date | datetime) -> datetime:
    """A date means the start of that day; a datetime is used as given (naive, Europe/London).

    The rule is :mod:`harmlens.asof`'s, shared by every command's ``--as-of``."""
    from harmlens.asof import parse_as_of

    return parse_as_of(as_of, error=HarmError)


def _has_table(con: Engine | duckdb.DuckDBPyConnection, name: str) -> bool:
    return as_engine(con).has_table(name)


def require_links(con: Engine | duckdb.DuckDBPyConnection) -> None:
    eng = as_engine(con)
    if not eng.has_table("links"):
        raise HarmError("the warehouse has no links table: run 'harmlens link' first")
    linked = eng.rows("SELECT 1 FROM links LIMIT 1")
    mentions = eng.rows("SELECT 1 FROM people LIMIT 1")
    if mentions and not linked:
        raise HarmError("no mention is linked to a person yet (links is empty): run 'harmlens link' first")


def crime_ref_expr(con: Engine | duckdb.DuckDBPyConnection, alias: str = "e") -> str:
    """SQL for an event's ``crime_ref``: a real column if ingest made one, else the passed-through extra JSON."""
    if "crime_ref" in as_engine(con).columns("events"):
        return f"{alias}.crime_ref"
    return f"json_extract_string({alias}.extra, '$.crime_ref')"


@contextmanager
def harm_source(con: Engine | duckdb.DuckDBPyConnection, weights: str | Path | WeightTable | None = None) -> Iterator[tuple[str, str]]:
    """Yield (relation name, weight table name) for scoring.

    ``weights=None`` reads ``event_harm`` as applied (it must cover every offence event);
    otherwise the map is computed on the fly with that table (a temporary table on the engine)
    and nothing is written.
    """
    eng = as_engine(con)
    if weights is None:
        stale = stale_offences(eng)
        if stale:
            raise HarmError(f"{stale} offence events have no harm mapping: run 'harmlens harm apply' first")
        names = [r[0] for r in eng.rows("SELECT DISTINCT weight_table FROM event_harm ORDER BY 1")]
        yield "event_harm", (names[0] if len(names) == 1 else "+".join(names) if names else "none")
        return
    table = load_weight_table(weights)
    with offence_harm_table(eng, table) as name:
        yield name, table.name


# Written in the SQL both engines run (DuckDB directly, Spark through sqlglot): positional
# parameters, joins instead of correlated EXISTS in the select list, explicit GROUP BY.
_SUSPECT_OFFENCES_SQL = """
WITH so AS (
    SELECT DISTINCT l.person_id, e.event_id, e.occurred_at, e.outcome,
           h.harm_weight, h.offence_category, h.gravity
    FROM people p
    JOIN links l ON l.mention_id = p.mention_id
    JOIN events e ON e.event_id = p.event_id
    JOIN {harm} h ON h.event_id = e.event_id
    WHERE e.event_type = 'offence' AND p.role IN ('suspect', 'offender')
      AND e.occurred_at >= ? AND e.occurred_at < ?
      AND (e.reported_at IS NULL OR e.reported_at < ?)
      AND COALESCE({scope}, FALSE)
),
outc AS (
    SELECT {ref} AS ref, o.event_type, l2.person_id
    FROM events o
    LEFT JOIN people p2 ON p2.event_id = o.event_id AND p2.role NOT IN ('victim', 'witness')
    LEFT JOIN links l2 ON l2.mention_id = p2.mention_id
    WHERE o.event_type IN ('charge', 'conviction') AND o.occurred_at < ? AND {ref} IS NOT NULL
),
outcome_events AS (
    SELECT so.person_id, so.event_id,
           max(CASE WHEN x.event_type = 'conviction' THEN 1 ELSE 0 END) AS conviction
    FROM (SELECT DISTINCT person_id, event_id FROM so) so
    JOIN outc x ON x.ref = so.event_id AND (x.person_id = so.person_id OR x.person_id IS NULL)
    GROUP BY so.person_id, so.event_id
)
SELECT so.*,
       (so.outcome IN ('charged', 'convicted') OR oe.event_id IS NOT NULL) AS charged,
       (so.outcome = 'convicted' OR COALESCE(oe.conviction, 0) = 1) AS convicted
FROM so
LEFT JOIN outcome_events oe ON oe.person_id = so.person_id AND oe.event_id = so.event_id
"""


def suspect_offences(
    con: Engine | duckdb.DuckDBPyConnection,
    harm: str,
    as_of: datetime,
    window_days: int,
    scope: str,
) -> str:
    """Create a temp table of (person, offence) pairs in scope on the engine; returns its name."""
    require_links(con)
    if scope not in ("vawg", "domestic", "all"):
        raise HarmError(f"scope {scope!r} is not one of vawg, domestic, all")
    eng = as_engine(con)
    scope_sql = {"vawg": "h.vawg", "domestic": "h.domestic", "all": "TRUE"}[scope]
    name = f"_so_{uuid.uuid4().hex[:10]}"
    start = as_of - pd.Timedelta(days=window_days)
    sql = _SUSPECT_OFFENCES_SQL.format(harm=harm, scope=scope_sql, ref=crime_ref_expr(eng, "o"))
    eng.run(sql, [start, as_of, as_of, as_of], into=name, temporary=True)
    return name


def _category_mix(cat: pd.DataFrame) -> pd.Series:
    """Per person: "n category (weight)" parts, heaviest first, joined with "; " (index person_id).

    Built here rather than with ``string_agg(... ORDER BY)`` and ``format('{:g}')``, which only
    DuckDB spells that way; ``cat`` has one row per person and category, so it is small."""
    if not len(cat):
        return pd.Series(dtype=object)
    cat = cat.assign(_order=cat["w"].where(cat["nw"] > 0, -1).fillna(-1))
    cat = cat.sort_values(["person_id", "_order", "offence_category"], ascending=[True, False, True], kind="mergesort")
    parts = [
        f"{n} {c}" + (" (no weight)" if nw == 0 else f" ({_g(w)})")
        for n, c, w, nw in zip(cat["n"], cat["offence_category"], cat["w"], cat["nw"])
    ]
    return pd.Series(parts, index=cat["person_id"].to_numpy()).groupby(level=0, sort=False).agg("; ".join)


def _g(w: float) -> str:
    """DuckDB's ``format('{:g}', round(w, 2))``: round half away from zero, then six significant digits."""
    from decimal import ROUND_HALF_UP, Decimal

    r = float(Decimal(repr(float(w))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return f"{r:g}"


def evidence(con: Engine | duckdb.DuckDBPyConnection, so: str, as_of: datetime) -> pd.DataFrame:
    """Per person: allegations, charges, convictions, distinct victims, harm, last event, category mix.

    The aggregates over every person run on the engine; the category-mix text is put together
    in Python from the per-person-and-category counts."""
    eng = as_engine(con)
    ev = eng.frame(
        f"""
        WITH vic AS (
            SELECT so.person_id, count(DISTINCT COALESCE(lv.person_id, 'mention:' || pv.mention_id)) AS distinct_victims
            FROM (SELECT DISTINCT person_id, event_id FROM {so}) so
            JOIN people pv ON pv.event_id = so.event_id AND pv.role = 'victim'
            LEFT JOIN links lv ON lv.mention_id = pv.mention_id
            WHERE COALESCE(lv.person_id, '') <> so.person_id
            GROUP BY so.person_id
        )
        SELECT a.person_id,
               CAST(count(*) AS BIGINT) AS allegations,
               CAST(sum(CASE WHEN charged THEN 1 ELSE 0 END) AS BIGINT) AS charges,
               CAST(sum(CASE WHEN convicted THEN 1 ELSE 0 END) AS BIGINT) AS convictions,
               CAST(COALESCE(max(v.distinct_victims), 0) AS BIGINT) AS distinct_victims,
               CAST(COALESCE(sum(harm_weight), 0) AS DOUBLE) AS harm_sum,
               CAST(sum(CASE WHEN harm_weight IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS unweighted,
               CAST(max(gravity) AS INTEGER) AS max_gravity,
               max(occurred_at) AS last_event_at
        FROM {so} a
        LEFT JOIN vic v ON v.person_id = a.person_id
        GROUP BY a.person_id
        ORDER BY a.person_id
        """
    )
    cat = eng.frame(
        f"""SELECT person_id, offence_category, CAST(count(*) AS BIGINT) AS n, sum(harm_weight) AS w,
                   CAST(count(harm_weight) AS BIGINT) AS nw
            FROM {so} GROUP BY person_id, offence_category"""
    )
    day = pd.Timestamp(as_of).normalize()
    ev["days_since_last"] = [int((day - pd.Timestamp(t).normalize()).days) for t in ev["last_event_at"]]
    ev["days_since_last"] = ev["days_since_last"].astype("int64")
    mix = _category_mix(cat)
    ev["category_mix"] = [mix.get(p) for p in ev["person_id"]]
    return ev


def _fmt(x: float) -> str:
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def v100_scores(
    con: Engine | duckdb.DuckDBPyConnection,
    as_of: str | date | datetime,
    *,
    window_days: int = 365,
    weights: str | Path | WeightTable | None = None,
) -> pd.DataFrame:
    """V100 style: summed harm weight of VAWG allegations naming the person in the window.

    One row per person with at least one VAWG allegation in ``[as_of - window_days, as_of)``:
    ``person_id, score (= harm_sum), harm_sum, allegations, charges, convictions,
    distinct_victims, unweighted, last_event_at, top_factors, weight_table, as_of, method``.
    Allegations whose offence has no weight add nothing and are counted in ``unweighted``.
    """
    ts = as_of_timestamp(as_of)
    with harm_source(con, weights) as (harm, table_name):
        so = suspect_offences(con, harm, ts, window_days, "vawg")
        try:
            ev = evidence(con, so, ts)
        finally:
            as_engine(con).drop(so)
    ev["score"] = ev["harm_sum"]
    ev["top_factors"] = [
        f"harm {_fmt(r.harm_sum)} from {r.allegations} VAWG allegation{'s' if r.allegations != 1 else ''} "
        f"in {window_days} days: {r.category_mix}"
        + (f"; {r.unweighted} without a weight" if r.unweighted else "")
        for r in ev.itertuples(index=False)
    ]
    ev["weight_table"] = table_name
    ev["as_of"] = ts
    ev["method"] = "v100"
    ev["rfgv_score"] = float("nan")
    ev["band"] = None
    return ev


# --------------------------------------------------------------------------- RFG / RFH

Bands = tuple[tuple[float, int], ...]


@dataclass(frozen=True)
class RFGConfig:
    """Recency-Frequency-Gravity/Harm-Victims matrix settings.

    The MATAC points are not public; these defaults are harmlens's, chosen to follow what is
    public (see docs/harm.md): a three-year lookback (the MATAC serial-perpetrator definition,
    two or more victims within three years), a first recency band of 28 days (the four-weekly
    MATAC cycle), and each dimension scored 1-5 so the total is 4-20.

    Bands are ``(upper bound inclusive, points)`` pairs, checked in order.
    """

    lookback_days: int = 1095
    scope: str = "domestic"  # domestic | vawg | all
    recency_bands: Bands = ((28, 5), (91, 4), (182, 3), (365, 2), (INF, 1))  # days since the last offence
    frequency_bands: Bands = ((1, 1), (2, 2), (4, 3), (9, 4), (INF, 5))  # offences in the lookback
    gravity_bands: Bands = ((1, 1), (2, 2), (3, 3), (4, 4), (INF, 5))  # highest gravity (1-5) in the lookback
    harm_bands_days: Bands = ((10, 1), (100, 2), (365, 3), (1825, 4), (INF, 5))  # summed harm, tables in days
    harm_bands_points: Bands = ((15, 1), (35, 2), (60, 3), (100, 4), (INF, 5))  # summed harm, point tables
    victim_bands: Bands = ((1, 1), (2, 3), (INF, 5))  # distinct victims
    weight_recency: float = 1.0
    weight_frequency: float = 1.0
    weight_gravity: float = 1.0
    weight_victims: float = 1.0
    band_high: float = 15.0
    band_medium: float = 10.0

    @classmethod
    def from_file(cls, path: str | Path) -> "RFGConfig":
        """Read overrides from a TOML file (keys as the field names; bands as [[bound, points], ...])."""
        from harmlens.tomlfile import read_toml

        return cls.from_dict(read_toml(path, "RFG config", HarmError), source=str(Path(path)))

    @classmethod
    def from_dict(cls, raw: dict, source: str = "config") -> "RFGConfig":
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - names)
        if unknown:
            raise HarmError(f"{source}: unknown RFG setting(s) {', '.join(unknown)}")
        cfg = cls()
        vals = {}
        for k, v in raw.items():
            if k.endswith("_bands"):
                try:
                    vals[k] = tuple((INF if str(b).lower() in ("inf", "infinity") else float(b), int(pts)) for b, pts in v)
                except (TypeError, ValueError) as exc:
                    raise HarmError(f"{source}: {k} must be a list of [upper bound, points] pairs") from exc
            else:
                vals[k] = v
        cfg = replace(cfg, **vals)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        if self.scope not in ("domestic", "vawg", "all"):
            raise HarmError(f"RFG scope {self.scope!r} is not one of domestic, vawg, all")
        if self.lookback_days <= 0:
            raise HarmError("RFG lookback_days must be positive")
        for f in fields(self):
            if f.name.endswith("_bands"):
                bands = getattr(self, f.name)
                bounds = [b for b, _ in bands]
                if not bands or bounds != sorted(bounds) or bounds[-1] != INF:
                    raise HarmError(f"RFG {f.name}: bounds must increase and end with inf")


def applied_unit(con: Engine | duckdb.DuckDBPyConnection, table_name: str) -> str:
    """Unit of the weight table ``event_harm`` was applied with (recorded in ``harm_runs``)."""
    rows = as_engine(con).rows(
        "SELECT weight_unit FROM harm_runs WHERE weight_table = ? AND weight_unit IS NOT NULL ORDER BY applied_at DESC LIMIT 1",
        [table_name],
    )
    if rows:
        return rows[0][0]
    from harmlens.harm.weights import BUILTIN_TABLES

    return next((unit for name, _f, unit, _d in BUILTIN_TABLES.values() if name == table_name), "days")


def band_points(value: float, bands: Bands) -> int:
    """Points of the first band whose upper bound (inclusive) holds ``value``."""
    for bound, pts in bands:
        if value <= bound:
            return pts
    return bands[-1][1]


def _matrix_scores(
    con: Engine | duckdb.DuckDBPyConnection,
    as_of: str | date | datetime,
    *,
    use_harm: bool,
    weights: str | Path | WeightTable | None,
    config: RFGConfig | None,
) -> pd.DataFrame:
    cfg = config or RFGConfig()
    cfg.validate()
    ts = as_of_timestamp(as_of)
    with harm_source(con, weights) as (harm, table_name):
        unit = load_weight_table(weights).unit if weights is not None else applied_unit(con, table_name)
        so = suspect_offences(con, harm, ts, cfg.lookback_days, cfg.scope)
        try:
            ev = evidence(con, so, ts)
        finally:
            as_engine(con).drop(so)
    method = "rfh" if use_harm else "rfg"
    harm_bands = cfg.harm_bands_days if unit == "days" else cfg.harm_bands_points
    r = [band_points(d, cfg.recency_bands) for d in ev["days_since_last"]]
    f = [band_points(n, cfg.frequency_bands) for n in ev["allegations"]]
    if use_harm:
        g = [band_points(h, harm_bands) for h in ev["harm_sum"]]
    else:
        g = [band_points(0 if pd.isna(x) else x, cfg.gravity_bands) for x in ev["max_gravity"]]
    v = [band_points(n, cfg.victim_bands) for n in ev["distinct_victims"]]
    ev["recency_points"], ev["frequency_points"], ev["victim_points"] = r, f, v
    ev["harm_points" if use_harm else "gravity_points"] = g
    ev["rfgv_score"] = [
        cfg.weight_recency * a + cfg.weight_frequency * b + cfg.weight_gravity * c + cfg.weight_victims * d
        for a, b, c, d in zip(r, f, g, v)
    ]
    ev["score"] = ev["rfgv_score"]
    ev["band"] = ["high" if s >= cfg.band_high else "medium" if s >= cfg.band_medium else "standard" for s in ev["rfgv_score"]]
    gname = "H" if use_harm else "G"
    ev["top_factors"] = [
        f"R{row.recency_points} (last {row.days_since_last} days ago) "
        f"F{row.frequency_points} ({row.allegations} {cfg.scope} allegation{'s' if row.allegations != 1 else ''} in {cfg.lookback_days} days) "
        + (f"H{row.harm_points} (harm {_fmt(row.harm_sum)}) " if use_harm else f"G{row.gravity_points} (highest gravity {row.max_gravity}) ")
        + f"V{row.victim_points} ({row.distinct_victims} victim{'s' if row.distinct_victims != 1 else ''}): {row.category_mix}"
        for row in ev.itertuples(index=False)
    ]
    ev["weight_table"] = table_name
    ev["as_of"] = ts
    ev["method"] = method
    ev.attrs["matrix"] = f"R+F+{gname}+V"
    return ev


def rfg_scores(
    con: Engine | duckdb.DuckDBPyConnection,
    as_of: str | date | datetime,
    *,
    weights: str | Path | WeightTable | None = None,
    config: RFGConfig | None = None,
) -> pd.DataFrame:
    """Recency, Frequency, Gravity (highest offence gravity 1-5), Victims: one row per person in scope."""
    return _matrix_scores(con, as_of, use_harm=False, weights=weights, config=config)


def rfh_scores(
    con: Engine | duckdb.DuckDBPyConnection,
    as_of: str | date | datetime,
    *,
    weights: str | Path | WeightTable | None = None,
    config: RFGConfig | None = None,
) -> pd.DataFrame:
    """Recency, Frequency, Harm (summed harm weight, banded), Victims: one row per person in scope."""
    return _matrix_scores(con, as_of, use_harm=True, weights=weights, config=config)
