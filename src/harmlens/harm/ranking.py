"""Priority lists for human review, from any registered scoring method.

The harm area registers ``v100``, ``rfg`` and ``rfh``. Another area adds a method without
editing this file::

    from harmlens.harm.ranking import register_method
    register_method("risk", my_scorer, description="...", default=True)

A scorer is ``fn(con, as_of: datetime, **options) -> DataFrame`` with at least ``person_id`` and
``score`` (higher ranks first); any of the ``rank`` contract columns it fills (``risk``,
``expected_harm``, ``rfgv_score``, ``band``, ``top_factors``, ``last_event_at``) and the evidence
columns (``allegations``, ``charges``, ``convictions``, ``distinct_victims``, ``weight_table``)
are passed through. :func:`rank` adds the at-large split, ranks, ties and the top-N cut.

Ties share a rank (competition ranking: 1, 2, 2, 4) and every person tied with the N-th is
kept, so a top-N list can be longer than N; within a tie the most recent last event comes
first, then person_id, so the order is reproducible.
"""

from __future__ import annotations

import importlib
import math
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, ContextManager

import duckdb
import pandas as pd

from harmlens.engine import Engine
from harmlens.harm.baselines import as_of_timestamp, rfg_scores, rfh_scores, v100_scores
from harmlens.harm.custody import at_large
from harmlens.harm.errors import HarmError

Scorer = Callable[..., pd.DataFrame]

RANK_COLUMNS = ["rank", "person_id", "risk", "expected_harm", "rfgv_score", "band", "at_large", "top_factors", "last_event_at"]
EVIDENCE_COLUMNS = ["allegations", "charges", "convictions", "distinct_victims", "weight_table", "as_of", "evidence",
                    "evidence_allegations", "convicted", "charged_awaiting_trial", "acquitted", "nfa", "withdrawn", "ongoing", "cautioned"]
EXTRA_COLUMNS = ["method", "score", "not_at_large_reason", "not_at_large_until"]
OUTPUT_COLUMNS = RANK_COLUMNS + EVIDENCE_COLUMNS + EXTRA_COLUMNS


@dataclass(frozen=True)
class RankMethod:
    name: str
    scorer: Scorer
    description: str = ""
    options: tuple[str, ...] = field(default=())


_METHODS: dict[str, RankMethod] = {}
_DEFAULT: list[str] = []
# Areas that may register methods on import; looked up only when a name is not yet known.
_PLUGIN_MODULES = ("harmlens.rank.plugin",)


def register_method(
    name: str,
    scorer: Scorer,
    *,
    description: str = "",
    options: tuple[str, ...] = (),
    default: bool = False,
    replace: bool = False,
) -> None:
    """Add a ranking method (``default=True`` makes it the CLI's default)."""
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"method name {name!r} must be alphanumeric")
    if name in _METHODS and not replace and _METHODS[name].scorer is not scorer:
        raise ValueError(f"ranking method {name!r} is already registered")
    _METHODS[name] = RankMethod(name, scorer, description, tuple(options))
    if default:
        _DEFAULT.append(name)


def _load_plugins() -> None:
    for mod in _PLUGIN_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise


def methods() -> dict[str, RankMethod]:
    """Registered methods by name."""
    _load_plugins()
    return dict(_METHODS)


def default_method() -> str:
    _load_plugins()
    return _DEFAULT[-1] if _DEFAULT else "v100"


def get_method(name: str) -> RankMethod:
    if name not in _METHODS:
        _load_plugins()
    if name not in _METHODS:
        raise HarmError(f"unknown ranking method {name!r}: use one of {', '.join(sorted(_METHODS))}")
    return _METHODS[name]


register_method("v100", v100_scores, description="V100: summed harm of VAWG allegations in the last 365 days", options=("weights", "window_days"))
register_method("rfg", rfg_scores, description="Recency, Frequency, Gravity, Victims matrix (domestic abuse)", options=("weights", "config"))
register_method("rfh", rfh_scores, description="Recency, Frequency, Harm, Victims matrix (domestic abuse)", options=("weights", "config"))


@dataclass
class RankResult:
    """A ranked list: the people at large, and those who would rank but are not at large."""

    method: str
    as_of: datetime
    weight_table: str
    top: int
    priority: pd.DataFrame
    not_at_large: pd.DataFrame
    scored: int
    notes: list[str] = field(default_factory=list)
    # person_id -> warning where linkage may be wrong (harm/linkwarn.py); kept out of the list's
    # columns so existing csv/json consumers see the same shape
    link_warnings: dict[str, str] = field(default_factory=dict)

    def combined(self) -> pd.DataFrame:
        """One table: priority rows, then not-at-large rows (rank empty)."""
        return pd.concat([self.priority, self.not_at_large], ignore_index=True)[OUTPUT_COLUMNS]

    def to_text(self) -> str:
        """The list as plain aligned text: header (method, as-of, weight table), priority list, not-at-large section."""

        as_of = self.as_of.date().isoformat()
        lines = [
            f"{self.method.upper()} priority list as of {as_of} (events before this date)   weight table: {self.weight_table or 'n/a'}",
            f"top {self.top} of {self.scored} people scored; ties at the cut are kept. Allegations are not findings of guilt. Decision support only.",
            "",
        ]

        def view(df: pd.DataFrame) -> pd.DataFrame:
            v = df.copy()
            v["score"] = v["score"].map(lambda x: f"{x:,.2f}".rstrip("0").rstrip("."))
            v["last_event"] = pd.to_datetime(v["last_event_at"]).dt.strftime("%Y-%m-%d")
            v["victims"] = v["distinct_victims"]
            v["why"] = v["top_factors"]
            return v

        # the evidence column carries the counts with their outcomes (the method's own counts stay in csv/json)
        cols = ["rank", "person_id", "score", "band", "victims", "last_event", "evidence", "why"]
        if self.priority["band"].isna().all():
            cols.remove("band")
        lines.append(_fmt_table(view(self.priority), cols) if len(self.priority) else "(nobody at large has an allegation in scope)")
        if self.link_warnings:
            lines += ["", f"Linkage warnings ({len(self.link_warnings)}): these entries may be someone in custody, dead or higher on the list"]
            lines += [f"  rank {r.rank} {r.person_id}: {self.link_warnings[str(r.person_id)]}"
                      for r in self.priority.itertuples(index=False) if str(r.person_id) in self.link_warnings]
        if len(self.not_at_large):
            lines += ["", f"Not at large on {as_of} (custody or dead), not in the list above:"]
            v = view(self.not_at_large)
            v["status"] = v["not_at_large_reason"] + v["not_at_large_until"].map(
                lambda u: "" if pd.isna(u) else f" until {pd.Timestamp(u).date().isoformat()}"
            )
            lines.append(_fmt_table(v, ["person_id", "status", "score", "victims", "last_event", "evidence", "why"]))
        return "\n".join(lines)

    def to_json_dict(self) -> dict[str, Any]:
        def recs(df: pd.DataFrame) -> list[dict[str, Any]]:
            out = []
            for r in df.to_dict("records"):
                clean = {}
                for k, v in r.items():
                    if isinstance(v, (pd.Timestamp, datetime)):
                        v = None if pd.isna(v) else pd.Timestamp(v).isoformat()
                    elif v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
                        v = None
                    elif hasattr(v, "item"):
                        v = v.item()
                    clean[k] = v
                out.append(clean)
            return out

        return {
            "method": self.method,
            "as_of": self.as_of.date().isoformat() if self.as_of.time() == datetime.min.time() else self.as_of.isoformat(),
            "weight_table": self.weight_table,
            "top": self.top,
            "scored": self.scored,
            "notes": self.notes,
            "priority": recs(self.priority[OUTPUT_COLUMNS]),
            "not_at_large": recs(self.not_at_large[OUTPUT_COLUMNS]),
            **({"link_warnings": self.link_warnings} if self.link_warnings else {}),
        }


def _fmt_table(df: pd.DataFrame, columns: list[str]) -> str:
    """Plain aligned text (stable across terminals; no colour so it pipes cleanly)."""
    if not len(df):
        return "(none)"
    fmts = {}
    for c in ("why", "status", "top_factors", "evidence"):
        if c in columns:
            width = int(df[c].astype(str).str.len().max())
            fmts[c] = (lambda w: (lambda v: f"{v!s:<{w}}"))(width)
    return df[columns].to_string(index=False, na_rep="", formatters=fmts, justify="left")


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in OUTPUT_COLUMNS})


def rank(
    con: Engine | duckdb.DuckDBPyConnection,
    method: str,
    as_of: str | date | datetime,
    *,
    top: int = 20,
    listed_on: Callable[[pd.Series], ContextManager[Any]] | None = None,
    **options: Any,
) -> RankResult:
    """Score with ``method`` as of a date, split at large / not at large, rank and cut at ``top``.

    Scoring and the at-large split run on ``con`` (a connection or an engine: everyone scored).
    The explanations of the listed people (evidence, linkage warnings) run on the connection
    ``listed_on(person_ids)`` yields, default ``con`` itself: with the Spark engine, a driver
    DuckDB holding only the listed people's rows (harm/driver_subset.py).
    """
    if top < 1:
        raise HarmError("--top must be at least 1")
    m = get_method(method)
    ts = as_of_timestamp(as_of)
    opts = {k: v for k, v in options.items() if v is not None}
    bad = sorted(set(opts) - set(m.options))
    if bad:
        raise HarmError(f"method {method!r} does not take option(s) {', '.join(bad)}")
    scores = m.scorer(con, ts, **opts)
    if "person_id" not in scores.columns or "score" not in scores.columns:
        raise HarmError(f"ranking method {method!r} returned no person_id/score columns")
    table_name = str(scores["weight_table"].iloc[0]) if "weight_table" in scores.columns and len(scores) else ""
    notes: list[str] = []
    if not len(scores):
        return RankResult(method, ts, table_name, top, _empty(), _empty(), 0, ["nobody has an allegation in scope on this date"])
    df = scores.copy()
    for c in OUTPUT_COLUMNS:
        if c not in df.columns:
            df[c] = None
    df["method"] = method
    df["as_of"] = ts
    if {"at_large", "not_at_large_reason", "not_at_large_until"} <= set(scores.columns):
        # The scorer already worked out who is at large (the risk list needs it); not again.
        df["at_large"] = df["at_large"].astype("boolean").fillna(True).astype(bool)
    else:
        status = at_large(con, ts, df["person_id"])
        df = df.drop(columns=["at_large"]).merge(status[["person_id", "at_large", "reason", "until"]], on="person_id", how="left")
        df["not_at_large_reason"] = df["reason"]
        df["not_at_large_until"] = df["until"]
    df["score"] = df["score"].astype(float)
    df = df.sort_values(
        ["score", "last_event_at", "person_id"], ascending=[False, False, True], na_position="last", kind="mergesort"
    ).reset_index(drop=True)
    if "unweighted" in df.columns and df["unweighted"].fillna(0).sum():
        notes.append(
            f"{int(df['unweighted'].fillna(0).sum())} allegations have no harm weight (unmapped or unweighted offences): "
            "see 'harmlens harm unmapped'"
        )
    pri = df[df["at_large"]].copy()
    pri["rank"] = pri["score"].rank(method="min", ascending=False).astype(int)
    pri = pri[pri["rank"] <= top]
    off = df[~df["at_large"]].copy()
    off["rank"] = None
    if len(off):
        cut = off["score"].rank(method="min", ascending=False)
        off = off[cut <= top]
        notes.append(f"{int((~df['at_large']).sum())} scored people are not at large (custody or dead) and are listed separately")
    with (listed_on(pd.concat([pri["person_id"], off["person_id"]])) if listed_on else nullcontext(con)) as small:
        pri, off = _with_evidence(small, ts, pri), _with_evidence(small, ts, off)
        warnings = _link_warnings(small, ts, pri, notes)
    if method == "v100":
        notes.append(
            "V100 keeps its published definition: every VAWG allegation in 365 days adds its harm whatever its outcome "
            "(acquitted, no further action and withdrawn included); the evidence column shows what became of them"
        )
    return RankResult(method, ts, table_name, top, pri[OUTPUT_COLUMNS].reset_index(drop=True), off[OUTPUT_COLUMNS].reset_index(drop=True), len(df), notes,
                      link_warnings=warnings)


def _link_warnings(con: duckdb.DuckDBPyConnection, ts: datetime, df: pd.DataFrame, notes: list[str]) -> dict[str, str]:
    """Warnings where linkage may be wrong (harm/linkwarn.py) per listed person; ranks unchanged.
    Their count goes into ``notes`` (printed with the list)."""
    from harmlens.harm.linkwarn import link_warnings, warning_note

    if not len(df):
        return {}
    w = link_warnings(con, df, ts)
    note = warning_note(w)
    if note:
        notes.append(note)
    return {str(k): v for k, v in w.dropna().items()}


def _with_evidence(con: duckdb.DuckDBPyConnection, ts: datetime, df: pd.DataFrame) -> pd.DataFrame:
    """The one evidence definition (harm/evidence.py) beside every listed person, whatever the method."""
    from harmlens.harm.evidence import evidence_table, summary_text

    if not len(df):
        return df
    ev = evidence_table(con, ts, df["person_id"])
    df = df.copy()
    df["evidence"] = [summary_text(ev.loc[str(p)]) for p in df["person_id"]]
    rows = ev.loc[df["person_id"].astype(str)]
    df["evidence_allegations"] = rows["allegations"].to_numpy()
    for s in ("convicted", "acquitted", "nfa", "withdrawn", "ongoing", "cautioned"):
        df[s] = rows[s].to_numpy()
    df["charged_awaiting_trial"] = rows["charged"].to_numpy()
    return df
