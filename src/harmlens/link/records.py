"""Scaling the warehouse link: identical mentions collapsed into records, capped blocking.

Two things make linking a city's mentions grow with the square of what it holds:

- a prolific offender appears hundreds of times, mostly spelt the same way; every pair of his
  mentions would be a candidate. Mentions identical on every cleaned field the model sees
  (forename, surname, date of birth, sex, postcode and their derived keys) and on ``person_ref``
  are one identity, so they are collapsed into one **record** before scoring. A record's id is
  its smallest mention id, so a scored record pair is a real mention pair (``explain-link`` and
  the review queue work on it unchanged) and every other mention of the record is identical to it.
- a blocking rule on names alone puts every 'John Smith' in one block. A block with more than
  ``cap`` records is not compared as a whole: it is split by birth year and, separately, by
  postal district (two sub-blocks), so namesakes are compared only when something else agrees.
  In an over-full block a pair agreeing on the (common) name alone cannot reach the threshold
  anyway: term-frequency adjustment makes a common name weak evidence.

Identical is not always enough to collapse: ``split_weak_records`` keeps a record only if the
model joins it with itself. ``incremental_records`` builds the records of a later run from the
stored ones and the new mentions; ``block_new`` makes the candidate pairs of the new records.
"""

from __future__ import annotations

import math
import re

import duckdb

from harmlens.link.model import make_linker
from harmlens.link.prepare import Placeholders, prepare

DEFAULT_BLOCK_CAP = 60
"""Largest block (records) a blocking rule compares whole; larger ones are split (see module docstring)."""

REFINEMENTS = ("dob_y", "pc_district")
"""Fields an over-full block is split on, each giving its own sub-blocks."""

TF_COLUMNS = ("fn", "sn", "pc")
"""Columns whose comparisons are term-frequency adjusted (see ``model.comparisons``)."""


def collapse(con: duckdb.DuckDBPyConnection, prep: str, mentions: str, out_records: str, out_map: str,
             apart: str | None = None, stored: str | None = None) -> int:
    """Group the prepared mentions ``prep`` into records.

    ``mentions`` supplies ``person_ref`` by ``unique_id``; ``apart`` (optional table of
    ``mention_id``) lists mentions that must stay records of their own (a reviewer said they
    differ from a mention that may be identical, or the model did not join them with their twins).
    ``stored`` (``link_records`` of the last run) adds to ``apart`` the mentions that were kept
    apart then, so a later run need not re-test them. Writes ``out_records`` (one row per record,
    ``unique_id`` = smallest member mention id, the prepared columns, ``person_ref``, ``n``
    mentions) and ``out_map(mention_id, record_id)``. Returns the number of records.

    The identity key is a 128-bit hash (md5) of every compared field: equal values, equal key.
    """
    identity_keys(con, prep, mentions, "__hl_keys")
    if apart and stored:
        # kept apart last time: a record of its own although another mention had the same key
        con.execute(
            f"""INSERT INTO {apart}
                WITH s AS (SELECT s.mention_id, s.record_id, count(*) OVER (PARTITION BY s.record_id) AS n_rec,
                                  count(*) OVER (PARTITION BY k.k) AS n_key
                           FROM {stored} s JOIN __hl_keys k USING (mention_id))
                SELECT mention_id FROM s WHERE n_rec = 1 AND n_key > 1
                EXCEPT SELECT mention_id FROM {apart}"""
        )
    own = (f"CASE WHEN mention_id IN (SELECT mention_id FROM {apart}) THEN mention_id END" if apart else "NULL")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {out_map} AS
            SELECT mention_id, min(mention_id) OVER (PARTITION BY k, {own}) AS record_id FROM __hl_keys"""
    )
    con.execute("DROP TABLE __hl_keys")
    return records_from_map(con, prep, mentions, out_records, out_map)


def identity_keys(con: duckdb.DuckDBPyConnection, prep: str, mentions: str, out: str) -> None:
    """``out(mention_id, k)``: the identity key of each prepared row (md5 of every compared field
    and ``person_ref``; NULL spelt apart from any value)."""
    cols = [r[0] for r in con.execute(f"DESCRIBE {prep}").fetchall() if r[0] != "unique_id"]
    parts = ", ".join(f"""coalesce(CAST(p."{c}" AS VARCHAR), chr(0))""" for c in cols)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {out} AS SELECT p.unique_id AS mention_id,
                   md5_number(concat_ws(chr(31), {parts}, coalesce(m.person_ref, chr(0)))) AS k
            FROM {prep} p JOIN {mentions} m USING (unique_id)"""
    )


def records_from_map(con: duckdb.DuckDBPyConnection, prep: str, mentions: str, out_records: str, out_map: str) -> int:
    """(Re)build ``out_records`` from the mention -> record map (see ``collapse``)."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {out_records} AS
            SELECT p.*, m.person_ref, c.n FROM {prep} p JOIN {mentions} m USING (unique_id)
            JOIN (SELECT record_id, count(*) AS n FROM {out_map} GROUP BY record_id) c ON c.record_id = p.unique_id"""
    )
    return con.execute(f"SELECT count(*) FROM {out_records}").fetchall()[0][0]


def register_mention_tf(con: duckdb.DuckDBPyConnection, linker, prep: str, columns=TF_COLUMNS, compute: bool = True,
                        weight: str | None = None) -> None:
    """Term frequencies counted over mentions (not records), registered with the linker.

    Collapsing must not change a name's weight: ``explain-link`` scores a pair with frequencies
    over all mentions, and the clustering must use the same numbers it explains. ``compute`` makes
    the tables (``__hl_tf_<col>``); ``linker`` (may be None) gets them registered. ``weight``
    names a column of ``prep`` counting the mentions a row stands for (default: one each).
    """
    w = f'"{weight}"' if weight else "1"
    for c in columns:
        t = f"__hl_tf_{c}"
        if compute:
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE {t} AS
                SELECT "{c}", CAST(sum({w}) AS DOUBLE) / (SELECT sum({w}) FROM {prep} WHERE "{c}" IS NOT NULL) AS "tf_{c}"
                FROM {prep} WHERE "{c}" IS NOT NULL GROUP BY "{c}" """
            )
        if linker is not None:
            linker.table_management.register_term_frequency_lookup(linker._db_api.register(t), c)


_SIDE = re.compile(r"\b([lr])\.")
_COLUMN = re.compile(r'\b[lr]\.("[^"]+"|\w+)')


def rule_keys(rule: str) -> list[str] | None:
    """The key expressions of a blocking rule made only of ``expr(l.) = expr(r.)`` terms joined by
    AND (e.g. ``left(l.fn, 1) = left(r.fn, 1)``), with the side prefix removed; None otherwise
    (an asymmetric rule such as a forename/surname swap is kept as it is)."""
    keys = []
    for part in re.split(r"\s+AND\s+", rule.strip(), flags=re.IGNORECASE):
        if any(op in part for op in ("<", ">", "!", " OR ", " or ")) or part.count("=") != 1:
            return None
        lhs, rhs = (s.strip() for s in part.split("="))
        if set(_SIDE.findall(lhs)) != {"l"} or set(_SIDE.findall(rhs)) != {"r"}:
            return None
        if _SIDE.sub(r"r.", lhs) != rhs:
            return None
        keys.append(_SIDE.sub("", lhs))
    return keys or None


def capped_rules(con: duckdb.DuckDBPyConnection, table: str, rules: list[str], cap: int = DEFAULT_BLOCK_CAP,
                 keys_out: str | None = None) -> list[str]:
    """Rewrite ``table`` with one block-key column per (sub-)rule and return the rules over them.

    For each symmetric rule: ``_b{i}`` holds the key for records in blocks of at most ``cap``
    records, and ``_b{i}_{f}`` the key plus refinement ``f`` for records in larger blocks.
    Keys are 64-bit hashes: a collision only adds a candidate pair, which scoring then rejects.
    Returns the rules to block on (asymmetric rules unchanged). Row order is not kept (nothing
    reads the records in table order; sorting a million wide rows cost a second or two).

    ``keys_out``: leave ``table`` as it is and write only ``unique_id``, the block keys and the
    columns the asymmetric rules read into this table (an incremental run blocks its few new
    records with the keys and never scores the whole table: copying every wide row again was
    most of this step's time).
    """
    sel, rules_out, parsed = [], [], []
    for i, rule in enumerate(rules):
        keys = rule_keys(rule)
        if keys is None:
            rules_out.append(rule)
            continue
        parsed.append((i, keys))
        nn = " AND ".join(f"({k}) IS NOT NULL" for k in keys)
        sel.append(f"CASE WHEN {nn} THEN hash({', '.join(keys)}) END AS __k{i}")
    if not parsed and keys_out is None:
        return list(rules)
    carried = "*"
    if keys_out is not None:
        asym = [r for r in rules if rule_keys(r) is None]
        used = sorted({c for r in asym for c in _COLUMN.findall(r)} | set(REFINEMENTS))
        carried = ", ".join(["unique_id"] + [c if c.startswith('"') else f'"{c}"' for c in used])
    con.execute(f"CREATE OR REPLACE TEMP TABLE __hl_bk AS SELECT {carried}{''.join(', ' + x for x in sel)} FROM {table}")
    outs = []
    for i, keys in parsed:
        # the over-full keys are few: find them with a grouped count, not a window over every row
        con.execute(f"CREATE OR REPLACE TEMP TABLE __hl_big{i} AS SELECT __k{i} AS k FROM __hl_bk WHERE __k{i} IS NOT NULL GROUP BY 1 HAVING count(*) > {int(cap)}")
        big = f"__k{i} IN (SELECT k FROM __hl_big{i})"
        outs.append(f"CASE WHEN NOT ({big}) THEN __k{i} END AS _b{i}")
        rules_out.append(f"l._b{i} = r._b{i}")
        for f in REFINEMENTS:
            if re.search(rf"\b{f}\b", " ".join(keys)):
                continue  # already part of the key
            outs.append(f"CASE WHEN {big} AND {f} IS NOT NULL THEN hash(__k{i}, {f}) END AS _b{i}_{f}")
            rules_out.append(f"l._b{i}_{f} = r._b{i}_{f}")
    drop = f" EXCLUDE ({', '.join(f'__k{i}' for i, _ in parsed)})" if parsed else ""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {keys_out or table} AS SELECT *{drop}{''.join(', ' + x for x in outs)} FROM __hl_bk")
    for i, _ in parsed:
        con.execute(f"DROP TABLE __hl_big{i}")
    con.execute("DROP TABLE __hl_bk")
    return rules_out


def refine_prior_by_mentions(con: duckdb.DuckDBPyConnection, scored: str, records: str, linker, iterations: int = 20) -> float:
    """Re-estimate the prior from scored record pairs as if every mention pair had been scored.

    ``model.refine_prior`` counted each candidate mention pair once; with records, a record pair
    stands for n_l x n_r mention pairs, and the n(n-1)/2 pairs inside a record are matches the
    model already accepted (``split_weak_records``). Weighting so keeps the prior, and
    hence every probability, on the mention scale that ``explain-link`` reports. Same fixed-point
    iteration as ``model.refine_prior``; sets the linker's prior and returns the shift in bits to
    add to the scored match weights.
    """
    n_mentions, within = con.execute(f"SELECT sum(n), sum(n * (n - 1) / 2) FROM {records}").fetchall()[0]
    total = float(n_mentions) * (float(n_mentions) - 1) / 2
    lam0 = linker._settings_obj._probability_two_random_records_match
    if total <= 0:
        return 0.0
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE __hl_wpairs AS SELECT s.match_weight, CAST(l.n * r.n AS DOUBLE) AS w FROM {scored} s
            JOIN {records} l ON l.unique_id = CAST(s.unique_id_l AS VARCHAR) JOIN {records} r ON r.unique_id = CAST(s.unique_id_r AS VARCHAR)"""
    )

    def logit2(p: float) -> float:
        return math.log2(p / (1 - p))

    lam = lam0
    for _ in range(iterations):
        shift = logit2(lam) - logit2(lam0)
        s = con.execute("SELECT coalesce(sum(w / (1.0 + pow(2.0, -(match_weight + ?)))), 0) FROM __hl_wpairs", [shift]).fetchall()[0][0]
        new = min(max((float(s) + float(within)) / total, 1e-9), 0.5)
        done = abs(new - lam) / max(lam, 1e-12) < 0.01
        lam = new
        if done:
            break
    con.execute("DROP TABLE __hl_wpairs")
    linker._settings_obj._probability_two_random_records_match = lam
    return logit2(lam) - logit2(lam0)


def incremental_records(con: duckdb.DuckDBPyConnection, ph: Placeholders) -> int:
    """Records for an incremental run without re-reading every mention.

    Last run's records stay as they were (``link_records``); only one mention per record (its id)
    and the new mentions are standardised. A new mention identical to exactly one existing record
    joins it (the record is re-tested by ``split_weak_records``); the other new mentions are
    collapsed among themselves. ``__hl_prep_m`` then holds those rows, and term frequencies are
    counted with each record's row standing for its mentions. Returns the number of records.
    """
    con.execute("""CREATE OR REPLACE TEMP TABLE __hl_old AS SELECT s.mention_id, s.record_id FROM link_records s
                   WHERE s.mention_id IN (SELECT unique_id FROM __hl_mentions)""")
    # (a join on the wanted ids, not "IN ... OR NOT IN ...": that filter scans twice per row)
    con.execute("""CREATE OR REPLACE TEMP TABLE __hl_unit_src AS SELECT m.* FROM __hl_mentions m JOIN
                   (SELECT DISTINCT record_id AS unique_id FROM __hl_old
                    UNION ALL (SELECT unique_id FROM __hl_mentions EXCEPT SELECT mention_id FROM __hl_old)) w USING (unique_id)""")
    prepare(con, "__hl_unit_src", "__hl_prep_m", placeholders=ph, detect=False)
    identity_keys(con, "__hl_prep_m", "__hl_mentions", "__hl_ukeys")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE __hl_newmap AS
           WITH o AS (SELECT k.mention_id AS record_id, k.k, count(*) OVER (PARTITION BY k.k) AS n_same FROM __hl_ukeys k
                      WHERE k.mention_id IN (SELECT record_id FROM __hl_old)),
                n AS (SELECT k.mention_id, k.k, o.record_id AS joins FROM __hl_ukeys k
                      LEFT JOIN o ON o.k = k.k AND o.n_same = 1 AND o.record_id NOT IN (SELECT mention_id FROM __hl_apart)
                      WHERE k.mention_id NOT IN (SELECT mention_id FROM __hl_old))
           SELECT mention_id, coalesce(joins, min(mention_id) OVER (PARTITION BY k, joins IS NULL)) AS record_id FROM n"""
    )
    con.execute("CREATE OR REPLACE TEMP TABLE __hl_mrec AS SELECT mention_id, record_id FROM __hl_old UNION ALL SELECT mention_id, record_id FROM __hl_newmap")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE __hl_prep_w AS SELECT {', '.join(f'p."{c}"' for c in TF_COLUMNS)}, coalesce(o.n, 1) AS __w FROM __hl_prep_m p
           LEFT JOIN (SELECT record_id, count(*) AS n FROM __hl_old GROUP BY record_id) o ON o.record_id = p.unique_id"""
    )
    register_mention_tf(con, None, "__hl_prep_w", weight="__w")
    for t in ("__hl_old", "__hl_unit_src", "__hl_ukeys", "__hl_newmap", "__hl_prep_w"):
        con.execute(f"DROP TABLE {t}")
    return records_from_map(con, "__hl_prep_m", "__hl_mentions", "__hl_rec", "__hl_mrec")


def split_weak_records(con: duckdb.DuckDBPyConnection, settings: dict, threshold: float, only_new: bool, validate: bool = True) -> int:
    """Undo the collapse of identical mentions whose shared values are too weak to join them.

    Identical is not enough: two 'UNKNOWN, 01/01/1900, NFA' mentions agree only on placeholders
    (NULL after cleaning), and two undated 'John Smith's only on a common name. A record of several
    mentions stays collapsed only if the model joins it with itself (the pair of two of its
    mentions scores at or above the threshold); otherwise its mentions become records of their own
    and are scored like any other. ``only_new`` tests only records holding a mention not linked
    before (table ``__hl_new_m``; the others passed with the same model). ``validate=False`` skips Splink's settings
    validation (a saved model that passed it). Returns the number of records.
    """
    new = "AND unique_id IN (SELECT record_id FROM __hl_mrec WHERE mention_id IN (SELECT mention_id FROM __hl_new_m))" if only_new else ""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE __hl_self AS SELECT '0' AS match_key, unique_id AS join_key_l, unique_id AS join_key_r
                    FROM __hl_rec WHERE n > 1 {new}""")
    n_rec = con.execute("SELECT count(*) FROM __hl_rec").fetchall()[0][0]
    if not con.execute("SELECT count(*) FROM __hl_self").fetchall()[0][0]:
        return n_rec
    con.execute("CREATE OR REPLACE TEMP TABLE __hl_rec_self AS SELECT * FROM __hl_rec WHERE unique_id IN (SELECT join_key_l FROM __hl_self)")
    lk = make_linker(con, "__hl_rec_self", settings, validate=validate)
    register_mention_tf(con, lk, "__hl_prep_m", compute=False)
    lk.table_management.register_blocked_pairs_for_predict(lk._db_api.register("__hl_self"))
    sdf = lk.inference.predict(warning_mode="never")
    # (in an incremental run only the mentions standardised this run can be split off; a record's
    # other, older mentions stay with its id)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE __hl_weak AS SELECT m.mention_id, m.record_id FROM __hl_mrec m
                    WHERE m.record_id IN (SELECT CAST(unique_id_l AS VARCHAR) FROM {sdf.physical_name} WHERE match_probability < ?)
                      AND m.mention_id IN (SELECT unique_id FROM __hl_prep_m)""",
                [threshold])
    sdf.drop_table_from_database_and_remove_from_cache()
    if con.execute("SELECT count(*) FROM __hl_weak").fetchall()[0][0]:
        con.execute("INSERT INTO __hl_apart SELECT mention_id FROM __hl_weak EXCEPT SELECT mention_id FROM __hl_apart")
        con.execute("UPDATE __hl_mrec SET record_id = mention_id WHERE mention_id IN (SELECT mention_id FROM __hl_weak)")
        # patch the records in place: each weak mention is now a record of its own
        con.execute("""INSERT INTO __hl_rec SELECT p.*, m.person_ref, 1 FROM __hl_prep_m p JOIN __hl_mentions m USING (unique_id)
                       WHERE p.unique_id IN (SELECT mention_id FROM __hl_weak) AND p.unique_id NOT IN (SELECT unique_id FROM __hl_rec)""")
        con.execute("""UPDATE __hl_rec SET n = c.n FROM (SELECT record_id, count(*) AS n FROM __hl_mrec
                       WHERE record_id IN (SELECT record_id FROM __hl_weak UNION SELECT mention_id FROM __hl_weak) GROUP BY record_id) c
                       WHERE __hl_rec.unique_id = c.record_id""")
        n_rec = con.execute("SELECT count(*) FROM __hl_rec").fetchall()[0][0]
    con.execute("DROP TABLE __hl_weak")
    return n_rec


def block_new(con: duckdb.DuckDBPyConnection, rules: list[str], new: str = "__hl_rec_new", everyone: str = "__hl_rec") -> int:
    """Candidate pairs involving a new record (table ``new``; ``everyone`` holds all records, or
    their block keys from ``capped_rules(keys_out=...)``) into ``__hl_blocked``, in
    Splink's blocked-pairs form. Each rule is joined with the small new table on one side, so the
    cost follows the new records, not the square of the existing ones."""
    parts = []
    for r in rules:
        parts.append(f"SELECT l.unique_id a, r.unique_id b FROM {new} l JOIN {everyone} r ON ({r})")
        parts.append(f"SELECT l.unique_id a, r.unique_id b FROM {everyone} l JOIN {new} r ON ({r})")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE __hl_blocked AS
            SELECT '0' AS match_key, least(a, b) AS join_key_l, greatest(a, b) AS join_key_r
            FROM ({' UNION ALL '.join(parts)}) WHERE a <> b GROUP BY ALL"""
    )
    return con.execute("SELECT count(*) FROM __hl_blocked").fetchall()[0][0]
