#!/usr/bin/env python3
"""`nl2sql mcp` as an agent feels it: time to a usable server, and each tool's latency.

    python benchmarks/mcp_server.py [--calls 5]

Starts `nl2sql mcp` over stdio with the MCP SDK's client and a temporary NL2SQL_HOME, and prints
the time from launch to the first tool list (process start, SDK import, catalog, handshake), then
the median and worst latency of each tool over --calls calls on the bundled shop (offline engine),
and the same question through `nl2sql ask --json` for comparison.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters

REPO = Path(__file__).resolve().parents[1]
QUESTION = "Revenue by category in 2025"
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("list_tables", {}), ("describe_table", {"name": "orders"}), ("list_metrics", {}),
    ("run_sql", {"sql": "SELECT status, count(*) AS n FROM orders GROUP BY status"}),
    ("ask", {"question": QUESTION}), ("ask", {"question": QUESTION, "chart": True}), ("explain", {"answer_id": "a1"}),
]


async def measure(env: dict[str, str], calls: int) -> tuple[float, dict[str, list[float]]]:
    params = StdioServerParameters(command=sys.executable, args=["-m", "nl2sql", "mcp"], env=env, cwd=str(REPO))
    start = time.perf_counter()
    times: dict[str, list[float]] = {}
    async with Client(params) as client:
        await client.list_tools()
        ready = time.perf_counter() - start
        for _ in range(calls):
            for name, args in CALLS:
                t = time.perf_counter()
                result = await client.call_tool(name, args)
                assert not result.is_error, result.content
                label = name + (" (chart)" if args.get("chart") else "")
                times.setdefault(label, []).append((time.perf_counter() - t) * 1000)
    return ready, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "NL2SQL_HOME": home}
        subprocess.run([sys.executable, "-m", "nl2sql", "schema", "--json"], env=env, check=True,
                       capture_output=True)  # profiles cached, as on any later start
        ready, times = anyio.run(measure, env, args.calls)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "nl2sql", "ask", QUESTION, "--json"], env=env, check=True,
                       capture_output=True)
        cli = time.perf_counter() - t
    print(f"launch to tool list (stdio): {ready:.2f} s")
    print(f"{'tool':<20} {'median ms':>10} {'max ms':>10}")
    for label, values in times.items():
        print(f"{label:<20} {statistics.median(values):>10.1f} {max(values):>10.1f}")
    print(f"nl2sql ask --json (a new process): {cli:.2f} s")


if __name__ == "__main__":
    main()
