"""Who belongs to which group, for the audit only (never a model input).

* **ethnicity**: the 2021 Census five groups (Asian, Black, Mixed, White, Other) from the
  person's self-defined ethnicity, plus ``not stated``. A person recorded in several mentions gets
  their most often stated code (ties: alphabetical); ``not stated`` only when no mention states one.
* **sex**: most often recorded of male/female/other; else ``unknown``.
* **age band**: from the most often recorded plausible date of birth, at the as-of date.
* **borough**: the borough most of the person's events (any role) happened in, up to the date.

Nothing here is logged: dates of birth are read only to compute an age band.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from duckdb import DuckDBPyConnection

from harmlens.engine import Engine, as_engine

ETHNIC_GROUPS = {"A": "Asian", "B": "Black", "M": "Mixed", "W": "White", "O": "Other"}
ETHNICITY_ORDER = ["Asian", "Black", "Mixed", "White", "Other", "not stated"]
NOT_STATED = "not stated"
UNKNOWN = "unknown"
AGE_BANDS = [(0, 18, "under 18"), (18, 25, "18-24"), (25, 35, "25-34"), (35, 45, "35-44"), (45, 55, "45-54"),
             (55, 200, "55+")]
DIMENSIONS = ("ethnicity", "age_band", "sex", "borough")
DIMENSION_LABELS = {"ethnicity": "self-defined ethnicity", "age_band": "age band", "sex": "sex", "borough": "borough"}

_CODE = re.compile(r"^\s*([ABMWO])\d\s*$", re.IGNORECASE)


def ethnic_group(label: Any) -> str | None:
    """A 19-category code, a five-group name or a census column label -> one of the five groups,
    ``not stated``, or None for totals/unrecognised labels."""
    if label is None or (isinstance(label, float) and pd.isna(label)):
        return NOT_STATED
    s = str(label).strip()
    m = _CODE.match(s)
    if m:
        return ETHNIC_GROUPS[m.group(1).upper()]
    low = s.lower().replace("_", " ")
    if low in ("", "not stated", "not_stated", "unknown", "ns"):
        return NOT_STATED
    if low.startswith(("all", "total")):
        return None
    for word, grp in [("mixed", "Mixed"), ("white", "White"), ("black", "Black"), ("asian", "Asian"),
                      ("chinese", "Asian"), ("arab", "Other"), ("other", "Other")]:
        if word in low:
            return grp
    return None


def age_band(age_years: pd.Series) -> pd.Series:
    out = pd.Series(UNKNOWN, index=age_years.index, dtype=object)
    for lo, hi, lab in AGE_BANDS:
        out[(age_years >= lo) & (age_years < hi)] = lab
    return out


def person_groups(con: Engine | DuckDBPyConnection, person_ids: Sequence[Any], as_of: datetime) -> pd.DataFrame:
    """Ethnicity, sex, age band and borough per person (index ``person_id`` as text)."""
    eng = as_engine(con)
    ids = pd.DataFrame({"person_id": [str(p) for p in person_ids]}).drop_duplicates()
    eng.register_frame("_audit_group_ids", ids)
    try:
        df = eng.frame(
            """
            WITH m AS (
                SELECT CAST(l.person_id AS VARCHAR) AS person_id, p.self_defined_ethnicity AS eth, p.sex,
                       p.date_of_birth AS dob, e.borough
                FROM links l
                JOIN people p ON p.mention_id = l.mention_id
                JOIN events e ON e.event_id = p.event_id
                JOIN _audit_group_ids i ON i.person_id = CAST(l.person_id AS VARCHAR)
                WHERE e.occurred_at < ?
            ),
            pick AS (
                SELECT person_id, 'eth' AS what, CAST(eth AS VARCHAR) AS v, count(*) AS n FROM m
                WHERE eth IS NOT NULL AND eth <> 'not_stated' GROUP BY ALL
                UNION ALL
                SELECT person_id, 'sex', sex, count(*) FROM m WHERE sex IN ('male', 'female', 'other') GROUP BY ALL
                UNION ALL
                SELECT person_id, 'dob', CAST(dob AS VARCHAR), count(*) FROM m
                WHERE dob >= DATE '1910-01-01' GROUP BY ALL
                UNION ALL
                SELECT person_id, 'borough', borough, count(*) FROM m WHERE borough IS NOT NULL GROUP BY ALL
            ),
            best AS (
                SELECT person_id, what, v,
                       row_number() OVER (PARTITION BY person_id, what ORDER BY n DESC, v) AS r
                FROM pick
            )
            SELECT person_id,
                   max(v) FILTER (WHERE what = 'eth') AS eth,
                   max(v) FILTER (WHERE what = 'sex') AS sex,
                   max(v) FILTER (WHERE what = 'dob') AS dob,
                   max(v) FILTER (WHERE what = 'borough') AS borough
            FROM best WHERE r = 1 GROUP BY person_id
            """,
            [as_of],
        )
    finally:
        eng.unregister("_audit_group_ids")
    df = df.set_index("person_id").reindex(ids["person_id"])
    eth = df["eth"].map(lambda v: ethnic_group(v) if isinstance(v, str) else NOT_STATED).fillna(NOT_STATED)
    age = (pd.Timestamp(as_of) - pd.to_datetime(df["dob"], errors="coerce")).dt.days / 365.25
    return pd.DataFrame({
        "ethnicity": eth.to_numpy(dtype=object),
        "sex": df["sex"].fillna(UNKNOWN).to_numpy(dtype=object),
        "age_band": age_band(age).to_numpy(dtype=object),
        "borough": df["borough"].fillna(UNKNOWN).to_numpy(dtype=object),
    }, index=pd.Index(ids["person_id"], name="person_id"))


def population_counts(con: Engine | DuckDBPyConnection) -> pd.DataFrame | None:
    """The ``population`` table as counts by (area, ethnicity group), five groups; None if empty."""
    eng = as_engine(con)
    if not as_engine(con).has_table("population"):
        return None
    pop = eng.frame("SELECT area, ethnicity_group, population FROM population")
    if pop.empty:
        return None
    pop["group"] = pop["ethnicity_group"].map(ethnic_group)
    pop = pop.dropna(subset=["group"])
    pop = pop[pop["group"] != NOT_STATED]
    if pop.empty:
        return None
    # a table may hold both a group's total ("White") and its parts ("W1", ...): keep the total
    names = {g.lower() for g in ETHNIC_GROUPS.values()}
    pop["is_total"] = pop["ethnicity_group"].astype(str).str.strip().str.lower().isin(names)
    has_total = pop.groupby(["area", "group"])["is_total"].transform("any")
    pop = pop[~has_total | pop["is_total"]]
    return pop.groupby(["area", "group"], as_index=False)["population"].sum()
