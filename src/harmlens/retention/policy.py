"""Retention, applied rather than only documented.

Two kinds of rule, both configurable (``--policy retention.toml``):

1. **List entries expire**: a row of a list table (default: ``referral_packs``) not refreshed for
   ``list_entry_days`` (default 90) goes. Referral pack files on disk are deleted with it.
2. **MoPI-style review of offence records** (College of Policing APP, Management of Police
   Information, retention groups): each offence is in a group by its harm category:
   group 1 (certain public protection matters: homicide, rape, other sexual offences, FGM) is kept
   and only flagged for manual review every ``review_years_group1`` years; group 2 (other violent
   or VAWG offences) and group 3 (everything else, and unmapped offences) are archived once
   ``review_years_group2`` (10) / ``review_years_group3`` (6) years have passed *clear*, i.e.
   since the latest event of any kind naming any of the offence's suspects (or since the offence,
   when it names no linked suspect). Archiving an offence takes its mentions, their links, its
   ``event_harm`` row and the charge/conviction events that point at it.

``apply_retention`` is a dry run unless ``execute=True``: it lists what would go and why. With
``execute=True`` every row that goes is copied to ``retention_archive`` (JSON) and listed in
``retention_log`` under a ``retention_runs`` row (who, when, policy), in one transaction.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
from duckdb import DuckDBPyConnection

from harmlens.engine import Engine, as_engine
from harmlens.errors import HarmlensError

ACTIONS_COLUMNS = ["action", "table_name", "row_id", "group", "reason", "due_since"]


class RetentionError(HarmlensError):
    """Bad retention policy, or a table it names does not exist."""


# List tables other areas declare (e.g. the rank area's stored priority lists), so the default
# policy expires their entries too: register_list_table("priority_list_entries", "entry_id", "refreshed_at").
_LIST_TABLES: list[tuple[str, str, str]] = [("referral_packs", "pack_id", "refreshed_at")]


def register_list_table(table: str, id_column: str, refreshed_column: str) -> None:
    """Add a table whose rows are list entries that expire after ``list_entry_days`` without a refresh."""
    spec = (table, id_column, refreshed_column)
    for name in spec:
        if not name.replace("_", "").isalnum():
            raise RetentionError(f"retention list table {name!r}: only letters, digits and _")
    if spec not in _LIST_TABLES:
        _LIST_TABLES.append(spec)


def _default_list_tables() -> tuple[tuple[str, str, str], ...]:
    return tuple(_LIST_TABLES)


# Tables whose rows carry their own expiry time, with child tables deleted with them:
# (table, id column, expires-at column, ((child table, child column), ...)). The rank area's
# stored priority lists expire this way (``expires_at`` = last refresh + 90 days).
_EXPIRING_TABLES: list[tuple[str, str, str, tuple[tuple[str, str], ...]]] = [
    ("priority_lists", "list_id", "expires_at", (("priority_entries", "list_id"), ("priority_changes", "list_id"), ("rank_cohort", "list_id"))),
]


def _default_expiring_tables() -> tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...]:
    return tuple(_EXPIRING_TABLES)


@dataclass(frozen=True)
class RetentionPolicy:
    list_entry_days: int = 90
    # (table, id column, refreshed-at column)
    list_tables: tuple[tuple[str, str, str], ...] = field(default_factory=_default_list_tables)
    expiring_tables: tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...] = field(default_factory=_default_expiring_tables)
    review_years_group1: int = 10
    review_years_group2: int = 10
    review_years_group3: int = 6
    group1_categories: tuple[str, ...] = ("homicide", "rape", "other_sexual", "fgm")
    group2_categories: tuple[str, ...] = (
        "domestic_violence_with_injury", "domestic_violence_without_injury", "violence_with_injury",
        "violence_without_injury", "threats_to_kill", "honour_based_abuse", "stalking", "harassment",
        "coercive_control", "breach_of_order",
    )
    mopi: bool = True

    @classmethod
    def from_file(cls, path: str | Path) -> "RetentionPolicy":
        from harmlens.tomlfile import read_toml

        p = Path(path)
        raw = read_toml(p, "retention policy", RetentionError)
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - names)
        if unknown:
            raise RetentionError(f"{p}: unknown retention setting(s) {', '.join(unknown)}")
        vals = {}
        for k, v in raw.items():
            if k == "list_tables":
                try:
                    vals[k] = tuple((str(t["table"]), str(t["id_column"]), str(t["refreshed_column"])) for t in v)
                except (TypeError, KeyError) as exc:
                    raise RetentionError(f"{p}: list_tables entries need table, id_column, refreshed_column") from exc
            elif k == "expiring_tables":
                try:
                    vals[k] = tuple(
                        (str(t["table"]), str(t["id_column"]), str(t["expires_column"]),
                         tuple((str(c["table"]), str(c["column"])) for c in t.get("children", [])))
                        for t in v
                    )
                except (TypeError, KeyError) as exc:
                    raise RetentionError(f"{p}: expiring_tables entries need table, id_column, expires_column (children optional)") from exc
            elif isinstance(v, list):
                vals[k] = tuple(v)
            else:
                vals[k] = v
        pol = replace(cls(), **vals)
        pol.validate()
        return pol

    def validate(self) -> None:
        for k in ("list_entry_days", "review_years_group1", "review_years_group2", "review_years_group3"):
            v = getattr(self, k)
            if not isinstance(v, int) or v <= 0:
                raise RetentionError(f"retention {k} must be a positive whole number, got {v!r}")
        names = [n for spec in self.list_tables for n in spec]
        for t, i, e, children in self.expiring_tables:
            names += [t, i, e] + [n for c in children for n in c]
        for name in names:
            if not name.replace("_", "").isalnum():
                raise RetentionError(f"retention table or column {name!r}: only letters, digits and _")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def _has_table(con: Engine | DuckDBPyConnection, name: str) -> bool:
    return as_engine(con).has_table(name)


def _columns(con: Engine | DuckDBPyConnection, name: str) -> set[str]:
    return set(as_engine(con).columns(name))


def plan(con: Engine | DuckDBPyConnection, as_of: str | date | datetime | None = None, policy: RetentionPolicy | None = None) -> pd.DataFrame:
    """What retention would do as of a date: one row per row that would go or needs review."""
    from harmlens.harm.baselines import as_of_timestamp

    pol = policy or RetentionPolicy()
    pol.validate()
    from harmlens.asof import local_now

    t = as_of_timestamp(as_of or local_now())
    out: list[pd.DataFrame] = []
    for table, id_col, ref_col in pol.list_tables:
        if not _has_table(con, table):
            continue
        if not {id_col, ref_col} <= _columns(con, table):
            raise RetentionError(f"list table {table} has no column {id_col} or {ref_col}")
        df = con.execute(
            f"SELECT CAST({id_col} AS VARCHAR) AS row_id, {ref_col} AS due_since FROM {table} "
            f"WHERE {ref_col} < $cut ORDER BY {ref_col}, {id_col}",
            {"cut": t - pd.Timedelta(days=pol.list_entry_days)},
        ).df()
        if len(df):
            df["action"], df["table_name"], df["group"] = "expire", table, None
            df["reason"] = f"not refreshed for {pol.list_entry_days} days"
            out.append(df)
    for table, id_col, exp_col, _children in pol.expiring_tables:
        if not _has_table(con, table):
            continue
        if not {id_col, exp_col} <= _columns(con, table):
            raise RetentionError(f"expiring table {table} has no column {id_col} or {exp_col}")
        df = con.execute(
            f"SELECT CAST({id_col} AS VARCHAR) AS row_id, {exp_col} AS due_since FROM {table} "
            f"WHERE {exp_col} <= $t ORDER BY {exp_col}, {id_col}",
            {"t": t},
        ).df()
        if len(df):
            df["action"], df["table_name"], df["group"] = "expire", table, None
            df["reason"] = [f"expired {pd.Timestamp(d).date().isoformat()} (not refreshed)" for d in df["due_since"]]
            out.append(df)
    if pol.mopi and _has_table(con, "events"):
        out.append(_mopi_plan(con, t, pol))
    if not out:
        return pd.DataFrame(columns=ACTIONS_COLUMNS)
    res = pd.concat([d for d in out if len(d)], ignore_index=True) if any(len(d) for d in out) else pd.DataFrame(columns=ACTIONS_COLUMNS)
    return res[ACTIONS_COLUMNS].reset_index(drop=True)


def _mopi_plan(con: Engine | DuckDBPyConnection, t: datetime, pol: RetentionPolicy) -> pd.DataFrame:
    has_links = _has_table(con, "links")
    has_harm = _has_table(con, "event_harm")
    cat = "h.offence_category" if has_harm else "NULL"
    harm_join = "LEFT JOIN event_harm h ON h.event_id = e.event_id" if has_harm else ""
    if has_links:
        last_seen = """
            SELECT e.event_id, max(e2.occurred_at) AS last_seen
            FROM events e
            JOIN people ps ON ps.event_id = e.event_id AND ps.role IN ('suspect', 'offender')
            JOIN links ls ON ls.mention_id = ps.mention_id
            JOIN links la ON la.person_id = ls.person_id
            JOIN people pa ON pa.mention_id = la.mention_id
            JOIN events e2 ON e2.event_id = pa.event_id AND e2.occurred_at <= $t
            WHERE e.event_type = 'offence'
            GROUP BY e.event_id
        """
    else:
        last_seen = "SELECT NULL::VARCHAR AS event_id, NULL::TIMESTAMP AS last_seen WHERE FALSE"
    df = con.execute(
        f"""
        WITH ls AS ({last_seen})
        SELECT e.event_id AS row_id, {cat} AS category, GREATEST(e.occurred_at, COALESCE(ls.last_seen, e.occurred_at)) AS clear_from
        FROM events e LEFT JOIN ls ON ls.event_id = e.event_id {harm_join}
        WHERE e.event_type = 'offence' AND e.occurred_at <= $t
        """,
        {"t": t},
    ).df()
    if df.empty:
        return pd.DataFrame(columns=ACTIONS_COLUMNS)
    g1, g2 = set(pol.group1_categories), set(pol.group2_categories)
    df["group"] = [1 if c in g1 else 2 if c in g2 else 3 for c in df["category"]]
    years = df["group"].map({1: pol.review_years_group1, 2: pol.review_years_group2, 3: pol.review_years_group3})
    due = [pd.Timestamp(c) + pd.DateOffset(years=int(y)) for c, y in zip(df["clear_from"], years)]
    df["due_since"] = due
    df = df[df["due_since"] <= pd.Timestamp(t)].copy()
    df["action"] = ["review" if g == 1 else "archive" for g in df["group"]]
    df["table_name"] = "events"
    df["reason"] = [
        f"MoPI group {g}: {int(y)} years clear since {pd.Timestamp(c).date().isoformat()}"
        + (" (group 1 is kept; manual review)" if g == 1 else "")
        for g, y, c in zip(df["group"], years[df.index], df["clear_from"])
    ]
    return df[ACTIONS_COLUMNS].sort_values(["action", "due_since", "row_id"]).reset_index(drop=True)


@dataclass
class RetentionResult:
    run_id: str
    executed: bool
    actions: pd.DataFrame
    removed: dict[str, int] = field(default_factory=dict)
    files_deleted: int = 0


def _archive_and_delete(con, run_id: str, now: datetime, table: str, where: str, params: list, id_expr: str) -> int:
    eng = as_engine(con)
    if not _has_table(con, table):
        return 0
    eng.execute(
        f"INSERT INTO retention_archive SELECT ?, ?, '{table}', CAST({id_expr} AS VARCHAR), to_json(t)::VARCHAR FROM {table} t WHERE {where}",
        [run_id, now, *params],
    )
    n = eng.scalar(f"SELECT count(*) FROM {table} t WHERE {where}", params)
    eng.execute(f"DELETE FROM {table} t WHERE {where}", params)
    return int(n)


def apply_retention(
    con: Engine | DuckDBPyConnection,
    as_of: str | date | datetime | None = None,
    policy: RetentionPolicy | None = None,
    *,
    execute: bool = False,
    by: str = "unknown",
) -> RetentionResult:
    """Dry run by default; with ``execute=True`` archive, delete and record everything that goes."""
    eng = as_engine(con)
    pol = policy or RetentionPolicy()
    actions = plan(con, as_of, pol)
    run_id = f"RR-{uuid.uuid4().hex[:12]}"
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    res = RetentionResult(run_id, execute, actions)
    if not execute:
        return res
    files: list[Path] = []
    from harmlens.asof import local_now, parse_as_of

    with as_engine(con).transaction():
        eng.execute(
            "INSERT INTO retention_runs VALUES (?, ?, ?, ?, ?, ?)",
            [run_id, now, by, parse_as_of(as_of) if as_of else local_now(), pol.to_json(), json.dumps(actions["action"].value_counts().to_dict())],
        )
        gone = actions[actions["action"].isin(["expire", "archive"])]
        removed: dict[str, int] = {}
        for table, grp in gone.groupby("table_name"):
            ids = grp["row_id"].tolist()
            eng.register_frame("_ret_ids", pd.DataFrame({"id": ids}))
            try:
                if table == "events":
                    removed.update(_archive_offences(con, run_id, now))
                elif any(e[0] == table for e in pol.expiring_tables):
                    _t, id_col, _e, children = next(e for e in pol.expiring_tables if e[0] == table)
                    for child, col in children:
                        n = _archive_and_delete(con, run_id, now, child, f"CAST({col} AS VARCHAR) IN (SELECT id FROM _ret_ids)", [], col)
                        removed[child] = removed.get(child, 0) + n
                    removed[table] = removed.get(table, 0) + _archive_and_delete(
                        con, run_id, now, table, f"CAST({id_col} AS VARCHAR) IN (SELECT id FROM _ret_ids)", [], id_col
                    )
                else:
                    spec = next(s for s in pol.list_tables if s[0] == table)
                    if table == "referral_packs":
                        for h, p in eng.rows(
                            "SELECT html_path, pdf_path FROM referral_packs WHERE pack_id IN (SELECT id FROM _ret_ids)"
                        ):
                            files += [Path(x) for x in (h, p) if x]
                    removed[table] = removed.get(table, 0) + _archive_and_delete(
                        con, run_id, now, table, f"CAST({spec[1]} AS VARCHAR) IN (SELECT id FROM _ret_ids)", [], spec[1]
                    )
            finally:
                eng.unregister("_ret_ids")
        if removed.get("people") and _has_table(con, "link_tf"):
            # the link run's name counts (hashed) still include the deleted mentions: drop them, so nothing
            # of those people stays behind; explain-link recounts from people until the next link run
            eng.execute("DELETE FROM link_tf")
            eng.execute("DELETE FROM link_tf_state")
        log = actions.assign(run_id=run_id)[["run_id", "action", "table_name", "row_id", "reason"]]
        eng.register_frame("_ret_log", log)
        try:
            eng.execute("INSERT INTO retention_log SELECT run_id, action, table_name, row_id, reason FROM _ret_log")
        finally:
            eng.unregister("_ret_log")
    for f in files:  # after the commit: a failed run leaves every file in place
        if f.exists():
            f.unlink()
            res.files_deleted += 1
    res.removed = removed
    return res


def _archive_offences(con, run_id: str, now: datetime) -> dict[str, int]:
    """Archive the offences in _ret_ids with their outcome events, mentions, links and event_harm rows."""
    eng = as_engine(con)
    from harmlens.harm.baselines import crime_ref_expr

    ref = crime_ref_expr(con, "o")
    eng.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ret_events AS
        SELECT id AS event_id FROM _ret_ids
        UNION SELECT o.event_id FROM events o WHERE o.event_type IN ('arrest', 'charge', 'conviction')
              AND {ref} IN (SELECT id FROM _ret_ids)
        """
    )
    eng.execute("CREATE OR REPLACE TEMP TABLE _ret_mentions AS SELECT mention_id FROM people WHERE event_id IN (SELECT event_id FROM _ret_events)")
    n: dict[str, int] = {}
    n["links"] = _archive_and_delete(con, run_id, now, "links", "mention_id IN (SELECT mention_id FROM _ret_mentions)", [], "mention_id")
    n["risk_assessments"] = _archive_and_delete(
        con, run_id, now, "risk_assessments", "mention_id IN (SELECT mention_id FROM _ret_mentions)", [], "assessment_id"
    )
    n["event_harm"] = _archive_and_delete(con, run_id, now, "event_harm", "event_id IN (SELECT event_id FROM _ret_events)", [], "event_id")
    n["people"] = _archive_and_delete(con, run_id, now, "people", "mention_id IN (SELECT mention_id FROM _ret_mentions)", [], "mention_id")
    n["events"] = _archive_and_delete(con, run_id, now, "events", "event_id IN (SELECT event_id FROM _ret_events)", [], "event_id")
    eng.execute("DROP TABLE IF EXISTS _ret_events")
    eng.execute("DROP TABLE IF EXISTS _ret_mentions")
    return n
