"""``harmlens link-file``: deduplicate any CSV or Parquet list of people with a column mapping."""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from harmlens.errors import HarmlensError
from harmlens.link.average import average_linkage
from harmlens.link.engine import DEFAULT_THRESHOLD, REVIEW_BAND, DedupeResult, dedupe_table, distinctive_extras
from harmlens.link.evaluate import PairwiseScores, pairwise_scores
from harmlens.link.model import WIDE_RULE_KEYS, affordable_rules, blocking_rules_for, extra_rule_keys
from harmlens.sqlident import quote_ident

AVERAGE_THRESHOLD = 0.5
"""Default pair threshold with average linkage: a join needs one pair more likely a match than not.
Single linkage needs 0.95 (``engine.DEFAULT_THRESHOLD``) because every pair above it chains two
groups together; average linkage guards against that with the mean, and 0.5 gave the best F1 on
all four labelled sets we have (historical_50k, FEBRL3, FEBRL4, fake_1000; docs/link.md)."""

DEFAULT_MIN_MEAN = 0.2
"""Average linkage: two groups join when the mean match probability over all pairs between them
(unscored pairs and pairs below the review band count as 0) is at least this and one pair reaches
the threshold. Measured on historical_50k, FEBRL3/4 and fake_1000 (docs/link.md); 0.1-0.3 all did
about as well."""

WIDE_RULE_MAX_PAIRS_PER_RECORD = 4
"""An extra blocking key is used only if it gives at most this many pairs per record (or 100,000)."""


class LinkFileError(HarmlensError):
    """Bad arguments or unreadable input for link-file."""


STANDARD_KEYS = {"forename": "forename", "surname": "surname", "dob": "date_of_birth", "date_of_birth": "date_of_birth",
                 "sex": "sex", "gender": "sex", "postcode": "postcode"}


def parse_mapping(text: str) -> dict[str, str]:
    """``forename=COL,surname=COL,...`` -> {key: column}. Unknown keys become extra comparison columns."""
    out: dict[str, str] = {}
    for part in [p for p in text.split(",") if p.strip()]:
        if "=" not in part:
            raise LinkFileError(f"--map entry '{part}' is not KEY=COLUMN")
        k, v = (x.strip() for x in part.split("=", 1))
        if not k or not v:
            raise LinkFileError(f"--map entry '{part}' is not KEY=COLUMN")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k):
            raise LinkFileError(f"--map key '{k}' must be a plain identifier")
        if k in out:
            raise LinkFileError(f"--map key '{k}' given twice")
        out[k] = v
    if not out:
        raise LinkFileError("--map is empty: give at least one KEY=COLUMN")
    return out


def wide_rules(con: duckdb.DuckDBPyConnection, table: str, extras: list[str]) -> list[str]:
    """The standard blocking rules plus affordable wide keys (single names, years, extras).

    A list from an unknown source has errors in every field, so more ways for a true pair to meet
    are worth the scoring time; a key is dropped when its blocks would be too big (see
    ``model.affordable_rules``)."""
    n = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    budget = max(WIDE_RULE_MAX_PAIRS_PER_RECORD * n, 100_000)
    return blocking_rules_for(distinctive_extras(con, table, extras)) + affordable_rules(con, table, WIDE_RULE_KEYS + extra_rule_keys(extras), budget)


def person_id_for(first_member: str) -> str:
    """A person id derived from a member id, so the same input gives the same ids run after run."""
    return "P" + hashlib.sha1(first_member.encode()).hexdigest()[:12].upper()


def load_files(con: duckdb.DuckDBPyConnection, files: list[Path], table: str) -> list[str]:
    """Load CSV/Parquet files (same columns) into ``table`` as text with trimmed names and values."""
    rels = []
    for f in files:
        if not f.exists():
            raise LinkFileError(f"no such file: {f}")
        suffix = f.suffix.lower()
        path = str(f).replace("'", "''")
        try:
            if suffix == ".parquet":
                rel = f"SELECT * FROM read_parquet('{path}')"
            elif suffix in (".csv", ".txt", ".tsv"):
                rel = f"SELECT * FROM read_csv('{path}', all_varchar = true, header = true)"
            else:
                raise LinkFileError(f"{f}: not a CSV or Parquet file (by its extension)")
            cols = [r[0] for r in con.execute(f"DESCRIBE {rel}").fetchall()]
        except duckdb.Error as exc:
            raise LinkFileError(f"cannot read {f}: {str(exc).splitlines()[0]}") from exc
        # a header is text from the file: quoted as an identifier, it cannot close the quote and run SQL
        sel = ", ".join(f"nullif(trim(CAST({quote_ident(c)} AS VARCHAR)), '') AS {quote_ident(c.strip())}" for c in cols)
        rels.append((f"SELECT {sel} FROM ({rel})", [c.strip() for c in cols]))
    first_cols = rels[0][1]
    for (_, cols), f in zip(rels, files):
        if sorted(cols) != sorted(first_cols):
            raise LinkFileError(f"{f} has different columns from {files[0]}")
    union = " UNION ALL BY NAME ".join(r for r, _ in rels)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS {union}")
    return first_cols


@dataclass
class LinkFileResult:
    result: DedupeResult
    assignments: list[tuple[str, str]]  # (mention_id, person_id)
    scores: PairwiseScores | None


def link_file(
    files: list[Path],
    id_col: str,
    mapping: dict[str, str],
    *,
    truth: str | None = None,
    truth_pattern: str | None = None,
    threshold: float | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    strict: bool = False,
    wide: bool = True,
    min_mean: float | None = DEFAULT_MIN_MEAN,
) -> LinkFileResult:
    """Deduplicate the rows of ``files``; with ``truth`` also score the result.

    ``truth_pattern`` is a regular expression whose first group, applied to the truth column,
    gives the true entity (e.g. ``rec-(\\d+)`` for FEBRL's rec_id). ``wide`` (the default) uses the
    tolerant comparisons and wide blocking (``wide_rules``); off, the warehouse's standard ones.
    ``min_mean`` clusters by average linkage (``average.average_linkage``); None, or ``strict``,
    joins every pair at the threshold (with ``strict``, subject to the date-of-birth constraint).
    ``threshold`` None is ``AVERAGE_THRESHOLD`` with average linkage, else ``DEFAULT_THRESHOLD``.
    """
    if min_mean is not None and not 0.0 < min_mean <= 1.0:
        raise LinkFileError(f"min_mean must be in (0, 1], not {min_mean}")
    average = min_mean is not None and not strict
    if threshold is None:
        threshold = AVERAGE_THRESHOLD if average else DEFAULT_THRESHOLD
    if not 0.0 < threshold < 1.0:
        raise LinkFileError(f"threshold must be between 0 and 1, got {threshold}")
    con = con or duckdb.connect()
    cols = load_files(con, files, "__hl_raw")
    needed = [id_col] + list(mapping.values()) + ([truth] if truth else [])
    missing = [c for c in needed if c not in cols]
    if missing:
        raise LinkFileError(f"column(s) not in the file: {', '.join(missing)} (columns: {', '.join(cols)})")
    qid = quote_ident(id_col)
    n, nd = con.execute(f"SELECT count(*), count(DISTINCT {qid}) FROM __hl_raw").fetchall()[0]
    if n == 0:
        raise LinkFileError("the input has no rows")
    if nd != n or con.execute(f"SELECT count(*) FROM __hl_raw WHERE {qid} IS NULL").fetchall()[0][0]:
        raise LinkFileError(f"--id column '{id_col}' must be present and unique on every row")
    sel = [f"{qid} AS unique_id"]
    extras = []
    for k, c in mapping.items():
        std = STANDARD_KEYS.get(k.lower())
        if std:
            sel.append(f"{quote_ident(c)} AS {std}")
        else:
            sel.append(f"{quote_ident(c)} AS {quote_ident('x_src_' + k)}")
            extras.append(k)
    con.execute(f"CREATE OR REPLACE TABLE __hl_src AS SELECT {', '.join(sel)} FROM __hl_raw")
    # extras are named by their key: rename after selection to avoid clashing with standard names
    for k in extras:
        con.execute(f"ALTER TABLE __hl_src RENAME COLUMN {quote_ident('x_src_' + k)} TO {quote_ident(k)}")
    res = dedupe_table(con, "__hl_src", extras=extras, threshold=threshold, keep_all_pairs=truth is not None, strict=strict,
                       tolerant=wide, rules_for=wide_rules if wide else None)
    if average:
        t0 = time.perf_counter()
        # (strict keeps the constrained single linkage: its date-of-birth rule is what makes it strict)
        # Only pairs that are stored whether or not --truth is given, so the result does not depend on it.
        edges = con.execute(f"SELECT unique_id_l, unique_id_r, match_probability FROM {res.pairs_table} WHERE match_probability >= ? "
                            "ORDER BY unique_id_l, unique_id_r", [min(REVIEW_BAND[0], threshold)]).fetchall()  # ordered: same input, same sums
        res.rep = average_linkage(list(res.rep), edges, min_mean=min_mean, threshold=threshold, attach=max(threshold, DEFAULT_THRESHOLD))
        res.timings["average_linkage_s"] = time.perf_counter() - t0
        res.timings["total_s"] = res.timings.get("total_s", 0.0) + res.timings["average_linkage_s"]
    members: dict[str, str] = {}
    for m, r in res.rep.items():
        members.setdefault(r, m)
    pid = {r: person_id_for(r) for r in set(res.rep.values())}
    assignments = sorted((m, pid[r]) for m, r in res.rep.items())
    scores = None
    if truth:
        import pandas as pd

        if truth_pattern:
            try:
                re.compile(truth_pattern)
            except re.error as exc:
                raise LinkFileError(f"--truth-pattern is not a valid regular expression: {exc}") from exc
            texpr = f"""regexp_extract({quote_ident(truth)}, '{truth_pattern.replace("'", "''")}', 1)"""
        else:
            texpr = quote_ident(truth)
        df = pd.DataFrame(assignments, columns=["unique_id", "pred"])
        con.register("__hl_assign_df", df)
        con.execute(
            f"""CREATE OR REPLACE TABLE __hl_assign AS SELECT a.unique_id, a.pred, nullif({texpr}, '') AS truth
                FROM __hl_assign_df a JOIN __hl_raw r ON CAST(r.{qid} AS VARCHAR) = a.unique_id"""
        )
        con.unregister("__hl_assign_df")
        scores = pairwise_scores(con, "__hl_assign", res.pairs_table)
    return LinkFileResult(res, assignments, scores)
