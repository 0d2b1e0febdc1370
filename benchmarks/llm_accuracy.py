#!/usr/bin/env python3
"""Execution accuracy of our pipeline vs a naive single prompt, with the same model.

    python ../shared/benchmarks/sql-eval/build.py /tmp/sqleval      # once
    python benchmarks/llm_accuracy.py --base-url http://127.0.0.1:8765/v1 --model local \\
        --db-dir /tmp/sqleval [--n 40] [--out results.jsonl]

Picks N questions from sql-eval stratified by category (deterministic), then for each:
- pipeline: our context (values, metrics, examples), prompts, guard and repair loop;
- naive: one prompt with the schema (CREATE TABLE, no values, no examples) and the question,
  no repair; the SQL it returns still goes through the guard and sandbox.
Both are scored against the gold SQL by result-set comparison. Prints accuracy, tokens and
seconds for both. Narration is not part of this measurement.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

QUESTIONS = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "sql-eval" / "questions.jsonl"


def stratified(items: list[dict], n: int) -> list[dict]:
    """n items, round-robin over categories in file order (deterministic)."""
    by_cat: dict[str, list[dict]] = defaultdict(list)
    for q in items:
        by_cat[q.get("category") or "-"].append(q)
    picked: list[dict] = []
    round_ = 0
    while len(picked) < n and any(round_ < len(v) for v in by_cat.values()):
        for cat in sorted(by_cat):
            if round_ < len(by_cat[cat]) and len(picked) < n:
                # spread picks across each category's list
                step = max(1, len(by_cat[cat]) // max(1, n // len(by_cat) + 1))
                idx = (round_ * step) % len(by_cat[cat])
                candidate = by_cat[cat][idx]
                if candidate not in picked:
                    picked.append(candidate)
        round_ += 1
    return picked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", default="local")
    parser.add_argument("--api-key", default="local")
    parser.add_argument("--db-dir", type=Path, required=True)
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--out", type=Path, default=None, help="one JSON line per question and method")
    parser.add_argument("--request-timeout", type=float, default=900)
    args = parser.parse_args()

    from nl2sql.backends.base import SqlRequest, Usage
    from nl2sql.backends.openai import OpenAIBackend, parse_sql_reply
    from nl2sql.core.cache import ResponseCache
    from nl2sql.core.config import load_settings
    from nl2sql.core.errors import Nl2SqlError
    from nl2sql.data.build import build_catalog
    from nl2sql.data.context import build_context, create_table
    from nl2sql.data.sources import resolve
    from nl2sql.jobs.ask import AskOptions, latest_date, write_guarded_sql
    from nl2sql.jobs.evaluate.compare import asks_for_order, results_match
    from nl2sql.safety.guard import guard
    from nl2sql.safety.sandbox import Limits, Sandbox

    settings = load_settings({"base_url": args.base_url, "model": args.model, "api_key": args.api_key,
                              "request_timeout": args.request_timeout, "retries": 1}, env={}, read_dotenv=False)
    backend = OpenAIBackend(settings, cache=ResponseCache(Path("/nonexistent"), enabled=False))
    questions = stratified([json.loads(line) for line in QUESTIONS.read_text().splitlines()], args.n)
    catalogs, sandboxes = {}, {}
    stats = {m: {"correct": 0, "n": 0, "in": 0, "out": 0, "seconds": []} for m in ("pipeline", "naive")}
    out = args.out.open("w") if args.out else None
    try:
        for i, q in enumerate(questions, 1):
            db = q["db"]
            if db not in catalogs:
                catalogs[db] = build_catalog(resolve(args.db_dir / f"{db}.duckdb"), None, None, use_cache=False)
                sandboxes[db] = Sandbox(resolve(args.db_dir / f"{db}.duckdb"), Limits(timeout=60))
            cat, sb = catalogs[db], sandboxes[db]
            question = q["question"] + (f"\n{q['instructions']}" if q.get("instructions") else "")
            gold = sb.run(guard(q["gold_sql"][0], cat, 100_000), max_rows=100_000).rows
            golds = [gold] + [sb.run(guard(g, cat, 100_000), max_rows=100_000).rows for g in q["gold_sql"][1:]]
            ordered = asks_for_order(q["question"])
            for method in ("pipeline", "naive"):
                usage = Usage()
                start = time.perf_counter()
                error = None
                rows = None
                try:
                    if method == "pipeline":
                        ctx = build_context(question, cat)
                        request = SqlRequest(question=question, catalog=cat, context=ctx, latest_date=latest_date(cat))
                        _, _, result, _ = write_guarded_sql(question, cat, backend, sb, request,
                                                            AskOptions(max_rows=100_000), usage)
                        rows = result.rows if result else None
                    else:
                        schema = "\n\n".join(create_table(t, values_allowed=False) for t in cat.tables)
                        messages = [{"role": "user", "content": f"{schema}\n\nWrite one DuckDB SQL query that "
                                     f"answers: {question}\nReply with the SQL only."}]
                        content, used = backend.chat(messages, json_mode=False)
                        usage.add(used)
                        draft = parse_sql_reply(content)
                        if draft.sql is None:
                            raise ValueError(draft.malformed)
                        rows = sb.run(guard(draft.sql, cat, 100_000), max_rows=100_000).rows
                except (Nl2SqlError, ValueError) as exc:
                    error = getattr(exc, "message", str(exc))
                seconds = time.perf_counter() - start
                correct = rows is not None and any(results_match(g, rows, ordered) for g in golds)
                s = stats[method]
                s["n"] += 1
                s["correct"] += correct
                s["in"] += usage.input_tokens
                s["out"] += usage.output_tokens
                s["seconds"].append(seconds)
                line = {"i": i, "db": db, "category": q.get("category"), "method": method, "correct": correct,
                        "error": error, "input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
                        "seconds": round(seconds, 1)}
                print(json.dumps(line), file=sys.stderr, flush=True)
                if out:
                    out.write(json.dumps(line) + "\n")
                    out.flush()
    finally:
        for sb in sandboxes.values():
            sb.close()
        if out:
            out.close()
    print(f"{'method':<10} {'accuracy':>14} {'input tok':>10} {'output tok':>10} {'median s':>9} {'total s':>8}")
    for method, s in stats.items():
        if s["n"]:
            print(f"{method:<10} {s['correct']:>3}/{s['n']:<3} {s['correct'] / s['n']:>6.1%} {s['in']:>10,} "
                  f"{s['out']:>10,} {statistics.median(s['seconds']):>9.1f} {sum(s['seconds']):>8.0f}")


if __name__ == "__main__":
    main()
