"""F15: files we write get the permissions the user's umask gives; a failed run is in the history with
its error type and message; a query stopped for memory is a MemoryLimitError."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nl2sql.core.errors import QueryTimeoutError
from nl2sql.jobs.workspace import Workspace
from tests.helpers import REPO, FakeBackend

HOG = "SELECT length(string_agg(repeat('x', 3000), ',')) AS n FROM order_items"


def _cli(*args: str, umask: int | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nl2sql", *args], capture_output=True, text=True, timeout=180,
                          preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)


def test_every_file_we_write_follows_the_umask(tmp_path: Path, isolated_home: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for args in (("ask", "Revenue by category in 2025", "--chart", str(out / "chart.png")),
                 ("ask", "Revenue by category in 2025", "--chart", str(out / "chart.svg")),
                 ("sql", "SELECT * FROM customers", "-o", str(out / "rows.csv")),
                 ("sql", "SELECT * FROM customers", "-o", str(out / "rows.parquet")),
                 ("report", str(REPO / "examples" / "weekly_report.yaml"), "--out", str(out), "--as-of",
                  "2025-06-15"),
                 ("schema", "init", "-o", str(out / "skeleton.yaml"))):
        result = _cli(*args, umask=0o027)
        assert result.returncode == 0, (args, result.stderr)
    chat = subprocess.run([sys.executable, "-m", "nl2sql", "chat", "--json"], input="/run SELECT 1 AS one\n",
                          capture_output=True, text=True, timeout=120, preexec_fn=lambda: os.umask(0o027))
    assert chat.returncode == 0, chat.stderr
    written = [p for p in [*out.rglob("*"), *isolated_home.rglob("*")] if p.is_file()]
    assert {p.suffix for p in written} >= {".png", ".svg", ".csv", ".parquet", ".md", ".html", ".yaml", ".json",
                                           ".sqlite"}
    modes = {str(p): oct(stat.S_IMODE(p.stat().st_mode)) for p in written}
    assert set(modes.values()) == {"0o640"}, modes


def test_failed_runs_are_in_the_history_with_their_error(isolated_home: Path) -> None:
    class Broken(FakeBackend):
        def write_sql(self, request):  # type: ignore[no-untyped-def]
            raise RuntimeError("the backend blew up")

    with Workspace.open(backend=lambda: Broken()) as ws:
        with pytest.raises(RuntimeError):
            ws.ask("Revenue by category")
        timed_out = FakeBackend(sql=["SELECT count(*) AS n FROM orders a, order_items b "
                                     "WHERE a.order_id + b.line_number < b.order_id"])
        ws2 = Workspace.open(backend=lambda: timed_out, timeout=0.5)
        with ws2, pytest.raises(QueryTimeoutError, match=r"longer than 0\.5 s"):
            ws2.ask("Count pairs")
        entries = ws.audit.recent(5)
    assert entries[0]["verdict"] == "failed" and entries[0]["error"].startswith("QueryTimeoutError: ")
    assert entries[1]["verdict"] == "failed" and entries[1]["error"] == "RuntimeError: the backend blew up"


def test_a_query_stopped_for_memory_is_a_memory_limit_error() -> None:
    result = _cli("sql", HOG, "--memory-limit", "200MB", "--timeout", "60", "--json")
    assert result.returncode == 1, result.stderr
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "MemoryLimitError" and "200MB" in error["message"]
    from nl2sql.core.errors import ExecutionError, LimitError, MemoryLimitError

    assert issubclass(MemoryLimitError, LimitError) and issubclass(LimitError, ExecutionError)
