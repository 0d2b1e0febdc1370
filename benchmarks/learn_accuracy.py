#!/usr/bin/env python3
"""Does the example store help a model? Accuracy on half of a database's questions, with examples
learned from the other half (their gold SQL marked good) and without, same model, one run.

    python ../shared/benchmarks/sql-eval/build.py /tmp/sqleval      # once
    python benchmarks/learn_accuracy.py --base-url http://127.0.0.1:8765/v1 --model local \\
        --db-dir /tmp/sqleval --dbs academic,restaurants [--per-db 14]

For each database: its sql-eval questions in file order, alternately into a learn half and a
test half (deterministic). The learn half's gold SQL is imported into a fresh example store with
`nl2sql examples import` (every SQL guarded and run, as a person's "good" would be); the test half
is scored with `nl2sql eval --backend openai`, once with that store and once with an empty one
(fresh data dirs, so no reply cache is shared). Prints accuracy and tokens per condition and a
Markdown table for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

QUESTIONS = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks" / "sql-eval" / "questions.jsonl"


def halves(db: str, limit: int | None) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """(learn, test): the database's questions, alternately."""
    items = [q for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()
             and (q := json.loads(line)).get("db") == db]
    learn, test = items[0::2], items[1::2]
    return learn[:limit] if limit else learn, test[:limit] if limit else test


def nl2sql(*args: str, home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nl2sql", *args], capture_output=True, text=True,
                          env={**env, "NL2SQL_HOME": str(home)}, check=False)


def score(test_file: Path, db_file: Path, home: Path, env: dict[str, str]) -> dict[str, object]:
    out = nl2sql("eval", str(test_file), "--db", str(db_file), "--backend", "openai", "--json", home=home, env=env)
    if out.returncode not in (0, 1):
        raise SystemExit(f"eval failed: {out.stderr[-2000:]}")
    summary: dict[str, object] = json.loads(out.stdout)["summary"]["openai"]
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", default="local")
    parser.add_argument("--db-dir", type=Path, required=True)
    parser.add_argument("--dbs", default="academic,restaurants")
    parser.add_argument("--per-db", type=int, default=None, help="at most this many questions per half")
    args = parser.parse_args()
    env = {**os.environ, "OPENAI_BASE_URL": args.base_url, "OPENAI_API_KEY": "local", "NL2SQL_MODEL": args.model,
           "NL2SQL_REQUEST_TIMEOUT": "900"}
    rows = []
    for db in args.dbs.split(","):
        learn, test = halves(db, args.per_db)
        db_file = args.db_dir / f"{db}.duckdb"
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            (work / "learn.jsonl").write_text("".join(json.dumps(q) + "\n" for q in learn))
            (work / "test.jsonl").write_text("".join(json.dumps({**q, "db": None}) + "\n" for q in test))
            imported = nl2sql("examples", "import", str(work / "learn.jsonl"), "--db", str(db_file), "--json",
                              home=work / "with", env=env)
            added = len(json.loads(imported.stdout)["added"]) if imported.stdout.strip() else 0
            without = score(work / "test.jsonl", db_file, work / "without", env)
            with_store = score(work / "test.jsonl", db_file, work / "with", env)
        rows.append((db, len(test), added, without, with_store))
        print(f"{db}: {added} examples learned; without {without['correct']}/{len(test)}, "
              f"with {with_store['correct']}/{len(test)}", flush=True)
    print("\n| database | test questions | examples learned | accuracy without | accuracy with | input tokens "
          "without / with |\n|---|---:|---:|---:|---:|---:|")
    for db, n, added, a, b in rows:
        print(f"| {db} | {n} | {added} | {a['accuracy']:.1%} | {b['accuracy']:.1%} | "
              f"{a['input_tokens']:,} / {b['input_tokens']:,} |")
    total = sum(r[1] for r in rows)
    print(f"| all | {total} | {sum(r[2] for r in rows)} | {sum(r[3]['correct'] for r in rows) / total:.1%} | "
          f"{sum(r[4]['correct'] for r in rows) / total:.1%} | |")


if __name__ == "__main__":
    main()
