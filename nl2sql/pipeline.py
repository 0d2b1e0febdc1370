"""The pipeline: question or SQL in, an answer out. Reads top to bottom, one step per function.

This module never prints and never imports typer or rich; cli.py renders what it returns.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from nl2sql.catalog import Catalog, json_safe
from nl2sql.guard import GuardedSQL, guard
from nl2sql.sandbox import Result, Sandbox


@dataclasses.dataclass
class SqlRun:
    """The outcome of running a user's own SQL through the guard and the sandbox."""

    sql: str
    guarded: GuardedSQL
    result: Result | None
    warnings: list[str]
    timings_ms: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """The DESIGN §5 fields that apply to a SQL run."""
        result = self.result
        return {
            "sql": self.guarded.sql,
            "columns": [{"name": n, "type": t} for n, t in (result.columns if result else [])],
            "rows": [[json_safe(v) for v in row] for row in (result.rows if result else [])],
            "row_count": result.row_count if result else 0,
            "truncated": result.truncated if result else False,
            "warnings": self.warnings,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }


def result_warnings(result: Result, max_rows: int) -> list[str]:
    """Warnings a person should see about the shape of a result."""
    warnings = []
    if result.truncated:
        warnings.append(f"Only the first {result.row_count:,} rows are shown (row cap {max_rows:,}).")
    if result.cells_capped:
        warnings.append(f"{result.cells_capped} long cell(s) were shortened.")
    if not result.rows:
        warnings.append("The query returned no rows.")
    return warnings


def run_sql(sql: str, catalog: Catalog, sandbox: Sandbox | None, max_rows: int) -> SqlRun:
    """Guard `sql`, then (unless `sandbox` is None: check only) run it in the sandbox."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    guarded = guard(sql, catalog, max_rows)
    timings["guard"] = (time.perf_counter() - start) * 1000
    result = None
    warnings: list[str] = []
    if sandbox is not None:
        t = time.perf_counter()
        result = sandbox.run(guarded, max_rows=max_rows)
        timings["execute"] = (time.perf_counter() - t) * 1000
        warnings = result_warnings(result, max_rows)
    timings["total"] = (time.perf_counter() - start) * 1000
    return SqlRun(sql=sql, guarded=guarded, result=result, warnings=warnings, timings_ms=timings)
