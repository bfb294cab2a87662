"""Benchmark: point-in-time features, evidence and labels for N scored persons as of a date.

The synthetic city gives a few hundred suspects per 10,000 residents, so a warehouse with a
million *scored* persons is generated here directly (vectorised numpy, contract-shaped tables:
events, people, links, event_harm, risk_assessments): heavy-tailed offending, repeat victims,
charges with crime_ref, custody periods, orders and DASH assessments. Realism is the synthetic
city's job (bench_rank_synthetic.py); this measures SQL at scale.

    nice .venv/bin/python bench/bench_features_scale.py                   # 100,000 persons
    nice .venv/bin/python bench/bench_features_scale.py --persons 1000000
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

CUT = pd.Timestamp("2025-01-01")
YEARS = 6
# kind: (category, vawg, domestic, sexual, violent, harm, share)
KINDS = [
    ("domestic_violence_with_injury", True, True, False, True, 60.0, 0.22),
    ("domestic_violence_without_injury", True, True, False, True, 10.0, 0.20),
    ("coercive_control", True, True, False, False, 10.0, 0.12),
    ("stalking", True, False, False, False, 10.0, 0.08),
    ("harassment", True, False, False, False, 5.0, 0.08),
    ("other_sexual", True, False, True, True, 365.0, 0.05),
    ("rape", True, False, True, True, 2555.0, 0.02),
    ("breach_of_order", True, True, False, False, 5.0, 0.05),
    ("violence_with_injury", False, False, False, True, 60.0, 0.08),
    ("non_violent", False, False, False, False, 5.0, 0.10),
]


def machine() -> str:
    return f"{platform.machine()} {os.cpu_count()} cpus, {platform.python_implementation()} {platform.python_version()}"


def generate_tables(n_persons: int, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Contract-shaped tables for ``n_persons`` suspects (plus their victims)."""
    rng = np.random.default_rng(seed)
    span = YEARS * 365 * 86400
    start = CUT - pd.Timedelta(days=YEARS * 365)
    lam = rng.gamma(0.6, 2.0, n_persons)  # heavy-tailed propensity
    n_off = 1 + rng.poisson(lam)
    sus = np.repeat(np.arange(n_persons), n_off)
    n_e = len(sus)
    t = np.sort(rng.integers(0, span, n_e))
    rng.shuffle(t)
    t = pd.to_datetime(start) + pd.to_timedelta(t, unit="s")
    share = np.array([k[6] for k in KINDS])

    def col(i: int) -> np.ndarray:
        return np.array([k[i] for k in KINDS], dtype=object if i == 0 else None)

    kind = rng.choice(len(KINDS), n_e, p=share / share.sum())
    # victims: a partner per suspect (repeat victimisation) or another victim from the pool
    n_vic = int(0.8 * n_persons) + 1
    partner = rng.integers(0, n_vic, n_persons)
    vic = np.where(rng.random(n_e) < 0.6, partner[sus], rng.integers(0, n_vic, n_e))
    rel = np.where(vic == partner[sus], "partner", rng.choice(["ex_partner", "family", "acquaintance", "stranger"], n_e))
    outcome = rng.choice(["nfa", "victim_withdrew", "charged", "convicted", "unknown"], n_e, p=[0.45, 0.25, 0.12, 0.08, 0.10])
    eid = np.char.add("E", np.arange(n_e).astype(str)).astype(object)
    pid = np.char.add("P", np.arange(n_persons).astype(str)).astype(object)
    vid = np.char.add("V", np.arange(n_vic).astype(str)).astype(object)
    ev = [pd.DataFrame({
        "event_id": eid, "source": "crime", "event_type": "offence", "offence_code": None, "occurred_at": t,
        "reported_at": t + pd.to_timedelta(rng.integers(0, 20, n_e), unit="D"), "outcome": outcome,
        "domestic": col(2)[kind], "extra": None, "ends_at": pd.NaT,
    })]
    harm = pd.DataFrame({
        "event_id": eid, "offence_category": col(0)[kind], "vawg": col(1)[kind], "domestic": col(2)[kind],
        "sexual": col(3)[kind], "violent": col(4)[kind], "harm_weight": col(5)[kind], "weight_table": "bench",
    })
    dob = pd.to_datetime("1960-01-01") + pd.to_timedelta(rng.integers(0, 45 * 365, n_persons), unit="D")
    vdob = pd.to_datetime("1950-01-01") + pd.to_timedelta(rng.integers(0, 65 * 365, n_vic), unit="D")
    ppl = [
        pd.DataFrame({"mention_id": np.char.add("MS", np.arange(n_e).astype(str)).astype(object), "event_id": eid,
                      "role": "suspect", "date_of_birth": dob[sus].date, "relationship_to_suspect": None, "person_id": pid[sus]}),
        pd.DataFrame({"mention_id": np.char.add("MV", np.arange(n_e).astype(str)).astype(object), "event_id": eid,
                      "role": "victim", "date_of_birth": vdob[vic].date, "relationship_to_suspect": rel, "person_id": vid[vic]}),
    ]
    # charges dated after the offence for the charged/convicted, with crime_ref
    ch = np.flatnonzero(np.isin(outcome, ["charged", "convicted"]))
    ch_t = t[ch] + pd.to_timedelta(rng.integers(10, 200, len(ch)), unit="D")
    ch_id = np.char.add("C", np.arange(len(ch)).astype(str)).astype(object)
    ev.append(pd.DataFrame({"event_id": ch_id, "source": "court", "event_type": "charge", "offence_code": None, "occurred_at": ch_t,
                            "reported_at": pd.NaT, "outcome": "unknown", "domestic": None,
                            "extra": np.char.add(np.char.add('{"crime_ref": "', eid[ch].astype(str)), '"}').astype(object),
                            "ends_at": pd.NaT}))
    ppl.append(pd.DataFrame({"mention_id": np.char.add("MC", np.arange(len(ch)).astype(str)).astype(object), "event_id": ch_id,
                             "role": "subject", "date_of_birth": dob[sus[ch]].date, "relationship_to_suspect": None,
                             "person_id": pid[sus[ch]]}))
    # custody and orders for some
    for kind_name, share_, prefix in (("custody", 0.06, "K"), ("order", 0.05, "O")):
        who = rng.choice(n_persons, int(share_ * n_persons), replace=False)
        st = pd.to_datetime(start) + pd.to_timedelta(rng.integers(0, span, len(who)), unit="s")
        en = st + pd.to_timedelta(rng.integers(1, 900, len(who)), unit="D")
        ids = np.char.add(prefix, np.arange(len(who)).astype(str)).astype(object)
        ev.append(pd.DataFrame({"event_id": ids, "source": "custody", "event_type": kind_name, "offence_code": None,
                                "occurred_at": st, "reported_at": pd.NaT, "outcome": "unknown", "domestic": None, "extra": None,
                                "ends_at": en}))
        ppl.append(pd.DataFrame({"mention_id": np.char.add("M" + prefix, np.arange(len(who)).astype(str)).astype(object),
                                 "event_id": ids, "role": "subject", "date_of_birth": dob[who].date,
                                 "relationship_to_suspect": None, "person_id": pid[who]}))
    people = pd.concat(ppl, ignore_index=True)
    vm = people[people["role"] == "victim"].sample(frac=0.2, random_state=seed)
    score = rng.integers(0, 28, len(vm))
    ra = pd.DataFrame({"assessment_id": np.char.add("A", np.arange(len(vm)).astype(str)).astype(object),
                       "mention_id": vm["mention_id"].to_numpy(),
                       "assessed_at": pd.to_datetime(ev[0].set_index("event_id").loc[vm["event_id"], "occurred_at"].to_numpy())
                       + pd.Timedelta(days=1),
                       "tool": "DASH", "score": score, "level": np.where(score >= 14, "high", np.where(score >= 10, "medium", "standard"))})
    events = pd.concat(ev, ignore_index=True)
    links = people[["mention_id", "person_id"]].assign(method="bench", linked_at=pd.Timestamp("2025-01-01"))
    return {"events": events, "people": people.drop(columns=["person_id"]), "links": links, "event_harm": harm,
            "risk_assessments": ra}


def load(con, tables: dict[str, pd.DataFrame]) -> None:
    """Insert into the migrated warehouse, filling NOT NULL bookkeeping columns other areas added."""
    for name, df in tables.items():
        cols = con.execute(f"DESCRIBE {name}").df()
        df = df.copy()
        for _, c in cols.iterrows():
            if c["column_name"] in df.columns:
                continue
            if c["null"] == "NO" and c["default"] is None:
                df[c["column_name"]] = pd.Timestamp("2025-01-01") if str(c["column_type"]).startswith("TIMESTAMP") else "bench"
            else:
                df[c["column_name"]] = None
        df = df[list(cols["column_name"])]
        con.register("_bench_rows", df)
        con.execute(f"INSERT INTO {name} SELECT * FROM _bench_rows")
        con.unregister("_bench_rows")


def build_warehouse(path: Path, n_persons: int, seed: int = 0) -> float:
    from harmlens.warehouse import connect

    t = time.perf_counter()
    tables = generate_tables(n_persons, seed)
    con = connect(path)
    load(con, tables)
    con.close()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", type=Path, default=None, help="keep the warehouse here (default: a temporary folder)")
    args = ap.parse_args()
    from harmlens.features import build_features, build_labels, evidence_summary
    from harmlens.warehouse import connect

    tmp = tempfile.TemporaryDirectory() if args.dir is None else None
    folder = Path(tmp.name) if tmp else args.dir
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "bench_features.duckdb"
    if db.exists():
        db.unlink()
    gen_s = build_warehouse(db, args.persons, args.seed)
    con = connect(db)
    n_ev = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    n_m = con.execute("SELECT count(*) FROM people").fetchall()[0][0]
    as_of = CUT - pd.DateOffset(years=1)

    def timed(fn):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        return out, f"{time.perf_counter() - t:.1f}s wall, {time.process_time() - c:.1f}s CPU"

    F, f_s = timed(lambda: build_features(con, as_of))
    L, l_s = timed(lambda: build_labels(con, as_of))
    E, e_s = timed(lambda: evidence_summary(con, as_of))
    con.close()
    print(f"machine: {machine()}")
    print(f"warehouse: {args.persons:,} suspects, {n_ev:,} events, {n_m:,} mentions (generated and loaded in {gen_s:.1f}s)")
    print(f"build_features as of {as_of:%Y-%m-%d}: {len(F):,} persons x {F.shape[1]} features in {f_s}")
    print(f"build_labels (vawg, 365 days): {len(L):,} persons, {int(L['label'].sum()):,} positive, in {l_s}")
    print(f"evidence_summary: {len(E):,} persons in {e_s}")
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
