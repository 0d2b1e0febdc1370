"""The sandbox: L3-L5 of DESIGN §6. Guarded SQL runs in a hardened DuckDB in a worker process.

- L3: the data is opened read-only (files are loaded into memory first), extensions cannot be
  installed or loaded, secrets cannot persist, temp files go to a private directory, then
  `enable_external_access = false` and, last, `lock_configuration = true`.
- L4: `max_execution_time`, `memory_limit` and `threads` inside DuckDB; and because DuckDB's
  interrupts are cooperative (a huge `repeat()` ignores them), the parent kills the worker when
  a query overruns its time (+ a grace period) or its memory, and starts a fresh one on the
  next query.
- L5: at most max_rows + 1 rows are fetched; long cells and the total size are capped.

The worker's environment holds no secrets: it is started with a minimal, explicit environment.
One warm worker serves every query of a session (chat, report): no process start per query.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nl2sql.core.errors import DataSourceError, ExecutionError, InvalidSQLError, QueryTimeoutError, UnsafeSQLError
from nl2sql.core.values import Result, parse_size
from nl2sql.data.sources import DataSource
from nl2sql.safety.worker import receive, send

if TYPE_CHECKING:
    from nl2sql.core.config import Settings
    from nl2sql.safety.guard import GuardedSQL

GRACE_SECONDS = 1.5  # how long past its limit a query may take to notice an interrupt


@dataclasses.dataclass(frozen=True)
class Limits:
    """L4 and L5 limits for one sandbox."""

    timeout: float = 30.0  # seconds per query
    memory_limit: str = "1GB"
    threads: int = 2
    max_rows: int = 1000
    max_cell_chars: int = 2_000
    max_result_bytes: int = 8_000_000
    max_temp_size: str = "1GB"

    @property
    def memory_bytes(self) -> int:
        """memory_limit in bytes (DuckDB-style units: KB, MB, GB, KiB, MiB, GiB)."""
        return parse_size(self.memory_limit)


def _worker_env(tmp: Path) -> dict[str, str]:
    """A minimal environment: no API keys, no inherited secrets."""
    package_root = str(Path(__file__).resolve().parents[2])  # the folder that holds nl2sql/
    env = {"PATH": os.defpath, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": str(tmp), "TMPDIR": str(tmp),
           "PYTHONPATH": package_root, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1"}
    return env


class Sandbox:
    """A warm, hardened DuckDB worker for one data source. Use as a context manager."""

    def __init__(self, source: DataSource, limits: Limits | None = None) -> None:
        self.source = source
        self.limits = limits or Limits()
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: Path | None = None
        self._ready = False
        self._lock = threading.Lock()
        self.restarts = 0

    def __enter__(self) -> Sandbox:
        self.launch()  # warm up in the background; the first query waits for it
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def temp_dir(self) -> Path | None:
        """The private directory DuckDB may spill to (removed on close)."""
        return self._tmp

    def start(self) -> None:
        """Start the worker and wait until the data is loaded and the connection locked."""
        self.launch()
        if self._ready:
            return
        reply = self._receive(deadline=time.monotonic() + max(60.0, self.limits.timeout))
        if "error" in reply:
            self._kill()
            cls = DataSourceError if reply.get("kind") == "source" else ExecutionError
            raise cls(reply["error"], hint=reply.get("hint"))
        self._ready = True

    def launch(self) -> None:
        """Start the worker without waiting for it: it loads the data while the caller works."""
        if self._proc is not None and self._proc.poll() is None:
            return
        self._ready = False
        self._tmp = Path(tempfile.mkdtemp(prefix="nl2sql-sandbox-"))
        self._proc = subprocess.Popen(
            [sys.executable, "-c", "from nl2sql.safety.worker import main; main()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=_worker_env(self._tmp), cwd=str(self._tmp), close_fds=True,
            start_new_session=True,  # Ctrl-C reaches us, not the worker: we decide what to stop
        )
        assert self._proc.stdin is not None
        config = {
            "source": dataclasses.asdict(self.source) | {"path": str(self.source.path)},
            "memory_limit": self.limits.memory_limit, "threads": self.limits.threads,
            "timeout_ms": int(self.limits.timeout * 1000), "temp_dir": str(self._tmp / "duckdb"),
            "max_temp_size": self.limits.max_temp_size,
        }
        send(self._proc.stdin, config)

    def _receive(self, deadline: float | None) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        reply: dict[str, Any] = receive(self._proc.stdout.fileno(), deadline)
        return reply

    def _rss_bytes(self) -> int:
        if self._proc is None:
            return 0
        try:
            with open(f"/proc/{self._proc.pid}/status", encoding="ascii") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def run(self, query: GuardedSQL, max_rows: int | None = None) -> Result:
        """Run guarded SQL; return capped rows. Raises QueryTimeoutError or ExecutionError.

        Threads may share a sandbox: its one worker runs one query at a time.
        """
        with self._lock:
            return self._run(query, max_rows)

    def _run(self, query: GuardedSQL, max_rows: int | None) -> Result:
        from nl2sql.safety.guard import GuardedSQL  # here, not at the top: importing sqlglot costs start-up

        if not isinstance(query, GuardedSQL):
            raise TypeError("Sandbox.run takes GuardedSQL: SQL runs only after the guard")
        self.start()
        assert self._proc is not None and self._proc.stdin is not None
        rows_cap = self.limits.max_rows if max_rows is None else max_rows
        request = {"sql": query.sql, "parsed": query.parsed, "max_rows": rows_cap,
                   "max_cell": self.limits.max_cell_chars, "max_bytes": self.limits.max_result_bytes}
        started = time.monotonic()
        try:
            send(self._proc.stdin, request)
        except (BrokenPipeError, OSError):
            self._kill()
            self.start()
            assert self._proc is not None and self._proc.stdin is not None
            send(self._proc.stdin, request)
        hard_deadline = started + self.limits.timeout + GRACE_SECONDS
        memory_cap = int(self.limits.memory_bytes * 1.5) + 256 * 2**20
        try:
            while True:
                try:
                    reply = self._receive(deadline=min(hard_deadline, time.monotonic() + 0.25))
                    break
                except TimeoutError:
                    if time.monotonic() >= hard_deadline:
                        self._kill()
                        raise QueryTimeoutError(
                            f"The query ran longer than {self.limits.timeout:g} s and was stopped.",
                            hint="Narrow it (filters, fewer joins) or raise --timeout.") from None
                    if self._rss_bytes() > memory_cap:
                        self._kill()
                        raise QueryTimeoutError(
                            f"The query used more memory than the {self.limits.memory_limit} limit and was stopped.",
                            hint="Aggregate more, select fewer columns, or raise --memory-limit.") from None
        except EOFError:
            self._kill()
            raise ExecutionError("The query stopped the database worker (it may have run out of memory).",
                                 hint="Narrow the query, or raise --memory-limit.") from None
        except KeyboardInterrupt:
            # the worker is still busy with the query: stop it and warm up a fresh one for what comes next
            self._kill()
            self.launch()
            raise
        if "error" in reply:
            if reply.get("kind") == "timeout":
                raise QueryTimeoutError(
                    f"The query ran longer than {self.limits.timeout:g} s and was stopped.",
                    hint="Narrow it (filters, fewer joins) or raise --timeout.")
            if reply.get("kind") == "memory":
                raise QueryTimeoutError(
                    f"The query needed more than the {self.limits.memory_limit} memory limit.",
                    hint="Aggregate more, select fewer columns, or raise --memory-limit.")
            if reply.get("kind") in ("UnsafeSQLError", "InvalidSQLError"):
                cls = UnsafeSQLError if reply["kind"] == "UnsafeSQLError" else InvalidSQLError
                raise cls(reply["error"], hint=reply.get("hint"))
            raise ExecutionError(f"DuckDB could not run the query: {reply['error']}",
                                 hint="Check the column types and functions the query uses.")
        return Result(columns=reply["columns"], rows=reply["rows"], truncated=reply["truncated"],
                      cells_capped=reply["cells_capped"], elapsed_ms=(time.monotonic() - started) * 1000)

    def _kill(self) -> None:
        if self._proc is not None:
            with contextlib.suppress(OSError):
                self._proc.kill()
            with contextlib.suppress(Exception):
                self._proc.wait(timeout=5)
            for stream in (self._proc.stdin, self._proc.stdout):
                if stream is not None:
                    with contextlib.suppress(Exception):
                        stream.close()
            self._proc = None
            self._ready = False
            self.restarts += 1
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def close(self) -> None:
        """Stop the worker (it holds nothing to save: the data is read-only) and remove its temp directory."""
        running = self._proc is not None
        self._kill()
        if running:
            self.restarts -= 1  # a close is no restart


def limits_from(settings: Settings) -> Limits:
    """The limits the settings ask for (load_settings has already checked each value)."""
    return Limits(timeout=settings.timeout, memory_limit=settings.memory_limit, threads=settings.threads,
                  max_rows=settings.max_rows)
