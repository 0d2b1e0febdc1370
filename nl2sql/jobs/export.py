"""Exports: every row of a query, streamed from the sandbox into a file (or stdout), or nothing.

`--format … -o FILE` (ask, sql) and chat's `/export` run the query again without the display's
row cap: the guard checks it as it checks any query, the sandbox streams it in batches within
its time and memory limits, and a writer puts each batch on disk as it arrives. The file is
written beside its target and renamed when complete; when a limit, an error or the disk stops
the export, the partial file is removed and the error says which limit it was.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import IO, Any

from nl2sql.answer.export import ParquetWriter, RowWriter, writer_for
from nl2sql.core.errors import LimitError, Nl2SqlError, OutputError
from nl2sql.core.files import atomic_output
from nl2sql.core.text import terminal_safe
from nl2sql.data.catalog import Catalog
from nl2sql.safety.guard import guard
from nl2sql.safety.sandbox import Sandbox


@dataclasses.dataclass(frozen=True)
class Exported:
    """What an export wrote."""

    rows: int
    columns: list[str]
    path: Path | None  # None: standard output


def export_rows(sql: str, catalog: Catalog, sandbox: Sandbox, fmt: str, target: Path | None,
                stdout: IO[str] | None = None) -> Exported:
    """Stream every row of `sql` (without a row cap: pass `without_cap` of a guarded query) as `fmt` to `target`.

    With `target=None` the rows go to `stdout` (made terminal-safe when it is a terminal). Raises
    the LimitError that stopped it (QueryTimeoutError, MemoryLimitError) or an OutputError; either
    way no partial file is left.
    """
    guarded = guard(sql, catalog, max_rows=None, parse_here=False)
    if target is None:
        out = stdout or sys.stdout
        writer = writer_for(fmt, _TerminalSafe(out) if out.isatty() else out)
        return Exported(_run(sandbox, guarded, writer, None), writer.names, None)
    try:
        if fmt == "parquet":
            return Exported(_run(sandbox, guarded, ParquetWriter(target), target), [], target)
        with atomic_output(target) as handle:
            writer = writer_for(fmt, handle)
            rows = _run(sandbox, guarded, writer, target)
        return Exported(rows, writer.names, target)
    except OSError as exc:
        raise OutputError(f"Could not write {target}: {exc.strerror or type(exc).__name__}.",
                          hint="Nothing was written. Check the free disk space and the folder's permissions.") from None


def _run(sandbox: Sandbox, guarded: Any, writer: RowWriter, target: Path | None) -> int:
    """Stream into `writer`; a limit that stops the stream is re-raised saying what was (not) written."""
    try:
        rows = sandbox.stream(guarded, writer)
        writer.finish()
        return rows
    except LimitError as exc:
        writer.abort()
        where = (f"Nothing was written to {target} (the partial file was removed)." if target else
                 "The rows printed above are incomplete.")
        raise type(exc)(f"The export stopped after {writer.rows:,} rows: {exc.message[0].lower()}{exc.message[1:]}",
                        hint=f"{where} {exc.hint or ''}".strip()) from None
    except (Nl2SqlError, OSError, KeyboardInterrupt):
        writer.abort()
        raise


class _TerminalSafe:
    """A text stream that shows control characters from the data as symbols (stdout on a terminal)."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def write(self, text: str) -> int:
        return self.out.write(terminal_safe(text))
