#!/usr/bin/env python3
"""The offline engine: planning time per question, and accuracy, precision and coverage.

    python ../shared/benchmarks/sql-eval/build.py /tmp/sqleval      # once, for the sql-eval part
    python benchmarks/offline.py [--sqleval-dir /tmp/sqleval]

Planning time is question -> plan -> SQL (no execution), median and p95 over every question of
tests/fixtures/shop_questions.jsonl (target median < 20 ms). Accuracy, precision and coverage
come from the same scorer as `nl2sql eval`, on the shop set and on sql-eval.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SQL_EVAL = REPO.parent / "shared" / "benchmarks" / "sql-eval"


def planning_times(questions: list[str]) -> list[float]:
    """Milliseconds to plan and build SQL for each question (refusals included)."""
    from nl2sql.backends.base import SqlRequest
    from nl2sql.backends.offline import OfflineBackend
    from nl2sql.core.errors import Nl2SqlError
    from nl2sql.data.annotations import find_annotation_file
    from nl2sql.data.build import build_catalog
    from nl2sql.data.context import build_context
    from nl2sql.data.sources import resolve
    from nl2sql.jobs.ask import latest_date

    catalog = build_catalog(resolve(None), find_annotation_file("shop", None, None), None, use_cache=False)
    backend = OfflineBackend()
    latest = latest_date(catalog)
    context = build_context("", catalog)
    times = []
    for q in questions * 3:
        start = time.perf_counter()
        with contextlib.suppress(Nl2SqlError):
            backend.write_sql(SqlRequest(question=q, catalog=catalog, context=context, latest_date=latest))
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(path: Path, db: Path) -> str:
    """One line of eval figures for a question file."""
    import json

    out = subprocess.run([sys.executable, "-m", "nl2sql", "eval", str(path), "--db", str(db), "--backend", "offline",
                          "--json"], capture_output=True, text=True, check=True)
    s = json.loads(out.stdout)["summary"]["offline"]
    return (f"accuracy {s['accuracy']:.1%} ({s['correct']}/{s['questions']}), precision {s['precision']:.1%}, "
            f"coverage {s['coverage']:.1%}, refusals {s['refusals']} ({s['correct_refusals']} correct)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sqleval-dir", type=Path, default=None)
    args = parser.parse_args()
    import json

    shop_file = REPO / "tests" / "fixtures" / "shop_questions.jsonl"
    questions = [json.loads(line)["question"] for line in shop_file.read_text().splitlines() if line.strip()]
    times = planning_times(questions)
    ordered = sorted(times)
    print(f"planning time, {len(questions)} questions x3: median {statistics.median(times):.2f} ms, "
          f"p95 {ordered[int(0.95 * (len(ordered) - 1))]:.2f} ms (target median < 20 ms)")
    print(f"shop set:               {summary(shop_file, REPO / 'sample_data' / 'shop')}")
    if args.sqleval_dir:
        print(f"sql-eval questions:     {summary(SQL_EVAL / 'questions.jsonl', args.sqleval_dir)}")
        print(f"sql-eval unanswerable:  {summary(SQL_EVAL / 'unanswerable.jsonl', args.sqleval_dir)}")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "nl2sql", "ask", "Revenue by category in 2025"], capture_output=True,
                   check=True)
    first = time.perf_counter() - start
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "nl2sql", "ask", "Revenue by category in 2025"], capture_output=True,
                       check=True)
        runs.append(time.perf_counter() - start)
    print(f'nl2sql ask "Revenue by category in 2025", wall time incl. start-up: first {first:.2f} s, '
          f"then median {statistics.median(runs):.2f} s (target < 1 s)")


if __name__ == "__main__":
    main()
