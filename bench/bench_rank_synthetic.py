"""Benchmark: share of next-year harm captured by the top 100 / 1,000 of the ``risk`` list vs V100.

On the synthetic city (with truth): synth -> ingest -> links -> harm apply -> train (risk area,
``refit=False`` so the registered model has seen nothing after ``V - 365 days``) -> the ``risk``
list and the V100 list as of ``V = cut date - 365 days`` -> harm of the VAWG allegations that
followed in the year after ``V`` (recorded in the extract), per list, among the people at large.
Also: the victims list's temporal-holdout figures (precision at k).

Links come from truth/mentions by default (perfect linking isolates ranking quality; the link
area benchmarks linking); ``--link`` runs the real linker instead.

    nice .venv/bin/python bench/bench_rank_synthetic.py --people 100000
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
from bench_features_scale import machine  # noqa: E402


def top_share(score: np.ndarray, harm: np.ndarray, k: int, rng: np.random.Generator) -> float:
    """Share of total harm held by the k highest scores (random tie-break)."""
    if harm.sum() <= 0:
        return float("nan")
    order = np.lexsort((rng.random(len(score)), -score))[:k]
    return float(harm[order].sum() / harm.sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--link", action="store_true", help="run the real linker instead of truth links")
    ap.add_argument("--n-boot", type=int, default=200)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--reuse", action="store_true", help="reuse the city, warehouse and model already in --dir")
    args = ap.parse_args()

    from harmlens.contract.load import ingest
    from harmlens.features import build_labels
    from harmlens.harm import apply_offence_map, v100_scores
    from harmlens.rank import build_offender_list, validate_victims
    from harmlens.rank.victims import VictimSettings
    from harmlens.risk import TrainSettings, train
    from harmlens.synth import SynthConfig, generate, link_by_truth
    from harmlens.warehouse import connect

    tmp = tempfile.TemporaryDirectory() if args.dir is None else None
    folder = Path(tmp.name) if tmp else args.dir
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    city = folder / "city"
    cfg = SynthConfig(people=args.people, seed=args.seed)
    db = folder / "bench_rank_synth.duckdb"
    cut = pd.Timestamp(cfg.cut_date)
    if args.reuse and db.exists():
        from harmlens.risk import get_model

        con = connect(db)
        rec = get_model(con)
        V = pd.Timestamp(rec["metrics"]["validation_as_of"])
        prep_s, train_s, version = 0.0, 0.0, f"{rec['version']} (reused)"
    else:
        generate(cfg, city)
        if db.exists():
            db.unlink()
        con = connect(db)
        ingest(con, city)
        if args.link:
            from harmlens.link import link_warehouse

            link_warehouse(con)
        else:
            link_by_truth(con, city)
        apply_offence_map(con)
        prep_s = time.perf_counter() - t0
        t = time.perf_counter()
        tr = train(con, TrainSettings(models=("boosting",), primary="boosting", refit=False, n_boot=50),
                   models_folder=folder / "models")
        train_s = time.perf_counter() - t
        version = tr.version
        V = pd.Timestamp(tr.metrics["validation_as_of"])  # the risk area's holdout date: data end - 365 days
    t = time.perf_counter()
    res = build_offender_list(con, V)
    list_s = time.perf_counter() - t
    s = res["scores"].set_index("person_id")
    free = s[s["at_large"]]
    L = build_labels(con, V).reindex(free.index)
    harm = L["harm_next"].fillna(0).to_numpy()
    y = L["label"].fillna(0).to_numpy()
    v100 = v100_scores(con, V).assign(person_id=lambda d: d["person_id"].astype(str)).set_index("person_id")["score"]
    v100 = v100.reindex(free.index).fillna(0).to_numpy()
    scores = {"risk (expected harm)": free["expected_harm"].to_numpy(), "risk (probability only)": free["risk"].to_numpy(),
              "V100": v100}
    rng = np.random.default_rng(0)
    print(f"machine: {machine()}")
    print(f"synthetic city: {args.people:,} residents, seed {args.seed}, cut {cut:%Y-%m-%d}; prepared in {prep_s:.0f}s; "
          f"model {version} trained (validation model, nothing after {V - pd.Timedelta(days=365):%Y-%m-%d}) in {train_s:.0f}s")
    print(f"list as of {V:%Y-%m-%d}: {len(s):,} scored, {len(free):,} at large; built in {list_s:.1f}s; "
          f"{int(y.sum()):,} at large had a VAWG allegation in the next year, total harm {harm.sum():,.0f}")
    n_v100 = int((v100 > 0).sum())
    print(f"V100 has {n_v100:,} candidates (a VAWG allegation in the past year) among those at large")
    rows = []
    for k in (100, 300, 1000):
        for name, sc in scores.items():
            share = top_share(sc, harm, k, rng)
            order = np.lexsort((rng.random(len(sc)), -sc))[:k]
            rows.append({"k": k, "list": name, "harm share": share, "precision": float(y[order].mean())})
    out = pd.DataFrame(rows)
    print(out.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    for k in (100, 300, 1000):
        a, b = scores["risk (expected harm)"], scores["V100"]
        diffs = []
        for _ in range(args.n_boot):
            i = rng.integers(0, len(harm), len(harm))
            diffs.append(top_share(a[i], harm[i], k, rng) - top_share(b[i], harm[i], k, rng))
        d = np.asarray(diffs)
        ra = out[(out.k == k) & (out.list == "risk (expected harm)")]["harm share"].iloc[0]
        rb = out[(out.k == k) & (out.list == "V100")]["harm share"].iloc[0]
        print(f"top {k}: risk - V100 harm share = {ra - rb:+.3f} (95% bootstrap CI {np.nanquantile(d, 0.025):+.3f} to "
              f"{np.nanquantile(d, 0.975):+.3f}); ratio {ra / rb if rb else float('nan'):.2f}")
    try:
        vv = validate_victims(con, V, settings=VictimSettings(save=False), n_boot=100)
        m = vv["metrics"]
        m = m[m["metric"].isin(["auc", "precision@100", "precision@1000", "recall@100", "recall@1000"])]
        print(f"victims, temporal holdout on {V:%Y-%m-%d}: {vv['n']:,} in scope, {vv['positives']:,} victimised again "
              f"(model trained {vv['train'].get('train_start')}..{vv['train'].get('train_end')})")
        print(m.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    except Exception as exc:  # the benchmark still reports the offender figures
        print(f"victims validation failed: {exc}")
    con.close()
    if tmp:
        tmp.cleanup()


if __name__ == "__main__":
    main()
