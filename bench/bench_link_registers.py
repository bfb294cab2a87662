"""Benchmark: harmlens link-file against Splink's documented set-up on registers of other shapes.

Data come from ``harmlens.synth.registers`` (families sharing surnames, fathers and sons of one
name, middle names, birthplaces, five date-of-birth shapes), generated here with their truth:

- link: two sources, no duplicates within a source; link-only (harmlens with --one-to-one);
- dedupe: one file with 10% duplicates (year/month/day columns).

Splink runs in the same process on the same files in its documented set-up (NameComparison with
term frequencies, DateOfBirthComparison on a whole date or ExactMatch on a year, PostcodeComparison,
ExactMatch on the rest; prior from a deterministic rule, u by random sampling, two EM sessions,
predictions clustered at 0.9), names lower-cased first as its tutorial does.

Run: nice .venv/bin/python bench/bench_link_registers.py [--people 10000] [--seed 0] [--only link-year]
Prints precision / recall / F1 (pairs across the sources for link, all pairs for dedupe), time,
peak memory and the machine.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "bench"))

from _machine import machine  # noqa: E402

SCENARIOS = [("link", "year"), ("link", "split"), ("link", "full"), ("link", "age"), ("link", "none"), ("dedupe", "split")]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def splink_baseline(paths: dict[str, Path], profile: str, dob: str) -> tuple[object, float]:
    """Splink's documented set-up for the shape; returns (scores, seconds)."""
    import logging

    import duckdb
    import pandas as pd
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from harmlens.link.evaluate import cross_source_scores, pairwise_scores

    t0 = time.perf_counter()
    frames = []
    for k, p in enumerate(paths.values()):
        df = pd.read_csv(p, dtype=str, keep_default_na=False).replace("", None)
        for c in ("forename", "middle_name", "surname", "birthplace"):
            df[c] = df[c].str.lower()
        if dob == "split":
            ok = df["dob_year"].notna() & df["dob_month"].notna() & df["dob_day"].notna()
            df["dob"] = None
            df.loc[ok, "dob"] = (df.loc[ok, "dob_year"] + "-" + df.loc[ok, "dob_month"].str.zfill(2) + "-" + df.loc[ok, "dob_day"].str.zfill(2))
            df["year"] = df["dob_year"]
        elif dob == "full":
            df["year"] = df["dob"].str[:4]
        elif dob == "year":
            df["year"] = df["birth_year"]
        elif dob == "age":
            df["year"] = (pd.to_numeric(df["age_at"].str[:4]) - pd.to_numeric(df["age"])).astype("Int64").astype(str).replace("<NA>", None)
        df["src"] = k
        frames.append(df)
    comps = [cl.NameComparison("forename").configure(term_frequency_adjustments=True),
             cl.NameComparison("surname").configure(term_frequency_adjustments=True)]
    if dob in ("split", "full"):
        comps.append(cl.DateOfBirthComparison("dob", input_is_string=True))
        dcol = "dob"
    elif dob in ("year", "age"):
        comps.append(cl.ExactMatch("year"))
        dcol = "year"
    else:
        dcol = None
    comps += [cl.ExactMatch("middle_name").configure(term_frequency_adjustments=True), cl.ExactMatch("sex"),
              cl.PostcodeComparison("postcode"), cl.ExactMatch("birthplace").configure(term_frequency_adjustments=True)]
    rules = [block_on("forename", "surname"), block_on("surname", "postcode"), block_on("forename", "postcode")]
    if dcol:
        rules += [block_on("surname", dcol), block_on("forename", dcol)]
    con = duckdb.connect()
    db = DuckDBAPI(connection=con)
    settings = SettingsCreator(link_type="link_only" if profile == "link" else "dedupe_only", unique_id_column_name="record_id",
                               blocking_rules_to_generate_predictions=rules, comparisons=comps, retain_intermediate_calculation_columns=True)
    inputs = [db.register(f.drop(columns=["person_id"])) for f in frames]
    linker = Linker(inputs if len(inputs) > 1 else inputs[0], settings, log_level=logging.ERROR)
    det = ["l.forename = r.forename AND l.surname = r.surname" + (f" AND l.{dcol} = r.{dcol}" if dcol else " AND l.postcode = r.postcode")]
    linker.training.estimate_probability_two_random_records_match(det, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("forename", "surname"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on(dcol) if dcol else block_on("postcode"))
    preds = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(preds, 0.9).as_pandas_dataframe()
    secs = time.perf_counter() - t0
    truth = pd.concat(frames)[["record_id", "person_id", "src"]]
    sd = clusters.get("source_dataset")
    key = clusters["record_id"].astype(str)
    if sd is not None and len(frames) > 1:
        names = sorted(sd.unique())
        clusters["src"] = sd.map({n: i for i, n in enumerate(names)})
    else:
        clusters["src"] = 0
    clusters["record_id"] = key
    a = clusters[["record_id", "src", "cluster_id"]].merge(truth.astype({"src": int}), on=["record_id", "src"])
    a = pd.DataFrame({"unique_id": a["src"].astype(str) + ":" + a["record_id"], "pred": a["cluster_id"].astype(str),
                      "truth": a["person_id"], "src": a["src"]})
    c2 = duckdb.connect()
    c2.register("assign", a)
    s = (cross_source_scores if profile == "link" else pairwise_scores)(c2, "assign")
    s121 = None
    if profile == "link":
        # the same predictions made one-to-one the way harmlens does it, so the two differ only in the model
        from harmlens.link.linkfile import _one_to_one

        pr = preds.as_pandas_dataframe()
        names = sorted(set(pr["source_dataset_l"]) | set(pr["source_dataset_r"]))
        code = {n: i for i, n in enumerate(names)}
        key = lambda sd, rid: f"{code[sd]}:{rid}"  # noqa: E731
        edges = [(key(r.source_dataset_l, r.record_id_l), key(r.source_dataset_r, r.record_id_r), r.match_probability)
                 for r in pr.itertuples() if r.match_probability >= 0.9]
        rep = _one_to_one(edges, list(a["unique_id"]))
        b = a.assign(pred=a["unique_id"].map(rep))
        c2.register("assign121", b)
        s121 = cross_source_scores(c2, "assign121")
    return s, secs, s121


def harmlens_run(paths: dict[str, Path], profile: str, dob: str):
    from harmlens.link.linkfile import link_file, parse_mapping
    from harmlens.synth.registers import link_map

    t0 = time.perf_counter()
    files = list(paths.values())
    if profile == "link":
        r = link_file(files[:1], "record_id", parse_mapping(link_map(dob)), files_b=files[1:], one_to_one=True, truth="person_id")
    else:
        r = link_file(files, "record_id", parse_mapping(link_map(dob)), truth="person_id")
    return r, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--only", default=None, help="one scenario, e.g. link-year or dedupe-split")
    ap.add_argument("--no-baseline", action="store_true")
    a = ap.parse_args()
    from harmlens.synth.registers import RegisterConfig, write_registers

    print(f"== registers, {a.people} people, seed {a.seed}; machine: {machine()}")
    for profile, dob in SCENARIOS:
        if a.only and a.only != f"{profile}-{dob}":
            continue
        with tempfile.TemporaryDirectory() as d:
            paths = write_registers(RegisterConfig(people=a.people, seed=a.seed, profile=profile, dob=dob), Path(d))
            n = sum(sum(1 for _ in open(p)) - 1 for p in paths.values())
            r, secs = harmlens_run(paths, profile, dob)
            s = r.scores
            print(f"-- {profile}-{dob} ({n} records): harmlens P {s.precision:.4f} R {s.recall:.4f} F1 {s.f1:.4f} "
                  f"({secs:.1f} s, peak {_peak_mb():.0f} MB; prior by {r.notes.prior_method.split(' (')[0].split(' on ')[0]})")
            if not a.no_baseline:
                sb, secs_b, s121 = splink_baseline(paths, profile, dob)
                print(f"   {profile}-{dob}: Splink   P {sb.precision:.4f} R {sb.recall:.4f} F1 {sb.f1:.4f} ({secs_b:.1f} s)")
                if s121 is not None:
                    print(f"   {profile}-{dob}: Splink + one-to-one P {s121.precision:.4f} R {s121.recall:.4f} F1 {s121.f1:.4f}")
    print(f"machine after: {machine()}")


if __name__ == "__main__":
    main()
