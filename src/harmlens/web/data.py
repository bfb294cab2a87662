"""Views of the warehouse for the pages and the API.

The web app reads the warehouse and writes to it in one place only: a supervisor promoting a
model (through the risk area's ``promote``). It gives each worker thread its own cursor; with
``--read-only`` it opens the file read-only so several server processes can share it. Each reader returns plain dicts/lists (JSON-ready) or ``None``
when the stage that produces the data has not run yet, so pages can say so honestly
("no list has been produced yet: run harmlens rank") instead of showing anything made up.

Tables come from the other stages (see docs/CONTRIBUTING.md): ``events``/``people`` (ingest),
``links`` (link), ``event_harm`` (harm), ``models``/``risk_scores`` (risk), the rank lists, the
referral packs, the audit and the stops. Only their public tables and columns are used.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from harmlens.errors import WarehouseError
from harmlens.web.fmt import evidential_status, factor_text, jsonable, network_graph, parse_factors
from harmlens.web.listcache import PRIORITY_SORTS, CachedList

PAGE_SIZES = (25, 50, 100)
LISTS_TTL = 60.0  # seconds: a list can expire while the server runs, so the list of lists is re-read this often


class Warehouse:
    """A read-only DuckDB warehouse shared by request threads (one cursor per thread), plus the serving index.

    Person profiles come from the serving index (``web/serving.py``: SQLite point lookups) and
    list pages from lists held in memory (``web/listcache.py``), so the two busiest pages run no
    DuckDB query per request; the warehouse answers the rest (models, audit, stops, referrals).
    """

    def __init__(self, path: str | Path, *, read_only: bool = False, index: Path | None = None) -> None:
        import duckdb

        from harmlens.warehouse import connect
        from harmlens.web.serving import ServingIndex

        self.path = Path(path)
        self.read_only = read_only
        if not self.path.exists():
            raise WarehouseError(f"no warehouse at {self.path}: run 'harmlens ingest DIR' first or pass --db")
        if read_only:
            try:
                self._con = duckdb.connect(str(self.path), read_only=True)
            except duckdb.Error as exc:
                raise WarehouseError(f"cannot open warehouse {self.path} read-only: {str(exc).splitlines()[0]}") from exc
        else:
            # Read-write (one server process) so a supervisor can promote a model from the app.
            self._con = connect(self.path)
        self._local = threading.local()
        self._ix = ServingIndex(index) if index is not None else None
        # Requests are small: one thread per query, many queries at once, instead of every query
        # fanning out over all cores and fighting for them.
        self._con.execute("SET threads = 1")
        self._tables: dict[str, set[str]] | None = None
        self._lock = threading.Lock()
        self._lists_lock = threading.Lock()
        self._entries_lock = threading.Lock()
        self._lists_cache: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._entries_cache: dict[tuple[str, str], CachedList] = {}
        # kind -> the list people open (the one a supervisor published, web/casework_routes.py); None: the newest live list
        self.default_list: Any = None

    def close(self) -> None:
        self._con.close()
        if self._ix is not None:
            self._ix.close()

    def cur(self) -> Any:
        c = getattr(self._local, "cur", None)
        if c is None:
            c = self._con.cursor()
            self._local.cur = c
        return c

    def rows(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        cur = self.cur().execute(sql, list(params))
        cols = [d[0] for d in cur.description]
        return [{k: jsonable(v) for k, v in zip(cols, r)} for r in cur.fetchall()]

    def scalar(self, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> Any:
        r = self.cur().execute(sql, list(params)).fetchone()
        return jsonable(r[0]) if r else None

    # -- schema discovery -----------------------------------------------------------------------
    def tables(self) -> dict[str, set[str]]:
        """table name -> column names (cached: the warehouse is read-only while we hold it)."""
        if self._tables is None:
            with self._lock:
                if self._tables is None:
                    out: dict[str, set[str]] = {}
                    for t, c in self.cur().execute(
                        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
                    ).fetchall():
                        out.setdefault(t, set()).add(c)
                    self._tables = out
        return self._tables

    def has(self, table: str, *cols: str) -> bool:
        t = self.tables().get(table)
        return t is not None and all(c in t for c in cols)

    # -- lists ----------------------------------------------------------------------------------
    def stored_lists(self, kind: str) -> list[dict[str, Any]]:
        """Stored lists of ``kind`` (offenders | victims), newest first; expired ones flagged.

        Cached for a minute: while the app holds the warehouse no other process can write to it,
        so lists only change when the server restarts (or a list expires, hence the minute).
        """
        hit = self._lists_cache.get(kind)
        if hit is not None and time.monotonic() - hit[0] < LISTS_TTL:
            return hit[1]
        if not self.has("priority_lists", "list_id", "kind") or not self.has("priority_entries", "list_id"):
            return []
        with self._lists_lock:  # read once, not by every request that arrives before it is cached
            hit = self._lists_cache.get(kind)
            if hit is not None and time.monotonic() - hit[0] < LISTS_TTL:
                return hit[1]
            rows = self.rows(
                "SELECT list_id, method, as_of, model_version, n_entries, refreshed_at, expires_at, expires_at <= now()::TIMESTAMP AS expired,"
                " params"
                " FROM priority_lists WHERE kind = ? ORDER BY expired, as_of DESC, refreshed_at DESC, list_id",
                [kind],
            )
            for r in rows:
                r["band_meanings"] = _band_meanings(r.pop("params", None))
                r["bands"] = [b for (b,) in self.cur().execute(
                    "SELECT DISTINCT band FROM priority_entries WHERE list_id = ? AND band IS NOT NULL ORDER BY 1", [r["list_id"]]).fetchall()]
            self._lists_cache[kind] = (time.monotonic(), rows)
        return rows

    def _current_list(self, kind: str, list_id: str | None) -> dict[str, Any] | None:
        lists = self.stored_lists(kind)
        if not list_id and self.default_list is not None:
            list_id = self.default_list(kind)
            if not list_id:
                return None
        if list_id:
            return next((x for x in lists if x["list_id"] == list_id), None)
        live = [x for x in lists if not x["expired"]]
        return live[0] if live else None

    def _list(self, lst: dict[str, Any]) -> CachedList:
        """The entries of one stored list, display-ready, read from the warehouse once."""
        key = (lst["list_id"], str(lst["refreshed_at"]))
        hit = self._entries_cache.get(key)
        if hit is not None:
            return hit
        stored = {(x["list_id"], str(x["refreshed_at"])) for k in ("offenders", "victims") for x in self.stored_lists(k)}
        with self._entries_lock:
            hit = self._entries_cache.get(key)
            if hit is None:
                rows = self.rows("SELECT * FROM priority_entries WHERE list_id = ?", [lst["list_id"]])
                hit = CachedList.build(rows, self._boroughs)
                # Keep only lists that are still stored (a refreshed list replaces its older copy).
                for k in [k for k in self._entries_cache if k not in stored]:
                    del self._entries_cache[k]
                self._entries_cache[key] = hit
        return hit

    def _boroughs(self, ids: list[str]) -> dict[str, str]:
        """person_id -> borough of their most recent event, for the people on one list."""
        if self._ix is not None:
            out = {}
            for pid in ids:
                b = self._ix.latest_borough(pid)
                if b is not None:
                    out[pid] = b
            return out
        if not self.has("links", "person_id"):
            return {}
        rows = self.cur().execute(
            "SELECT l.person_id, arg_max(e.borough, e.occurred_at) FROM links l JOIN people p ON p.mention_id = l.mention_id"
            " JOIN events e ON e.event_id = p.event_id WHERE list_contains(?, l.person_id) AND e.borough IS NOT NULL GROUP BY 1",
            [ids]).fetchall()
        return {pid: b for pid, b in rows}

    def _entries(self, kind: str, *, list_id: str | None, borough: str | None, band: str | None, sort: str, page: int,
                 size: int) -> dict[str, Any] | None:
        lst = self._current_list(kind, list_id)
        if lst is None:
            return None
        cached = self._list(lst)
        page = max(1, page)
        items, total = cached.page(borough=borough, band=band, sort=sort, page=page, size=size)
        return {
            "list_id": lst["list_id"],
            "method": lst["method"],
            "as_of": lst["as_of"],
            "model_version": lst["model_version"],
            "expires_at": lst["expires_at"],
            "lists": [{"list_id": x["list_id"], "method": x["method"], "as_of": x["as_of"], "expired": x["expired"]}
                      for x in self.stored_lists(kind)],
            "items": items,
            "total": total,
            "page": page,
            "size": size,
            "pages": max(1, -(-total // size)),
            "boroughs": sorted(set(cached.boroughs.values())),
            "bands": lst["bands"],
            # what each band means, as stored with the list (risk/bands.py; docs/rank.md)
            "band_meanings": {b: lst.get("band_meanings", {}).get(b, "") for b in lst["bands"]},
            # entries whose linkage may be wrong (harm/linkwarn.py), over the whole list, not the page
            "link_warnings": cached.n_link_warnings,
        }

    def priority_list(self, *, list_id: str | None = None, borough: str | None = None, band: str | None = None, sort: str = "rank",
                      page: int = 1, size: int = 50) -> dict[str, Any] | None:
        """A page of the newest live offenders list (or ``list_id``), or None when rank has not produced one."""
        return self._entries("offenders", list_id=list_id, borough=borough, band=band, sort=sort, page=page, size=size)

    def victims_list(self, *, list_id: str | None = None, page: int = 1, size: int = 50) -> dict[str, Any] | None:
        return self._entries("victims", list_id=list_id, borough=None, band=None, sort="rank", page=page, size=size)

    def warm(self) -> None:
        """Read the current lists now, so the first requests after a start do not wait for it."""
        self.priority_list()
        self.victims_list()

    # -- persons --------------------------------------------------------------------------------
    def person(self, person_id: str) -> dict[str, Any] | None:
        """Profile of one person: names as recorded, events with evidential status, risk, links."""
        if self._ix is not None:
            return self._person_from_index(person_id)
        if not self.has("links", "person_id", "mention_id") or not self.has("people") or not self.has("events"):
            return None
        harm = self.has("event_harm", "event_id")
        harm_cols = ", h.offence_category, h.harm_weight, h.vawg" if harm else ""
        harm_join = " LEFT JOIN event_harm h ON h.event_id = e.event_id" if harm else ""
        events = self.rows(
            "SELECT e.event_id, e.event_type, e.source, e.offence_code, e.offence_description, e.occurred_at, e.ends_at,"
            " e.outcome, e.domestic, e.borough, p.role, p.mention_id" + harm_cols + " FROM links l"
            " JOIN people p ON p.mention_id = l.mention_id JOIN events e ON e.event_id = p.event_id" + harm_join +
            " WHERE l.person_id = ? ORDER BY e.occurred_at DESC, e.event_id, p.mention_id",
            [person_id],
        )
        if not events:
            return None
        for ev in events:
            ev["evidential_status"] = evidential_status(ev.get("event_type"), ev.get("outcome"))
        names = self.rows(
            "SELECT p.forename, p.surname, count(*) AS n FROM links l JOIN people p ON p.mention_id = l.mention_id"
            " WHERE l.person_id = ? GROUP BY 1, 2 ORDER BY n DESC, 1, 2 LIMIT 5",
            [person_id],
        )
        return {
            "person_id": person_id,
            "names": [" ".join(x for x in (n["forename"], n["surname"]) if x) or "(no name recorded)" for n in names],
            "events": events,
            "evidence": self.evidence(person_id),
            "risk": self.person_risk(person_id),
            "network": self.network(person_id),
        }

    def _person_from_index(self, person_id: str) -> dict[str, Any] | None:
        rows = self._ix.events(person_id)
        if not rows:
            return None
        names: dict[tuple[Any, Any], int] = {}
        for r in rows:
            k = (r.pop("forename"), r.pop("surname"))
            names[k] = names.get(k, 0) + 1
            r["evidential_status"] = evidential_status(r.get("event_type"), r.get("outcome"))
        top = sorted(names.items(), key=lambda kv: (-kv[1], str(kv[0])))[:5]
        return {
            "person_id": person_id,
            "names": [" ".join(x for x in k if x) or "(no name recorded)" for k, _ in top],
            "events": rows,
            "evidence": self.evidence(person_id),
            "risk": self.person_risk(person_id),
            "network": network_graph(person_id, self._ix.network(person_id)),
        }

    def evidence(self, person_id: str) -> dict[str, Any] | None:
        """The person's evidence by the one definition lists and packs use (harm/evidence.py), as of
        the current offenders list's date (today when there is none), so profile and list agree."""
        if not self.has("links", "person_id") or not self.has("people", "event_id") or not self.has("events", "event_id"):
            return None
        from datetime import date

        from harmlens.harm.evidence import as_dict, evidence_table

        lst = self._current_list("offenders", None)
        as_of = lst["as_of"] if lst else date.today()
        ev = evidence_table(self.cur(), as_of, [person_id])
        return as_dict(ev.loc[str(person_id)], as_of)

    def person_risk(self, person_id: str) -> dict[str, Any] | None:
        """The person's latest stored risk score, its factors and the model version that made it."""
        out: dict[str, Any] | None = None
        if self._ix is not None:
            out = self._ix.risk(person_id)
        elif self.has("risk_scores", "person_id", "risk", "version"):
            r = self.rows(
                "SELECT version, as_of, risk, expected_harm, top_factors, scored_at FROM risk_scores WHERE person_id = ?"
                " ORDER BY as_of DESC, scored_at DESC LIMIT 1",
                [person_id],
            )
            out = r[0] if r else None
        if out is not None:
            out["factors"] = [factor_text(f) for f in parse_factors(out.pop("top_factors"))]
        lst = self._current_list("offenders", None)
        if lst:
            row = self._list(lst).raw.get(person_id)
            if row is not None:
                out = out or {}
                out["list_rank"] = row.get("rank")
                out["list_id"] = lst["list_id"]
                for k in ("band", "expected_harm", "risk", "model_version"):
                    if row.get(k) is not None and out.get(k) is None:
                        out[k] = row[k]
                out.setdefault("as_of", lst["as_of"])
                if not out.get("factors"):
                    out["factors"] = [factor_text(f) for f in parse_factors(row.get("top_factors"))]
        if out is not None:
            from harmlens.features.catalogue import harm_text, probability_text

            out["risk_text"] = probability_text(out.get("risk"))
            out["expected_harm_text"] = harm_text(out.get("expected_harm"))
        return out

    def network(self, person_id: str, limit: int = 60) -> dict[str, Any]:
        """People co-mentioned with this person in any event, with the roles and how often."""
        rows = self.rows(
            "WITH mine AS (SELECT p.event_id, p.role FROM links l JOIN people p ON p.mention_id = l.mention_id WHERE l.person_id = ?)"
            " SELECT l2.person_id AS other, p2.role AS other_role, count(DISTINCT p2.event_id) AS events,"
            " string_agg(DISTINCT m.role, ',' ORDER BY m.role) AS my_roles"
            " FROM mine m JOIN people p2 ON p2.event_id = m.event_id JOIN links l2 ON l2.mention_id = p2.mention_id"
            " WHERE l2.person_id <> ? GROUP BY 1, 2 ORDER BY events DESC, other, other_role LIMIT ?",
            [person_id, person_id, limit],
        )
        return network_graph(person_id, rows)

    # -- models, audit, referrals, stops ---------------------------------------------------------
    def models(self) -> list[dict[str, Any]] | None:
        if not self.has("models", "version"):
            return None
        cols = self.tables()["models"]
        want = [c for c in ("version", "created_at", "status", "primary_model", "target", "data_window", "metrics", "promoted_at") if c in cols]
        return self.rows(f"SELECT {', '.join(want)} FROM models ORDER BY created_at DESC")

    def model_card(self, version: str) -> dict[str, Any] | None:
        if not self.has("models", "version"):
            return None
        cols = self.tables()["models"]
        want = [c for c in ("version", "status", "created_at", "promoted_at", "card_html", "card_md", "metrics") if c in cols]
        r = self.rows(f"SELECT {', '.join(want)} FROM models WHERE version = ?", [version])
        if not r:
            return None
        card = dict(r[0])
        # The registry records where the card files are; the page shows the card itself, never the path.
        for k in ("card_html", "card_md"):
            card[k], problem = _card_text(card.get(k))
            if problem:
                card["card_warning"] = problem
        # The ATRS-style transparency record (audit area) is shown with the card it was built from.
        card["transparency_md"] = None
        if self.has("transparency_records", "model_version", "record_md"):
            t = self.rows("SELECT record_md FROM transparency_records WHERE model_version = ?", [version])
            card["transparency_md"] = t[0]["record_md"] if t else None
        return card

    def stops_summary(self) -> dict[str, Any] | None:
        if not self.has("stops", "stop_id", "occurred_at"):
            return None
        total = int(self.scalar("SELECT count(*) FROM stops"))
        if total == 0:
            return None
        by_month = self.rows("SELECT strftime(date_trunc('month', occurred_at), '%Y-%m') AS month, count(*) AS stops FROM stops GROUP BY 1 ORDER BY 1")
        by_leg = self.rows("SELECT legislation, count(*) AS stops FROM stops GROUP BY 1 ORDER BY 2 DESC LIMIT 10")
        by_eth = self.rows(
            "SELECT coalesce(self_defined_ethnicity, 'not recorded') AS ethnicity, count(*) AS stops FROM stops GROUP BY 1 ORDER BY 2 DESC"
        )
        by_outcome = self.rows("SELECT coalesce(outcome, 'not recorded') AS outcome, count(*) AS stops FROM stops GROUP BY 1 ORDER BY 2 DESC LIMIT 10")
        span = self.rows("SELECT min(occurred_at) AS first, max(occurred_at) AS last FROM stops")[0]
        return {"total": total, "by_month": by_month, "by_legislation": by_leg, "by_ethnicity": by_eth, "by_outcome": by_outcome, **span}

    # -- writes (one) -----------------------------------------------------------------------------
    def promote(self, version: str) -> str | None:
        """Promote a model through the risk area's registry; returns the version it replaced."""
        if self.read_only:
            raise WarehouseError("this server opened the warehouse read-only (--read-only): promote with 'harmlens models promote'")
        from harmlens.risk.registry import promote

        return promote(self.cur(), version)

    def decide_link(self, a: str, b: str, decision: str, by: str, note: str | None) -> None:
        """Record a reviewer's link decision through the link area's ``decide`` (the next link run applies it)."""
        if self.read_only:
            raise WarehouseError("this server opened the warehouse read-only (--read-only): decide with 'harmlens link-review decide'")
        from harmlens.link.warehouse import decide

        decide(self.cur(), a, b, decision, by, note)

    def list_churn(self, list_id: str) -> dict[str, int]:
        """How a list differs from the one before it (the rank area's ``priority_changes``): count per change."""
        if not self.has("priority_changes", "list_id", "change"):
            return {}
        return {c: int(n) for c, n in self.cur().execute(
            "SELECT change, count(*) FROM priority_changes WHERE list_id = ? GROUP BY 1 ORDER BY 1", [list_id]).fetchall()}

    def person_facts(self, person_id: str) -> dict[str, Any] | None:
        """What a referral pack about this person would hold (the referral area's facts), or None for an unknown person."""
        from harmlens.referral.pack import ReferralError, person_facts

        try:
            return person_facts(self.cur(), person_id, self._today())
        except ReferralError as exc:
            if "unknown person" in str(exc):
                return None
            raise

    def _today(self) -> str:
        from datetime import date

        return date.today().isoformat()

    def search_people(self, text: str, limit: int = 20) -> list[dict[str, Any]]:
        """People whose id is ``text`` or whose recorded name contains it (at most ``limit``)."""
        if not self.has("links", "person_id", "mention_id") or not self.has("people", "forename", "surname"):
            return []
        like = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return self.rows(
            "SELECT l.person_id, string_agg(DISTINCT trim(coalesce(p.forename, '') || ' ' || coalesce(p.surname, '')), '; ') AS names,"
            " count(DISTINCT p.event_id) AS events FROM links l JOIN people p ON p.mention_id = l.mention_id"
            " WHERE lower(l.person_id) = lower(?) OR lower(coalesce(p.forename, '') || ' ' || coalesce(p.surname, '')) LIKE ? ESCAPE '\\'"
            " GROUP BY 1 ORDER BY events DESC, 1 LIMIT ?",
            [text, like, limit],
        )

    # -- referral packs and audit reports ---------------------------------------------------------
    def _referral_table(self) -> tuple[str, str, str | None] | None:
        """(table, id column, agency column) of the referral packs, if produced."""
        for t in REFERRAL_TABLES:
            cols = self.tables().get(t)
            if not cols:
                continue
            idc = next((c for c in ("referral_id", "pack_id", "id") if c in cols), None)
            if idc is None:
                continue
            agc = next((c for c in ("agency", "to_agency", "recipient_agency", "partner") if c in cols), None)
            return t, idc, agc
        return None

    def referrals(self, agency: str | None = None) -> list[dict[str, Any]] | None:
        """Referral packs, newest first; ``agency`` restricts to packs addressed to it (partners)."""
        found = self._referral_table()
        if found is None:
            return None
        t, idc, agc = found
        cols = self.tables()[t]
        show = [c for c in cols if c not in _BULKY]
        where, params = "", []
        if agency is not None:
            if agc is None:
                return []
            where, params = f" WHERE lower({agc}) = lower(?)", [agency]
        order = next((c for c in ("made_at", "created_at", "produced_at", "as_of") if c in cols), idc)
        rows = self.rows(f"SELECT {', '.join(show)} FROM {t}{where} ORDER BY {order} DESC LIMIT 500", params)
        for r in rows:
            r["referral_id"] = r.get(idc)
            r["agency"] = r.get(agc) if agc else None
        return rows

    def referral(self, referral_id: str) -> dict[str, Any] | None:
        found = self._referral_table()
        if found is None:
            return None
        t, idc, agc = found
        r = self.rows(f"SELECT * FROM {t} WHERE CAST({idc} AS VARCHAR) = ?", [referral_id])
        if not r:
            return None
        out = r[0]
        out["referral_id"] = out.get(idc)
        out["agency"] = out.get(agc) if agc else None
        # The referral area writes each pack as an HTML file and records its sha256: show it only if unaltered.
        hp = out.get("html_path")
        if hp and "pack_html" not in out:
            import hashlib

            f = Path(hp)
            if f.is_file():
                data = f.read_bytes()
                if not out.get("html_sha256") or hashlib.sha256(data).hexdigest() == out["html_sha256"]:
                    out["pack_html"] = data.decode("utf-8", errors="replace")
                else:
                    out["pack_warning"] = "the pack file does not match its recorded sha256 (altered?): not shown"
            else:
                out["pack_warning"] = f"the pack file {f.name} is missing"
        return out

    def audit_report(self) -> dict[str, Any] | None:
        """The newest stored audit report (its HTML and headline fields), if the audit has run."""
        for t in AUDIT_TABLES:
            cols = self.tables().get(t)
            if not cols or not self.scalar(f"SELECT count(*) FROM {t}"):
                continue
            order = next((c for c in ("created_at", "produced_at", "as_of", "run_at") if c in cols), None)
            r = self.rows(f"SELECT * FROM {t}" + (f" ORDER BY {order} DESC" if order else "") + " LIMIT 1")
            return {"table": t, **r[0]}
        return None


REFERRAL_TABLES = ("referral_packs", "referrals")
AUDIT_TABLES = ("audit_reports", "audit_runs")
_BULKY = {"pack_html", "pack_md", "html", "report_html", "pack_json", "body", "content", "fields", "html_sha256", "pdf_sha256"}


def _band_meanings(params: Any) -> dict[str, str]:
    """Band name -> meaning from a stored list's ``params`` JSON (empty when it has none)."""
    import json

    from harmlens.risk.bands import meanings

    try:
        p = json.loads(params) if isinstance(params, str) else (params or {})
    except ValueError:
        return {}
    return meanings(p.get("bands")) if isinstance(p, dict) else {}


def _card_text(value: Any) -> tuple[str | None, str | None]:
    """(the card's text, a problem) from what the registry stored: the text itself, or a file path to read."""
    if not value:
        return None, None
    v = str(value)
    if "<" in v or "\n" in v:
        return v, None  # already the card
    f = Path(v)
    if f.is_file():
        return f.read_text(encoding="utf-8", errors="replace"), None
    return None, f"the model card file ({f.name}) is missing on the server"
