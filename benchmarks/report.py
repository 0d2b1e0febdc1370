#!/usr/bin/env python3
"""A 10-section weekly shop report, offline: wall time of `nl2sql report` (target < 10 s).

    python benchmarks/report.py [--runs 3]

Builds a config from examples/weekly_report.yaml plus three more sections (10 in all), runs
`nl2sql report CONFIG --as-of 2025-06-15 --format md,html` in a fresh process each time with a
temporary NL2SQL_HOME (the first run builds the profile cache, later runs reuse it), and prints
the cold run and the median of the warm ones, plus the same for the pinned config.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXTRA = """
  - title: Average order value
    question: Average order value

  - title: Orders by status
    question: Orders by status

  - title: Units by category
    question: Units by category
"""


def run(config: Path, out: Path, env: dict[str, str]) -> float:
    """Seconds for one report run (exit 0 required)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "nl2sql", "report", str(config), "--as-of", "2025-06-15",
                           "--out", str(out), "--format", "md,html"], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"report failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        config = work / "weekly.yaml"
        text = (REPO / "examples" / "weekly_report.yaml").read_text() + EXTRA
        config.write_text(text)
        env = {**os.environ, "NL2SQL_HOME": str(work / "home")}
        for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "NL2SQL_API_KEY", "NL2SQL_BASE_URL"):
            env.pop(var, None)
        from nl2sql.jobs.report.config import load_config

        sections = len(load_config(config).sections)
        cold = run(config, work / "out", env)
        warm = [run(config, work / "out", env) for _ in range(args.runs)]
        pinned = work / "pinned.yaml"
        shutil.copy(config, pinned)
        subprocess.run([sys.executable, "-m", "nl2sql", "report", "pin", str(pinned), "--as-of", "2025-06-15"],
                       env=env, check=True, capture_output=True)
        pinned_runs = [run(pinned, work / "out2", env) for _ in range(args.runs)]
        print(f"{sections}-section shop report, offline, md + html: per section its query for this and last week, "
              "plus both weeks' totals (grouped sections) and whole rankings (top-N sections)")
        print(f"  cold (profiles built):   {cold:.2f} s")
        print(f"  warm, median of {args.runs}:      {statistics.median(warm):.2f} s "
              f"({statistics.median(warm) / sections * 1000:.0f} ms per section)")
        print(f"  pinned SQL, median of {args.runs}: {statistics.median(pinned_runs):.2f} s")


if __name__ == "__main__":
    main()
