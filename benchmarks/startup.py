#!/usr/bin/env python3
"""Start-up cost of the CLI and the cost of building the shop catalog.

    python benchmarks/startup.py [--runs 10]

Prints the median wall time of `nl2sql --help` against a bare `python -c pass` (target: under
0.35 s above the bare interpreter), then the catalog build for the bundled shop with profiles,
cold (target under 1 s) and cached (target under 50 ms).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def wall(cmd: list[str], runs: int) -> float:
    """Median wall-clock seconds of running `cmd`, after one warm-up run."""
    subprocess.run(cmd, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def catalog_times(runs: int) -> tuple[float, float]:
    """(cold, cached) median seconds of build_catalog on the shop, annotations included."""
    from nl2sql.data.annotations import find_annotation_file
    from nl2sql.data.build import build_catalog
    from nl2sql.data.sources import resolve

    source = resolve(None)
    annotation = find_annotation_file(source.name, None, None)
    build_catalog(source, annotation, None, use_cache=False)  # warm imports
    cold, cached = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as home:
            start = time.perf_counter()
            build_catalog(source, annotation, Path(home))
            cold.append(time.perf_counter() - start)
            start = time.perf_counter()
            build_catalog(source, annotation, Path(home))
            cached.append(time.perf_counter() - start)
    return statistics.median(cold), statistics.median(cached)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    bare = wall([sys.executable, "-c", "pass"], args.runs)
    cli = wall([sys.executable, "-m", "nl2sql", "--help"], args.runs)
    print(f"python -c pass      median {bare * 1000:7.1f} ms")
    print(f"nl2sql --help       median {cli * 1000:7.1f} ms  "
          f"({(cli - bare) * 1000:+.1f} ms over bare; target < +350 ms)")
    cold, cached = catalog_times(args.runs)
    print(f"shop catalog, cold  median {cold * 1000:7.1f} ms  "
          "(introspection + profiles + annotations; target < 1000 ms)")
    print(f"shop catalog, cached median {cached * 1000:6.1f} ms  (target < 50 ms)")


if __name__ == "__main__":
    main()
