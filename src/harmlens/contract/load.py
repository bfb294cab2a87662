"""``harmlens ingest DIR``: validate a contract folder, quarantine bad rows, upsert the rest.

Guarantees, each tested:
- read = loaded + quarantined for every table (a row is one or the other, never both/neither);
- all files are parsed before anything is written (a Parquet file longer than
  ``read.PARQUET_PART_ROWS`` rows is opened first and read part by part while it loads), and the
  write is one transaction, so an unparseable file or any failure leaves the warehouse exactly as
  it was;
- loading the same folder again changes nothing (no rows, no quarantine, no load record);
- a newer extract upserts by id and every insert/update is recorded in ``changes``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
from duckdb import DuckDBPyConnection

from harmlens.engine import Engine, Rollback, as_engine
from harmlens.contract.read import SUFFIXES, RawTable, read_table_file
from harmlens.contract.tables import LOAD_ORDER, TABLES, Table
from harmlens.contract.validate import validate_frame
from harmlens.errors import ContractError

log = logging.getLogger(__name__)


@dataclass
class TableStats:
    table: str
    file: str
    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class IngestReport:
    folder: str
    load_id: int | None
    tables: list[TableStats] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(t.inserted or t.updated or t.quarantined for t in self.tables)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([t.__dict__ for t in self.tables])


def discover(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """Map each contract table to its file in ``folder``; list files that are not contract tables."""
    if not folder.is_dir():
        raise ContractError(f"{folder}: not a folder")
    found: dict[str, Path] = {}
    ignored: list[str] = []
    for p in sorted(folder.iterdir()):
        if not p.is_file():
            continue
        name = p.name[: -len(p.suffix)] if p.suffix in SUFFIXES else None
        if name in TABLES:
            if name in found:
                raise ContractError(f"{folder}: both {found[name].name} and {p.name} present; keep one file per table")
            found[name] = p
        else:
            ignored.append(p.name)
    missing = [t.name for t in TABLES.values() if t.required_table and t.name not in found]
    if missing:
        raise ContractError(f"{folder}: required table file missing: {', '.join(m + '.csv or ' + m + '.parquet' for m in missing)}")
    return found, ignored


def _key_str(df: pd.DataFrame, key: tuple[str, ...]) -> pd.Series:
    s = df[key[0]].astype(str)
    for k in key[1:]:
        s = s + "|" + df[k].astype(str)
    return s


def _valid_references(eng: Engine, table: Table, staged: dict[str, pd.DataFrame]) -> dict[str, set]:
    """Per referencing column, the parent keys a row may name: in the warehouse or loaded now."""
    out = {}
    for col, parent, pcol in table.references:
        existing = {r[0] for r in eng.rows(f"SELECT {pcol} FROM {parent}")}
        out[col] = existing | set(staged.get(parent, pd.DataFrame({pcol: []}))[pcol])
    return out


STAGED_COLUMNS = ("event_id", "mention_id", "occurred_at")
"""What later tables read of a table loaded earlier in the same ingest (references, dates)."""


def _load_part(eng: Engine, table: Table, raw: RawTable, load_id: int, stats: TableStats, staged: dict[str, pd.DataFrame],
               rejected: dict[str, dict[str, int]], valid: dict[str, set], earlier: dict | None, first_seen: bool) -> pd.DataFrame:
    """Validate one part of a file, quarantine its bad rows, upsert the rest; add to ``stats``.
    Returns the loaded rows' columns later tables read (:data:`STAGED_COLUMNS`)."""
    name = table.name
    v = validate_frame(table, raw.frame, raw.lines, earlier=earlier)
    rows, problems = v.rows, v.problems
    ok = rows.drop(index=problems["_row"].astype(int).unique()) if len(problems) else rows
    refp = _reference_problems(table, ok, valid, rejected)
    birth = _birth_problems(eng, table, ok.drop(index=refp["_row"].astype(int).unique()) if len(refp) else ok, staged)
    if len(birth):
        refp = pd.concat([refp, birth], ignore_index=True)
    if len(refp):
        problems = pd.concat([problems, refp], ignore_index=True)
        ok = ok.drop(index=refp["_row"].astype(int).unique())
    q = problems.assign(file=str(raw.path), table_name=name)
    if raw.shape_problems:
        q = pd.concat([q, pd.DataFrame([{"_row": -1, "_line": ln, "column_name": None, "value": None, "reason": why,
                                          "file": str(raw.path), "table_name": name} for ln, why in raw.shape_problems])],
                      ignore_index=True)
    bad_rows = problems["_row"].astype(int).unique() if len(problems) else []
    stats.read += raw.n_read
    stats.quarantined += len(bad_rows) + len(raw.shape_problems)
    stats.loaded += len(ok)
    if len(table.key) == 1 and len(bad_rows):
        kcol = table.key[0]
        rejected.setdefault(name, {}).update(
            {str(rows.at[i, kcol]): int(rows.at[i, "_line"]) for i in bad_rows if pd.notna(rows.at[i, kcol])})
    part = TableStats(name, stats.file)
    upsert(eng, table, ok, load_id, part)
    stats.inserted += part.inserted
    stats.updated += part.updated
    stats.unchanged += part.unchanged
    if len(q) and first_seen:
        raw_json = raw.frame.to_json(orient="records", lines=True).splitlines() if len(raw.frame) else []
        q["row_json"] = [raw_json[int(r)] if int(r) >= 0 else None for r in q["_row"]]
        q["load_id"] = load_id
        q["line"] = q["_line"].astype("int64")
        qdf = q[["load_id", "table_name", "file", "line", "column_name", "value", "reason", "row_json"]]
        eng.register_frame("_q", qdf)
        eng.execute("INSERT INTO quarantine SELECT load_id, table_name, file, line, column_name, value, reason, CAST(row_json AS JSON) FROM _q")
        eng.unregister("_q")
    return ok[[c for c in STAGED_COLUMNS if c in ok.columns]]


def _reference_problems(table: Table, rows: pd.DataFrame, valid: dict[str, set], rejected: dict[str, dict[str, int]]) -> pd.DataFrame:
    out = []
    for col, parent, pcol in table.references:
        bad = rows[col].notna() & ~rows[col].isin(valid[col])
        for i in rows.index[bad]:
            v = rows.at[i, col]
            where = rejected.get(parent, {}).get(v)
            reason = (f"{col} {v} was quarantined in {parent} (line {where})" if where is not None
                      else f"{col} {v} does not exist in {parent}")
            out.append({"_row": i, "column_name": col, "value": v, "reason": reason, "_line": rows.at[i, "_line"]})
    return pd.DataFrame(out, columns=["_row", "column_name", "value", "reason", "_line"])


def _birth_problems(con: Engine | DuckDBPyConnection, table: Table, rows: pd.DataFrame, staged: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """People whose date of birth is in the future or after the event they are recorded on.

    Such a date is a typing error (2091 for 1991) that would make a suspect a child and move them
    on every age-based list and audit, so the row is held back with a reason instead."""
    eng = as_engine(con)
    cols = ["_row", "column_name", "value", "reason", "_line"]
    if table.name != "people" or "date_of_birth" not in rows.columns or not len(rows):
        return pd.DataFrame(columns=cols)
    dob = pd.to_datetime(rows["date_of_birth"], errors="coerce")
    ev = staged.get("events", pd.DataFrame({"event_id": [], "occurred_at": []}))[["event_id", "occurred_at"]]
    ids = [str(x) for x in rows["event_id"].dropna().unique()]
    old = eng.frame("SELECT event_id, occurred_at FROM events WHERE event_id IN (SELECT unnest(?::VARCHAR[]))", [ids]) if ids else ev.iloc[:0]
    when = pd.concat([old, ev], ignore_index=True).drop_duplicates("event_id", keep="last").set_index("event_id")["occurred_at"]
    at = pd.to_datetime(rows["event_id"].map(when), errors="coerce")
    today = pd.Timestamp(datetime.now(timezone.utc).date())
    out = []
    for i in rows.index[dob.notna() & (dob > today)]:
        out.append({"_row": i, "column_name": "date_of_birth", "value": str(rows.at[i, "date_of_birth"]),
                    "reason": "date_of_birth is in the future", "_line": rows.at[i, "_line"]})
    for i in rows.index[dob.notna() & (dob <= today) & at.notna() & (dob > at.dt.normalize())]:
        out.append({"_row": i, "column_name": "date_of_birth", "value": str(rows.at[i, "date_of_birth"]),
                    "reason": f"date_of_birth is after the event it is recorded on ({rows.at[i, 'event_id']})", "_line": rows.at[i, "_line"]})
    return pd.DataFrame(out, columns=cols)


def _require_keys(raws: dict[str, RawTable]) -> None:
    """A file without its key column cannot be loaded at all: say which file and which column."""
    for name, raw in raws.items():
        missing = [k for k in TABLES[name].key if k not in raw.frame.columns]
        if missing:
            raise ContractError(f"{raw.path}: no {', '.join(missing)} column (the key of {name}; see the data contract)")


def upsert(con: Engine | DuckDBPyConnection, table: Table, rows: pd.DataFrame, load_id: int, stats: TableStats) -> None:
    """Insert new rows and replace changed ones by key, recording each insert and update (with
    before and after) in ``changes``; identical rows are left alone. ``stats`` (anything with
    ``inserted``/``updated``/``unchanged``) is filled in. Every importer of contract tables uses this,
    so "a newer extract upserts by id and records what changed" means the same everywhere."""
    eng = as_engine(con)
    cols = list(table.column_names) + ["extra"]
    stage = rows[cols].copy()
    eng.register_frame("_incoming", stage)
    key = ", ".join(table.key)
    keycond = " AND ".join(f"s.{k} = t.{k}" for k in table.key)
    diff = " OR ".join(f"s.{c} IS DISTINCT FROM t.{c}" for c in table.column_names) + \
        " OR CAST(s.extra AS VARCHAR) IS DISTINCT FROM CAST(t.extra AS VARCHAR)"
    keyexpr = " || '|' || ".join(f"CAST(s.{k} AS VARCHAR)" for k in table.key)
    eng.execute(f"CREATE OR REPLACE TEMP TABLE _stage AS SELECT {', '.join(table.column_names)}, CAST(extra AS JSON) AS extra FROM _incoming")
    eng.unregister("_incoming")
    eng.execute(f"""CREATE OR REPLACE TEMP TABLE _delta AS
        SELECT s.*, CASE WHEN t.{table.key[0]} IS NULL THEN 'insert' ELSE 'update' END AS _change,
               CASE WHEN t.{table.key[0]} IS NULL THEN NULL ELSE to_json(t) END AS _before
        FROM _stage s LEFT JOIN {table.name} t ON {keycond}
        WHERE t.{table.key[0]} IS NULL OR {diff}""")
    n_ins, n_upd = eng.execute("SELECT count(*) FILTER (_change='insert'), count(*) FILTER (_change='update') FROM _delta").fetchone()
    con.execute(f"""INSERT INTO changes SELECT {load_id}, '{table.name}', {keyexpr}, s._change, s._before,
                    CASE WHEN s._change = 'update' THEN to_json(s) END FROM _delta s""")
    con.execute(f"INSERT OR REPLACE INTO {table.name} ({', '.join(cols)}, load_id) SELECT {', '.join(cols)}, {load_id} FROM _delta")
    stats.inserted, stats.updated = int(n_ins), int(n_upd)
    stats.unchanged = len(rows) - stats.inserted - stats.updated
    eng.execute("DROP TABLE _stage; DROP TABLE _delta")


def ingest(con: Engine | DuckDBPyConnection, folder: str | Path, *, on_table=None) -> IngestReport:
    """Load a contract folder into the warehouse (see module docstring for guarantees)."""
    eng = as_engine(con)
    folder = Path(folder)
    files, ignored = discover(folder)
    # Parse everything first: an unparseable file stops the load before any write.
    raws: dict[str, RawTable] = {name: read_table_file(path) for name, path in files.items()}
    _require_keys(raws)
    seen = {(r[0], r[1]) for r in eng.rows("SELECT table_name, sha256 FROM load_files")}
    all_seen = all((name, raw.sha256) in seen for name, raw in raws.items())

    load_id = eng.scalar("SELECT nextval('load_id_seq')")
    report = IngestReport(str(folder), load_id, ignored_files=ignored)
    started = datetime.now(timezone.utc).replace(tzinfo=None)
    try:
        with as_engine(con).transaction():
            staged: dict[str, pd.DataFrame] = {}
            rejected: dict[str, dict[str, int]] = {}
            for name in LOAD_ORDER:
                if name not in raws:
                    continue
                table, raw = TABLES[name], raws[name]
                stats = TableStats(name, raw.path.name)
                first_seen = (name, raw.sha256) not in seen
                valid = _valid_references(eng, table, staged)  # once per table, not per part
                earlier: dict[tuple[str, ...], int] | None = None if raw.rest is None else {}
                kept: list[pd.DataFrame] = []
                for part in raw.parts():
                    kept.append(_load_part(eng, table, part, load_id, stats, staged, rejected, valid, earlier, first_seen))
                assert stats.read == stats.loaded + stats.quarantined, (name, stats)
                # what later tables check their references and dates of birth against
                staged[name] = pd.concat(kept, ignore_index=True) if len(kept) > 1 else kept[0]
                report.tables.append(stats)
                if on_table:
                    on_table(stats)
            if all_seen and not any(t.inserted or t.updated for t in report.tables):
                # The same extract again: nothing to record.
                raise Rollback
            eng.execute(
                "INSERT INTO loads VALUES (?, ?, ?, ?, ?)",
                [load_id, str(folder.resolve()), started, datetime.now(timezone.utc).replace(tzinfo=None),
                 json.dumps([t.__dict__ for t in report.tables])],
            )
            for name, raw in raws.items():
                eng.execute("INSERT INTO load_files VALUES (?, ?, ?, ?)", [load_id, name, str(raw.path.resolve()), raw.sha256])
    except Rollback:
        report.load_id = None
        return report
    log.info("load %s: %s", load_id, [(t.table, t.read, t.loaded, t.quarantined) for t in report.tables])
    return report
