"""F9: the sandbox worker dies with its parent and leaves no temp directory: when `nl2sql` is killed
(SIGKILL), terminated (SIGTERM, `timeout`) or interrupted in the middle of a long query; directories
left by a process that could not clean up are removed by the next one that starts."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# runs for minutes: a filter over the product of two tables that no join algorithm can shortcut
SLOW = "SELECT count(*) FROM orders a, order_items b WHERE a.order_id + b.line_number < b.order_id"


def _workers_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"nl2sql.safety.worker" in cmdline:
            found.append(int(entry.name))
    return found


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"  # exited, waiting for a parent that no longer exists to reap it


def _eventually(condition, seconds: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def _start_slow_query() -> tuple[subprocess.Popen[bytes], int, Path]:
    parent = subprocess.Popen([sys.executable, "-m", "nl2sql", "sql", SLOW, "--timeout", "300"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert _eventually(lambda: bool(_workers_of(parent.pid))), "no worker started"
    worker = _workers_of(parent.pid)[0]
    temp = Path(os.readlink(f"/proc/{worker}/cwd"))
    assert temp.name.startswith("nl2sql-sandbox-")
    time.sleep(2.0)  # let it load the data and get into the query
    assert parent.poll() is None and not _gone(worker), "the query did not keep the worker busy"
    return parent, worker, temp


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_the_worker_dies_with_its_parent_and_leaves_no_temp_dir(how: signal.Signals) -> None:
    parent, worker, temp = _start_slow_query()
    try:
        parent.send_signal(how)
        parent.wait(timeout=30)
        assert _eventually(lambda: _gone(worker)), f"the worker {worker} outlived its parent ({how.name})"
        assert _eventually(lambda: not temp.exists()), f"{temp} was left behind ({how.name})"
    finally:
        for pid in (parent.pid, worker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_stale_sandbox_dirs_of_dead_processes_are_removed(tmp_path: Path) -> None:
    from nl2sql.safety.sandbox import remove_stale_dirs

    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    dead = tmp_path / f"nl2sql-sandbox-{finished.stdout.strip()}-abcd"
    alive = tmp_path / f"nl2sql-sandbox-{os.getpid()}-efgh"
    other = tmp_path / "nl2sql-sandbox-notapid"
    for folder in (dead, alive, other):
        (folder / "duckdb").mkdir(parents=True)
    assert remove_stale_dirs(tmp_path) == [dead]
    assert not dead.exists() and alive.exists() and other.exists()
