"""The link-file model built from the fields a file actually has, with its cost counted first.

A file from another agency may lack a date of birth, give only a year, or carry middle names and
birthplaces. Here comparisons, blocking rules, the prior and the EM sessions are chosen from the
prepared columns that hold values (``present_fields``), every blocking rule's number of
comparisons is counted with Splink's own counter before anything is scored (a rule over the limit
is tightened, else dropped, with a note), and the prior never depends on an exact-date rule: it is
estimated from deterministic rules on the fields present and, where that fails (no pair meets
them), from an expected number of matches; the scored pairs then re-estimate it
(``model.refine_prior``). The method is reported.
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import duckdb

from harmlens.link.model import _else, _extras, comparisons
from harmlens.sqlident import quote_ident

log = logging.getLogger(__name__)

NAME_PART_HINTS = ("name", "middle", "forename", "given", "birthplace", "birth_place", "place_of_birth")
"""An extra column whose key holds one of these is compared as a name (initial, fuzzy), not only exactly."""

BASE_FIELDS = ("fn", "sn", "sn_key", "dob_s", "dob_y", "pc", "sex")
_COL_RE = re.compile(r'\b[lr]\.("(?:[^"]|"")+"|[a-z_][a-z0-9_]*)')

TIGHTEN_KEYS = ("left(l.fn, 1) = left(r.fn, 1)", "left(l.sn, 1) = left(r.sn, 1)", "l.dob_y = r.dob_y")
"""Added, one at a time, to a blocking rule whose comparisons exceed the limit."""


@dataclass
class ModelNotes:
    prior_method: str = ""
    prior: float | None = None
    em_sessions: list[str] = field(default_factory=list)
    rules: list[tuple[str, int]] = field(default_factory=list)  # (rule, comparisons counted)
    messages: list[str] = field(default_factory=list)


GIVEN_NAME_HINTS = ("middle", "forename", "given", "second", "first")
"""An extra whose key holds one of these is a further given name: unrelated on both sides, two people."""


def is_given_name(key: str) -> bool:
    k = key.lower()
    return any(h in k for h in GIVEN_NAME_HINTS)


def is_name_part(key: str) -> bool:
    k = key.lower()
    return any(h in k for h in NAME_PART_HINTS)


def present_fields(con: duckdb.DuckDBPyConnection, table: str, extras: list[str]) -> set[str]:
    """Prepared columns with at least one value."""
    cols = list(BASE_FIELDS) + [f"x_{e}" for e in extras]
    row = con.execute("SELECT " + ", ".join(f"count({quote_ident(c)})" for c in cols) + f" FROM {table}").fetchall()[0]
    return {c for c, n in zip(cols, row) if n}


def rule_fields(rule: str) -> set[str]:
    out = set()
    for m in _COL_RE.finditer(rule):
        c = m.group(1)
        out.add(c[1:-1].replace('""', '"') if c.startswith('"') else c)
    return out


def usable(rule: str, present: set[str]) -> bool:
    derived = {"fn_canon": "fn", "fn_ph": "fn", "fn_alts": "fn", "sn_ph": "sn", "dob_key": "dob_s", "pc_sector": "pc",
               "pc_district": "pc", "pc_area": "pc"}
    return all(derived.get(c, c) in present for c in rule_fields(rule))


def _name_part(e: str) -> dict[str, Any]:
    col = f"x_{e}"
    lq, rq = quote_ident(col + "_l"), quote_ident(col + "_r")
    return {
        "output_column_name": col,
        "comparison_description": f"{e}: exact, initial, fuzzy",
        "comparison_levels": [
            {"sql_condition": f"{lq} IS NULL OR {rq} IS NULL", "label_for_charts": "null", "is_null_level": True},
            {"sql_condition": f"{lq} = {rq}", "label_for_charts": "exact", "tf_adjustment_column": col, "tf_adjustment_weight": 1.0},
            {"sql_condition": f"(length({lq}) = 1 OR length({rq}) = 1) AND left({lq}, 1) = left({rq}, 1)", "label_for_charts": "initial agrees"},
            {"sql_condition": f"jaro_winkler_similarity({lq}, {rq}) >= 0.9", "label_for_charts": "jaro-winkler >= 0.90"},
            _else(),
        ],
    }


def file_comparisons(extras: list[str], present: set[str], *, strict: bool, tolerant: bool, relatives: bool = False) -> list[dict[str, Any]]:
    """The standard comparisons for the fields present, further given names compared as names."""
    need = {"forename": "fn", "surname": "sn_key", "date_of_birth": "dob_y", "sex": "sex", "postcode": "pc"}
    # Relatives at one address look like duplicates to EM (same surname, postcode, birthplace), so
    # EM learns that true matches often have unrelated forenames or birth years far apart and then
    # merges brothers, fathers and sons. The m of those two conflict levels is fixed small instead,
    # as in the police-records model (docs/link.md, "relatives kept apart").
    base = [c for c in comparisons([], strict or relatives, tolerant) if need.get(c["output_column_name"], "") in present]
    out = []
    for e in extras:
        if f"x_{e}" not in present:
            continue
        out.append(_name_part(e) if is_given_name(e) else _extras([e])[0])
    return base + out


def count_rule(sdfs, rule: str, link_type: str, n_records: int) -> int:
    """Comparisons ``rule`` generates, counted by Splink (exact up to 20,000 records, else from a sample)."""
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    prop = 1.0 if n_records <= 20_000 else 0.2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        recs = count_comparisons_from_blocking_rules(sdfs, blocking_rules=[rule], link_type=link_type,
                                                     record_sample_proportion=prop)
    return int(recs[0]["marginal_comparison_count"])


def bounded_rules(sdfs, rules: list[str], link_type: str, n_records: int, max_pairs: int, present: set[str], notes: ModelNotes) -> list[str]:
    """Rules whose comparison count is at most ``max_pairs``: a rule over it is tightened with a
    name initial or the birth year, else dropped; each decision is noted."""
    out = []
    for r in rules:
        n = count_rule(sdfs, r, link_type, n_records)
        rule = r
        if n > max_pairs:
            for k in TIGHTEN_KEYS:
                if k in rule or not usable(k, present):
                    continue
                t = f"({rule}) AND {k}"
                n2 = count_rule(sdfs, t, link_type, n_records)
                if n2 <= max_pairs:
                    notes.messages.append(f"blocking rule '{r}' gives {n:,} comparisons (limit {max_pairs:,}): tightened with {k} ({n2:,})")
                    rule, n = t, n2
                    break
            else:
                notes.messages.append(f"blocking rule '{r}' gives {n:,} comparisons (limit {max_pairs:,}): dropped")
                continue
        out.append(rule)
        notes.rules.append((rule, n))
    return out


def deterministic_rules(present: set[str], extras: list[str]) -> list[str]:
    """Rules for the prior: full name plus one more field that two random people seldom share."""
    if not {"fn", "sn"} <= present:
        name = "l.sn_key = r.sn_key" if "sn_key" in present else None
        return [f"{name} AND l.dob_y = r.dob_y"] if name and "dob_y" in present else []
    rules = []
    if "dob_s" in present:
        rules.append("l.fn = r.fn AND l.sn = r.sn AND l.dob_s = r.dob_s")
        if "pc" in present:
            rules.append("l.sn = r.sn AND l.dob_s = r.dob_s AND l.pc = r.pc")
        return rules
    if "dob_y" in present:
        rules.append("l.fn = r.fn AND l.sn = r.sn AND l.dob_y = r.dob_y")
    if "pc" in present:
        rules.append("l.fn = r.fn AND l.sn = r.sn AND l.pc = r.pc")
    for e in extras:
        if f"x_{e}" in present and is_name_part(e):
            rules.append(f"l.fn = r.fn AND l.sn = r.sn AND l.{quote_ident('x_' + e)} = r.{quote_ident('x_' + e)}")
    return rules or ["l.fn = r.fn AND l.sn = r.sn"]


def estimate_prior(linker, present: set[str], extras: list[str], total_pairs: float, expected_matches: float, notes: ModelNotes) -> None:
    """Splink's deterministic-rule estimate on the fields present; if it cannot give one (no pair
    meets the rules: the old 'math domain error'), the expected number of matches over all pairs."""
    rules = deterministic_rules(present, extras)
    lam = None
    if rules:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                linker.training.estimate_probability_two_random_records_match(rules, recall=0.8)
            lam = linker._settings_obj._probability_two_random_records_match
        except (ValueError, ZeroDivisionError, ArithmeticError) as exc:
            log.info("deterministic prior failed: %s", exc)
            lam = None
    if lam is not None and 0.0 < lam < 1.0 and math.isfinite(lam):
        notes.prior_method = f"deterministic rules on {', '.join(rules)} (recall 0.8), then re-estimated from scored pairs"
    else:
        lam = min(max(expected_matches / max(total_pairs, 1.0), 1e-9), 0.5)
        linker._settings_obj._probability_two_random_records_match = lam
        notes.prior_method = (f"expected matches ({expected_matches:,.0f} of {total_pairs:,.0f} pairs; no pair met a deterministic rule), "
                              "then re-estimated from scored pairs")
    notes.prior = lam


EM_CANDIDATES = (
    "l.fn = r.fn AND l.sn = r.sn",
    "l.dob_s = r.dob_s",
    "l.dob_y = r.dob_y AND l.pc = r.pc",
    "l.pc = r.pc",
)


def em_sessions(present: set[str], extras: list[str]) -> list[list[str]]:
    """EM blocking rules in order of preference: a name session, then one that fixes something
    other than the names so their m is estimated too (each a list of alternatives)."""
    names = [r for r in EM_CANDIDATES[:1] if usable(r, present)]
    others = [r for r in EM_CANDIDATES[1:] if usable(r, present)]
    for e in extras:
        x = quote_ident(f"x_{e}")
        r = f"l.dob_y = r.dob_y AND l.{x} = r.{x}"
        if usable(r, present):
            others.append(r)
    return [names, others]


def train_file_model(linker, sdfs, present: set[str], extras: list[str], *, link_type: str, n_records: int,
                     total_pairs: float, expected_matches: float, max_pairs: int, notes: ModelNotes, seed: int = 42) -> None:
    estimate_prior(linker, present, extras, total_pairs, expected_matches, notes)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    for alternatives in em_sessions(present, extras):
        for rule in alternatives:
            n = count_rule(sdfs, rule, link_type, n_records)
            if n == 0 or n > max_pairs:
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    linker.training.estimate_parameters_using_expectation_maximisation(rule, estimate_without_term_frequencies=True)
                notes.em_sessions.append(rule)
                break
            except Exception as exc:  # noqa: BLE001 - Splink raises plain Exceptions when a session has nothing to estimate
                log.info("EM session %s failed: %s", rule, exc)
    if not notes.em_sessions:
        notes.messages.append("no EM session was possible (too few fields or pairs): m probabilities are Splink's defaults")


def file_settings(extras: list[str], present: set[str], rules: list[str], *, link_type: str, strict: bool, tolerant: bool,
                  relatives: bool = False) -> dict[str, Any]:
    return {
        "link_type": link_type,
        "unique_id_column_name": "unique_id",
        "blocking_rules_to_generate_predictions": [{"blocking_rule": b, "sql_dialect": "duckdb"} for b in rules],
        "comparisons": file_comparisons(extras, present, strict=strict, tolerant=tolerant, relatives=relatives),
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": True,
        "em_convergence": 0.001,
        "max_iterations": 20,
    }


def make_file_linker(con: duckdb.DuckDBPyConnection, tables: list[str], extras: list[str], present: set[str], candidate_rules: list[str], *,
                     link_type: str, strict: bool, tolerant: bool, max_pairs: int, notes: ModelNotes, relatives: bool = False):
    """An untrained Splink linker over ``tables`` (one for dedupe, two for link-only) whose blocking
    rules are the usable ``candidate_rules`` within ``max_pairs`` comparisons each.
    Returns (linker, the registered input(s), number of records)."""
    from splink import DuckDBAPI, Linker

    from harmlens.link.model import _silence_splink

    _silence_splink()
    db_api = DuckDBAPI(connection=con)
    sdfs = [db_api.register(t) for t in tables]
    sdf_arg = sdfs[0] if len(sdfs) == 1 else sdfs
    n_records = sum(con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables)
    rules = bounded_rules(sdf_arg, [r for r in candidate_rules if usable(r, present)], link_type, n_records, max_pairs, present, notes)
    if not rules:
        from harmlens.errors import HarmlensError

        raise HarmlensError("this map cannot link: no blocking rule is usable with its fields within the comparison limit "
                            "(map more fields, e.g. forename and surname, or raise --max-pairs)")
    settings = file_settings(extras, present, rules, link_type=link_type, strict=strict, tolerant=tolerant, relatives=relatives)
    if not settings["comparisons"] or len(settings["comparisons"]) < 2:
        from harmlens.errors import HarmlensError

        raise HarmlensError("this map cannot link: it needs at least two fields with values to compare (e.g. forename and surname)")
    return Linker(sdf_arg, settings, log_level=logging.ERROR), sdf_arg, n_records


__all__ = ["ModelNotes", "present_fields", "file_comparisons", "bounded_rules", "estimate_prior", "train_file_model", "file_settings",
           "make_file_linker", "is_name_part", "usable"]
