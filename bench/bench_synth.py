"""Benchmark the synthetic city generator.

    .venv/bin/python bench/bench_synth.py            # 100k residents
    .venv/bin/python bench/bench_synth.py 1000000    # also 1M (or HARMLENS_BENCH_FULL=1)

Prints the machine, wall and CPU seconds per stage, rows written, and peak memory. Targets:
100k residents under 1 minute, 1M under 10 minutes on 2 cores.
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from harmlens.synth import SynthConfig, generate  # noqa: E402


def machine() -> str:
    import numpy
    import pyarrow

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        load = "n/a"
    return (f"{platform.system()} {platform.release()} | {cpu} | {os.cpu_count()} logical CPUs | load avg {load} | "
            f"Python {platform.python_version()} numpy {numpy.__version__} pyarrow {pyarrow.__version__}")


def run(n: int, seed: int = 1) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        s = generate(SynthConfig(people=n, seed=seed), Path(tmp) / "city")
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        size = sum(p.stat().st_size for p in (Path(tmp) / "city").rglob("*") if p.is_file())
    stages = " ".join(f"{k}={v:.1f}s" for k, v in s.timings.items())
    rows = " ".join(f"{k}={v:,}" for k, v in s.counts.items())
    print(f"people={n:,}: wall {wall:.1f}s, cpu {cpu:.1f}s, {size / 1e6:.1f} MB written")
    print(f"  stages: {stages}")
    print(f"  rows: {rows}")


def main() -> None:
    print(machine())
    sizes = [100_000]
    if len(sys.argv) > 1:
        sizes += [int(a) for a in sys.argv[1:]]
    elif os.environ.get("HARMLENS_BENCH_FULL"):
        sizes.append(1_000_000)
    for n in sizes:
        run(n)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
