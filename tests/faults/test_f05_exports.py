"""F5: exports are complete or fail loudly. `--format … -o FILE` (ask, sql) and chat's `/export` write
every row, not the display's row cap; a limit that stops an export removes the partial file and
says which limit; a result cut by the size cap says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.fake_openai import FakeOpenAI, sql_reply
from tests.faults.common import write_csv
from tests.helpers import run_cli

ROWS = 20_000


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    return write_csv(folder / "t.csv", ["i", "label"], [[i, f"row {i}"] for i in range(ROWS)])


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_sql_exports_every_row_whatever_the_row_cap(table: Path, tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    result = run_cli("sql", "SELECT * FROM t ORDER BY i", "--db", str(table), "--max-rows", "10", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert _lines(out) == ROWS + 1 and f"Wrote {ROWS:,} rows" in result.stderr
    parquet = tmp_path / "rows.parquet"
    result = run_cli("sql", "SELECT * FROM t", "--db", str(table), "--format", "parquet", "-o", str(parquet))
    assert result.returncode == 0, result.stderr
    assert duckdb.sql(f"SELECT count(*), max(i) FROM '{parquet}'").fetchall() == [(ROWS, ROWS - 1)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.csv", "rows.parquet"]  # nothing staged is left


def test_ask_exports_every_row(table: Path, tmp_path: Path) -> None:
    out = tmp_path / "answer.json"
    with FakeOpenAI() as server:
        server.add({"content": sql_reply("SELECT i, label FROM t")})
        result = run_cli("ask", "All rows", "--db", str(table), "--format", "json", "-o", str(out),
                         env={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-0000000000"})
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert len(rows) == ROWS and rows[-1] == {"i": ROWS - 1, "label": f"row {ROWS - 1}"}


def test_chat_export_writes_every_row(table: Path, tmp_path: Path) -> None:
    out = tmp_path / "chat.csv"
    result = run_cli("chat", "--json", "--db", str(table), stdin=f"/run SELECT * FROM t\n/export csv {out}\n")
    assert result.returncode == 0, result.stderr
    done = [json.loads(line) for line in result.stdout.splitlines()][-1]
    assert done["command"] == "export" and done["rows"] == ROWS
    assert _lines(out) == ROWS + 1


def test_a_limit_stops_the_export_removes_the_file_and_says_which(table: Path, tmp_path: Path) -> None:
    out = tmp_path / "pairs.csv"
    out.write_text("the previous export\n")
    result = run_cli("sql", "SELECT a.i, b.i AS j FROM t a JOIN t b ON a.i < b.i", "--db", str(table),
                     "--timeout", "1", "-o", str(out), "--json")
    assert result.returncode == 2  # --json with -o is refused: they ask for two different outputs
    result = run_cli("sql", "SELECT a.i, b.i AS j FROM t a JOIN t b ON a.i < b.i", "--db", str(table),
                     "--timeout", "1", "-o", str(out))
    assert result.returncode == 1, result.stderr
    assert "export stopped" in result.stderr and "longer than 1 s" in result.stderr
    assert "--timeout" in result.stderr
    assert out.read_text() == "the previous export\n"  # the old file is kept; no partial one replaces it
    assert [p.name for p in tmp_path.iterdir()] == ["pairs.csv"]


def test_a_result_cut_by_the_size_cap_names_that_cap(table: Path) -> None:
    result = run_cli("sql", "SELECT i, repeat('x', 500) AS pad FROM t", "--db", str(table), "--max-rows", "1000000",
                     "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["truncated"] and data["row_count"] < ROWS
    warning = next(w for w in data["warnings"] if w.startswith("Only the first"))
    assert "size cap" in warning and "-o FILE" in warning


def test_stray_writes_to_stdout_cannot_break_the_workers_messages() -> None:
    # DuckDB prints its progress bar to fd 1 on queries past two seconds; the worker's messages use
    # their own copy of stdout, so such bytes land on stderr instead of in the middle of a message
    from nl2sql.safety.worker import receive

    code = ("import os; from nl2sql.safety.worker import protocol_stdout, send; out = protocol_stdout(); "
            "os.write(1, b'\\r100% progress'); send(out, {'rows': []}); print('more noise')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    read, write = os.pipe()
    os.write(write, done.stdout)
    os.close(write)
    assert receive(read, None) == {"rows": []}
    assert b"100% progress" in done.stderr and b"more noise" in done.stderr
