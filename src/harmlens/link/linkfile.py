"""``harmlens link-file``: deduplicate any CSV or Parquet list of people, or link two lists to each
other, with a column mapping.

The model is built from the fields the file has (``filemodel``): a date of birth in any shape
(``fileshape``), names in parts, birthplaces; every blocking rule's comparisons are counted first.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from harmlens.errors import HarmlensError
from harmlens.link.average import average_linkage
from harmlens.link.engine import DEFAULT_THRESHOLD, REVIEW_BAND, DedupeResult, distinctive_extras, dob_map, drop_splink_tables, score_pairs
from harmlens.link.evaluate import PairwiseScores, cross_source_scores, pairwise_scores
from harmlens.link.filemodel import ModelNotes, is_given_name, make_file_linker, present_fields, train_file_model
from harmlens.link.fileshape import SHAPE_KEYS, DobShape, dob_shape
from harmlens.link.model import WIDE_RULE_KEYS, affordable_rules, blocking_rules_for, extra_rule_keys, model_json
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

DEFAULT_MAX_PAIRS = 5_000_000
"""Most comparisons one blocking rule may generate (counted before the run); about 1 GB of scoring
at the widest model. A rule over it is tightened or dropped (``filemodel.bounded_rules``)."""

WIDE_RULE_MAX_PAIRS_PER_RECORD = 4
"""An extra blocking key is used only if it gives at most this many pairs per record (or 100,000)."""


class LinkFileError(HarmlensError):
    """Bad arguments or unreadable input for link-file."""


STANDARD_KEYS = {"forename": "forename", "surname": "surname", "sex": "sex", "gender": "sex", "postcode": "postcode"}
"""--map keys read as the standard fields; date-of-birth keys are in ``fileshape``; any other key is an extra comparison."""


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


def _value_sql(qcol: str) -> str:
    """A cell as trimmed text, NULL where it is empty or one of the usual missing markers (NA, N/A, NULL, ...):
    the same markers as every other table reader (harmlens.tableio), so an R or Excel export links like a blank one."""
    from harmlens.tableio import MISSING_MARKERS

    markers = ", ".join("'" + m.lower().replace("'", "''") + "'" for m in MISSING_MARKERS if m)
    t = f"trim(CAST({qcol} AS VARCHAR))"
    return f"CASE WHEN lower({t}) IN ({markers}) THEN NULL ELSE nullif({t}, '') END"


def load_files(con: duckdb.DuckDBPyConnection, files: list[Path], table: str, source: int = 0, *, replace: bool = True) -> list[str]:
    """Load CSV/Parquet files (same columns) into ``table`` as text with trimmed names and values,
    with column ``__hl_source`` = ``source``. All reading of input files is here."""
    rels = []
    for f in files:
        if not f.exists():
            raise LinkFileError(f"no such file: {f}")
        suffix = f.suffix.lower()
        try:
            if suffix == ".parquet":
                rel = "SELECT * FROM read_parquet(?)"
            elif suffix in (".csv", ".txt", ".tsv"):
                rel = "SELECT * FROM read_csv(?, all_varchar = true, header = true)"
            else:
                raise LinkFileError(f"{f}: not a CSV or Parquet file (by its extension)")
            cols = [r[0] for r in con.execute(f"DESCRIBE {rel}", [str(f)]).fetchall()]
        except duckdb.Error as exc:
            raise LinkFileError(f"cannot read {f}: {str(exc).splitlines()[0]}") from exc
        if "__hl_source" in cols:
            raise LinkFileError(f"{f}: a column may not be called __hl_source")
        sel = ", ".join(f"{_value_sql(quote_ident(c))} AS {quote_ident(c.strip())}" for c in cols)
        rels.append((sel, rel, str(f), [c.strip() for c in cols]))
    first_cols = rels[0][3]
    for (_, _, _, cols), f in zip(rels, files):
        if sorted(cols) != sorted(first_cols):
            raise LinkFileError(f"{f} has different columns from {files[0]}")
    for k, (sel, rel, path, _) in enumerate(rels):
        body = f"SELECT {sel}, {int(source)} AS __hl_source FROM ({rel})"
        if k == 0 and replace:
            con.execute(f"CREATE OR REPLACE TABLE {table} AS {body}", [path])
        else:
            con.execute(f"INSERT INTO {table} BY NAME {body}", [path])
    return first_cols


@dataclass
class LinkFileResult:
    result: DedupeResult
    assignments: list[tuple[str, str]]  # (mention_id, person_id); with two sources mention_id is "SOURCE:id"
    scores: PairwiseScores | None
    shape: DobShape | None = None
    notes: ModelNotes = field(default_factory=ModelNotes)
    link_only: bool = False
    n_links: int = 0  # pairs of records put together (across the sources with link-only)

    def summary_lines(self) -> list[str]:
        """What the run did, for stderr: the date-of-birth shape, the prior's method, rule decisions."""
        out = []
        if self.shape is not None:
            out.append(f"date of birth: {self.shape.describe()}")
        if self.notes.prior is not None:
            out.append(f"prior (chance two random records match): {self.notes.prior:.3g} by {self.notes.prior_method}")
        out += self.notes.messages
        if self.n_links == 0:
            out.append("0 links: no pair of records reached the threshold with this map (map more fields or lower --threshold)")
        return out


def _mapped_select(mapping: dict[str, str], cols: list[str], shape: DobShape) -> tuple[list[str], list[str]]:
    sel = [f"{shape.date_sql} AS date_of_birth", f"{shape.year_sql} AS birth_year"]
    extras = []
    for k, c in mapping.items():
        if k.lower() in SHAPE_KEYS:
            continue
        std = STANDARD_KEYS.get(k.lower())
        if std:
            sel.append(f"{quote_ident(c)} AS {std}")
        else:
            sel.append(f"{quote_ident(c)} AS {quote_ident(k)}")
            extras.append(k)
    return sel, extras


RELATIVES_MIN_SHARE = 0.2
"""``relatives="auto"`` keeps relatives apart when a file holds at least this many pairs per record
that share a surname and an address with unrelated forenames (households). Registers of families
give 0.77-0.95; FEBRL3/4, historical_50k and fake_1000, lists of individuals whose duplicates
sometimes carry a wholly different forename or date, give 0-0.075 (docs/link.md)."""


def household_share(con: duckdb.DuckDBPyConnection, table: str) -> float:
    """Pairs of records sharing a surname and a postcode whose forenames are unrelated (not equal, a
    nickname, fuzzy, phonetic or the same initial), per record: how much the file looks like households."""
    n = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    if not n:
        return 0.0
    k = con.execute(
        f"""SELECT count(*) FROM {table} l JOIN {table} r ON l.sn = r.sn AND l.pc = r.pc AND l.unique_id < r.unique_id
            WHERE l.fn IS NOT NULL AND r.fn IS NOT NULL AND l.fn_canon <> r.fn_canon AND NOT list_has_any(l.fn_alts, r.fn_alts)
              AND jaro_winkler_similarity(l.fn, r.fn) < 0.8 AND l.fn_ph IS DISTINCT FROM r.fn_ph AND left(l.fn, 1) <> left(r.fn, 1)"""
    ).fetchall()[0][0]
    return k / n


def conflict_sql(con: duckdb.DuckDBPyConnection, pairs: str, extras: list[str] = ()) -> str:
    """SQL true for a pair that must not join: forenames both known and unrelated (not equal, a
    nickname, fuzzy, phonetic, an initial, swapped or a single name), or dates of birth both known
    and apart beyond a typo, a day/month swap or two years. Such a pair in a register is a brother,
    a sister, a father or a son far more often than one person, however much else agrees (surname,
    address, birthplace); the model's fixed small m for these levels is not enough on its own when
    every other field agrees. A second forename or middle name (``is_given_name``) that is known
    on both sides and unrelated (not equal, an initial of the other, or fuzzy) counts the same way.
    The pair is kept and scored (for explanation), not used to join."""
    have = {r[0] for r in con.execute(f"DESCRIBE {pairs}").fetchall()}
    cols = ["gamma_forename", "gamma_date_of_birth"] + [f"gamma_x_{e}" for e in extras if is_given_name(e)]
    parts = [f"coalesce({quote_ident(c)} = 0, false)" for c in cols if c in have]
    return " OR ".join(parts) if parts else "false"


AMBIGUOUS_BITS = 3.0
"""A record whose match weights with two people kept apart differ by less than this (8 to 1 odds) is
ambiguous between them (see ``drop_ambiguous``)."""


def drop_ambiguous(edges: list[tuple[str, str, float]], conflicts: list[tuple[str, str]], threshold: float) -> list[tuple[str, str, float]]:
    """Edges without those of a record that matches two records which must stay apart about equally
    well: a father's record with no date of birth and no middle name matches his own and his
    son's records alike, and whichever group took it first would be a coin toss. It stays alone
    instead (a false split is cheaper than a false merge here). With one match clearly better, the
    weaker edge alone is dropped."""
    import math

    def w(p: float) -> float:
        p = min(max(p, 1e-12), 1 - 1e-12)
        return math.log2(p / (1 - p))

    bad = {(a, b) for a, b in conflicts} | {(b, a) for a, b in conflicts}
    nbr: dict[str, dict[str, float]] = {}
    for a, b, p in edges:
        if p >= threshold:
            nbr.setdefault(a, {})[b] = p
            nbr.setdefault(b, {})[a] = p
    drop: set[tuple[str, str]] = set()
    for r, d in nbr.items():
        ks = sorted(d)
        for i, a in enumerate(ks):
            for b in ks[i + 1:]:
                if (a, b) not in bad:
                    continue
                wa, wb = w(d[a]), w(d[b])
                if abs(wa - wb) < AMBIGUOUS_BITS:
                    drop.update({(r, a), (a, r), (r, b), (b, r)})
                else:
                    x = b if wa > wb else a
                    drop.update({(r, x), (x, r)})
    return [e for e in edges if (e[0], e[1]) not in drop]


def _one_to_one(edges: list[tuple[str, str, float]], ids: list[str]) -> dict[str, str]:
    """Each record joins at most one record of the other source: pairs taken best first (greedy
    by match probability), a pair skipped when either record is already taken."""
    rep = {i: i for i in ids}
    taken: set[str] = set()
    for a, b, _p in sorted(edges, key=lambda e: (-e[2], e[0], e[1])):
        if a in taken or b in taken:
            continue
        taken.update((a, b))
        r = min(a, b)
        rep[a] = rep[b] = r
    return rep


def link_file(
    files: list[Path],
    id_col: str,
    mapping: dict[str, str],
    *,
    files_b: list[Path] | None = None,
    one_to_one: bool = False,
    truth: str | None = None,
    truth_pattern: str | None = None,
    threshold: float | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    strict: bool = False,
    wide: bool = True,
    min_mean: float | None = DEFAULT_MIN_MEAN,
    max_pairs: int = DEFAULT_MAX_PAIRS,
    relatives: str = "auto",
) -> LinkFileResult:
    """Deduplicate the rows of ``files``, or with ``files_b`` link them to the rows of ``files_b``
    (Splink link_only: no pairs within a source); with ``truth`` also score the result.

    ``one_to_one`` (with ``files_b``): each record joins at most one of the other source.
    ``truth_pattern`` is a regular expression whose first group, applied to the truth column,
    gives the true entity (e.g. ``rec-(\\d+)`` for FEBRL's rec_id). ``wide`` (the default) uses the
    tolerant comparisons and wide blocking (``wide_rules``); off, the warehouse's standard ones.
    ``min_mean`` clusters by average linkage (``average.average_linkage``); None, or ``strict``,
    joins every pair at the threshold (with ``strict``, subject to the date-of-birth constraint).
    ``threshold`` None is ``AVERAGE_THRESHOLD`` with average linkage, else ``DEFAULT_THRESHOLD``.
    ``max_pairs``: most comparisons one blocking rule may generate. ``relatives`` ("auto", "on",
    "off"): keep relatives apart (``conflict_sql``; fixed small m for unrelated forenames and
    conflicting dates); "auto" when the file holds households (``household_share``).
    """
    from harmlens.link.cluster import cluster
    from harmlens.link.prepare import prepare

    if min_mean is not None and not 0.0 < min_mean <= 1.0:
        raise LinkFileError(f"min_mean must be in (0, 1], not {min_mean}")
    if one_to_one and not files_b:
        raise LinkFileError("--one-to-one needs two sources (link-file A.csv B.csv --link-only)")
    if relatives not in ("auto", "on", "off"):
        raise LinkFileError(f"--relatives must be auto, on or off, not {relatives!r}")
    if max_pairs < 1:
        raise LinkFileError(f"--max-pairs must be at least 1, not {max_pairs}")
    link_only = bool(files_b)
    average = min_mean is not None and not strict
    if threshold is None:
        threshold = AVERAGE_THRESHOLD if average else DEFAULT_THRESHOLD
    if not 0.0 < threshold < 1.0:
        raise LinkFileError(f"threshold must be between 0 and 1, got {threshold}")
    shape = dob_shape(mapping)
    con = con or duckdb.connect()
    t0 = time.perf_counter()
    cols = load_files(con, files, "__hl_raw", 0)
    if link_only:
        cols_b = load_files(con, files_b, "__hl_raw_b", 1)
        if sorted(cols_b) != sorted(cols):
            missing_b = [c for c in [id_col] + list(mapping.values()) if c not in cols_b]
            if missing_b:
                raise LinkFileError(f"column(s) not in the second source: {', '.join(missing_b)}")
        keep = [c for c in cols if c in cols_b]
        qk = ", ".join(quote_ident(c) for c in keep)
        con.execute(f"CREATE OR REPLACE TABLE __hl_raw AS SELECT {qk}, __hl_source FROM __hl_raw UNION ALL SELECT {qk}, __hl_source FROM __hl_raw_b")
        con.execute("DROP TABLE __hl_raw_b")
        cols = keep
    needed = [id_col] + list(mapping.values()) + ([truth] if truth else [])
    missing = [c for c in needed if c not in cols]
    if missing:
        raise LinkFileError(f"column(s) not in the file: {', '.join(missing)} (columns: {', '.join(cols)})")
    qid = quote_ident(id_col)
    n, nd = con.execute(f"SELECT count(*), count(DISTINCT ({qid}, __hl_source)) FROM __hl_raw").fetchall()[0]
    if n == 0:
        raise LinkFileError("the input has no rows")
    if nd != n or con.execute(f"SELECT count(*) FROM __hl_raw WHERE {qid} IS NULL").fetchall()[0][0]:
        raise LinkFileError(f"--id column '{id_col}' must be present and unique on every row" + (" of each source" if link_only else ""))
    sel, extras = _mapped_select(mapping, cols, shape)
    def uid(alias: str) -> str:
        # with two sources an id need only be unique within its source: the source number prefixes it
        return f"CAST({alias}.__hl_source AS VARCHAR) || ':' || {alias}.{qid}" if link_only else f"{alias}.{qid}"

    con.execute(f"CREATE OR REPLACE TABLE __hl_src AS SELECT {uid('w')} AS unique_id, {', '.join(sel)} FROM __hl_raw w")
    t = {"load_s": time.perf_counter() - t0}
    t1 = time.perf_counter()
    info = prepare(con, "__hl_src", "__hl_prep", extras=extras, detect=True)
    present = present_fields(con, "__hl_prep", extras)
    t["prepare_s"] = time.perf_counter() - t1
    candidates = wide_rules(con, "__hl_prep", extras) if wide else blocking_rules_for(distinctive_extras(con, "__hl_prep", extras))
    notes = ModelNotes()
    share = (household_share(con, "__hl_prep") if {"fn", "sn", "pc"} <= present else 0.0) if relatives == "auto" else None
    keep_apart = relatives == "on" or (share is not None and share >= RELATIVES_MIN_SHARE)
    if relatives == "auto":
        notes.messages.append(f"relatives {'kept apart' if keep_apart else 'not treated specially'}: {share:.2f} pairs per record share a "
                              f"surname and an address with unrelated forenames (households from {RELATIVES_MIN_SHARE})")
    if link_only:
        for s in (0, 1):
            con.execute(f"""CREATE OR REPLACE TABLE __hl_prep_{s} AS SELECT p.* FROM __hl_prep p
                            WHERE p.unique_id LIKE '{s}:%'""")
        tables = ["__hl_prep_0", "__hl_prep_1"]
        na, nb = (con.execute(f"SELECT count(*) FROM {x}").fetchall()[0][0] for x in tables)
        total, expected = float(na) * nb, 0.5 * min(na, nb)
        if na == 0 or nb == 0:
            raise LinkFileError("one of the two sources has no rows")
    else:
        tables, total, expected = ["__hl_prep"], n * (n - 1) / 2, 0.1 * n
    t2 = time.perf_counter()
    linker, sdfs, n_rec = make_file_linker(con, tables, extras, present, candidates, link_type="link_only" if link_only else "dedupe_only",
                                           strict=strict, tolerant=wide, max_pairs=max_pairs, notes=notes, relatives=keep_apart)
    train_file_model(linker, sdfs, present, extras, link_type="link_only" if link_only else "dedupe_only", n_records=n_rec,
                     total_pairs=total, expected_matches=expected, max_pairs=max_pairs, notes=notes)
    t["train_s"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    n_cand = score_pairs(con, linker, "__hl_pairs", None if truth is not None else min(REVIEW_BAND[0], threshold),
                         refine_n=n, refine_total=total, keep=("gamma_forename", "gamma_date_of_birth") + tuple(f"gamma_x_{e}" for e in extras if is_given_name(e)))
    notes.prior = linker._settings_obj._probability_two_random_records_match
    model = json.loads(model_json(linker))
    t["predict_s"] = time.perf_counter() - t3
    t4 = time.perf_counter()
    ids = [r[0] for r in con.execute("SELECT unique_id FROM __hl_prep ORDER BY unique_id").fetchall()]
    # Only pairs that are stored whether or not --truth is given, so the result does not depend on it.
    veto = conflict_sql(con, "__hl_pairs", extras) if keep_apart else "false"
    edges = con.execute(f"SELECT unique_id_l, unique_id_r, match_probability FROM __hl_pairs WHERE match_probability >= ? AND NOT ({veto}) "
                        "ORDER BY unique_id_l, unique_id_r", [min(REVIEW_BAND[0], threshold)]).fetchall()  # ordered: same input, same sums
    conflicts = con.execute(f"SELECT unique_id_l, unique_id_r FROM __hl_pairs WHERE {veto}").fetchall() if keep_apart else []
    if keep_apart and not link_only:
        edges = drop_ambiguous(edges, conflicts, threshold)
    blocked: list = []
    if one_to_one:
        rep = _one_to_one([e for e in edges if e[2] >= threshold], ids)
    elif average:
        rep = average_linkage(ids, edges, min_mean=min_mean, threshold=threshold, attach=max(threshold, DEFAULT_THRESHOLD),
                              cannot_link=conflicts)
    else:
        rep, blocked = cluster(ids, [e for e in edges if e[2] >= threshold], threshold=threshold,
                               dobs=dob_map(con, "__hl_prep") if strict else None)
    t["cluster_s"] = time.perf_counter() - t4
    t["total_s"] = time.perf_counter() - t0
    res = DedupeResult(rep, "__hl_pairs", model, info, t, n_cand, blocked)
    pid = {r: person_id_for(r) for r in set(rep.values())}
    assignments = sorted((m, pid[r]) for m, r in rep.items())
    sizes: dict[str, list[str]] = {}
    for m, r in rep.items():
        sizes.setdefault(r, []).append(m)
    if link_only:
        n_links = sum(sum(1 for m in g if m.startswith("0:")) * sum(1 for m in g if m.startswith("1:")) for g in sizes.values())
    else:
        n_links = sum(len(g) * (len(g) - 1) // 2 for g in sizes.values())
    scores = None
    if truth:
        import pandas as pd

        if truth_pattern:
            try:
                re.compile(truth_pattern)
            except re.error as exc:
                raise LinkFileError(f"--truth-pattern is not a valid regular expression: {exc}") from exc
            texpr = f"regexp_extract(r.{quote_ident(truth)}, ?, 1)"
            params = [truth_pattern]
        else:
            texpr, params = "r." + quote_ident(truth), []
        df = pd.DataFrame(assignments, columns=["unique_id", "pred"])
        con.register("__hl_assign_df", df)
        con.execute(
            f"""CREATE OR REPLACE TABLE __hl_assign AS SELECT a.unique_id, a.pred, nullif({texpr}, '') AS truth, r.__hl_source AS src
                FROM __hl_assign_df a JOIN __hl_raw r ON CAST({uid('r')} AS VARCHAR) = a.unique_id""",
            params,
        )
        con.unregister("__hl_assign_df")
        scores = (cross_source_scores if link_only else pairwise_scores)(con, "__hl_assign", res.pairs_table)
    drop_splink_tables(con)
    return LinkFileResult(res, assignments, scores, shape, notes, link_only, n_links)
