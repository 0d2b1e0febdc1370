"""Result rows as CSV, JSON, Markdown or Parquet (for --format and chat's /export).

`rows_as(fmt, result)` formats rows held in memory. An export of a whole query result is
streamed instead: a `RowWriter` receives the columns, then batches of rows, and writes each
batch as it comes (`writer_for`), so no row cap applies and memory holds one batch at a time.
CSV and JSON keep the data exactly; Markdown is for reading, so its text is made terminal-safe.
"""

from __future__ import annotations

import contextlib
import csv
import decimal
import io
import json
import tempfile
from pathlib import Path
from typing import Any, Protocol

from nl2sql.core.errors import OutputError
from nl2sql.core.files import atomic_path
from nl2sql.core.text import terminal_safe
from nl2sql.core.values import Result, json_safe

TEXT_FORMATS = ("csv", "json", "markdown")
FORMATS = (*TEXT_FORMATS, "parquet")


def rows_as(fmt: str, result: Result) -> str:
    """The result's rows in `fmt` ('csv', 'json' or 'markdown')."""
    buf = io.StringIO()
    writer = writer_for(fmt, buf)
    writer.begin(result.columns)
    writer.write(result.rows)
    writer.finish()
    return buf.getvalue()


class TextOut(Protocol):
    """Where a writer puts its text: a file, stdout, a buffer."""

    def write(self, text: str, /) -> Any: ...


class RowWriter:
    """Writes a result as it streams in: `begin(columns)`, `write(rows)` per batch, then `finish()`."""

    def __init__(self, out: TextOut) -> None:
        self.out = out
        self.names: list[str] = []
        self.rows = 0

    def begin(self, columns: list[tuple[str, str]]) -> None:
        """The result's columns, before any row."""
        self.names = [n for n, _ in columns]

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        """One batch of rows."""
        self.rows += len(rows)

    def finish(self) -> None:
        """After the last batch."""

    def abort(self) -> None:
        """The export failed: drop whatever the writer staged on its own."""


class CsvWriter(RowWriter):
    """A header line, then one line per row; NULL as an empty field."""

    def begin(self, columns: list[tuple[str, str]]) -> None:
        super().begin(columns)
        self._csv = csv.writer(self.out, lineterminator="\n")
        self._csv.writerow(self.names)

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        super().write(rows)
        self._csv.writerows(["" if v is None else _plain(v) for v in row] for row in rows)


class JsonWriter(RowWriter):
    """A JSON array of objects, one per row, written row by row."""

    def begin(self, columns: list[tuple[str, str]]) -> None:
        super().begin(columns)
        self.out.write("[")

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        for row in rows:
            self.out.write("," if self.rows else "")
            self.out.write("\n " + json.dumps(dict(zip(self.names, row, strict=False)), ensure_ascii=False,
                                              default=_json_default))
            self.rows += 1

    def finish(self) -> None:
        self.out.write("\n]\n" if self.rows else "]\n")


class MarkdownWriter(RowWriter):
    """A Markdown table: escaped pipes, no line breaks, no control characters."""

    def begin(self, columns: list[tuple[str, str]]) -> None:
        super().begin(columns)
        self.out.write("| " + " | ".join(_md_cell(n) for n in self.names) + " |\n")
        self.out.write("|" + "---|" * len(self.names) + "\n")

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        super().write(rows)
        self.out.write("".join("| " + " | ".join(_md_cell(v) for v in row) + " |\n" for row in rows))


def writer_for(fmt: str, out: TextOut) -> RowWriter:
    """The streaming writer of a text format."""
    writers = {"csv": CsvWriter, "json": JsonWriter, "markdown": MarkdownWriter}
    if fmt not in writers:
        raise ValueError(fmt)
    return writers[fmt](out)


def _plain(value: Any) -> Any:
    """A cell for CSV: dates as ISO text, decimals exact, bytes as hex, nested values as JSON."""
    if isinstance(value, list | tuple | dict):
        return json.dumps(value, ensure_ascii=False, default=_json_default)
    if isinstance(value, decimal.Decimal):
        return str(value)
    return json_safe(value) if not isinstance(value, str) else value


def _json_default(value: Any) -> Any:
    return json_safe(value, max_chars=None)


def _md_cell(value: object) -> str:
    text = "" if value is None else str(_plain(value))
    return terminal_safe(text, one_line=True).replace("|", "\\|")


class ParquetWriter(RowWriter):
    """Rows staged as JSON Lines beside the target, then written as Parquet by DuckDB with the result's
    column types (binary and interval columns become text). The target appears whole or not at all;
    `abort()` (or a failure) removes the staging file."""

    def __init__(self, target: Path) -> None:
        self.target = target
        staging = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target.parent,  # noqa: SIM115 (kept open)
                                              prefix=f".{target.name}.", suffix=".jsonl", delete=False)
        super().__init__(staging)
        self._file = staging
        self._staging = Path(staging.name)
        self.types: list[str] = []

    def begin(self, columns: list[tuple[str, str]]) -> None:
        super().begin(columns)
        self.types = ["VARCHAR" if t.upper().startswith(("BLOB", "BYTEA", "INTERVAL", "BIT")) else t
                      for _, t in columns]

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        super().write(rows)
        self.out.write("".join(json.dumps({f"c{i}": v for i, v in enumerate(row)}, ensure_ascii=False,
                                          default=_json_default) + "\n" for row in rows))

    def finish(self) -> None:
        import duckdb

        try:
            self._file.close()
            columns = ", ".join(f"{_sql_string(f'c{i}')}: {_sql_string(t)}" for i, t in enumerate(self.types))
            select = ", ".join(f"c{i} AS {_ident(n)}" for i, n in enumerate(self.names))
            with atomic_path(self.target) as tmp:
                con = duckdb.connect()
                try:
                    con.execute(f"COPY (SELECT {select} FROM read_json({_sql_string(str(self._staging))}, "
                                f"format = 'newline_delimited', columns = {{{columns}}})) "
                                f"TO {_sql_string(str(tmp))} (FORMAT parquet)")
                finally:
                    con.close()
        except duckdb.Error as exc:
            raise OutputError(f"Could not write {self.target} as Parquet: {str(exc).splitlines()[0]}") from None
        finally:
            self.abort()

    def abort(self) -> None:
        """Remove the staging file (it is never meant to stay)."""
        with contextlib.suppress(OSError):
            self._file.close()
        self._staging.unlink(missing_ok=True)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
