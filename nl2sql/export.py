"""Result rows as CSV, JSON or Markdown text (for --format and chat's /export)."""

from __future__ import annotations

import csv
import io
import json

from nl2sql.catalog import json_safe
from nl2sql.sandbox import Result


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
