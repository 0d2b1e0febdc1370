"""What an agent may see: results, answers and the catalog as plain data, per privacy tier.

An agent is a model, so the privacy tier (`--privacy`) that decides what nl2sql sends to a model
also decides what the tools of `nl2sql mcp` return:

- `rows`: result rows (capped), sample values of columns, narration, charts.
- `stats`: no result rows; aggregates of the result (total, min, max, mean, leader, trend) and
  the narration drawn from them; the catalog with its sample values. Quoted values and dates in
  warnings and errors are masked (a failed cast quotes the value it could not convert).
- `schema`: no row value at all: the SQL, column names and types, and row counts; the catalog
  without sample values or ranges; warnings and errors masked as under `stats`.

Columns annotated `pii: true` are masked (`***`) in every tier.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from nl2sql.answer.narrator import summarize
from nl2sql.core.values import json_safe

if TYPE_CHECKING:
    from nl2sql.core.values import Result
    from nl2sql.data.catalog import Catalog, Column, Metric, Table

TIERS = ("schema", "stats", "rows")
CELL_CHARS = 500  # longer cells are shortened in tool results
MAX_VALUES = 20  # sample values shown per column
WITHHELD = {
    "stats": "Result rows are withheld by the privacy tier 'stats'; the aggregates describe them.",
    "schema": "Row values are withheld by the privacy tier 'schema': only the SQL, the columns and the "
              "row count are returned.",
}
_QUOTED = re.compile(r"'((?:[^']|'')*)'")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\b")


def pii_columns(catalog: Catalog) -> set[str]:
    """Lower-cased names of the columns annotated `pii: true`."""
    return {c.name.lower() for t in catalog.tables for c in t.columns if c.pii}


def identifiers(catalog: Catalog) -> set[str]:
    """Lower-cased names of tables, columns and metrics: never masked as values."""
    names = {t.name.lower() for t in catalog.tables} | {m.name.lower() for m in catalog.metrics}
    return names | {c.name.lower() for t in catalog.tables for c in t.columns}


def withhold_values(text: str, known: set[str]) -> str:
    """`text` with quoted values and dates masked, except quoted names of tables, columns, metrics."""
    masked = _QUOTED.sub(lambda m: m.group(0) if m.group(1).lower() in known else "'…'", text)
    return _DATE.sub("…", masked)


def _cell(value: Any) -> Any:
    value = json_safe(value)
    return value[: CELL_CHARS - 1] + "…" if isinstance(value, str) and len(value) > CELL_CHARS else value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return json_safe(value)


def masked_rows(result: Result, pii: set[str]) -> list[tuple[Any, ...]]:
    """The result's rows with PII columns as '***'."""
    hidden = [i for i, (name, _) in enumerate(result.columns) if name.lower() in pii]
    if not hidden:
        return list(result.rows)
    return [tuple("***" if i in hidden else v for i, v in enumerate(row)) for row in result.rows]


def result_view(result: Result, tier: str, pii: set[str], max_rows: int) -> dict[str, Any]:
    """A result as the tier allows: columns and counts always; rows (capped) or aggregates."""
    data: dict[str, Any] = {"columns": [{"name": n, "type": t} for n, t in result.columns],
                            "row_count": result.row_count, "truncated": result.truncated}
    rows = masked_rows(result, pii)
    if tier == "rows":
        data["rows"] = [[_cell(v) for v in row] for row in rows[:max_rows]]
        if result.row_count > max_rows:
            data["rows_shown"] = max_rows
            data["rows_note"] = (f"Only the first {max_rows:,} of {result.row_count:,} rows are returned; "
                                 "aggregate in SQL (GROUP BY, LIMIT) to see the rest.")
    elif tier == "stats":
        data["aggregates"] = _plain(summarize(result.columns, rows))
        data["rows_withheld"] = WITHHELD["stats"]
    else:
        data["rows_withheld"] = WITHHELD["schema"]
    return data


def column_view(column: Column, tier: str) -> dict[str, Any]:
    """One column: type, meaning, and (unless tier `schema` or PII) sample values or its range."""
    data: dict[str, Any] = {"name": column.name, "type": column.type, "nullable": column.nullable}
    for key in ("description", "synonyms"):
        if getattr(column, key):
            data[key] = getattr(column, key)
    if column.primary_key:
        data["primary_key"] = True
    profile = column.profile
    if profile.distinct is not None:
        data["distinct"] = profile.distinct
    data["null_share"] = round(profile.null_share, 4)
    if column.pii:
        data["pii"] = "personal data: values withheld"
    elif tier != "schema":
        values = column.known_values()
        if values and column.is_text:
            data["values"] = [_cell(v) for v in values[:MAX_VALUES]]
            if len(values) > MAX_VALUES:
                data["values_note"] = f"{len(values) - MAX_VALUES} more not shown"
        elif profile.min is not None and (column.is_numeric or column.is_temporal):
            data["min"], data["max"] = json_safe(profile.min), json_safe(profile.max)
    return data


def table_view(table: Table, catalog: Catalog, tier: str) -> dict[str, Any]:
    """One table for describe_table: its columns, keys, description and relationships."""
    data: dict[str, Any] = {"table": table.name, "row_count": table.row_count}
    if table.description:
        data["description"] = table.description
    if table.synonyms:
        data["synonyms"] = table.synonyms
    if table.primary_key:
        data["primary_key"] = table.primary_key
    data["columns"] = [column_view(c, tier) for c in table.columns]
    data["relationships"] = [str(r) for r in catalog.relationships if table.name in (r.from_table, r.to_table)]
    data["privacy"] = tier
    return data


def semantic_layer(catalog: Catalog, tier: str) -> dict[str, Any]:
    """The semantic layer (descriptions, synonyms, values per tier, relationships, metrics, examples)."""
    tables: dict[str, Any] = {}
    for t in catalog.tables:
        columns = {}
        for c in t.columns:
            entry = {k: v for k, v in column_view(c, tier).items() if k in ("description", "synonyms", "values", "pii")}
            if c.value_synonyms and tier != "schema" and not c.pii:
                entry["value_synonyms"] = c.value_synonyms
            columns[c.name] = entry
        tables[t.name] = {"description": t.description, "synonyms": t.synonyms, "columns": columns}
    return {"name": catalog.name, "description": catalog.description, "privacy": tier, "tables": tables,
            "relationships": [str(r) for r in catalog.relationships],
            "metrics": [metric_view(m) for m in catalog.metrics],
            "examples": [{"question": e.question, "sql": e.sql} for e in catalog.examples]}


def metric_view(metric: Metric) -> dict[str, Any]:
    """One metric: its definition, default filter, synonyms and format."""
    return {k: v for k, v in {"name": metric.name, "description": metric.description, "sql": metric.sql,
                              "filter": metric.filter, "synonyms": metric.synonyms,
                              "format": metric.format}.items() if v}
