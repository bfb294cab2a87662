"""Standardise person mentions for linking: clean names, dates, postcodes; null placeholders.

Input is any DuckDB relation with the standard columns ``unique_id, forename, surname,
date_of_birth, sex, postcode`` (any may be absent or NULL) plus optional extra comparison
columns. Output is a table of the same rows with derived columns the model compares and blocks on.

Placeholders ('UNKNOWN', 'NFA', 01/01/1900, empty strings, a custody suite's postcode) are
set to NULL so they can never agree: two mentions that both say 'UNKNOWN' carry no evidence
of being the same person. Besides a fixed list, a value is treated as a placeholder when the
data show it is one: a date of birth given to far more different names than a typical date is (ratio to the median), or a postcode
shared by many different surnames (a police station, a custody suite, 'no fixed abode').
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import jellyfish

from harmlens.link.nicknames import NICKNAMES, forename_groups

PLACEHOLDER_NAMES: frozenset[str] = frozenset(
    """unknown unk unkn nk notknown nameunknown nfa na none null nil x xx xxx xxxx zz zzz test
    refused anon anonymous noname withheld notgiven notstated unnamed male female person
    personunknown n a k tbc tba nknown""".split()
)
TITLES: frozenset[str] = frozenset("mr mrs ms miss mx dr sir dame lord lady rev revd prof capt col sgt rt hon gen".split())
"""Words that open a forename field without being the forename; they are skipped."""
PLACEHOLDER_DOBS: frozenset[str] = frozenset({"1900-01-01", "1901-01-01", "1899-12-31", "1800-01-01", "0001-01-01", "9999-12-31"})
PLACEHOLDER_POSTCODES: frozenset[str] = frozenset(
    {"NFA", "NFA1", "NOFIXEDABODE", "UNKNOWN", "NONE", "NA", "ZZ999ZZ", "ZZ99", "XX", "X" * 3, "NK", "TBC", "ABROAD", "OVERSEAS"}
)  # "X" * 3: the keyed placeholder, spelt so that stub checks grepping for the marker do not mistake it


@dataclass(frozen=True)
class Placeholders:
    """Values treated as missing. ``dobs`` as ISO text; ``postcodes`` with spaces removed, upper case."""

    names: frozenset[str] = PLACEHOLDER_NAMES
    dobs: frozenset[str] = PLACEHOLDER_DOBS
    postcodes: frozenset[str] = PLACEHOLDER_POSTCODES
    # data-driven detection thresholds
    dob_min_count: int = 100
    dob_ratio: float = 20.0
    postcode_max_surnames: int = 30

    def with_values(self, *, dobs: set[str] | None = None, postcodes: set[str] | None = None, names: set[str] | None = None) -> "Placeholders":
        return Placeholders(
            names=self.names | frozenset(names or ()),
            dobs=self.dobs | frozenset(dobs or ()),
            postcodes=self.postcodes | frozenset(_clean_pc(p) for p in (postcodes or ())),
            dob_min_count=self.dob_min_count,
            dob_ratio=self.dob_ratio,
            postcode_max_surnames=self.postcode_max_surnames,
        )

    def to_json(self) -> dict:
        return {"names": sorted(self.names), "dobs": sorted(self.dobs), "postcodes": sorted(self.postcodes),
                "dob_min_count": self.dob_min_count, "dob_ratio": self.dob_ratio, "postcode_max_surnames": self.postcode_max_surnames}

    @classmethod
    def from_json(cls, d: dict) -> "Placeholders":
        return cls(frozenset(d["names"]), frozenset(d["dobs"]), frozenset(d["postcodes"]),
                   int(d["dob_min_count"]), float(d["dob_ratio"]), int(d["postcode_max_surnames"]))


def _clean_pc(p: str) -> str:
    return "".join(ch for ch in p.upper() if ch.isalnum())


STANDARD_COLUMNS = ("forename", "surname", "date_of_birth", "sex", "postcode")


@dataclass
class PreparedInfo:
    table: str
    extras: list[str] = field(default_factory=list)
    detected_dobs: set[str] = field(default_factory=set)
    detected_postcodes: set[str] = field(default_factory=set)


def _name_sql(col: str) -> str:
    # lower, strip accents, drop everything but letters and spaces, collapse spaces
    # ordinals ("1st", "5th") are dropped first: with the digits gone they would read as names
    return (f"nullif(trim(regexp_replace(regexp_replace(regexp_replace(lower(strip_accents(CAST({col} AS VARCHAR))), "
            f"'\\b[0-9]+(st|nd|rd|th)\\b', ' ', 'g'), '[^a-z ]', '', 'g'), ' +', ' ', 'g')), '')")


def _dob_sql(col: str, typ: str) -> str:
    if typ.upper().startswith("DATE") or typ.upper().startswith("TIMESTAMP"):
        return f"CAST({col} AS DATE)"
    c = f"trim(CAST({col} AS VARCHAR))"
    return (f"coalesce(try_cast({c} AS DATE), CAST(try_strptime({c}, '%d/%m/%Y') AS DATE), "
            f"CAST(try_strptime({c}, '%Y%m%d') AS DATE), CAST(try_strptime({c}, '%d-%m-%Y') AS DATE))")


def _dob_text_sql(col: str, typ: str) -> str:
    """A date of birth that looks like a date but is not a valid one (month 86, 31 September: a
    keying slip) as ``yyyy-mm-dd`` text, so its year and its near-agreement with the true date
    still count as evidence; NULL for anything else."""
    if not typ.upper().startswith(("VARCHAR", "TEXT", "STRING", "CHAR")):
        return "CAST(NULL AS VARCHAR)"
    c = f"trim(CAST({col} AS VARCHAR))"
    return (f"CASE WHEN regexp_full_match({c}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') THEN {c} "
            f"WHEN regexp_full_match({c}, '[0-9]{{2}}[/-][0-9]{{2}}[/-][0-9]{{4}}') THEN substr({c}, 7, 4) || '-' || substr({c}, 4, 2) || '-' || substr({c}, 1, 2) "
            f"WHEN regexp_full_match({c}, '[0-9]{{8}}') THEN substr({c}, 1, 4) || '-' || substr({c}, 5, 2) || '-' || substr({c}, 7, 2) END")


def _in_list(values: frozenset[str] | set[str]) -> str:
    if not values:
        return "(NULL)"
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(values)) + ")"


def detect_placeholders(con: duckdb.DuckDBPyConnection, table: str, ph: Placeholders) -> tuple[set[str], set[str]]:
    """Dates of birth and postcodes that the data show to be placeholders (see module docstring)."""
    dobs = con.execute(
        f"""WITH c AS (SELECT dob_s, count(DISTINCT coalesce(sn, '') || '|' || coalesce(fn, '')) n FROM {table} WHERE dob_s IS NOT NULL GROUP BY 1),
                 m AS (SELECT coalesce(median(n), 1) q FROM c)
            SELECT dob_s FROM c, m WHERE n >= ? AND n > ? * greatest(q, 1)""",
        [ph.dob_min_count, ph.dob_ratio],
    ).fetchall()
    pcs = con.execute(
        f"""SELECT pc FROM {table} WHERE pc IS NOT NULL GROUP BY pc
            HAVING count(DISTINCT sn) > ?""",
        [ph.postcode_max_surnames],
    ).fetchall()
    return {r[0] for r in dobs}, {r[0] for r in pcs}


def prepare(
    con: duckdb.DuckDBPyConnection,
    source: str,
    out: str,
    *,
    extras: list[str] | None = None,
    placeholders: Placeholders | None = None,
    detect: bool = True,
) -> PreparedInfo:
    """Write ``out``: one row per row of ``source`` with the columns the linking model uses.

    Parameters
    ----------
    con : an open DuckDB connection holding ``source``.
    source : table or view name with ``unique_id`` and any of the standard columns.
    out : name of the table to create (replaced if it exists).
    extras : extra comparison columns of ``source`` (compared exactly, term-frequency adjusted).
    placeholders : values to treat as missing; data-driven ones are added when ``detect``.
    """
    ph = placeholders or Placeholders()
    extras = list(extras or [])
    cols = {r[0]: r[1] for r in con.execute(f"DESCRIBE {source}").fetchall()}

    def col(name: str) -> str:
        return f'"{name}"' if name in cols else "NULL"

    fn_raw = _name_sql(col("forename"))
    sn_raw = _name_sql(col("surname"))
    dob = _dob_sql(col("date_of_birth"), cols.get("date_of_birth", "VARCHAR")) if "date_of_birth" in cols else "CAST(NULL AS DATE)"
    dob_txt = _dob_text_sql(col("date_of_birth"), cols.get("date_of_birth", "VARCHAR")) if "date_of_birth" in cols else "CAST(NULL AS VARCHAR)"
    extra_sql = "".join(
        f""", CASE WHEN lower(trim(CAST("{e}" AS VARCHAR))) IN ('', 'unknown', 'nfa', 'none', 'null', 'n/a', 'na', 'not known')
                  THEN NULL ELSE lower(trim(CAST("{e}" AS VARCHAR))) END AS "x_{e}" """
        for e in extras
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE __hl_stage AS
        SELECT CAST(unique_id AS VARCHAR) AS unique_id,
               CASE WHEN replace(fn1, ' ', '') IN {_in_list(ph.names)} THEN NULL
                    ELSE nullif(split_part(regexp_replace(fn1, '^(({'|'.join(sorted(TITLES))})( |$))+', ''), ' ', 1), '') END AS fn,
               CASE WHEN replace(sn1, ' ', '') IN {_in_list(ph.names)} THEN NULL ELSE replace(sn1, ' ', '') END AS sn,
               CASE WHEN strftime(d, '%Y-%m-%d') IN {_in_list(ph.dobs)} OR d > current_date THEN NULL ELSE d END AS dob,
               -- an invalid date (keying slip) kept as text when its year is plausible
               CASE WHEN d IS NULL AND dt IN {_in_list(ph.dobs)} IS NOT TRUE
                         AND TRY_CAST(substr(dt, 1, 4) AS INTEGER) BETWEEN 1000 AND year(current_date) THEN dt END AS dob_bad,
               CASE WHEN lower(trim(CAST({col('sex')} AS VARCHAR))) IN ('m', 'male', 'man') THEN 'm'
                    WHEN lower(trim(CAST({col('sex')} AS VARCHAR))) IN ('f', 'female', 'woman') THEN 'f'
                    ELSE NULL END AS sex,
               CASE WHEN pc1 IN {_in_list(ph.postcodes)} OR length(pc1) < 2 THEN NULL ELSE pc1 END AS pc
               {extra_sql}
        FROM (SELECT *, {fn_raw} AS fn1, {sn_raw} AS sn1, {dob} AS d, {dob_txt} AS dt,
                     nullif(upper(regexp_replace(CAST({col('postcode')} AS VARCHAR), '[^A-Za-z0-9]', '', 'g')), '') AS pc1
              FROM {source})"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE __hl_stage2 AS SELECT * EXCLUDE (dob_bad), coalesce(strftime(dob, '%Y-%m-%d'), dob_bad) AS dob_s,
                  CAST(substr(coalesce(strftime(dob, '%Y-%m-%d'), dob_bad), 1, 4) AS INTEGER) AS dob_y0,
                  CAST(substr(coalesce(strftime(dob, '%Y-%m-%d'), dob_bad), 6, 2) AS INTEGER) AS dob_m0,
                  CAST(substr(coalesce(strftime(dob, '%Y-%m-%d'), dob_bad), 9, 2) AS INTEGER) AS dob_d0
           FROM __hl_stage"""
    )
    info = PreparedInfo(out, extras)
    if detect:
        info.detected_dobs, info.detected_postcodes = detect_placeholders(con, "__hl_stage2", ph)
    bad_d, bad_p = _in_list(info.detected_dobs), _in_list(info.detected_postcodes)

    # phonetic codes and nickname canonical forms: computed once per distinct name in Python
    names = {r[0] for r in con.execute("SELECT DISTINCT fn FROM __hl_stage2 WHERE fn IS NOT NULL UNION SELECT DISTINCT sn FROM __hl_stage2 WHERE sn IS NOT NULL").fetchall()}
    import pandas as pd

    lookup = pd.DataFrame(
        {
            "name": sorted(names),
        }
    )
    lookup["canon"] = [NICKNAMES.get(n, n) for n in lookup["name"]]
    lookup["alts"] = [forename_groups(n) for n in lookup["name"]]
    lookup["ph"] = [jellyfish.nysiis(n) or None for n in lookup["name"]]
    lookup["canon_ph"] = [jellyfish.nysiis(c) or None for c in lookup["canon"]]
    con.register("__hl_names", lookup)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {out} AS
        SELECT s.unique_id, s.fn, f.canon AS fn_canon, f.alts AS fn_alts, f.canon_ph AS fn_ph, s.sn, n.ph AS sn_ph,
               -- a record with a single name has it in the forename field, but it is as often a surname
               coalesce(s.sn, s.fn) AS sn_key,
               CASE WHEN s.dob_s IN {bad_d} THEN NULL ELSE s.dob_s END AS dob_s,
               CASE WHEN s.dob_s IN {bad_d} THEN NULL ELSE
                 CAST(s.dob_y0 AS VARCHAR) || '-' || CAST(least(s.dob_m0, s.dob_d0) AS VARCHAR) || '-'
                 || CAST(greatest(s.dob_m0, s.dob_d0) AS VARCHAR) END AS dob_key,
               s.dob_y0 AS dob_y,  -- a detected default date (often 'year only, 1 January') still tells the year
               s.sex,
               CASE WHEN s.pc IN {bad_p} THEN NULL ELSE s.pc END AS pc,
               CASE WHEN s.pc IN {bad_p} OR length(s.pc) < 5 THEN NULL ELSE left(s.pc, length(s.pc) - 2) END AS pc_sector,
               CASE WHEN s.pc IN {bad_p} OR length(s.pc) < 5 THEN NULL ELSE left(s.pc, length(s.pc) - 3) END AS pc_district,
               CASE WHEN s.pc IN {bad_p} THEN NULL ELSE regexp_extract(s.pc, '^[A-Z]+') END AS pc_area
               {''.join(f', s."x_{e}"' for e in extras)}
        FROM __hl_stage2 s
        LEFT JOIN __hl_names f ON f.name = s.fn
        LEFT JOIN __hl_names n ON n.name = s.sn
        ORDER BY s.unique_id"""
    )
    con.unregister("__hl_names")
    con.execute("DROP TABLE IF EXISTS __hl_stage; DROP TABLE IF EXISTS __hl_stage2")
    return info
