"""``harmlens explain-link A B``: why two mentions are (or are not) the same person.

The pair is scored with the warehouse's active model: the prior, then for each field the
comparison level reached and its match weight (log2 Bayes factor, including the term-frequency
adjustment), summing to the pair's match weight and probability. The same numbers are drawn as
Splink's waterfall chart (vega-lite, rendered offline to SVG, PNG or HTML).

Names are weighted by how common they are (term frequencies over every mention). Each link run
stores those counts (``store_term_frequencies``: tables ``link_tf`` and ``link_tf_state``), so an
explanation standardises only its two mentions. When the stored counts are absent or no longer
match ``people`` and the active model (a warehouse linked before they existed, a new extract not
yet linked), every mention is standardised again as before: same numbers, slower.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from harmlens.errors import HarmlensError
from harmlens.link.engine import drop_splink_tables
from harmlens.link.model import make_linker
from harmlens.link.prepare import Placeholders, prepare

FIELD_SOURCE = {"forename": ("fn",), "surname": ("sn",), "date_of_birth": ("dob_s",), "sex": ("sex",), "postcode": ("pc",)}

TF_SOURCES = {"fn": "forename", "sn": "surname", "pc": "postcode"}
"""Term-frequency adjusted columns of the warehouse model and the one ``people`` column each is
standardised from (``prepare`` derives each from that column alone)."""

_PEOPLE_STATE = "SELECT count(*), coalesce(bit_xor(hash(mention_id, forename, surname, postcode)), 0) FROM people"
"""What the stored counts depend on in ``people``: adding or removing a mention, or changing one's
names or postcode, changes it (64-bit hashes xor-ed; each row's includes its unique id)."""


class ExplainError(HarmlensError):
    """The pair cannot be explained (unknown mention, no model yet)."""


@dataclass
class FieldWeight:
    field: str
    level: str
    match_weight: float
    value_a: Any = None
    value_b: Any = None
    # what the review page shows beside the weight, as Splink's diagnostics do: the comparison
    # vector value reached (-1 null), that level's m and u probabilities, and the part of the
    # weight that is the term-frequency adjustment (a common name weighs less than a rare one)
    gamma: int | None = None
    m_probability: float | None = None
    u_probability: float | None = None
    tf_weight: float = 0.0


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


def explain_link(con: duckdb.DuckDBPyConnection, a: str, b: str, *, hide_values: bool = False,
                 frequencies: str = "auto") -> Explanation:
    """Score mentions ``a`` and ``b`` with the active model and break the weight down by field.

    ``frequencies``: "stored" reads the term frequencies the last link run stored (an error if
    they do not match the warehouse now), "recount" standardises every mention to count them,
    "auto" (default) uses the stored ones when they match, else recounts and says so on stderr.
    """
    if frequencies not in ("auto", "stored", "recount"):
        raise ExplainError(f"frequencies must be auto, stored or recount, got {frequencies!r}")
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
    ph = model_placeholders(model)
    settings = {k: v for k, v in model.items() if not k.startswith("harmlens_")}
    temps = ["__hl_x_prep", "__hl_x_mentions"]
    try:
        linker, recs = None, None
        if frequencies != "recount":
            why = _stored_unusable(con, model_id)
            if why is None:
                linker, recs, why = _with_stored(con, a, b, ph, settings, temps)
            if why is not None:
                if frequencies == "stored":
                    raise ExplainError(f"no usable stored term frequencies: {why}")
                print(f"explain-link: no usable stored term frequencies ({why}); counting them over every mention "
                      "instead (slow on a large warehouse; 'harmlens link' stores them)", file=sys.stderr)
        if linker is None:
            linker, recs = _with_recount(con, a, b, ph, settings)
        scored = linker.inference.score_pair(recs[0], recs[1])
        rec = scored.as_record_list()[0]
        scored.drop_table_from_database_and_remove_from_cache()
        chart = linker.visualisations.waterfall_chart([rec], filter_nulls=False, remove_sensitive_data=hide_values)
        spec = chart.chart_dict  # a property: the spec with the data embedded
    finally:
        for tname in temps:
            con.execute(f"DROP TABLE IF EXISTS {tname}")
        drop_splink_tables(con)  # the term-frequency tables hold name counts; none stays in the warehouse
    lam = model["probability_two_random_records_match"]
    prior = math.log2(lam / (1 - lam))
    fields = []
    for comp in model["comparisons"]:
        name = comp["output_column_name"]
        gamma = rec.get(f"gamma_{name}")
        levels = comp["comparison_levels"]
        non_null = [lv for lv in levels if not lv.get("is_null_level")]
        # Splink numbers levels from the bottom: the last (else) level is 0, NULL is -1
        level: dict = {}
        if gamma is None or gamma < 0:
            label = "null (no evidence)"
        elif gamma < len(non_null):
            level = non_null[len(non_null) - 1 - gamma]
            label = level.get("label_for_charts", str(gamma))
        else:
            label = str(gamma)
        tf = float(rec.get(f"mw_tf_adj_{name}") or 0.0)
        mw = float(rec.get(f"mw_{name}") or 0.0) + tf
        src = FIELD_SOURCE.get(name, (name,))[0]
        fields.append(FieldWeight(name, label, mw, rec.get(f"{src}_l"), rec.get(f"{src}_r"), None if gamma is None else int(gamma),
                                  level.get("m_probability"), level.get("u_probability"), tf))
    linked = dict(con.execute("SELECT mention_id, person_id FROM links WHERE mention_id IN (?, ?)", [a, b]).fetchall())
    x, y = sorted((a, b))
    dec = con.execute("SELECT decision || ' (by ' || decided_by || ')' FROM link_decisions WHERE mention_a = ? AND mention_b = ?", [x, y]).fetchall()
    return Explanation(a, b, model_id, prior, fields, float(rec["match_weight"]), float(rec["match_probability"]), float(threshold),
                       linked.get(a), linked.get(b), dec[0][0] if dec else None, _static(spec))


def model_placeholders(model: dict) -> Placeholders:
    """The placeholders a saved warehouse model was trained with (fixed list plus detected values)."""
    return Placeholders.from_json(model["harmlens_placeholders"]).with_values(
        dobs=set(model["harmlens_detected"]["dobs"]), postcodes=set(model["harmlens_detected"]["postcodes"]))


def _pair_records(con: duckdb.DuckDBPyConnection, table: str, a: str, b: str) -> list[dict]:
    cur = con.execute(f"SELECT * FROM {table} WHERE unique_id IN (?, ?) ORDER BY unique_id = ? DESC", [a, b, a])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _with_recount(con, a, b, ph, settings):
    """Every mention standardised, Splink counts the term frequencies (the path before they were stored)."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE __hl_x_mentions AS SELECT mention_id AS unique_id, forename, surname, date_of_birth, sex, postcode FROM people"""
    )
    prepare(con, "__hl_x_mentions", "__hl_x_prep", placeholders=ph, detect=False)
    linker = make_linker(con, "__hl_x_prep", settings)
    for col in TF_SOURCES:
        linker.table_management.compute_tf_table(col)
    return linker, _pair_records(con, "__hl_x_prep", a, b)


def _stored_unusable(con: duckdb.DuckDBPyConnection, model_id: int) -> str | None:
    """Why the stored term frequencies cannot stand for a recount now (None: they can)."""
    try:
        st = con.execute("SELECT model_id, mentions, people_hash FROM link_tf_state").fetchall()
    except duckdb.CatalogException:  # opened read-only before the migration that adds them
        return "the warehouse has no link_tf table"
    if not st:
        return "none stored: the warehouse was linked before they were"
    if st[0][0] != model_id:
        return f"counted for model {st[0][0]}, the active model is {model_id}"
    if tuple(st[0][1:]) != tuple(con.execute(_PEOPLE_STATE).fetchall()[0]):
        return "people changed since the last link run"
    return None


def _with_stored(con, a, b, ph, settings, temps):
    """Only the two mentions standardised; their values' frequencies read from ``link_tf``.

    Returns (linker, records, None), or (None, None, why not): a model adjusting other columns, or
    a value missing from the counts (it cannot be when the state matches; checked, not trusted)."""
    con.execute("""CREATE OR REPLACE TEMP TABLE __hl_x_mentions AS SELECT mention_id AS unique_id, forename, surname, date_of_birth, sex, postcode
                   FROM people WHERE mention_id IN (?, ?)""", [a, b])
    prepare(con, "__hl_x_mentions", "__hl_x_prep", placeholders=ph, detect=False)
    recs = _pair_records(con, "__hl_x_prep", a, b)
    linker = make_linker(con, "__hl_x_prep", settings, validate=False)
    if {c.unquote().name for c in linker._settings_obj._term_frequency_columns} - set(TF_SOURCES):
        return None, None, "the model adjusts columns that are not stored"
    for col in TF_SOURCES:
        t = f"__hl_x_tf_{col}"
        temps.append(t)
        vals = sorted({r[col] for r in recs if r[col] is not None})
        # Splink's own formula: cast(count(*) as float8) / count(col), so the same double results
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {t} AS
                SELECT v.v AS "{col}", CAST(f.n AS DOUBLE) / (SELECT sum(n) FROM link_tf WHERE column_name = ?) AS "tf_{col}"
                FROM (SELECT unnest(?::VARCHAR[]) AS v) v JOIN link_tf f ON f.column_name = ? AND f.value_key = md5_number(v.v)""",
            [col, vals, col])
        if con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] != len(vals):
            return None, None, f"a value of these mentions is missing from the stored {col} counts"
        linker.table_management.register_term_frequency_lookup(linker._db_api.register(t), col)
    return linker, recs, None


def store_term_frequencies(con: duckdb.DuckDBPyConnection, model_id: int, model: dict, run_id: int) -> bool:
    """Count, over every mention in ``people``, how many carry each standardised forename, surname
    and postcode (with ``model``'s placeholders, as an explanation standardises them) into
    ``link_tf``, touching only counts that changed, and record what was counted in
    ``link_tf_state``. Returns False if nothing changed since the last count.

    Each of these columns is standardised from one raw column alone, so the distinct raw values
    are counted and only they are standardised: exact, and a fraction of a second at 1M mentions.
    Counts come from ``people`` itself, not from the run's records, so a mention a newer extract
    changed in place (which an incremental run does not re-read) is counted as it is now.
    Values are stored as 128-bit hashes: the table lists no names (a given name can still be
    looked up by hashing it: pseudonymous, not anonymous).
    """
    n, h = con.execute(_PEOPLE_STATE).fetchall()[0]
    if con.execute("SELECT count(*) FROM link_tf_state WHERE model_id = ? AND mentions = ? AND people_hash = ?", [model_id, n, h]).fetchall()[0][0]:
        return False
    raw = " UNION ALL ".join(f"""SELECT '{c}' AS col, "{src}" AS raw, count(*) AS n FROM people WHERE "{src}" IS NOT NULL GROUP BY ALL"""
                             for c, src in TF_SOURCES.items())
    con.execute(f"CREATE OR REPLACE TEMP TABLE __hl_tfr AS SELECT CAST(row_number() OVER () AS VARCHAR) AS unique_id, * FROM ({raw})")
    cols = ", ".join(f"""CASE WHEN col = '{c}' THEN raw END AS "{src}" """ for c, src in TF_SOURCES.items())
    con.execute(f"CREATE OR REPLACE TEMP TABLE __hl_tfr_src AS SELECT unique_id, {cols} FROM __hl_tfr")
    prepare(con, "__hl_tfr_src", "__hl_tfr_prep", placeholders=model_placeholders(model), detect=False)
    value = "CASE r.col " + " ".join(f"WHEN '{c}' THEN p.\"{c}\"" for c in TF_SOURCES) + " END"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE __hl_tfc AS
            SELECT r.col AS column_name, md5_number({value}) AS value_key, CAST(sum(r.n) AS BIGINT) AS n
            FROM __hl_tfr r JOIN __hl_tfr_prep p USING (unique_id) WHERE {value} IS NOT NULL GROUP BY ALL"""
    )
    # differences only: a run adding a few mentions changes a few counts
    con.execute("""DELETE FROM link_tf WHERE NOT EXISTS (SELECT 1 FROM __hl_tfc c WHERE c.column_name = link_tf.column_name
                   AND c.value_key = link_tf.value_key AND c.n = link_tf.n)""")
    con.execute("INSERT INTO link_tf SELECT * FROM __hl_tfc EXCEPT SELECT * FROM link_tf")
    con.execute("DELETE FROM link_tf_state")
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    con.execute("INSERT INTO link_tf_state VALUES (?, ?, ?, ?, ?)", [model_id, run_id, n, h, now])
    for t in ("__hl_tfr", "__hl_tfr_src", "__hl_tfr_prep", "__hl_tfc"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return True


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
