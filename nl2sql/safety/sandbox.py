"""The sandbox: L3-L5 of DESIGN §6. Guarded SQL runs in a hardened DuckDB in a worker process.

- L3: the data is opened read-only (files are loaded into memory first), extensions cannot be
  installed or loaded, secrets cannot persist, temp files go to a private directory, then
  `enable_external_access = false` and, last, `lock_configuration = true`.
- L4: `max_execution_time`, `memory_limit` and `threads` inside DuckDB; and because DuckDB's
  interrupts are cooperative (a huge `repeat()` ignores them), the parent kills the worker when
  a query overruns its time (+ a grace period) or its memory, and starts a fresh one on the
  next query.
- L5: at most max_rows + 1 rows are fetched; long cells and the total size are capped. An export
  (`stream`) fetches every row in batches, within the same time and memory limits.

The worker dies with its parent (it watches it), and the parent removes the worker's temp
directory on close, on Ctrl-C and on SIGTERM; directories left by a process that was killed
outright are removed by the next sandbox that starts.

The worker's environment holds no secrets: it is started with a minimal, explicit environment.
One warm worker serves every query of a session (chat, report): no process start per query.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from nl2sql.core.errors import (
    DataSourceError,
    ExecutionError,
    InvalidSQLError,
    MemoryLimitError,
    QueryTimeoutError,
    UnsafeSQLError,
)
from nl2sql.core.values import Result, parse_size
from nl2sql.data.sources import DataSource
from nl2sql.safety.worker import receive, send

if TYPE_CHECKING:
    from nl2sql.core.config import Settings
    from nl2sql.safety.guard import GuardedSQL

GRACE_SECONDS = 1.5  # how long past its limit a query may take to notice an interrupt
START_BASE_SECONDS = 20.0  # a worker's start: Python, DuckDB and a small data set, on a busy machine
START_BYTES_PER_SECOND = 20e6  # ... plus loading data files at a pessimistic pace
STREAM_BATCH_ROWS = 10_000  # rows per message of an export
TEMP_PREFIX = "nl2sql-sandbox-"


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


class RowSink(Protocol):
    """Where an export's rows go: the columns first, then batches of rows."""

    def begin(self, columns: list[tuple[str, str]]) -> None: ...

    def write(self, rows: list[tuple[Any, ...]]) -> None: ...


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

    @property
    def start_seconds(self) -> float:
        """How long the worker may take to load the data and lock the connection: grows with the data."""
        return start_seconds(self.source)

    def start(self) -> None:
        """Start the worker and wait until the data is loaded and the connection locked."""
        self.launch()
        if self._ready:
            return
        wait = self.start_seconds
        try:
            reply = self._receive(deadline=time.monotonic() + wait)
        except (TimeoutError, EOFError) as exc:
            self._kill()
            size = _megabytes(data_bytes(self.source))
            if isinstance(exc, TimeoutError):
                raise ExecutionError(f"The database worker was not ready after {wait:.0f} s (loading {size} of "
                                     "data); it was stopped.",
                                     hint="Try again when the machine is less busy, or load big files into a "
                                     "DuckDB file once and point --db at it.") from None
            raise ExecutionError(f"The database worker stopped while loading {size} of data.",
                                 hint="It may have run out of memory; a DuckDB file reads only what a query "
                                 "needs.") from None
        if "error" in reply:
            self._kill()
            cls = DataSourceError if reply.get("kind") == "source" else ExecutionError
            raise cls(reply["error"], hint=reply.get("hint"))
        self._ready = True

    def launch(self) -> None:
        """Start the worker without waiting for it: it loads the data while the caller works."""
        if self._proc is not None and self._proc.poll() is None:
            return
        remove_stale_dirs()
        self._ready = False
        self._tmp = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-"))
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
            "max_temp_size": self.limits.max_temp_size, "parent": os.getpid(), "home": str(self._tmp),
        }
        send(self._proc.stdin, config)

    def _receive(self, deadline: float | None) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        reply: dict[str, Any] = receive(self._proc.stdout.fileno(), deadline)
        return reply

    def _readable(self, until: float) -> bool:
        """True when the worker has written something before `until` (nothing is read)."""
        assert self._proc is not None and self._proc.stdout is not None
        ready, _, _ = select.select([self._proc.stdout.fileno()], [], [], max(0.0, until - time.monotonic()))
        return bool(ready)

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
        """Run guarded SQL; return capped rows. Raises a LimitError or an ExecutionError.

        Threads may share a sandbox: its one worker runs one query at a time.
        """
        with self._lock:
            rows_cap = self.limits.max_rows if max_rows is None else max_rows
            started = self._send(query, {"max_rows": rows_cap, "max_cell": self.limits.max_cell_chars,
                                         "max_bytes": self.limits.max_result_bytes})
            reply = self._await(started + self.limits.timeout + GRACE_SECONDS)
            self._raise_failure(reply)
            return Result(columns=reply["columns"], rows=reply["rows"], truncated=reply["truncated"],
                          cells_capped=reply["cells_capped"], elapsed_ms=(time.monotonic() - started) * 1000,
                          cut_by=reply.get("cut_by"))

    def stream(self, query: GuardedSQL, sink: RowSink, batch_rows: int = STREAM_BATCH_ROWS) -> int:
        """Run guarded SQL and hand every row to `sink` in batches; returns how many rows there were.

        No row or size cap applies; the time limit covers the whole stream and the memory limit is
        watched throughout. A limit, an error, or a sink that fails stops the worker (a fresh one
        starts on the next query) and raises.
        """
        with self._lock:
            started = self._send(query, {"stream": batch_rows})
            deadline = started + self.limits.timeout + GRACE_SECONDS
            count = 0
            try:
                head = self._await(deadline)
                self._raise_failure(head)
                sink.begin(head["columns"])
                while True:
                    message = self._await(deadline)
                    self._raise_failure(message)
                    if not message["rows"]:
                        return count
                    sink.write(message["rows"])
                    count += len(message["rows"])
            except BaseException:
                self._kill()  # the worker may be mid-stream: its next messages belong to nobody
                raise

    def _send(self, query: GuardedSQL, fields: dict[str, Any]) -> float:
        """Send a query to a ready worker; returns when it was sent (the time limit counts from there)."""
        from nl2sql.safety.guard import GuardedSQL  # here, not at the top: importing sqlglot costs start-up

        if not isinstance(query, GuardedSQL):
            raise TypeError("Sandbox.run takes GuardedSQL: SQL runs only after the guard")
        self.start()
        request = {"sql": query.sql, "parsed": query.parsed, **fields}
        assert self._proc is not None and self._proc.stdin is not None
        try:
            send(self._proc.stdin, request)
        except (BrokenPipeError, OSError):
            self._kill()
            self.start()
            assert self._proc is not None and self._proc.stdin is not None
            send(self._proc.stdin, request)
        return time.monotonic()

    def _await(self, hard_deadline: float) -> dict[str, Any]:
        """The worker's next message; past the time limit or over the memory limit it is stopped."""
        memory_cap = int(self.limits.memory_bytes * 1.5) + 256 * 2**20
        try:
            while True:
                # wait for a message to begin, a little at a time, watching the limits in between; once it
                # begins it is read whole (a big reply read in pieces across polls would lose its framing)
                if self._readable(min(hard_deadline, time.monotonic() + 0.25)):
                    try:
                        return self._receive(deadline=hard_deadline)
                    except TimeoutError:
                        pass
                if time.monotonic() >= hard_deadline:
                    self._kill()
                    raise self._timeout()
                if self._rss_bytes() > memory_cap:
                    self._kill()
                    raise MemoryLimitError(
                        f"The query used more memory than the {self.limits.memory_limit} limit and was "
                        "stopped.", hint="Aggregate more, select fewer columns, or raise --memory-limit.")
        except EOFError:
            self._kill()
            raise ExecutionError("The query stopped the database worker (it may have run out of memory).",
                                 hint="Narrow the query, or raise --memory-limit.") from None
        except KeyboardInterrupt:
            # the worker is still busy with the query: stop it and warm up a fresh one for what comes next
            self._kill()
            self.launch()
            raise

    def _timeout(self) -> QueryTimeoutError:
        return QueryTimeoutError(f"The query ran longer than {self.limits.timeout:g} s and was stopped.",
                                 hint="Narrow it (filters, fewer joins) or raise --timeout.")

    def _raise_failure(self, reply: dict[str, Any]) -> None:
        """Raise the error a worker's reply reports, if it reports one."""
        if "error" not in reply:
            return
        kind = reply.get("kind")
        if kind == "timeout":
            raise self._timeout()
        if kind == "memory":
            raise MemoryLimitError(f"The query needed more than the {self.limits.memory_limit} memory limit.",
                                   hint="Aggregate more, select fewer columns, or raise --memory-limit.")
        if kind in ("UnsafeSQLError", "InvalidSQLError"):
            cls = UnsafeSQLError if kind == "UnsafeSQLError" else InvalidSQLError
            raise cls(reply["error"], hint=reply.get("hint"))
        raise ExecutionError(f"DuckDB could not run the query: {reply['error']}",
                             hint="Check the column types and functions the query uses.")

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


def data_bytes(source: DataSource) -> int:
    """The size of the files the data is read from."""
    try:
        return sum(size for _, size, _ in source.fingerprint())
    except OSError:
        return 0


def start_seconds(source: DataSource) -> float:
    """How long a worker may take to get ready: a base, plus time to load the data at a slow pace.

    Files are loaded into memory (a DuckDB file is only opened), so the wait grows with their size."""
    size = data_bytes(source) if source.kind == "files" else 0
    return START_BASE_SECONDS + size / START_BYTES_PER_SECOND


def _megabytes(size: int) -> str:
    return f"{size / 1e6:,.1f} MB" if size >= 100_000 else f"{size / 1e3:,.0f} KB"


def remove_stale_dirs(root: Path | None = None) -> list[Path]:
    """Remove the temp directories of sandboxes whose process is gone (killed before it could clean up).

    A directory is named nl2sql-sandbox-<pid of the nl2sql process>-<random>; only our own user's
    directories are touched, and only when that process no longer exists."""
    removed: list[Path] = []
    base = root or Path(tempfile.gettempdir())
    try:
        candidates = list(base.glob(f"{TEMP_PREFIX}*"))
    except OSError:
        return removed
    for path in candidates:
        pid_text = path.name[len(TEMP_PREFIX):].split("-", 1)[0]
        try:
            if not pid_text.isdigit() or path.stat().st_uid != os.getuid() or _alive(int(pid_text)):
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def limits_from(settings: Settings) -> Limits:
    """The limits the settings ask for (load_settings has already checked each value)."""
    return Limits(timeout=settings.timeout, memory_limit=settings.memory_limit, threads=settings.threads,
                  max_rows=settings.max_rows)
