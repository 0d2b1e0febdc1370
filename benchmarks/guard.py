#!/usr/bin/env python3
"""Guard time per query and sandbox overhead per query, on the sql-eval gold SQL.

    python ../shared/benchmarks/sql-eval/build.py /tmp/sqleval     # once
    python benchmarks/guard.py --db-dir /tmp/sqleval

Prints: guard (L1 + L2) time per query, median and p95 (target median < 5 ms); the overhead of
running a guarded query in a warm sandbox worker over a bare DuckDB connection, median (target
< 15 ms); and how long a runaway query takes to be stopped with a 2 s limit.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time
from pathlib import Path

import duckdb

from nl2sql.core.errors import QueryTimeoutError
from nl2sql.data.build import build_catalog
from nl2sql.data.sources import resolve
from nl2sql.safety.guard import GuardedSQL, guard
from nl2sql.safety.sandbox import Limits, Sandbox

QUESTIONS = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "sql-eval" / "questions.jsonl"


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db-dir", type=Path, required=True, help="folder of <db>.duckdb from build.py")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--repeat", type=int, default=3, help="runs per query (the median is kept)")
    args = parser.parse_args()

    items = [(q["db"], sql) for q in map(json.loads, args.questions.read_text().splitlines()) for sql in q["gold_sql"]]
    catalogs = {db: build_catalog(resolve(args.db_dir / f"{db}.duckdb"), None, None, use_cache=False)
                for db in sorted({d for d, _ in items})}
    guard("SELECT 1", next(iter(catalogs.values())))  # warm imports and the L2 parser

    guard_ms, guarded = [], []
    for db, sql in items:
        runs = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            g = guard(sql, catalogs[db], 1000)
            runs.append((time.perf_counter() - start) * 1000)
        guard_ms.append(statistics.median(runs))
        guarded.append((db, g))
    print(f"guard (L1+L2), {len(items)} gold queries: median {statistics.median(guard_ms):.2f} ms, "
          f"p95 {pct(guard_ms, 95):.2f} ms (target median < 5 ms)")

    overhead = []
    for db in catalogs:
        con = duckdb.connect(str(args.db_dir / f"{db}.duckdb"), read_only=True)
        with Sandbox(resolve(args.db_dir / f"{db}.duckdb"), Limits(timeout=30)) as sandbox:
            for _, g in (x for x in guarded if x[0] == db):
                bare, boxed = [], []
                for _ in range(args.repeat):
                    start = time.perf_counter()
                    con.execute(g.sql).fetchmany(1001)
                    bare.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    sandbox.run(g)
                    boxed.append(time.perf_counter() - start)
                overhead.append((statistics.median(boxed) - statistics.median(bare)) * 1000)
        con.close()
    print(f"sandbox overhead over bare DuckDB (warm worker): median {statistics.median(overhead):.2f} ms, "
          f"p95 {pct(overhead, 95):.2f} ms (target median < 15 ms)")

    db = next(iter(catalogs))
    with Sandbox(resolve(args.db_dir / f"{db}.duckdb"), Limits(timeout=2)) as sandbox:
        for label, sql in (("cooperative (DuckDB interrupt)", "SELECT count(*) FROM range(100000000000) a"),
                           ("uncooperative (worker killed)", "SELECT length(repeat('x', 3000000000))")):
            start = time.perf_counter()
            with contextlib.suppress(QueryTimeoutError):
                sandbox.run(GuardedSQL(sql, sql))
            stopped = time.perf_counter() - start
            start = time.perf_counter()
            sandbox.run(GuardedSQL("SELECT 1", "SELECT 1"))
            print(f"runaway query, {label}: stopped after {stopped:.2f} s with a 2 s limit "
                  f"(target < 4 s); next query {1000 * (time.perf_counter() - start):.0f} ms")


if __name__ == "__main__":
    main()
