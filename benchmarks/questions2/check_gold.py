"""Check the gold SQL of a blind question file against the bundled shop data.

Default shop_blind_tune.jsonl; --file shop_blind_check.jsonl for the other split.

    python benchmarks/questions2/check_gold.py [--data sample_data/shop] [--file ...] [-v]

For every question it checks the record's shape and runs every gold query on DuckDB views
over the parquet files. It reports queries that fail, return no rows or only NULLs, top-N
queries whose cut-off falls on a tie (the row after the cut-off has the same sort value),
and readings of one question that give identical results (harmless, listed with -v).
Prints counts by category, language and persona. Exit status 1 when anything is wrong.
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
TABLES = ["customers", "products", "orders", "order_items", "marketing_spend"]
CATEGORIES = {"total", "breakdown", "breakdown_2d", "top_n", "filter", "average", "distinct_count",
              "listing", "first_last", "ratio", "comparison", "trend", "followup", "refuse"}
PERSONAS = {"ops_manager", "cfo", "marketing_intern", "category_buyer", "analyst", "regional_director"}
LIMIT_RE = re.compile(r"ORDER BY (?P<expr>.+?)(?: (?:ASC|DESC))? LIMIT (?P<n>\d+)\s*$", re.S)


def connect(data: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for t in TABLES:
        path = (data / f"{t}.parquet").as_posix().replace("'", "''")
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{path}')")
    return con


def normalise(rows):
    out = []
    for r in rows:
        out.append(tuple(round(float(v), 6) if isinstance(v, (int, float)) or type(v).__name__ == "Decimal" else str(v)
                         for v in r))
    return sorted(set(out))


def tie_at_cutoff(con, sql: str) -> str | None:
    """For `... ORDER BY expr LIMIT n`: fetch n+1 rows with expr added and compare rows n and n+1."""
    m = LIMIT_RE.search(sql)
    if not m or not sql.startswith("SELECT "):
        return None
    n, expr = int(m.group("n")), m.group("expr")
    head = sql[: m.start()]
    cut = head.find(" FROM ")
    probe = f"{head[:cut]}, {expr} AS tie_key{head[cut:]}ORDER BY {expr} LIMIT {n + 1}"
    if " DESC LIMIT" in sql[m.start():]:
        probe = probe.replace(f"ORDER BY {expr} LIMIT", f"ORDER BY {expr} DESC LIMIT")
    try:
        rows = con.execute(probe).fetchall()
    except duckdb.Error as exc:  # the probe is a heuristic rewrite; say so rather than fail
        return f"tie check skipped ({type(exc).__name__})"
    if len(rows) > n and rows[n - 1][-1] == rows[n][-1]:
        return f"TIE at the LIMIT {n} cut-off: {rows[n - 1]} / {rows[n]}"
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "sample_data" / "shop")
    ap.add_argument("--file", type=Path, default=HERE / "shop_blind_tune.jsonl")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    con = connect(args.data)
    problems, notes = [], []
    by_cat, by_lang, by_persona = collections.Counter(), collections.Counter(), collections.Counter()
    refusals = followups = queries = 0
    seen = set()

    lines = args.file.read_text(encoding="utf-8").splitlines()
    for lineno, line in enumerate(lines, 1):
        q = json.loads(line)
        tag = f"line {lineno}: {q.get('question', '?')!r}"
        by_cat[q.get("category")] += 1
        by_lang[q.get("lang")] += 1
        by_persona[q.get("persona")] += 1
        key = (tuple(q.get("turns", [])), q.get("question"))
        if key in seen:
            problems.append(f"{tag}: duplicate question")
        seen.add(key)
        if q.get("category") not in CATEGORIES:
            problems.append(f"{tag}: unknown category {q.get('category')!r}")
        if q.get("persona") not in PERSONAS:
            problems.append(f"{tag}: unknown persona {q.get('persona')!r}")
        if q.get("lang") not in ("en", "zh"):
            problems.append(f"{tag}: lang must be en or zh")
        if "turns" in q:
            followups += 1
            if not (isinstance(q["turns"], list) and q["turns"] and all(isinstance(t, str) for t in q["turns"])):
                problems.append(f"{tag}: turns must be a non-empty list of strings")
        if q.get("expect") == "refuse":
            refusals += 1
            if "gold_sql" in q:
                problems.append(f"{tag}: a refusal has no gold_sql")
            continue
        gold = q.get("gold_sql")
        if not (isinstance(gold, list) and gold):
            problems.append(f"{tag}: gold_sql must be a non-empty list")
            continue
        results = []
        for i, sql in enumerate(gold):
            queries += 1
            try:
                rows = con.execute(sql).fetchall()
            except duckdb.Error as exc:
                problems.append(f"{tag} [gold {i}]: {type(exc).__name__}: {exc}")
                continue
            if not rows:
                problems.append(f"{tag} [gold {i}]: no rows")
            elif all(v is None for r in rows for v in r):
                problems.append(f"{tag} [gold {i}]: only NULLs")
            tie = tie_at_cutoff(con, sql)
            if tie:
                (problems if tie.startswith("TIE") else notes).append(f"{tag} [gold {i}]: {tie}")
            res = normalise(rows)
            for j, other in results:
                if other == res:
                    notes.append(f"{tag}: gold {i} gives the same result as gold {j}")
            results.append((i, res))
            if args.verbose:
                print(f"{tag} [gold {i}] {len(rows)} rows: {rows[:3]}")

    print(f"{len(lines)} questions, {queries} gold queries, {refusals} refusals, {followups} follow-up chains")
    print("by category:", dict(sorted(by_cat.items())))
    print("by language:", dict(sorted(by_lang.items())))
    print("by persona: ", dict(sorted(by_persona.items())))
    if args.verbose:
        for n in notes:
            print("note:", n)
    else:
        print(f"{len(notes)} notes (-v to list)")
    for p in problems:
        print("PROBLEM:", p)
    print("OK" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
