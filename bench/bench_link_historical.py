"""Benchmark: harmlens link-file on Splink's historical_50k (50,578 records, 5,156 people), against
Splink's tutorial-style model run the same way on the same machine.

Run: nice .venv/bin/python bench/bench_link_historical.py [--no-baseline]
Prints pairwise precision / recall / F1 after clustering, blocking recall, time, and the machine load.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
DATA = Path(os.environ.get("HARMLENS_SHARED_DATA", REPO.parent / "shared" / "data")) / "linkage" / "historical_figures_with_errors_50k.parquet"


def machine() -> str:
    return f"{platform.machine()} {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}"


def baseline() -> None:
    """Splink's tutorial model for this data set (Splink 5 API), clustered at 0.95."""
    import logging

    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from harmlens.link.evaluate import pairwise_scores

    con = duckdb.connect()
    con.execute(f"CREATE TABLE df AS SELECT * FROM read_parquet('{DATA}')")
    t0 = time.perf_counter()
    db = DuckDBAPI(connection=con)
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[block_on("first_name", "surname"), block_on("surname", "dob")],
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.PostcodeComparison("postcode_fake"),
            cl.ExactMatch("birth_place").configure(term_frequency_adjustments=True),
            cl.ExactMatch("occupation").configure(term_frequency_adjustments=True),
        ],
        retain_intermediate_calculation_columns=True,
    )
    linker = Linker(db.register("df"), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob"), block_on("substr(first_name,1,2)", "surname", "substr(postcode_fake,1,2)"), block_on("dob", "postcode_fake")],
        recall=0.6,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name", "surname"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    pred = linker.inference.predict(threshold_match_probability=0.2, warning_mode="never")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, 0.95)
    secs = time.perf_counter() - t0
    con.execute(f"CREATE TABLE a AS SELECT c.unique_id, c.cluster_id AS pred, d.cluster AS truth FROM {clusters.physical_name} c JOIN df d USING (unique_id)")
    blocked = linker.inference.compute_blocked_pairs_for_predict() if hasattr(linker.inference, "compute_blocked_pairs_for_predict") else None
    cand = None
    if blocked is not None:
        con.execute(f"CREATE TABLE cand AS SELECT CAST(join_key_l AS VARCHAR) AS unique_id_l, CAST(join_key_r AS VARCHAR) AS unique_id_r FROM {blocked.physical_name}")
        cand = "cand"
    s = pairwise_scores(con, "a", cand)
    print(f"splink tutorial model: {secs:.1f} s")
    print(s.text())


MAPPING = "forename=first_name,surname=surname,dob=dob,sex=gender,postcode=postcode_fake,birth_place=birth_place,occupation=occupation"
"""Every column that describes the person, as a user would map them (full_name and first_and_surname
repeat the forename and surname: as extra columns they would count the names twice)."""


def ours(threshold: float | None) -> None:
    from harmlens.link.linkfile import link_file, parse_mapping

    opt = "" if threshold is None else f" --threshold {threshold}"
    print(f"command: harmlens link-file {DATA} --id unique_id --map {MAPPING} --truth cluster{opt}")
    t0 = time.perf_counter()
    r = link_file([DATA], "unique_id", parse_mapping(MAPPING), truth="cluster", threshold=threshold)
    secs = time.perf_counter() - t0
    print(f"harmlens link-file (threshold {threshold or 'default'}): {secs:.1f} s wall ({', '.join(f'{k} {v:.1f}' for k, v in r.result.timings.items())}); "
          f"{r.result.n_candidates} candidate pairs")
    print(r.scores.text())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--threshold", type=float, default=None, help="default: link-file's")
    a = ap.parse_args()
    print(f"== historical_50k ({DATA.name}); machine: {machine()}")
    ours(a.threshold)
    if not a.no_baseline:
        try:
            baseline()
        except Exception as exc:  # the baseline is a comparison only; report and go on
            print(f"baseline failed: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    print(f"machine after: {machine()}")


if __name__ == "__main__":
    main()
