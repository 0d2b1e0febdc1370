"""The sandbox's worker process: open the data, harden the connection, answer queries (L3-L5).

Started by `sandbox.Sandbox` with a minimal environment; it never imports sqlglot. Messages on
stdin/stdout are length-prefixed pickles, written only by our own two processes.

A query is answered with one message (capped rows), or, for an export, streamed: the columns,
then batches of rows, then an empty batch. The worker dies with its parent: a thread watches the
parent process and, when it is gone, removes the worker's temp directory and exits at once, even
in the middle of a query (DuckDB's own interrupts are cooperative).
"""

from __future__ import annotations

import os
import pickle
import select
import shutil
import struct
import sys
import threading
import time
from pathlib import Path
from typing import Any

from nl2sql.core.errors import DataSourceError, InvalidSQLError, UnsafeSQLError, short_error
from nl2sql.safety.parse import check_one_select

POLL_SECONDS = 0.05
PARENT_CHECK_SECONDS = 0.2


def send(stream: Any, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("!Q", len(data)) + data)
    stream.flush()


def receive_exact(fd: int, n: int, deadline: float | None) -> bytes:
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


def receive(fd: int, deadline: float | None) -> Any:
    """One message from the other process (TimeoutError past `deadline`, EOFError when it is gone)."""
    (size,) = struct.unpack("!Q", receive_exact(fd, 8, deadline))
    return pickle.loads(receive_exact(fd, size, deadline))


def harden(con: Any, temp_dir: str, memory_limit: str, threads: int, timeout_ms: int, max_temp: str) -> None:
    """Apply L3/L4 settings in DESIGN §6 order; external access is cut and the config locked last."""
    os.makedirs(temp_dir, exist_ok=True)
    for statement, value in (
        ("SET autoinstall_known_extensions = ?", False),
        ("SET autoload_known_extensions = ?", False),
        ("SET allow_community_extensions = ?", False),
        ("SET allow_persistent_secrets = ?", False),
        ("SET enable_progress_bar = ?", False),  # it prints to stdout: our message channel
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


def _failure(exc: Exception) -> dict[str, Any]:
    """A DuckDB error as a reply: its kind tells the parent which limit (if any) stopped the query."""
    import duckdb

    if isinstance(exc, duckdb.InterruptException):
        return {"error": "interrupted", "kind": "timeout"}
    if isinstance(exc, duckdb.OutOfMemoryException):
        return {"error": short_error(exc), "kind": "memory"}
    return {"error": short_error(exc), "kind": "duckdb"}


def _checked(request: dict[str, Any]) -> dict[str, Any] | None:
    """L2 on the very text about to run (unless the parent did it); a refusal as a reply, else None."""
    try:
        if not request.get("parsed"):
            check_one_select(request["sql"])
    except (UnsafeSQLError, InvalidSQLError) as exc:
        return {"error": exc.message, "hint": exc.hint, "kind": type(exc).__name__}
    return None


def _execute(con: Any, request: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    refused = _checked(request)
    if refused is not None:
        return refused
    try:
        cursor = con.execute(request["sql"])
        columns = [(d[0], str(d[1])) for d in cursor.description or []]
        batch = cursor.fetchmany(request["max_rows"] + 1)
    except duckdb.Error as exc:
        return _failure(exc)
    truncated = len(batch) > request["max_rows"]
    cut_by = "rows" if truncated else None
    rows, total, capped = [], 0, 0
    for raw in batch[: request["max_rows"]]:
        row = []
        for value in raw:
            cell, cut = _cap_cell(value, request["max_cell"])
            capped += cut
            total += _approx_size(cell)
            row.append(cell)
        if total > request["max_bytes"]:
            truncated, cut_by = True, "bytes"
            break
        rows.append(tuple(row))
    return {"columns": columns, "rows": rows, "truncated": truncated, "cells_capped": capped, "cut_by": cut_by}


def _stream(con: Any, request: dict[str, Any], out: Any) -> None:
    """Every row of the query, in batches: {"columns"}, then {"rows": batch} ..., then {"rows": []}.

    Nothing is capped: the parent enforces the time and memory limits and stops us when one is reached."""
    import duckdb

    refused = _checked(request)
    if refused is not None:
        send(out, refused)
        return
    try:
        cursor = con.execute(request["sql"])
        send(out, {"columns": [(d[0], str(d[1])) for d in cursor.description or []]})
        while True:
            batch = cursor.fetchmany(request["stream"])
            send(out, {"rows": batch})
            if not batch:
                return
    except duckdb.Error as exc:
        send(out, _failure(exc))


def die_with_parent(parent: int, temp_root: str | None) -> None:
    """Exit (removing our temp directory) as soon as the process that started us is gone.

    A thread polls the parent's pid, so it works while the main thread is inside a long query;
    os._exit stops DuckDB's threads too. Without this a killed `nl2sql` would leave its worker
    running the query to the end."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        if temp_root:
            shutil.rmtree(temp_root, ignore_errors=True)
        os._exit(0)

    threading.Thread(target=watch, name="nl2sql-parent-watch", daemon=True).start()


def protocol_stdout() -> Any:
    """Our own copy of stdout for the messages; fd 1 itself then points at stderr.

    DuckDB writes to fd 1 on its own (its progress bar on queries past two seconds): one such byte
    in the pipe would break the framing of every message after it."""
    sys.stdout.flush()
    channel = os.dup(1)
    os.dup2(2, 1)
    return os.fdopen(channel, "wb")


def main() -> None:
    """Entry point of the worker process: open, harden, then answer queries until stdin closes."""
    stdin, stdout = sys.stdin.buffer, protocol_stdout()
    in_fd = stdin.fileno()
    try:
        config = receive(in_fd, None)
    except (EOFError, struct.error):
        return
    die_with_parent(config.get("parent", os.getppid()), config.get("home"))
    from nl2sql.data.sources import DataSource, connect

    src = config["source"]
    source = DataSource(src["name"], src["kind"], Path(src["path"]),
                        tuple((t, r, tuple(p)) for t, r, p in src["files"]))
    try:
        con = connect(source)
        harden(con, config["temp_dir"], config["memory_limit"], config["threads"], config["timeout_ms"],
               config["max_temp_size"])
    except DataSourceError as exc:
        send(stdout, {"error": exc.message, "hint": exc.hint, "kind": "source"})
        return
    except Exception as exc:  # settings rejected: refuse to run unhardened
        send(stdout, {"error": f"could not harden the database connection: {exc}", "kind": "setup"})
        return
    send(stdout, {"ready": True})
    while True:
        try:
            request = receive(in_fd, None)
        except EOFError:
            return
        if request.get("stream"):
            _stream(con, request, stdout)
        else:
            send(stdout, _execute(con, request))
