"""Run every gold query of the fresh shop question set on DuckDB and print a summary.

Usage (from the repository root):

    python benchmarks/questions/check_gold.py            # both splits
    python benchmarks/questions/check_gold.py -v         # also print the first rows of each gold

It checks that every item is well formed, that every gold query runs against the bundled
parquet files and returns at least one row with at least one non-NULL value, and warns when a
top-N cut-off (LIMIT n) falls on a tie, which would make the expected rows arbitrary.
Exit status is 1 when any gold query fails or an item is malformed.
"""
from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DATA = ROOT / "sample_data" / "shop"
SPLITS = ["shop_fresh_dev.jsonl", "shop_fresh_test.jsonl"]
TABLES = ["customers", "products", "orders", "order_items", "marketing_spend"]
VOICES = {"manager", "marketing", "finance"}
LANGS = {"en", "zh"}


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for t in TABLES:
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{(DATA / (t + '.parquet')).as_posix()}')")
    return con


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def problems_of(item: dict) -> list[str]:
    out = []
    for key in ("question", "category", "voice", "lang"):
        if not isinstance(item.get(key), str) or not item.get(key):
            out.append(f"missing {key}")
    if item.get("voice") not in VOICES:
        out.append(f"bad voice {item.get('voice')!r}")
    if item.get("lang") not in LANGS:
        out.append(f"bad lang {item.get('lang')!r}")
    if "turns" in item and (not isinstance(item["turns"], list) or not item["turns"]):
        out.append("turns must be a non-empty list")
    if item.get("expect") == "refuse":
        if item.get("gold_sql"):
            out.append("a refusal must not carry gold_sql")
    else:
        gold = item.get("gold_sql")
        if not isinstance(gold, list) or not gold or not all(isinstance(s, str) for s in gold):
            out.append("gold_sql must be a non-empty list of strings")
    return out


def tie_at_limit(con, sql: str) -> bool:
    m = re.search(r"\bLIMIT (\d+)\s*$", sql)
    if not m or "ORDER BY" not in sql:
        return False
    n = int(m.group(1))
    rows = con.execute(sql[: m.start()] + f"LIMIT {n + 1}").fetchall()
    return len(rows) == n + 1 and rows[n - 1][-1] == rows[n][-1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    con = connect()
    failures = warnings = n_sql = 0
    everything = []
    seen_questions: dict[str, str] = {}
    for name in SPLITS:
        items = load(HERE / name)
        for i, item in enumerate(items, 1):
            where = f"{name}:{i}"
            everything.append((name, item))
            key = json.dumps([item.get("turns", []), item.get("question")], ensure_ascii=False)
            if key in seen_questions:
                print(f"DUPLICATE {where} also at {seen_questions[key]}: {item.get('question')}")
                failures += 1
            seen_questions[key] = where
            for p in problems_of(item):
                print(f"MALFORMED {where}: {p}")
                failures += 1
            for sql in item.get("gold_sql") or []:
                n_sql += 1
                try:
                    res = con.execute(sql)
                    cols = [d[0] for d in res.description]
                    rows = res.fetchall()
                except Exception as e:
                    print(f"ERROR {where} {item['question']!r}: {type(e).__name__}: {e}\n    {sql}")
                    failures += 1
                    continue
                if not rows or all(v is None for r in rows for v in r):
                    print(f"EMPTY {where} {item['question']!r}\n    {sql}")
                    failures += 1
                    continue
                if tie_at_limit(con, sql):
                    print(f"TIE-AT-LIMIT {where} {item['question']!r}\n    {sql}")
                    warnings += 1
                if args.verbose:
                    print(f"{where} {item['question']!r}: {len(rows)} rows x {len(cols)} cols; first: {rows[:3]}")

    def count(key):
        return collections.Counter(key(it) for _, it in everything)

    print()
    print(f"items: {len(everything)}  gold queries run: {n_sql}  failures: {failures}  warnings: {warnings}")
    print("per split:", dict(count_split(everything)))
    print("per language:", dict(count(lambda it: it["lang"])))
    print("per voice:", dict(count(lambda it: it["voice"])))
    print("per category:", dict(sorted(count(lambda it: it["category"]).items())))
    print("refusals:", sum(it.get("expect") == "refuse" for _, it in everything),
          " follow-ups:", sum("turns" in it for _, it in everything))
    for name in SPLITS:
        part = [it for n, it in everything if n == name]
        cats = collections.Counter(it["category"] for it in part)
        langs = collections.Counter(it["lang"] for it in part)
        voices = collections.Counter(it["voice"] for it in part)
        print(f"{name}: {len(part)} items; lang {dict(langs)}; voice {dict(voices)}; "
              f"categories {dict(sorted(cats.items()))}")
    return 1 if failures else 0


def count_split(everything):
    return collections.Counter(name for name, _ in everything)


if __name__ == "__main__":
    sys.exit(main())
