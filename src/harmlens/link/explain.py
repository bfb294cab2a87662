"""``harmlens explain-link A B``: why two mentions are (or are not) the same person.

The pair is scored with the warehouse's active model: the prior, then for each field the
comparison level reached and its match weight (log2 Bayes factor, including the term-frequency
adjustment), summing to the pair's match weight and probability. The same numbers are drawn as
Splink's waterfall chart (vega-lite, rendered offline to SVG, PNG or HTML).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from harmlens.errors import HarmlensError
from harmlens.link.engine import drop_splink_tables
from harmlens.link.model import make_linker
from harmlens.link.prepare import Placeholders, prepare

FIELD_SOURCE = {"forename": ("fn",), "surname": ("sn",), "date_of_birth": ("dob_s",), "sex": ("sex",), "postcode": ("pc",)}


class ExplainError(HarmlensError):
    """The pair cannot be explained (unknown mention, no model yet)."""


@dataclass
class FieldWeight:
    field: str
    level: str
    match_weight: float
    value_a: Any = None
    value_b: Any = None


@dataclass
class Explanation:
    mention_a: str
    mention_b: str
    model_id: int
    prior_weight: float
    fields: list[FieldWeight]
    match_weight: float
    match_probability: float
    threshold: float
    person_a: str | None = None
    person_b: str | None = None
    decision: str | None = None
    chart_spec: dict = field(default_factory=dict, repr=False)

    def text(self, show_values: bool = True) -> str:
        lines = [f"mentions {self.mention_a} and {self.mention_b} (model {self.model_id}, threshold {self.threshold:.3f})"]
        lines.append(f"  {'prior (two random mentions match)':<44} {self.prior_weight:+7.2f}")
        for f in self.fields:
            vals = f"  [{_fmt(f.value_a)} | {_fmt(f.value_b)}]" if show_values else ""
            lines.append(f"  {f.field + ': ' + f.level:<44} {f.match_weight:+7.2f}{vals}")
        lines.append(f"  {'total match weight':<44} {self.match_weight:+7.2f}")
        verdict = "at or above" if self.match_probability >= self.threshold else "below"
        lines.append(f"  match probability {self.match_probability:.4f} ({verdict} the threshold)")
        if self.person_a is not None:
            same = "the same person" if self.person_a == self.person_b else "different persons"
            lines.append(f"  currently linked to {self.person_a} and {self.person_b}: {same}")
        if self.decision:
            lines.append(f"  reviewer decision on this pair: {self.decision}")
        return "\n".join(lines)


def _fmt(v: Any) -> str:
    return "-" if v is None else str(v)


def explain_link(con: duckdb.DuckDBPyConnection, a: str, b: str, *, hide_values: bool = False) -> Explanation:
    """Score mentions ``a`` and ``b`` with the active model and break the weight down by field."""
    rows = con.execute("SELECT model_id, model, threshold FROM link_models WHERE active ORDER BY model_id DESC LIMIT 1").fetchall()
    if not rows:
        raise ExplainError("no linking model yet: run 'harmlens link' first")
    model_id, model_text, threshold = rows[0]
    model = json.loads(model_text)
    if a == b:
        raise ExplainError("give two different mention ids")
    found = {r[0] for r in con.execute("SELECT mention_id FROM people WHERE mention_id IN (?, ?)", [a, b]).fetchall()}
    missing = [x for x in (a, b) if x not in found]
    if missing:
        raise ExplainError(f"no such mention: {', '.join(missing)}")
    ph = Placeholders.from_json(model["harmlens_placeholders"]).with_values(
        dobs=set(model["harmlens_detected"]["dobs"]), postcodes=set(model["harmlens_detected"]["postcodes"]))
    con.execute(
        """CREATE OR REPLACE TEMP TABLE __hl_x_mentions AS SELECT mention_id AS unique_id, forename, surname, date_of_birth, sex, postcode FROM people"""
    )
    prepare(con, "__hl_x_mentions", "__hl_x_prep", placeholders=ph, detect=False)
    linker = make_linker(con, "__hl_x_prep", {k: v for k, v in model.items() if not k.startswith("harmlens_")})
    for col in ("fn", "sn", "pc"):
        linker.table_management.compute_tf_table(col)
    cur = con.execute("SELECT * FROM __hl_x_prep WHERE unique_id IN (?, ?) ORDER BY unique_id = ? DESC", [a, b, a])
    names = [d[0] for d in cur.description]
    recs = [dict(zip(names, r)) for r in cur.fetchall()]
    scored = linker.inference.score_pair(recs[0], recs[1])
    rec = scored.as_record_list()[0]
    scored.drop_table_from_database_and_remove_from_cache()
    lam = model["probability_two_random_records_match"]
    prior = math.log2(lam / (1 - lam))
    fields = []
    for comp in model["comparisons"]:
        name = comp["output_column_name"]
        gamma = rec.get(f"gamma_{name}")
        levels = comp["comparison_levels"]
        non_null = [lv for lv in levels if not lv.get("is_null_level")]
        # Splink numbers levels from the bottom: the last (else) level is 0, NULL is -1
        if gamma is None or gamma < 0:
            label = "null (no evidence)"
        elif gamma < len(non_null):
            label = non_null[len(non_null) - 1 - gamma].get("label_for_charts", str(gamma))
        else:
            label = str(gamma)
        mw = float(rec.get(f"mw_{name}") or 0.0) + float(rec.get(f"mw_tf_adj_{name}") or 0.0)
        src = FIELD_SOURCE.get(name, (name,))[0]
        fields.append(FieldWeight(name, label, mw, rec.get(f"{src}_l"), rec.get(f"{src}_r")))
    linked = dict(con.execute("SELECT mention_id, person_id FROM links WHERE mention_id IN (?, ?)", [a, b]).fetchall())
    x, y = sorted((a, b))
    dec = con.execute("SELECT decision || ' (by ' || decided_by || ')' FROM link_decisions WHERE mention_a = ? AND mention_b = ?", [x, y]).fetchall()
    chart = linker.visualisations.waterfall_chart([rec], filter_nulls=False, remove_sensitive_data=hide_values)
    spec = chart.chart_dict  # a property: the spec with the data embedded
    for tname in ("__hl_x_prep", "__hl_x_mentions"):
        con.execute(f"DROP TABLE IF EXISTS {tname}")
    drop_splink_tables(con)  # the term-frequency tables hold name counts; none stays in the warehouse
    return Explanation(a, b, model_id, prior, fields, float(rec["match_weight"]), float(rec["match_probability"]), float(threshold),
                       linked.get(a), linked.get(b), dec[0][0] if dec else None, _static(spec))


def _static(spec: dict) -> dict:
    """Drop the interactive record slider so the chart renders the same offline."""
    spec = json.loads(json.dumps(spec, default=str))
    for p in spec.get("params", []):
        p.pop("bind", None)
    return spec


def write_chart(spec: dict, path: Path) -> None:
    """Write the waterfall chart as .svg, .png or .html (rendered offline with vl-convert)."""
    import vl_convert as vlc

    suffix = path.suffix.lower()
    if suffix == ".svg":
        path.write_text(vlc.vegalite_to_svg(spec))
    elif suffix == ".png":
        path.write_bytes(vlc.vegalite_to_png(spec, scale=2))
    elif suffix == ".html":
        path.write_text(vlc.vegalite_to_html(spec, bundle=True))
    elif suffix == ".json":
        path.write_text(json.dumps(spec, indent=1))
    else:
        raise ExplainError(f"chart file must end in .svg, .png, .html or .json: {path}")
