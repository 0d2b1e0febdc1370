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
import pickle
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nl2sql.datasource import DataSource
from nl2sql.errors import DataSourceError, ExecutionError, QueryTimeoutError

if TYPE_CHECKING:
    from nl2sql.guard import GuardedSQL

GRACE_SECONDS = 1.5  # how long past its limit a query may take to notice an interrupt
POLL_SECONDS = 0.05


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


@dataclasses.dataclass
class Result:
    """A query result: columns as (name, type), capped rows, and whether anything was cut."""

    columns: list[tuple[str, str]]
    rows: list[tuple[Any, ...]]
    truncated: bool = False
    cells_capped: int = 0
    elapsed_ms: float = 0.0

    @property
    def row_count(self) -> int:
        """Rows returned (after the cap)."""
        return len(self.rows)

    @property
    def column_names(self) -> list[str]:
        """The column names, in order."""
        return [c[0] for c in self.columns]


_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_size(text: str) -> int:
    """'1GB' -> 1_000_000_000; '512MiB' -> 536_870_912. Raises ValueError on nonsense."""
    raw = str(text).strip().lower().replace(" ", "")
    num = raw.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = raw[len(num):] or "b"
    if unit not in _UNITS or not num:
        raise ValueError(f"not a size: {text!r}")
    return int(float(num) * _UNITS[unit])


def _send(stream: Any, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("!Q", len(data)) + data)
    stream.flush()


def _recv_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], min(remaining, POLL_SECONDS))
            if not ready:
                continue
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _worker_env(tmp: Path) -> dict[str, str]:
    """A minimal environment: no API keys, no inherited secrets."""
    package_root = str(Path(__file__).resolve().parent.parent)
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
            [sys.executable, "-c", "from nl2sql.sandbox import worker_main; worker_main()"],
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
        _send(self._proc.stdin, config)

    def _receive(self, deadline: float | None) -> dict[str, Any]:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        header = _recv_exact(fd, 8, deadline)
        (size,) = struct.unpack("!Q", header)
        return pickle.loads(_recv_exact(fd, size, deadline))

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
        """Run guarded SQL; return capped rows. Raises QueryTimeoutError or ExecutionError."""
        from nl2sql.guard import GuardedSQL  # here, not at the top: the worker process never needs sqlglot

        if not isinstance(query, GuardedSQL):
            raise TypeError("Sandbox.run takes GuardedSQL: SQL runs only after the guard")
        self.start()
        assert self._proc is not None and self._proc.stdin is not None
        rows_cap = self.limits.max_rows if max_rows is None else max_rows
        request = {"sql": query.sql, "max_rows": rows_cap, "max_cell": self.limits.max_cell_chars,
                   "max_bytes": self.limits.max_result_bytes}
        started = time.monotonic()
        try:
            _send(self._proc.stdin, request)
        except (BrokenPipeError, OSError):
            self._kill()
            self.start()
            assert self._proc is not None and self._proc.stdin is not None
            _send(self._proc.stdin, request)
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
                with contextlib.suppress(Exception):
                    stream.close()  # type: ignore[union-attr]
            self._proc = None
            self._ready = False
            self.restarts += 1
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def close(self) -> None:
        """Stop the worker and remove its temp directory."""
        if self._proc is not None and self._proc.poll() is None and self._proc.stdin is not None:
            with contextlib.suppress(Exception):
                self._proc.stdin.close()
                self._proc.wait(timeout=2)
        self._kill()
        self.restarts = max(0, self.restarts - 1)


# ---------------------------------------------------------------------------------------------
# The worker process


def harden(con: Any, temp_dir: str, memory_limit: str, threads: int, timeout_ms: int, max_temp: str) -> None:
    """Apply L3/L4 settings in DESIGN §6 order; external access is cut and the config locked last."""
    os.makedirs(temp_dir, exist_ok=True)
    for statement, value in (
        ("SET autoinstall_known_extensions = ?", False),
        ("SET autoload_known_extensions = ?", False),
        ("SET allow_community_extensions = ?", False),
        ("SET allow_persistent_secrets = ?", False),
        ("SET temp_directory = ?", temp_dir),
        ("SET max_temp_directory_size = ?", max_temp),
        ("SET memory_limit = ?", memory_limit),
        ("SET threads = ?", threads),
        ("SET max_execution_time = ?", timeout_ms),
        ("SET enable_external_access = ?", False),
        ("SET lock_configuration = ?", True),
    ):
        con.execute(statement.replace("?", _literal(value)))


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _cap_cell(value: Any, max_chars: int) -> tuple[Any, bool]:
    if isinstance(value, str) and len(value) > max_chars:
        return value[: max_chars - 1] + "…", True
    if isinstance(value, bytes | bytearray) and len(value) > max_chars // 2:
        return bytes(value[: max_chars // 2]), True
    if isinstance(value, list | tuple | dict):
        text = repr(value)
        if len(text) > max_chars:
            return text[: max_chars - 1] + "…", True
    return value, False


def _approx_size(value: Any) -> int:
    if isinstance(value, str | bytes | bytearray):
        return len(value) + 8
    if isinstance(value, list | tuple | dict):
        return len(repr(value))
    return 16


def _execute(con: Any, request: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    from nl2sql.datasource import short_error

    try:
        cursor = con.execute(request["sql"])
        columns = [(d[0], str(d[1])) for d in cursor.description or []]
        batch = cursor.fetchmany(request["max_rows"] + 1)
    except duckdb.InterruptException:
        return {"error": "interrupted", "kind": "timeout"}
    except duckdb.OutOfMemoryException as exc:
        return {"error": short_error(exc), "kind": "memory"}
    except duckdb.Error as exc:
        return {"error": short_error(exc), "kind": "duckdb"}
    truncated = len(batch) > request["max_rows"]
    rows, total, capped = [], 0, 0
    for raw in batch[: request["max_rows"]]:
        row = []
        for value in raw:
            cell, cut = _cap_cell(value, request["max_cell"])
            capped += cut
            total += _approx_size(cell)
            row.append(cell)
        if total > request["max_bytes"]:
            truncated = True
            break
        rows.append(tuple(row))
    return {"columns": columns, "rows": rows, "truncated": truncated, "cells_capped": capped}


def worker_main() -> None:
    """Entry point of the worker process: open, harden, then answer queries until stdin closes."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    in_fd = stdin.fileno()
    try:
        config = pickle.loads(_recv_exact(in_fd, struct.unpack("!Q", _recv_exact(in_fd, 8, None))[0], None))
    except (EOFError, struct.error):
        return
    from nl2sql.datasource import DataSource, connect

    src = config["source"]
    source = DataSource(src["name"], src["kind"], Path(src["path"]),
                        tuple((t, r, tuple(p)) for t, r, p in src["files"]))
    try:
        con = connect(source)
        harden(con, config["temp_dir"], config["memory_limit"], config["threads"], config["timeout_ms"],
               config["max_temp_size"])
    except DataSourceError as exc:
        _send(stdout, {"error": exc.message, "hint": exc.hint, "kind": "source"})
        return
    except Exception as exc:  # settings rejected: refuse to run unhardened
        _send(stdout, {"error": f"could not harden the database connection: {exc}", "kind": "setup"})
        return
    _send(stdout, {"ready": True})
    while True:
        try:
            header = _recv_exact(in_fd, 8, None)
        except EOFError:
            return
        request = pickle.loads(_recv_exact(in_fd, struct.unpack("!Q", header)[0], None))
        _send(stdout, _execute(con, request))


def limits_from(settings: Any) -> Limits:
    """Limits from effective settings; a malformed memory limit is a configuration error."""
    from nl2sql.errors import ConfigError

    try:
        parse_size(settings.memory_limit)
    except ValueError:
        raise ConfigError(f"memory_limit {settings.memory_limit!r} is not a size.",
                          hint="Use a number with a unit, e.g. 512MB or 2GB.") from None
    if settings.timeout <= 0 or settings.max_rows <= 0 or settings.threads <= 0:
        raise ConfigError("timeout, max_rows and threads must be positive.",
                          hint="For example --timeout 30 --max-rows 1000.")
    return Limits(timeout=float(settings.timeout), memory_limit=str(settings.memory_limit),
                  threads=int(settings.threads), max_rows=int(settings.max_rows))


if __name__ == "__main__":
    worker_main()
