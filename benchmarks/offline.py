#!/usr/bin/env python3
"""The offline engine: precision, coverage and refusals on every shop question file and sql-eval, plus speed.

    python ../shared/benchmarks/sql-eval/build.py /tmp/sqleval      # once, for the sql-eval part
    python benchmarks/offline.py [--sqleval-dir /tmp/sqleval] [--questions MORE.jsonl ...]

For each question file: accuracy (right answers / questions), precision (right answers /
answers given: the engine's promise is to refuse rather than guess), coverage (answers given /
questions) and refusals (how many of them were right to refuse), from the same scorer as
`nl2sql eval`. sql-eval's unanswerable questions must all be refused. Then the planning time per
question (question -> plan -> SQL, no execution) and the wall time of one `nl2sql ask`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SQL_EVAL = REPO.parent / "shared" / "benchmarks" / "sql-eval"  # or --sqleval-questions
SHOP_FILES = (REPO / "tests" / "fixtures" / "shop_questions.jsonl",
              REPO / "benchmarks" / "questions" / "shop_fresh_dev.jsonl")


def scores(path: Path, db: Path) -> dict:
    """The eval summary of the offline backend on one question file."""
    out = subprocess.run([sys.executable, "-m", "nl2sql", "eval", str(path), "--db", str(db), "--backend", "offline",
                          "--json"], capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(out.stdout)["summary"]["offline"]


def row(name: str, s: dict) -> str:
    """One line of the figures table."""
    return (f"{name:<44} {s['questions']:>4} {s['accuracy']:>8.1%} {s['precision']:>9.1%} {s['coverage']:>8.1%} "
            f"{s['refusals']:>5} ({s['correct_refusals']})")


def planning_times(questions: list[str]) -> list[float]:
    """Milliseconds to plan and build SQL for each question (refusals included), three rounds."""
    from nl2sql.backends.base import SqlRequest
    from nl2sql.backends.offline import OfflineBackend
    from nl2sql.core.errors import Nl2SqlError
    from nl2sql.data.annotations import find_annotation_file
    from nl2sql.data.build import build_catalog
    from nl2sql.data.context import build_context
    from nl2sql.data.sources import resolve

    catalog = build_catalog(resolve(None), find_annotation_file("shop", None, None), None, use_cache=False)
    context = build_context("", catalog)
    times = []
    for q in questions * 3:
        backend = OfflineBackend()
        start = time.perf_counter()
        with contextlib.suppress(Nl2SqlError):
            backend.write_sql(SqlRequest(question=q, catalog=catalog, context=context,
                                         latest_date=catalog.latest_date()))
        times.append((time.perf_counter() - start) * 1000)
    return times


def wall_times(question: str) -> tuple[float, float]:
    """Seconds for `nl2sql ask QUESTION`: the first run, then the median of five."""
    def once() -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "nl2sql", "ask", question], capture_output=True, check=True, cwd=REPO)
        return time.perf_counter() - start
    first = once()
    return first, statistics.median(once() for _ in range(5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sqleval-dir", type=Path, default=None, help="databases built by sql-eval's build.py")
    parser.add_argument("--questions", type=Path, nargs="*", default=[], help="more shop question files to score")
    parser.add_argument("--sqleval-questions", type=Path, default=SQL_EVAL, help="the sql-eval folder (question files)")
    parser.add_argument("--no-speed", action="store_true", help="skip the planning and wall-time figures")
    args = parser.parse_args()

    print(f"{'question set':<44} {'n':>4} {'accuracy':>8} {'precision':>9} {'coverage':>8} refusals (right)")
    shop = REPO / "sample_data" / "shop"
    for path in [*SHOP_FILES, *args.questions]:
        print(row(str(path.resolve().relative_to(REPO) if path.resolve().is_relative_to(REPO) else path),
                  scores(path, shop)))
    if args.sqleval_dir:
        for name in ("questions.jsonl", "unanswerable.jsonl"):
            print(row(f"sql-eval {name}", scores(args.sqleval_questions / name, args.sqleval_dir)))
    if args.no_speed:
        return
    questions = [json.loads(line)["question"] for line in SHOP_FILES[0].read_text().splitlines() if line.strip()]
    times = sorted(planning_times(questions))
    print(f"\nplanning time, {len(questions)} questions x3: median {statistics.median(times):.2f} ms, "
          f"p95 {times[int(0.95 * (len(times) - 1))]:.2f} ms (target median < 20 ms)")
    first, median = wall_times("Revenue by category in 2025")
    print(f'nl2sql ask "Revenue by category in 2025", wall time incl. start-up: first {first:.2f} s, '
          f"then median {median:.2f} s (target < 1 s)")


if __name__ == "__main__":
    main()
