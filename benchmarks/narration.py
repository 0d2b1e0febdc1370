#!/usr/bin/env python3
"""Grounded narration with a real model: how often a narration's numbers check out.

    bash ../shared/tools/local-llm.sh start          # or any OpenAI-compatible server / the OpenAI API
    OPENAI_BASE_URL=http://127.0.0.1:8765/v1 python benchmarks/narration.py --limit 8

Asks the first LIMIT answerable questions of tests/fixtures/shop_questions.jsonl with the openai
backend (`nl2sql ask --json --no-cache`) and counts, for those that produced rows, whether the
model's narration was grounded at once, grounded after the one regeneration, or replaced by the
computed narration. Prints each outcome with the numbers that were not supported.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=8)
    parser.add_argument("--model", default=os.environ.get("NL2SQL_MODEL", "local"))
    args = parser.parse_args()
    if not (os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_KEY")):
        sys.exit("Set OPENAI_BASE_URL (a local server) or OPENAI_API_KEY.")
    items = [json.loads(line) for line in (REPO / "tests/fixtures/shop_questions.jsonl").read_text().splitlines()]
    questions = [i["question"] for i in items if i.get("expect") != "refuse" and not i.get("turns")][: args.limit]
    outcomes: collections.Counter[str] = collections.Counter()
    started = time.perf_counter()
    for q in questions:
        done = subprocess.run([sys.executable, "-m", "nl2sql", "ask", q, "--json", "--backend", "openai",
                               "--model", args.model, "--no-cache"], capture_output=True, text=True)
        data = json.loads(done.stdout or "{}")
        if "error" in data or not data.get("rows"):
            outcome = "no rows (" + data.get("error", {}).get("type", "empty") + ")"
        elif data["narrated_by"] == "model":
            outcome = "model, grounded after regeneration" if any(
                "first narration" in n for n in data.get("notes", [])) else "model, grounded"
        else:
            outcome = "computed (model's numbers unsupported)" if any(
                "does not support" in w for w in data.get("warnings", [])) else "computed"
        outcomes[outcome] += 1
        print(f"{outcome:42} {q}")
        if data.get("narration"):
            print(f"{'':42} {data['narration'][:200]}")
    print(f"\n{len(questions)} questions in {time.perf_counter() - started:.0f} s:")
    for outcome, n in outcomes.most_common():
        print(f"  {outcome}: {n}")


if __name__ == "__main__":
    main()
