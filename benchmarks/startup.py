#!/usr/bin/env python3
"""Start-up cost of the CLI, side by side with bare processes measured in the same run.

    python benchmarks/startup.py [--runs 7]

1. `nl2sql --help` against a bare `python -c pass` (target: under +0.25 s).
2. `nl2sql ask "Revenue by category in 2025"` (offline, warm profile cache) against a bare
   `python -c` process that imports duckdb and runs the same SQL on the same parquet files
   (target: at most 2.5x).
3. The shop catalog build, cold (introspection + profiles + annotations) and cached.

Each figure is the median wall time of --runs runs after one warm-up run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUESTION = "Revenue by category in 2025"
BARE_DUCKDB = """
import sys, duckdb
con = duckdb.connect()
for table in ("orders", "order_items", "products"):
    con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{sys.argv[2]}/{table}.parquet')")
print(con.execute(sys.argv[1]).fetchall())
"""


def wall(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> float:
    """Median wall-clock seconds of running `cmd`, after one warm-up run."""
    subprocess.run(cmd, capture_output=True, check=True, env=env)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True, env=env)
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


def ask_against_bare_duckdb(runs: int) -> tuple[float, float]:
    """(nl2sql ask, bare duckdb) median seconds for the same question's SQL on the same files."""
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "NL2SQL_HOME": home, "NL2SQL_BACKEND": "offline"}
        out = subprocess.run([sys.executable, "-m", "nl2sql", "ask", QUESTION, "--sql-only"], capture_output=True,
                             text=True, check=True, env=env)
        sql = out.stdout.strip().rsplit("LIMIT", 1)[0].strip()
        ask = wall([sys.executable, "-m", "nl2sql", "ask", QUESTION], runs, env)
        bare = wall([sys.executable, "-c", BARE_DUCKDB, sql, str(REPO / "sample_data" / "shop")], runs, env)
    return ask, bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="Print the figures as one JSON object.")
    args = parser.parse_args()
    bare_python = wall([sys.executable, "-c", "pass"], args.runs)
    cli_help = wall([sys.executable, "-m", "nl2sql", "--help"], args.runs)
    ask, bare_duckdb = ask_against_bare_duckdb(args.runs)
    cold, cached = catalog_times(args.runs)
    figures = {"python_pass_ms": bare_python * 1000, "help_ms": cli_help * 1000,
               "help_over_bare_ms": (cli_help - bare_python) * 1000, "ask_ms": ask * 1000,
               "bare_duckdb_ms": bare_duckdb * 1000, "ask_over_bare_duckdb": ask / bare_duckdb,
               "catalog_cold_ms": cold * 1000, "catalog_cached_ms": cached * 1000}
    if args.json:
        print(json.dumps({k: round(v, 2) for k, v in figures.items()}))
        return
    print(f"python -c pass            median {bare_python * 1000:7.1f} ms")
    print(f"nl2sql --help             median {cli_help * 1000:7.1f} ms  "
          f"({(cli_help - bare_python) * 1000:+.1f} ms over bare python; target < +250 ms)")
    print(f"bare duckdb, same SQL     median {bare_duckdb * 1000:7.1f} ms")
    print(f"nl2sql ask (offline)      median {ask * 1000:7.1f} ms  ({ask / bare_duckdb:.2f}x bare duckdb; "
          "target <= 2.5x)")
    print(f"shop catalog, cold        median {cold * 1000:7.1f} ms  (introspection + profiles + annotations)")
    print(f"shop catalog, cached      median {cached * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
