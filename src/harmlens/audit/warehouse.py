"""The warehouse audit: build the scored table for a list from the warehouse, then audit it.

Where the list comes from, in order of preference:

0. A stored list of the rank area (``priority_lists`` / ``priority_entries``, kind ``offenders``):
   the one named by ``--list``, else the latest. Listed = its entries ranked within ``top``. The
   whole scored population is read from ``rank_cohort``, which rank stores with every list (the
   model's score and what the list sorted by): the audit reads it, it never scores again.
1. ``risk_scores`` (written by ``harmlens score``): the model's risk for everyone scored on the
   date; the list is the top ``top`` people by expected harm (risk x harm), else by risk.
2. No scores stored: the V100 baseline from the harm area (summed CCHI harm of VAWG allegations in
   the year before the date), top ``top``. A transparent stand-in, and named as such in the report.

Outcomes come from ``harmlens.features.build_labels`` (allegation, charged, convicted) over the
horizon after the date; groups from ``harmlens.groupmetrics.groups``; the model's inputs from
``harmlens.features.build_features`` (for the proxy scan and the label-bias lists).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from duckdb import DuckDBPyConnection

from harmlens.engine import Engine, as_engine
from harmlens.audit.core import AuditResult, audit_scored
from harmlens.groupmetrics.groups import person_groups, population_counts
from harmlens.errors import HarmlensError, WarehouseError

log = logging.getLogger(__name__)

__all__ = ["ListSource", "load_scored", "audit_warehouse", "warehouse_body"]

THRESHOLD_OF = {"allegation": "allegation", "charge": "charged", "conviction": "convicted"}


@dataclass
class ListSource:
    list_id: str
    as_of: datetime
    method: str
    model_version: str | None
    top: int
    description: str


def _tables(con: Engine | DuckDBPyConnection) -> set[str]:
    return as_engine(con).tables()


def _data_end(con: Engine | DuckDBPyConnection) -> datetime | None:
    eng = as_engine(con)
    v = eng.scalar("SELECT max(occurred_at) FROM events")
    return None if v is None else pd.Timestamp(v).to_pydatetime()


def _day(x: Any) -> datetime:
    from harmlens.asof import parse_as_of

    t = parse_as_of(x)
    return datetime(t.year, t.month, t.day)


def _stored_list(con: Engine | DuckDBPyConnection, list_id: str | None, top: int) -> tuple[pd.DataFrame, ListSource, set[str]] | None:
    """Scores of the whole cohort for a stored offenders list, and the ids on the list."""
    eng = as_engine(con)
    if "priority_lists" not in _tables(con):
        if list_id:
            raise WarehouseError(f"no stored lists in this warehouse (list {list_id!r}): run 'harmlens rank' first")
        return None
    if list_id:
        rows = eng.rows("SELECT list_id, kind, method, as_of, model_version FROM priority_lists WHERE list_id = ?",
                           [list_id])
        if not rows:
            known = [r[0] for r in eng.rows("SELECT list_id FROM priority_lists ORDER BY as_of DESC LIMIT 5")]
            raise WarehouseError(f"no stored list {list_id!r} (latest: {', '.join(known) or 'none'})")
    else:
        rows = eng.rows("SELECT list_id, kind, method, as_of, model_version FROM priority_lists "
                           "WHERE kind = 'offenders' ORDER BY as_of DESC, created_at DESC LIMIT 1")
        if not rows:
            return None
    lid, kind, method, at, version = rows[0]
    if kind != "offenders":
        raise WarehouseError(f"list {lid!r} is a {kind} list: the bias audit is of offender lists")
    at = pd.Timestamp(at).to_pydatetime()
    ent = eng.rows("SELECT person_id FROM priority_entries WHERE list_id = ? AND rank <= ? ORDER BY rank",
                      [lid, top])
    listed_ids = {str(r[0]) for r in ent}
    # the cohort the list was built from, as rank stored it: the audit reads, it does not rescore
    df = (eng.frame("SELECT person_id, score, rank_value FROM rank_cohort WHERE list_id = ? ORDER BY person_id", [lid])
          if as_engine(con).has_table("rank_cohort") else pd.DataFrame())
    if df.empty:
        raise WarehouseError(f"list {lid!r} was stored without its scored cohort: build it again with "
                             f"'harmlens rank offenders --as-of {at:%Y-%m-%d}' and audit that")
    df = df.assign(person_id=df["person_id"].astype(str), score=df["score"].astype(float), rank_value=df["rank_value"].astype(float))
    desc = (f"stored list {lid}: top {top} at large by expected harm from model {version}, as of {at:%Y-%m-%d}" if version
            else f"stored list {lid}: top {top} at large by the {method} method, as of {at:%Y-%m-%d}")
    missing = listed_ids - set(df["person_id"])
    if missing:
        raise WarehouseError(f"{len(missing)} people on list {lid} are not in its scored population")
    return df, ListSource(lid, at, "stored list", version, top, desc), listed_ids


def _scores(con: Engine | DuckDBPyConnection, as_of: datetime | None, version: str | None, top: int) -> tuple[pd.DataFrame, ListSource]:
    """person_id, score, rank_value for everyone scored on the date, and where it came from."""
    eng = as_engine(con)
    have = _tables(con)
    if "risk_scores" in have:
        q = "SELECT version, as_of, count(*) AS n FROM risk_scores"
        conds, params = [], []
        if version:
            conds.append("version = ?")
            params.append(version)
        if as_of is not None:
            conds.append("CAST(as_of AS DATE) = ?")
            params.append(as_of.date())
        if conds:
            q += " WHERE " + " AND ".join(conds)
        runs = eng.frame(q + " GROUP BY ALL ORDER BY as_of DESC, version DESC", params)
        if len(runs):
            v, at = str(runs.iloc[0]["version"]), pd.Timestamp(runs.iloc[0]["as_of"]).to_pydatetime()
            df = eng.frame("SELECT person_id, risk, expected_harm FROM risk_scores WHERE version = ? AND as_of = ?",
                             [v, at])
            df["person_id"] = df["person_id"].astype(str)
            df["score"] = df["risk"].astype(float)
            use_harm = df["expected_harm"].notna().all()
            df["rank_value"] = df["expected_harm"].astype(float) if use_harm else df["score"]
            by = "expected harm (risk x harm)" if use_harm else "risk"
            src = ListSource(f"{v}@{at:%Y-%m-%d}", at, "model", v, top,
                             f"top {top} by {by} from model {v} scored as of {at:%Y-%m-%d}")
            return df[["person_id", "score", "rank_value"]], src
        if version or as_of is not None:
            want = " and ".join(x for x in [f"version {version}" if version else "",
                                             f"as of {as_of:%Y-%m-%d}" if as_of else ""] if x)
            if version:
                raise WarehouseError(f"no stored risk scores for {want}: run 'harmlens score' first")
    if as_of is None:
        end = _data_end(con)
        if end is None:
            raise WarehouseError("the warehouse has no events: run 'harmlens ingest DIR' first")
        as_of = datetime(end.year, end.month, end.day) + timedelta(days=1)
    from harmlens.features import scored_population
    from harmlens.harm.baselines import v100_scores

    pop = [str(p) for p in scored_population(con, as_of)]
    if not pop:
        raise WarehouseError(f"nobody is in the scored population as of {as_of:%Y-%m-%d}")
    v = v100_scores(con, as_of)
    v["person_id"] = v["person_id"].astype(str)
    s = v.set_index("person_id")["score"].astype(float).reindex(pop).fillna(0.0)
    df = pd.DataFrame({"person_id": pop, "score": s.to_numpy(), "rank_value": s.to_numpy()})
    src = ListSource(f"v100@{as_of:%Y-%m-%d}", as_of, "v100", None, top,
                     f"top {top} by the V100 baseline (summed CCHI harm of VAWG allegations in the 365 days "
                     f"before {as_of:%Y-%m-%d}); no model scores were stored")
    return df, src


def load_scored(con: Engine | DuckDBPyConnection, *, list_id: str | None = None, as_of: Any = None, version: str | None = None,
                top: int = 100, horizon_days: int = 365, category: str = "vawg"
                ) -> tuple[pd.DataFrame, pd.DataFrame, ListSource]:
    """The scored table (see ``harmlens.audit.core``), the model inputs, and the list's source."""
    from harmlens.features import build_features, build_labels
    from harmlens.features.core import check_warehouse

    check_warehouse(con)
    at = _day(as_of) if as_of is not None else None
    stored = _stored_list(con, list_id, top) if (list_id or (at is None and version is None)) else None
    listed_ids: set[str] | None = None
    if stored is not None:
        sc, src, listed_ids = stored
    else:
        sc, src = _scores(con, at, version, top)
    at = src.as_of
    ids = list(sc["person_id"])
    # lists are of people at large: someone in custody or dead is never listed
    from harmlens.harm.custody import at_large

    st = at_large(con, at, ids)
    free = sc["person_id"].map(dict(zip(st["person_id"].astype(str), st["at_large"].astype(bool)))).fillna(True)
    if listed_ids is not None:
        sc["listed"] = sc["person_id"].isin(listed_ids).to_numpy()
    else:
        order = np.lexsort((sc["person_id"].to_numpy(), -sc["rank_value"].to_numpy()))
        order = order[free.to_numpy()[order]]
        listed = np.zeros(len(sc), dtype=bool)
        listed[order[:top]] = True
        sc["listed"] = listed
    sc["at_large"] = free.to_numpy()
    end = _data_end(con)
    if end is not None and end > at:
        for lab, thr in THRESHOLD_OF.items():
            lb = build_labels(con, at, horizon_days, category, thr, person_ids=ids)
            lb.index = lb.index.astype(str)
            sc[f"outcome_{lab}"] = lb["label"].reindex(sc["person_id"]).to_numpy(dtype=float)
    grp = person_groups(con, ids, at)
    sc = sc.join(grp, on="person_id")
    X = build_features(con, at, ids)
    X.index = X.index.astype(str)
    X = X.reindex(sc["person_id"])
    if "n_vawg_365d" in X.columns:
        sc["offending_base"] = (X["n_vawg_365d"].fillna(0) > 0).to_numpy()
    return sc.reset_index(drop=True), X, src


def audit_warehouse(con: Engine | DuckDBPyConnection, *, list_id: str | None = None, version: str | None = None, as_of: Any = None,
                    top: int = 100, horizon_days: int = 365, n_boot: int = 300, random_state: int = 0,
                    min_group_size: int = 30, reference: str | None = None, proxy: bool = True,
                    actions: Any = None) -> AuditResult:
    """Audit a list (see the module docstring): a stored list, or one made from a model's scores."""
    from harmlens.audit.labels import label_bias
    from harmlens.audit.outcomes import outcome_monitoring
    from harmlens.audit.proxy import proxy_scan

    sc, X, src = load_scored(con, list_id=list_id, as_of=as_of, version=version, top=top, horizon_days=horizon_days)
    pop = population_counts(con)
    res = audit_scored(sc, population=pop, list_id=src.list_id, as_of=f"{src.as_of:%Y-%m-%d}",
                       horizon_days=horizon_days, reference=reference or "White", n_boot=n_boot,
                       min_group_size=min_group_size, random_state=random_state)
    res.model = {"method": src.method, "version": src.model_version, "list": src.description, "top": top}
    res.notes.insert(0, f"the list: {src.description}")
    if proxy and len(X.columns):
        res.proxy = proxy_scan(X, sc.set_index("person_id")["ethnicity"], score=sc.set_index("person_id")["score"],
                               min_group=min_group_size, random_state=random_state)
    res.label_bias = label_bias(sc, features=X, random_state=random_state)
    end = _data_end(con)
    res.outcomes = outcome_monitoring(con, sc, src.as_of, horizon_days, data_end=end, random_state=random_state)
    if res.outcomes is None:
        res.notes.append("outcome monitoring: no follow-up recorded after the list date yet")
    if actions is not None:
        from harmlens.audit.outcomes import acted_on_monitoring

        res.acted_on = acted_on_monitoring(con, sc, actions, src.as_of, horizon_days, data_end=end, random_state=random_state)
        if res.acted_on is None:
            res.notes.append("acted on vs not: no casework action on a scored person in the 90 days after the list date,"
                             " or no follow-up yet")
    return res


# ----------------------------------------------------------------------------------- report


def forest_and_calibration_html(res: AuditResult, dim: str, label: str) -> list[str]:
    """The forest plot of every ratio the flag rule looked at, and calibration by group, for one dimension."""
    from harmlens.audit.charts import calibration_chart, forest_chart
    from harmlens.audit.report import chart_html, esc

    parts: list[str] = []
    fr = res.forest(dim)
    if len(fr) and fr["group"].nunique() <= 12:
        # heading, words and chart on one page: a chart split from its heading reads as a stray figure
        parts += [f'<div style="break-inside: avoid"><h3>Ratios with their intervals by {esc(label)}</h3>',
                  "<p>Each line is one comparison the flag rule made: the dot is the ratio, the bar its interval "
                  "(simultaneous over the groups compared). Red: flagged (past 1.25 or 0.8 with an interval "
                  "that excludes 1); orange: near-miss; blue: within bounds.</p>",
                  chart_html(forest_chart(fr)) + "</div>"]
    cal = res.dimensions[dim].calibration
    if cal is not None and len(cal) and cal["group"].nunique() <= 12:
        parts += [f'<div style="break-inside: avoid"><h3>Calibration by {esc(label)} (label: {esc(res.primary_label)})</h3>',
                  "<p>Observed outcome rate against mean predicted risk in five score bins shared by everyone; a "
                  "well calibrated score sits on the dashed diagonal for every group. Bars: 95% intervals.</p>",
                  chart_html(calibration_chart(cal)) + "</div>"]
    return parts


def warehouse_body(res: AuditResult) -> str:
    """The HTML body of the list audit."""
    from harmlens.audit.charts import label_chart, metric_chart, shares_chart
    from harmlens.audit.core import SHARE_LABELS
    from harmlens.groupmetrics.groups import DIMENSION_LABELS
    from harmlens.audit.report import (chart_html, esc, findings_html, group_table_html, num, pct,
                                       shares_table_html, warnings_html)
    from harmlens.features.catalogue import label as plain_label, plain_text

    def notes_html(notes: Any) -> str:  # notes name columns and measures: in plain words for the reader
        return "<ul>" + "".join(f"<li>{esc(plain_text(n))}</li>" for n in notes) + "</ul>"

    parts = ["<h2>Summary</h2>",
             f"<p>{esc(res.subtitle())}. {esc(res.model.get('list', ''))}.</p>",
             f"<p><strong>{esc(res.headline()[0].upper() + res.headline()[1:])}.</strong></p>",
             "<h3>Flagged disparities</h3>",
             findings_html(res.findings(), "None: no ratio is past 1.25 or 0.8 with an interval that excludes 1."),
             "<h3>Near-misses</h3>",
             "<p><small>Ratios whose interval excludes 1 but which are within the 0.8-1.25 bounds, and ratios past "
             "a bound whose interval still includes 1.</small></p>",
             findings_html([f["text"] for f in res.near_misses], "None."),
             warnings_html(res.warnings)]
    parts.append(f'<p>Transparency record (ATRS) of the tool behind this list '
                 f'({esc(res.model.get("version") or "V100 rule")}): <a href="transparency.html">transparency.html</a>.</p>')
    eth = res.dimensions.get("ethnicity")
    if eth is not None:
        parts += ["<h2>Who is on the list (the 78-vs-27 test)</h2>",
                  "<p>Each group's share of the list next to its share of the people scored, of recorded "
                  "offending in the year before, and of residents. The Met's Gangs Matrix was 78% Black "
                  "against 27% of those committing serious youth violence: a gap like that shows here.</p>"]
    for dim, d in res.dimensions.items():
        label = DIMENSION_LABELS.get(dim, plain_label(dim))
        parts.append(f"<h2>By {esc(label)}</h2>")
        cols = d.share_columns
        labels = {c: SHARE_LABELS.get(c, c) for c in cols}
        if len(d.shares.groups) <= 40:
            parts.append(chart_html(shares_chart(d.shares, cols, labels)))
        parts.append(shares_table_html(d.shares, cols, labels, [("list", c) for c in cols if c != "list"]))
        gf = d.errors.get(res.primary_label)
        if gf is not None:
            metrics = [m for m in ["selection_rate", "false_positive_rate", "false_negative_rate", "precision",
                                   "auc", "calibration_oe"] if m in gf.metrics]
            parts.append(f"<h3>Error rates and calibration by {esc(label)} (label: {esc(res.primary_label)})</h3>")
            if len(gf.groups) <= 40:
                parts.append(chart_html(metric_chart(gf, metrics)))
            parts.append(group_table_html(gf, metrics))
            if d.reference:
                parts.append(f"<p><small>Ratios and flags compare with {esc(d.reference)}.</small></p>")
        parts += forest_and_calibration_html(res, dim, label)
    if res.proxy is not None:
        p = res.proxy
        parts += ["<h2>Proxy scan: do the model's inputs carry ethnicity?</h2>",
                  f"<p>A proxy model predicting self-defined ethnicity from the model's inputs reaches a mean "
                  f"one-vs-rest AUC of <strong>{num(p.macro_auc, 3)}</strong> ({esc(p.level())}; 0.5 = no "
                  f"information) on {p.n_people:,} people.</p>"]
        if p.auc_by_group:
            rows = "".join(f"<tr><td>{esc(g)}</td><td>{num(a, 3)}</td><td>{num(p.score_auc_by_group.get(g), 3)}</td></tr>"
                           for g, a in p.auc_by_group.items())
            parts.append('<table class="data"><tr><th>group</th><th>AUC of proxy model</th>'
                         f'<th>AUC of the risk score alone</th></tr>{rows}</table>')
        if len(p.importance):
            rows = "".join(f"<tr><td>{esc(plain_label(r.feature))}</td><td>{num(r.importance, 4)}</td><td>{num(r.own_auc, 3)} "
                           f"({esc(r.own_auc_group)})</td></tr>" for r in p.importance.itertuples())
            parts.append('<h3>Inputs that carry it</h3><table class="data"><tr><th>input</th>'
                         '<th>drop in AUC when shuffled</th><th>its own best AUC (group)</th></tr>'
                         f"{rows}</table>")
        parts.append(notes_html(p.notes))
    if res.label_bias is not None:
        lb = res.label_bias
        parts += ["<h2>Label bias: allegation, charge or conviction</h2>",
                  "<p>Allegations carry the pattern of policing as well as of offending; charges and "
                  "convictions add the CPS's and the court's view. The same list measured against each "
                  "label, and the list a model trained on each label would make.</p>"]
        long = lb.long()
        if len(long):
            parts.append(chart_html(label_chart(long.dropna(subset=["false_positive_rate"]),
                                                value="false_positive_rate")))
        hdr = "".join(f"<th>outcome rate ({esc(lab)})</th><th>FPR ({esc(lab)})</th><th>FNR ({esc(lab)})</th>"
                      for lab in lb.labels)
        rows = []
        for g in lb.outcome_rate.index:
            tds = "".join(f"<td>{pct(lb.outcome_rate.loc[g, lab])}</td><td>{pct(lb.fpr.loc[g, lab])}</td>"
                          f"<td>{pct(lb.fnr.loc[g, lab])}</td>" for lab in lb.labels)
            rows.append(f"<tr><td>{esc(g)}</td>{tds}</tr>")
        parts.append(f'<table class="data"><tr><th>{esc(plain_label(lb.dimension))}</th>{hdr}</tr>{"".join(rows)}</table>')
        cols = list(lb.list_share.columns)
        hdr = "".join(f"<th>list by {esc(c)}</th>" for c in cols)
        rows = ["<tr><td>overlap with actual list</td>" + "".join(
            f"<td>{'' if c == 'actual' else pct(lb.overlap.get(c))}</td>" for c in cols) + "</tr>"]
        for g in lb.list_share.index:
            rows.append(f"<tr><td>{esc(g)}</td>" + "".join(f"<td>{pct(lb.list_share.loc[g, c])}</td>" for c in cols)
                        + "</tr>")
        parts.append(f'<table class="data"><tr><th>share of list</th>{hdr}</tr>{"".join(rows)}</table>')
        parts.append("<ul>" + "".join(f"<li>{esc(k)}: scores from {esc(v)}</li>" for k, v in lb.source.items())
                     + "".join(f"<li>{esc(plain_text(n))}</li>" for n in lb.notes) + "</ul>")
    if res.outcomes is not None:
        o = res.outcomes
        parts += _monitoring_html(o, "Outcome monitoring: what happened next",
                                  f"{o.n_matched:,} of {o.n_listed:,} listed people matched to an unlisted person of similar risk",
                                  ("listed", "comparison"))
    if res.acted_on is not None:
        o = res.acted_on
        parts += _monitoring_html(o, "People acted on against similar people not acted on",
                                  f"{o.n_matched:,} of {o.n_listed:,} people with a casework action matched to a scored person "
                                  "of similar risk with none", ("acted on", "not acted on"))
    parts += ["<h2>Notes and method</h2>", notes_html(res.notes),
              "<p>Groups: self-defined ethnicity in the five 2021 Census groups plus not stated (most often stated "
              "code over a person's records), sex, age band at the list date, borough of most of their events. "
              "Ethnicity is never a model input; it is used here only to audit.</p>"]
    return "\n".join(parts)


def _monitoring_html(o: Any, title: str, matched: str, columns: tuple[str, str]) -> list[str]:
    """One outcome-monitoring comparison (listed vs matched, or acted on vs not) as a heading, a sentence and a table."""
    from harmlens.audit.report import esc, num
    from harmlens.features.catalogue import label as plain_label, plain_text

    rows = "".join(
        f"<tr><td>{esc(plain_label(r.outcome))}</td><td>{esc(plain_text(r.measure))}</td><td>{num(r.listed, 3)}</td>"
        f"<td>{num(r.comparison, 3)}</td><td>{num(r.difference, 3)} ({num(r.low, 3)} to {num(r.high, 3)})</td></tr>"
        for r in o.table.itertuples())
    return [f"<h2>{esc(title)}</h2>",
            f"<p>{esc(matched)} (mean risk {num(o.mean_score_listed, 3)} vs {num(o.mean_score_comparison, 3)}); "
            f"follow-up {esc(o.start)} to {esc(o.end)} ({o.follow_up_days} days).</p>",
            f'<table class="data"><tr><th>outcome</th><th>measure</th><th>{esc(columns[0])}</th><th>{esc(columns[1])}</th>'
            f"<th>difference (95% CI)</th></tr>{rows}</table>",
            "<ul>" + "".join(f"<li>{esc(plain_text(n))}</li>" for n in o.notes) + "</ul>"]


def record_report_page(con: Engine | DuckDBPyConnection, run_id: str, html_path: Any) -> None:
    """Keep the run's HTML report beside the run (once), for the web audit page's "full report" link."""
    eng = as_engine(con)
    import hashlib
    from pathlib import Path

    data = Path(html_path).read_bytes()
    eng.execute("INSERT OR REPLACE INTO audit_report_pages VALUES (?, ?, ?, ?)",
                [run_id, datetime.utcnow(), data.decode("utf-8", errors="replace"), hashlib.sha256(data).hexdigest()])


def record_run(con: Engine | DuckDBPyConnection, res: AuditResult) -> str:
    """Append the audit to ``audit_runs`` (never updated or deleted); returns the run id."""
    eng = as_engine(con)
    import json
    import uuid

    run_id = uuid.uuid4().hex[:16]
    d = res.to_dict()
    eng.execute(
        "INSERT INTO audit_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, datetime.utcnow(), res.list_id, res.as_of or None, res.model.get("version"), len(res.flags),
         json.dumps(d["flags"]), json.dumps(d, allow_nan=False)],
    )
    return run_id


def model_record(con: Engine | DuckDBPyConnection, version: str | None) -> dict[str, Any] | None:
    """The registry row of a model version (None for the V100 rule or when risk is absent)."""
    if not version or "models" not in _tables(con):
        return None
    from harmlens.risk.registry import get_model

    return get_model(con, version)


def write_transparency(con: Engine | DuckDBPyConnection, res: AuditResult | None, out_dir: Any, *, version: str | None,
                       formats: tuple[str, ...] = ("html", "pdf", "json"),
                       organisation: dict[str, str] | None = None) -> dict[str, Any]:
    """Build, store and write the transparency record (transparency.html/.pdf/.json/.md)."""
    import json
    from pathlib import Path

    from harmlens.audit.transparency import build_record, record_html, record_markdown, store_record
    from harmlens.reports import render_html, write_report

    rec = build_record(model_record(con, version), res, organisation=organisation)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Any] = {}
    (out / "transparency.md").write_text(record_markdown(rec), encoding="utf-8")
    paths["md"] = out / "transparency.md"
    if "json" in formats:
        (out / "transparency.json").write_text(json.dumps(rec, indent=2), encoding="utf-8")
        paths["json"] = out / "transparency.json"
    if "html" in formats or "pdf" in formats:
        page = render_html(f"Algorithmic transparency record: {rec['tier_1']['name']}", record_html(rec),
                           subtitle="UK Algorithmic Transparency Recording Standard (structure followed)")
        paths.update(write_report(page, out, "transparency", pdf="pdf" in formats))
    store_record(con, rec, html_path=str(paths.get("html", "")) or None)
    return paths
