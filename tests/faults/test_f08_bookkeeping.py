"""F8: the answer is never lost to our own bookkeeping. A history, cache or session that cannot be
written is one warning line and the answer is still printed (exit 0); a data dir that cannot be
created is a usage error naming it; a worker that does not get ready says how long it waited."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from nl2sql.core.errors import ExecutionError
from nl2sql.data.sources import DataSource, resolve
from nl2sql.safety import sandbox as sandbox_module
from nl2sql.safety.sandbox import Sandbox
from tests.fake_openai import FakeOpenAI, sql_reply
from tests.helpers import run_cli

QUESTION = "Revenue by category in 2025"


def _answered(result, warning: str) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == 0, result.stderr
    assert "Internal error" not in result.stderr and "Traceback" not in result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("⚠")]
    assert len(warnings) == 1 and warning in warnings[0], result.stderr


def test_a_damaged_history_costs_a_warning_not_the_answer(isolated_home: Path) -> None:
    (isolated_home / "history.sqlite").write_bytes(b"this is not a database " * 200)
    result = run_cli("ask", QUESTION, "--json")
    _answered(result, "history could not be written")
    assert json.loads(result.stdout)["row_count"] == 5
    shown = run_cli("history")
    assert shown.returncode == 1 and "cannot be read" in shown.stderr and "Internal error" not in shown.stderr


def test_a_locked_history_costs_a_warning_not_the_answer(isolated_home: Path) -> None:
    assert run_cli("ask", QUESTION, "--json").returncode == 0  # the history exists
    holder = sqlite3.connect(isolated_home / "history.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = run_cli("ask", QUESTION, "--json")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _answered(result, "locked")


def test_a_cache_that_cannot_be_written_costs_a_warning(isolated_home: Path) -> None:
    (isolated_home / "cache").write_text("a file where the cache folder should be")
    with FakeOpenAI() as server:
        server.add({"content": sql_reply("SELECT count(*) AS customers FROM customers")})
        result = run_cli("ask", "How many customers?", "--json",
                         env={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-0000000000"})
    _answered(result, "could not be cached")


def test_a_chat_that_cannot_be_saved_still_answers(isolated_home: Path) -> None:
    (isolated_home / "sessions").write_text("a file where the sessions folder should be")
    result = run_cli("chat", "--json", stdin=f"{QUESTION}\n")
    _answered(result, "chat could not be saved")
    assert json.loads(result.stdout.splitlines()[0])["row_count"] == 5


def test_a_data_dir_that_cannot_be_created_is_a_usage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    result = run_cli("sql", "SELECT 1", env={"NL2SQL_HOME": str(blocker / "home")})
    assert result.returncode == 2, result.stderr
    assert str(blocker / "home") in result.stderr and "cannot be created" in result.stderr


def test_the_worker_start_wait_grows_with_the_data(tmp_path: Path) -> None:
    small = resolve(None)
    big_file = tmp_path / "big.csv"
    with big_file.open("wb") as f:
        f.truncate(2_000_000_000)  # sparse: 2 GB of size without the disk space
    big = DataSource("big", "files", big_file, (("big", "read_csv", (str(big_file),)),))
    assert sandbox_module.start_seconds(small) < 60 < sandbox_module.start_seconds(big)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a FIFO")
def test_a_worker_that_never_gets_ready_is_stopped_and_says_how_long_it_waited(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = tmp_path / "stuck.csv"
    os.mkfifo(fifo)  # the worker blocks opening it: no one ever writes
    monkeypatch.setattr(sandbox_module, "START_BASE_SECONDS", 1.0, raising=False)
    stuck = DataSource("stuck", "files", fifo, (("stuck", "read_csv", (str(fifo),)),))
    with Sandbox(stuck) as sb, pytest.raises(ExecutionError, match=r"not ready after 1 s"):
        sb.start()
