"""Benchmark: harmlens link-file on FEBRL3, FEBRL4 (4a + 4b deduplicated together) and fake_1000.

Run: nice .venv/bin/python bench/bench_link_febrl.py [--strict]
Prints pairwise precision / recall / F1, false merges and splits, blocking recall and time.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
DATA = Path(os.environ.get("HARMLENS_SHARED_DATA", REPO.parent / "shared" / "data")) / "linkage"
FEBRL_MAP = ("forename=given_name,surname=surname,dob=date_of_birth,postcode=postcode,soc_sec_id=soc_sec_id,"
             "suburb=suburb,street_number=street_number,address_1=address_1,state=state")


def machine() -> str:
    la = os.getloadavg()
    return f"{platform.machine()} {os.cpu_count()} cpus, load average {la[0]:.1f} {la[1]:.1f} {la[2]:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--strict", action="store_true")
    ap.add_argument("--threshold", type=float, default=None, help="default: link-file's")
    ap.add_argument("--split-dob", action="store_true",
                    help="also FEBRL3 with its date of birth as year/month/day columns and no identity number: a file shaped like "
                         "the standard 10%%-duplicates benchmark with split dates, made from data nobody here generated")
    a = ap.parse_args()
    from harmlens.link.linkfile import link_file, parse_mapping

    print(f"== FEBRL / fake_1000 (strict={a.strict}, threshold {a.threshold or 'default'}); machine: {machine()}")
    runs = [
        ("FEBRL3", [DATA / "febrl" / "dataset3.csv"], "rec_id", FEBRL_MAP, "rec_id", r"rec-(\d+)"),
        ("FEBRL4 (4a+4b)", [DATA / "febrl" / "dataset4a.csv", DATA / "febrl" / "dataset4b.csv"], "rec_id", FEBRL_MAP, "rec_id", r"rec-(\d+)"),
        ("fake_1000", [DATA / "fake_1000.csv"], "unique_id", "forename=first_name,surname=surname,dob=dob,city=city,email=email", "cluster", None),
    ]
    if a.split_dob:
        runs.append(("FEBRL3, split date of birth, no soc_sec_id", [_split_dob(DATA / "febrl" / "dataset3.csv")], "rec_id",
                     "forename=given_name,surname=surname,dob_year=by,dob_month=bm,dob_day=bd,postcode=postcode,suburb=suburb,"
                     "street_number=street_number,address_1=address_1,state=state", "rec_id", r"rec-(\d+)"))
    for name, files, id_col, mapping, truth, pattern in runs:
        t = time.perf_counter()
        r = link_file(files, id_col, parse_mapping(mapping), truth=truth, truth_pattern=pattern, threshold=a.threshold, strict=a.strict)
        print(f"-- {name}: {time.perf_counter() - t:.1f} s, {r.result.n_candidates} candidate pairs")
        print(r.scores.text())
    print(f"machine after: {machine()}")


def _split_dob(src: Path) -> Path:
    """FEBRL3 with date_of_birth (YYYYMMDD, sometimes blank or mistyped) as three text columns, in a temporary file."""
    import tempfile

    import pandas as pd

    df = pd.read_csv(src, dtype=str, skipinitialspace=True).fillna("")
    df.columns = [c.strip() for c in df.columns]
    d = df.pop("date_of_birth").str.strip()
    df["by"], df["bm"], df["bd"] = d.str[:4], d.str[4:6], d.str[6:8]
    df = df.drop(columns=["soc_sec_id"])
    out = Path(tempfile.mkdtemp(prefix="hl_febrl_split_")) / "dataset3_split.csv"
    df.to_csv(out, index=False)  # an input file for link-file, not an export
    return out


if __name__ == "__main__":
    main()
