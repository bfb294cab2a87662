"""``harmlens stops import``: contract stop files and police.uk exports, exactly as published.

Formats, recognised by content (not by name):

- contract ``stops.csv`` / ``stops.parquet`` (a ``stop_id`` column);
- police.uk stop-and-search CSV (archive downloads: ``Type, Date, ..., Self-defined ethnicity,
  Officer-defined ethnicity, Legislation, ...``), dates in UTC, older 16+1 ethnicity codes;
- police.uk API JSON (``stops-force`` / ``stops-street``: a JSON array of objects with
  ``datetime``, ``self_defined_ethnicity``, ``location``, ...), 2011-style labels.

police.uk records have no id; each gets a stable one from its published content (plus an
occurrence number for identical rows), so importing the same file twice changes nothing.
Every record is a search (police.uk publishes searches); ``found`` follows the Home Office
definition of a find: the outcome is linked to the object of the search AND the outcome is
other than no further action. Where police.uk leaves the link blank, ``found`` is not recorded
(the arrest flag, ``extra.arrest``, is kept either way). ``extra.found_basis`` says so.

Also Stanford Open Policing Project CSVs (``harmlens.stops.opp``) and the quirks of files
re-saved by Excel (``harmlens.stops.quirks``).

Guarantees: every file is parsed before anything is written; the write is one transaction;
read = loaded + quarantined for every file. Only what cannot be a stop is quarantined (no
date or time that parses, no id, a row the CSV reader cannot split): a stop with an
unreadable or missing field is kept, that field is stored empty ('not recorded'), and the
value as published is kept in ``extra.not_read``; the report counts them by field.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from duckdb import DuckDBPyConnection

from harmlens.engine import Engine, Rollback, as_engine
from harmlens.errors import ContractError, UnparseableFileError
from harmlens.stops.validate import STOP_COLUMNS, validate_stop_frame

log = logging.getLogger(__name__)

POLICE_UK_CSV_COLUMNS = ("Type", "Date", "Self-defined ethnicity", "Officer-defined ethnicity", "Legislation")
NFA_OUTCOMES = {
    "nothing found - no further action", "a no further action disposal", "no further action", "nfa",
}
FOUND_BASIS = ("Home Office: outcome linked to the object of the search and an outcome other than no further action; "
               "not recorded where the link is blank")
# Only these problems mean a row cannot be a stop; any other field problem keeps the stop.
FATAL_COLUMNS = ("stop_id", "occurred_at")


@dataclass
class SourceRows:
    """One input file, mapped to contract column names, every value a string ('' = missing)."""

    path: Path
    fmt: str
    frame: pd.DataFrame
    lines: pd.Series
    shape_problems: list[tuple[int, str]] = field(default_factory=list)
    raw_json: list[str] | None = None  # each record as published, for the quarantine

    @property
    def n_read(self) -> int:
        return len(self.frame) + len(self.shape_problems)


@dataclass
class FileStats:
    file: str
    format: str
    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    kept_field_not_read: dict[str, int] = field(default_factory=dict)
    force: str | None = None
    jurisdiction: str | None = None
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    load_id: int | None
    files: list[FileStats] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        keys = ("read", "loaded", "quarantined", "inserted", "updated", "unchanged")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}

    def to_dict(self) -> dict[str, Any]:
        return {"load_id": self.load_id, "files": [asdict(f) for f in self.files], "ignored": self.ignored,
                "totals": self.totals()}


def _stable_ids(prefix: str, keys: list[str]) -> list[str]:
    """Content hash per record, with an occurrence number for identical records."""
    seen: dict[str, int] = {}
    out = []
    for k in keys:
        h = hashlib.sha1(k.encode("utf-8")).hexdigest()[:20]
        n = seen.get(h, 0)
        seen[h] = n + 1
        out.append(f"{prefix}:{h}" if n == 0 else f"{prefix}:{h}:{n}")
    return out


def _found_from_outcome(outcome: pd.Series, linked: pd.Series) -> pd.Series:
    """Home Office find: linked to the object of search AND not 'no further action'; '' when unknown."""
    low = outcome.fillna("").astype(str).str.strip().str.lower()
    link = linked.fillna("").astype(str).str.strip().str.lower()
    nfa = low.isin(NFA_OUTCOMES) | low.str.contains("no further action")
    linked_true = link.isin(("true", "t", "yes", "1"))
    linked_false = link.isin(("false", "f", "no", "0"))
    # With the link blank the find is unknown even for NFA rows: keeping those as known non-finds
    # while positive outcomes are unknown would drive the hit rate to zero.
    found = np.where(linked_false, "false",
                     np.where(linked_true & nfa, "false",  # NFA is never a find, whatever the link says
                              np.where(linked_true & (low != ""), "true", "")))
    return pd.Series(found, index=outcome.index)


def _arrest(outcome: pd.Series) -> pd.Series:
    low = outcome.fillna("").astype(str).str.strip().str.lower()
    return pd.Series(np.where(low == "", "", np.where(low.str.contains("arrest"), "true", "false")), index=outcome.index)


def _sex(s: pd.Series) -> pd.Series:
    return s.str.strip()


def map_police_uk_csv(df: pd.DataFrame, force: str | None = None, source: str = "") -> pd.DataFrame:
    """A police.uk CSV (strings) -> contract columns plus pass-through extras."""
    from harmlens.stops.quirks import age_band, police_uk_datetime, strip_frame

    df = strip_frame(df)
    g = lambda c: df[c] if c in df.columns else pd.Series("", index=df.index)  # noqa: E731
    keys = ["\x1f".join(r) for r in df.astype(str).itertuples(index=False, name=None)]
    linked = g("Outcome linked to object of search")
    out = pd.DataFrame({
        # Two forces can publish identical rows: the force is part of the id (policeuk-csv:<force>:<hash>).
        "stop_id": _stable_ids("policeuk-csv" + (f":{force}" if force else ""), keys),
        "occurred_at": police_uk_datetime(g("Date")),
        "legislation": g("Legislation"),
        "self_defined_ethnicity": g("Self-defined ethnicity"),
        "officer_defined_ethnicity": g("Officer-defined ethnicity"),
        "sex": _sex(g("Gender")),
        "age_range": age_band(g("Age range")),
        "borough": g("Borough") if "Borough" in df.columns else "",
        "latitude": g("Latitude"),
        "longitude": g("Longitude"),
        "reason": g("Object of search"),
        "outcome": g("Outcome"),
        "searched": "true",
        "found": _found_from_outcome(g("Outcome"), linked),
        "search_type": g("Type"),
        "part_of_policing_operation": g("Part of a policing operation"),
        "policing_operation": g("Policing operation"),
        "outcome_linked_to_object_of_search": linked,
        "removal_of_more_than_outer_clothing": g("Removal of more than just outer clothing"),
        "arrest": _arrest(g("Outcome")),
        "found_basis": FOUND_BASIS,
        "source_format": "police.uk csv",
        "force": force or "",
        "source": f"police.uk csv: {source}" if source else "police.uk csv",
        "tz": "Europe/London",
    }, index=df.index)
    return out


def _json_str(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    return str(v)


def map_police_uk_api(records: list[dict[str, Any]], force: str | None = None, source: str = "") -> pd.DataFrame:
    """police.uk API stop records (parsed JSON) -> contract columns plus pass-through extras."""
    rows = []
    keys = []
    for r in records:
        loc = r.get("location") or {}
        street = (loc.get("street") or {}) if isinstance(loc, dict) else {}
        outcome = r.get("outcome")
        if isinstance(outcome, dict):  # older API: outcome was an object
            outcome = outcome.get("name")
        if not outcome and isinstance(r.get("outcome_object"), dict):
            outcome = r["outcome_object"].get("name")
        rows.append({
            "occurred_at": _json_str(r.get("datetime")),
            "legislation": _json_str(r.get("legislation")),
            "self_defined_ethnicity": _json_str(r.get("self_defined_ethnicity")),
            "officer_defined_ethnicity": _json_str(r.get("officer_defined_ethnicity")),
            "sex": _json_str(r.get("gender")),
            "age_range": _json_str(r.get("age_range")),
            "borough": _json_str(r.get("borough")),
            "latitude": _json_str(loc.get("latitude")) if isinstance(loc, dict) else "",
            "longitude": _json_str(loc.get("longitude")) if isinstance(loc, dict) else "",
            "reason": _json_str(r.get("object_of_search")),
            "outcome": _json_str(outcome),
            "searched": "true",
            "outcome_linked_to_object_of_search": _json_str(r.get("outcome_linked_to_object_of_search")),
            "search_type": _json_str(r.get("type")),
            "part_of_policing_operation": _json_str(r.get("operation")),
            "policing_operation": _json_str(r.get("operation_name")),
            "removal_of_more_than_outer_clothing": _json_str(r.get("removal_of_more_than_outer_clothing")),
            "involved_person": _json_str(r.get("involved_person")),
            "street": _json_str(street.get("name")),
        })
        keys.append(json.dumps(r, sort_keys=True, ensure_ascii=False))
    df = pd.DataFrame(rows, dtype=str) if rows else pd.DataFrame(columns=list(STOP_COLUMNS), dtype=str)
    if len(df):
        df.insert(0, "stop_id", _stable_ids("policeuk-api" + (f":{force}" if force else ""), keys))
        from harmlens.stops.quirks import age_band

        df["age_range"] = age_band(df["age_range"])
        df["found"] = _found_from_outcome(df["outcome"], df["outcome_linked_to_object_of_search"])
        df["arrest"] = _arrest(df["outcome"])
        df["found_basis"] = FOUND_BASIS
        df["source_format"] = "police.uk api json"
        # The API's stops-force records carry no force; the caller names it (--force) or the record does.
        df["force"] = [str(r.get("force") or force or "") for r in records]
        df["source"] = f"police.uk api json: {source}" if source else "police.uk api json"
        df["tz"] = "Europe/London"
    return df


def read_stop_file(path: str | Path, *, force: str | None = None, jurisdiction: str | None = None,
                   tz: str | None = None) -> SourceRows:
    """Read one stop file of any supported format; raises UnparseableFileError if it cannot be read.

    ``force`` names the police.uk force when the file name does not (police.uk names it only there);
    ``jurisdiction`` and ``tz`` do the same for OPP files.
    """
    from harmlens.contract.read import read_csv, read_parquet
    from harmlens.stops.opp import is_opp, map_opp, read_opp_csv
    from harmlens.stops.quirks import force_from_filename

    path = Path(path)
    if not path.is_file():
        raise ContractError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UnparseableFileError(f"{path}: not UTF-8 text (byte {exc.start})") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UnparseableFileError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
        except RecursionError:  # a crafted file nested thousands deep exhausts the parser's stack
            raise UnparseableFileError(f"{path}: JSON nested too deeply to be police.uk stop records") from None
        if isinstance(data, dict):
            data = data.get("stops", data.get("data"))
        if not isinstance(data, list):
            raise UnparseableFileError(f"{path}: want a JSON array of police.uk stop records")
        good = [i for i, r in enumerate(data) if isinstance(r, dict)]
        shape = [(i + 1, "record is not a JSON object") for i, r in enumerate(data) if not isinstance(r, dict)]
        records = [data[i] for i in good]
        frame = map_police_uk_api(records, force, path.name)
        raw_json = [json.dumps(r, ensure_ascii=False) for r in records]
        # 'line' for JSON is the record's position in the array (1-based).
        return SourceRows(path, "police.uk api json", frame.reset_index(drop=True), pd.Series([i + 1 for i in good], dtype="int64"),
                          shape, raw_json)
    if suffix == ".csv":
        raw = read_opp_csv(path) if _looks_opp(path) else read_csv(path)
    elif suffix == ".parquet":
        raw = read_parquet(path)
    else:
        raise UnparseableFileError(f"{path}: unsupported file type (want .csv, .parquet or police.uk .json)")
    raw.frame.columns = [str(c).replace("\ufeff", "").strip() for c in raw.frame.columns]
    cols = set(raw.frame.columns)
    if "stop_id" in cols:
        missing = [c for c in ("occurred_at", "legislation") if c not in cols]
        if missing:
            raise ContractError(f"{path}: contract stops file lacks column(s) {', '.join(missing)}")
        return SourceRows(path, "contract", raw.frame, raw.lines, raw.shape_problems,
                          raw.frame.to_json(orient="records", lines=True).splitlines() if len(raw.frame) else [])
    if all(c in cols for c in POLICE_UK_CSV_COLUMNS):
        mapped = map_police_uk_csv(raw.frame, force or force_from_filename(path), path.name)
        return SourceRows(path, "police.uk csv", mapped, raw.lines, raw.shape_problems,
                          raw.frame.to_json(orient="records", lines=True).splitlines() if len(raw.frame) else [])
    if is_opp(cols):
        frame = raw.frame.rename(columns=str.lower)
        mapped = map_opp(frame, path, jurisdiction=jurisdiction, tz=tz)
        return SourceRows(path, "opp csv", mapped, raw.lines, raw.shape_problems,
                          raw.frame.to_json(orient="records", lines=True).splitlines() if len(raw.frame) else [])
    raise ContractError(
        f"{path}: not a stop file: want a contract stops table (stop_id, occurred_at, legislation, ...), a police.uk "
        f"stop-and-search CSV ({', '.join(POLICE_UK_CSV_COLUMNS)}, ...) or a Stanford Open Policing CSV "
        "(date, time, subject_race, ...)"
    )


def discover_files(paths: list[str | Path]) -> tuple[list[Path], list[str]]:
    """Expand folders (not recursively): their stops.csv/.parquet, police.uk CSVs and .json files,
    sorted; other files and sub-folders are listed as ignored."""
    files: list[Path] = []
    ignored: list[str] = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.iterdir()):
                if not f.is_file():
                    ignored.append(str(f) + "/")
                    continue
                suf = f.suffix.lower()
                if suf == ".json" or (suf in (".csv", ".parquet") and (f.stem == "stops" or _looks_police_uk(f) or _looks_opp(f))):
                    files.append(f)
                else:
                    ignored.append(str(f))
        elif p.exists():
            files.append(p)
        else:
            raise ContractError(f"{p}: no such file or folder")
    if not files:
        raise ContractError(f"no stop files found in {', '.join(map(str, paths))}")
    return files, ignored


def _csv_head(path: Path) -> str | None:
    """The header line of a CSV file (None for another extension or an unreadable file): enough to tell its kind."""
    if path.suffix.lower() != ".csv":
        return None
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as f:
            return f.readline()
    except OSError:
        return None


def _looks_police_uk(path: Path) -> bool:
    head = _csv_head(path)
    return head is not None and all(c in head for c in POLICE_UK_CSV_COLUMNS)


def _looks_opp(path: Path) -> bool:
    from harmlens.stops.opp import is_opp

    head = _csv_head(path)
    return head is not None and is_opp(h.strip().strip('"') for h in head.split(","))


def keep_stops_with_unread_fields(rows: pd.DataFrame, problems: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Split problems into those that mean 'not a stop' (returned, to quarantine) and field problems.

    A field problem keeps the stop: the field is stored empty (not recorded) and the value as
    published goes to ``extra.not_read``. Returns ``(rows, fatal_problems, kept_by_field)``.
    """
    if not len(problems):
        return rows, problems, {}
    fatal = problems["column_name"].isin(FATAL_COLUMNS) | problems["column_name"].isna()
    soft = problems[~fatal]
    rows = rows.copy()
    fatal_rows = set(problems.loc[fatal, "_row"].astype(int))
    soft = soft[~soft["_row"].astype(int).isin(fatal_rows)]
    kept: dict[str, int] = {}
    notes: dict[int, dict[str, str]] = {}
    for i, col, value in zip(soft["_row"].astype(int), soft["column_name"], soft["value"]):
        if col in rows.columns:
            rows.at[i, col] = None
        notes.setdefault(int(i), {})[col] = "" if value is None else str(value)
    for i, d in notes.items():
        for col in d:
            kept[col] = kept.get(col, 0) + 1
        ex = rows.at[i, "extra"]
        obj = json.loads(ex) if isinstance(ex, str) and ex else {}
        obj["not_read"] = d
        rows.at[i, "extra"] = json.dumps(obj)
    return rows, problems[fatal].reset_index(drop=True), dict(sorted(kept.items()))


def _set_area_columns(con: Engine | DuckDBPyConnection) -> None:
    """Copy this area's columns from ``extra`` (the contract upsert writes contract columns only)."""
    eng = as_engine(con)
    from harmlens.stops.schema import AREA_COLUMNS

    sets = ", ".join(f"{c} = nullif(json_extract_string(extra, '$.{c}'), '')" for c in AREA_COLUMNS)
    differs = " OR ".join(f"{c} IS DISTINCT FROM nullif(json_extract_string(extra, '$.{c}'), '')" for c in AREA_COLUMNS)
    eng.execute(f"UPDATE stops SET {sets} WHERE extra IS NOT NULL AND ({differs})")


def _upsert(con: Engine | DuckDBPyConnection, rows: pd.DataFrame, load_id: int, stats: FileStats) -> None:
    """The contract's upsert (change log included), on the ``stops`` table."""
    from harmlens.contract.load import upsert
    from harmlens.contract.tables import TABLES

    stage = rows.copy()
    stage["occurred_at"] = pd.to_datetime(stage["occurred_at"])
    upsert(con, TABLES["stops"], stage, load_id, stats)


def _quarantine(con: Engine | DuckDBPyConnection, src: SourceRows, problems: pd.DataFrame, load_id: int) -> int:
    """Insert quarantine rows not already recorded for this file; returns how many were new."""
    eng = as_engine(con)
    recs = []
    for r in problems.to_dict("records"):
        row = int(r["_row"]) if r["_row"] is not None and int(r["_row"]) >= 0 else -1
        recs.append({
            "table_name": "stops", "file": str(src.path), "line": int(r["_line"]), "column_name": r["column_name"],
            "value": None if r["value"] is None else str(r["value"]), "reason": r["reason"],
            "row_json": src.raw_json[row] if (src.raw_json is not None and row >= 0) else None,
        })
    for line, why in src.shape_problems:
        recs.append({"table_name": "stops", "file": str(src.path), "line": int(line), "column_name": None, "value": None,
                     "reason": why, "row_json": None})
    if not recs:
        return 0
    q = pd.DataFrame(recs)
    q.insert(0, "load_id", int(load_id))
    eng.register_frame("_q", q)
    n = eng.scalar("""SELECT count(*) FROM _q WHERE NOT EXISTS (SELECT 1 FROM quarantine x WHERE x.table_name = 'stops'
                       AND x.file = _q.file AND x.line IS NOT DISTINCT FROM _q.line
                       AND x.column_name IS NOT DISTINCT FROM _q.column_name AND x.reason = _q.reason)""")
    eng.execute("""INSERT INTO quarantine SELECT load_id, table_name, file, line, column_name, value, reason, CAST(row_json AS JSON)
                   FROM _q WHERE NOT EXISTS (SELECT 1 FROM quarantine x WHERE x.table_name = 'stops'
                       AND x.file = _q.file AND x.line IS NOT DISTINCT FROM _q.line
                       AND x.column_name IS NOT DISTINCT FROM _q.column_name AND x.reason = _q.reason)""")
    eng.unregister("_q")
    return int(n)


def import_stops(con: Engine | DuckDBPyConnection, paths: list[str | Path], *, on_file=None, force: str | None = None,
                 jurisdiction: str | None = None, tz: str | None = None) -> ImportReport:
    """Import stop files or folders into the warehouse ``stops`` table.

    Parameters
    ----------
    con
        An open, migrated warehouse connection.
    paths
        Files (contract stops CSV/Parquet, police.uk CSV, police.uk API JSON) or folders.
    on_file
        Optional callback ``on_file(FileStats)`` after each file.
    force, jurisdiction, tz
        The police.uk force when file names do not say it (API JSON); the OPP jurisdiction and
        time zone when the file name or state do not.

    Returns
    -------
    ImportReport
        Per file: read, loaded, quarantined (read = loaded + quarantined), inserted, updated,
        unchanged. ``load_id`` is None when nothing changed (the same files again).
    """
    eng = as_engine(con)
    files, ignored = discover_files(list(paths))
    sources = [read_stop_file(f, force=force, jurisdiction=jurisdiction, tz=tz) for f in files]  # parse all before writing
    load_id = eng.scalar("SELECT nextval('load_id_seq')")
    report = ImportReport(load_id, ignored=ignored)
    started = datetime.now(timezone.utc).replace(tzinfo=None)
    seen_ids: dict[str, str] = {}
    new_quarantine = 0
    try:
        with as_engine(con).transaction():
            for src in sources:
                stats = FileStats(str(src.path), src.fmt, read=src.n_read)
                for key in ("force", "jurisdiction"):
                    if key in src.frame.columns and len(src.frame):
                        vals = [v for v in src.frame[key].unique() if v]
                        setattr(stats, key, ", ".join(sorted(vals)) or None)
                rows, problems = validate_stop_frame(src.frame, src.lines)
                if src.fmt == "opp csv" and len(problems):
                    # OPP records no legislation at all: empty there is the source's shape, not a field left blank.
                    problems = problems[problems["column_name"] != "legislation"].reset_index(drop=True)
                if len(problems):
                    nodate = (problems["column_name"] == "occurred_at") & problems["reason"].str.startswith("missing required")
                    problems.loc[nodate, "reason"] = "no date: cannot be a stop"
                rows, problems, stats.kept_field_not_read = keep_stops_with_unread_fields(rows, problems)
                # The same stop id in two files of one import: the first wins, later ones are quarantined.
                ids = rows["stop_id"]
                clash = ids.notna() & ids.isin(list(seen_ids))
                if clash.any():
                    extra = pd.DataFrame({"_row": rows.index[clash], "column_name": "stop_id", "value": ids[clash].values,
                                          "reason": [f"duplicate stop_id (already in {seen_ids[i]})" for i in ids[clash]],
                                          "_line": rows["_line"][clash].values})
                    problems = pd.concat([problems, extra], ignore_index=True)
                bad = problems["_row"].astype(int).unique() if len(problems) else []
                ok = rows.drop(index=bad)
                for i in ok["stop_id"]:
                    seen_ids[i] = src.path.name
                stats.loaded = len(ok)
                stats.quarantined = len(bad) + len(src.shape_problems)
                if stats.read != stats.loaded + stats.quarantined:
                    raise ContractError(f"{src.path}: internal count mismatch read {stats.read} != loaded + quarantined")
                if len(ok):
                    _upsert(con, ok, load_id, stats)
                new_quarantine += _quarantine(con, src, problems, load_id)
                report.files.append(stats)
                if on_file:
                    on_file(stats)
            _set_area_columns(con)
            if not new_quarantine and not any(f.inserted or f.updated for f in report.files):
                raise Rollback
            eng.execute("INSERT INTO loads VALUES (?, ?, ?, ?, ?)",
                        [load_id, "stops import: " + "; ".join(str(Path(p).resolve()) for p in paths), started,
                         datetime.now(timezone.utc).replace(tzinfo=None), json.dumps(report.to_dict())])
    except Rollback:
        report.load_id = None
        return report
    log.info("stops import load %s: %s", load_id, report.totals())
    return report


def record_stop(con: Engine | DuckDBPyConnection, record: dict[str, Any], *, source: str = "form") -> tuple[str | None, list[dict[str, Any]]]:
    """Validate one stop (e.g. from the web form) and save it; the rules are ``validate_stop``'s.

    A missing ``stop_id`` gets a new one (``form:<uuid>``). Returns ``(stop_id, [])`` when saved,
    ``(None, problems)`` when not (nothing is written). Saving an existing id updates it and
    records the change, as an import would.
    """
    eng = as_engine(con)
    import uuid

    from harmlens.stops.validate import _as_str, validate_stop_frame

    rec = dict(record)
    if not str(rec.get("stop_id") or "").strip():
        rec["stop_id"] = f"{source}:{uuid.uuid4()}"
    rec.setdefault("source_format", source)
    raw = pd.DataFrame([{k: _as_str(v) for k, v in rec.items()}])
    rows, problems = validate_stop_frame(raw, pd.Series([1]))
    if len(problems):
        return None, [{"column": r["column_name"], "value": r["value"], "reason": r["reason"]} for r in problems.to_dict("records")]
    load_id = eng.scalar("SELECT nextval('load_id_seq')")
    stats = FileStats(source, source, read=1, loaded=1)
    started = datetime.now(timezone.utc).replace(tzinfo=None)
    with as_engine(con).transaction():
        _upsert(con, rows, load_id, stats)
        if stats.inserted or stats.updated:
            eng.execute("INSERT INTO loads VALUES (?, ?, ?, ?, ?)",
                        [load_id, f"stops {source}", started, datetime.now(timezone.utc).replace(tzinfo=None),
                         json.dumps({"files": [asdict(stats)]})])
    return str(rows.at[0, "stop_id"]), []
