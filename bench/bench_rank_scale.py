"""Benchmark: the ``risk`` priority list for N scored persons as of a date (target: 1M in < 60 s).

Builds the generated warehouse of bench_features_scale.py, fits a calibrated boosting model on a
sample of one earlier snapshot (not timed: training is the risk area's benchmark), registers it,
then times :func:`harmlens.rank.build_offender_list` (features, risk, expected harm, evidence,
at large, factors for the top 300, churn, storage) and ``harmlens.harm.rank(..., "risk")`` on top.

    nice .venv/bin/python bench/bench_rank_scale.py                     # 100,000 persons
    nice .venv/bin/python bench/bench_rank_scale.py --persons 1000000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_features_scale import CUT, build_warehouse, machine  # noqa: E402


def register_quick_model(con, folder: Path, as_of: pd.Timestamp, sample: int, seed: int = 0) -> str:
    from harmlens.features import build_features, build_labels
    from harmlens.risk import registry
    from harmlens.risk.estimators import CalibratedBoosting

    X = build_features(con, as_of)
    L = build_labels(con, as_of).reindex(X.index)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(X), min(sample, len(X)), replace=False)
    Xs, ys = X.iloc[idx], L["label"].to_numpy()[idx]
    model = CalibratedBoosting(random_state=seed).fit(Xs, ys)
    risk = model.predict_proba(Xs)[:, 1]
    harm = L["harm_next"].to_numpy()[idx]
    pos = ys == 1
    bundle = registry.RiskBundle(
        models={"boosting": model}, primary="boosting", features=list(X.columns),
        target={"category": "vawg", "horizon_days": 365, "threshold": "allegation"},
        window={"train_start": f"{as_of:%Y-%m-%d}", "train_end": f"{as_of:%Y-%m-%d}"},
        severity_edges=[0.0], severity_means=[float(harm[pos].mean()) if pos.any() else 0.0],
    )
    version = registry.next_version(con)
    artifact, sha = registry.save_bundle(bundle, folder / version)
    registry.register(con, version=version, bundle=bundle, artifact=artifact, artifact_sha256=sha,
                      data_hash_=registry.data_hash(Xs), params={"bench": True}, metrics={}, card_md=None, card_html=None)
    _ = risk
    return version


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--sample", type=int, default=100_000, help="training rows for the quick model")
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--reuse", action="store_true", help="reuse the warehouse and model already in --dir")
    ap.add_argument("--skip-harm-rank", action="store_true", help="time only build_offender_list")
    args = ap.parse_args()
    from harmlens.harm.ranking import rank
    from harmlens.rank import build_offender_list
    from harmlens.warehouse import connect

    tmp = tempfile.TemporaryDirectory() if args.dir is None else None
    folder = Path(tmp.name) if tmp else args.dir
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "bench_rank.duckdb"
    if args.reuse and db.exists():
        con = connect(db)
        gen_s = fit_s = 0.0
        version = con.execute("SELECT max(version) FROM models").fetchall()[0][0] + " (reused)"
    else:
        if db.exists():
            db.unlink()
        gen_s = build_warehouse(db, args.persons)
        con = connect(db)
        t = time.perf_counter()
        version = register_quick_model(con, folder / "models", CUT - pd.DateOffset(years=2), args.sample)
        fit_s = time.perf_counter() - t
    as_of = CUT - pd.DateOffset(years=1)
    t, c = time.perf_counter(), time.process_time()
    res = build_offender_list(con, as_of)
    list_s, list_c = time.perf_counter() - t, time.process_time() - c
    rr = None
    if not args.skip_harm_rank:
        t, c = time.perf_counter(), time.process_time()
        rr = rank(con, "risk", as_of, top=100)
        rank_s, rank_c = time.perf_counter() - t, time.process_time() - c
    con.close()
    print(f"machine: {machine()}")
    print(f"warehouse: {args.persons:,} suspects generated and loaded in {gen_s:.1f}s; quick model {version} fitted in {fit_s:.1f}s")
    print(f"build_offender_list as of {as_of:%Y-%m-%d}: {len(res['scores']):,} persons scored, "
          f"{len(res['entries']):,} stored, in {list_s:.1f}s wall ({list_c:.1f}s CPU)")
    if rr is not None:
        print(f"harmlens.harm.rank(method='risk', top=100) end to end: {len(rr.priority)} listed, "
              f"{len(rr.not_at_large)} not at large, in {rank_s:.1f}s wall ({rank_c:.1f}s CPU)")
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
