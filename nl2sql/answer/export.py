"""Result rows as CSV, JSON, Markdown or Parquet (for --format and chat's /export)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from pathlib import Path

from nl2sql.core.errors import UsageError
from nl2sql.core.values import Result, json_safe


def rows_as(fmt: str, result: Result) -> str:
    """The result's rows in `fmt` ('csv', 'json' or 'markdown')."""
    names = result.column_names
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(names)
        for row in result.rows:
            writer.writerow(["" if v is None else json_safe(v) for v in row])
        return buf.getvalue()
    if fmt == "json":
        return json.dumps([dict(zip(names, (json_safe(v) for v in row), strict=False)) for row in result.rows],
                          ensure_ascii=False, indent=1)
    if fmt == "markdown":
        def cell(value: object) -> str:
            text = "" if value is None else str(json_safe(value))
            return text.replace("|", "\\|").replace("\n", " ")

        lines = ["| " + " | ".join(cell(n) for n in names) + " |", "|" + "---|" * len(names)]
        lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in result.rows]
        return "\n".join(lines) + "\n"
    raise ValueError(fmt)


def write_parquet(result: Result, target: Path) -> None:
    """The rows of a result as a Parquet file (via an in-memory DuckDB; written whole or not at all)."""
    import duckdb

    tmp = target.with_name(f".{target.name}.tmp")
    con = duckdb.connect()
    try:
        cols = ", ".join(f'"{n.replace(chr(34), chr(34) * 2)}" {t}' for n, t in result.columns)
        con.execute(f"CREATE TABLE t ({cols})")
        if result.rows:
            marks = ", ".join("?" for _ in result.columns)
            con.executemany(f"INSERT INTO t VALUES ({marks})", [list(r) for r in result.rows])
        path = str(tmp).replace("'", "''")
        con.execute(f"COPY t TO '{path}' (FORMAT parquet)")
        os.replace(tmp, target)
    except duckdb.Error as exc:
        raise UsageError(f"Could not write {target}: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
        with contextlib.suppress(OSError):
            tmp.unlink()
