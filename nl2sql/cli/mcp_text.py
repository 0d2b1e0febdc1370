"""What `nl2sql mcp` tells an agent: the server's instructions and each tool's description.

Written for a model that decides which tool to call: what each returns, its limits (filled in
from the settings the server runs with) and what is refused.
"""

from __future__ import annotations

from nl2sql.core.config import Settings

TIER_RESULTS = {
    "rows": "rows (at most {rows:,} per result; personal-data columns masked as ***)",
    "stats": "no rows: the privacy tier 'stats' returns aggregates of the result instead (total, min, max, mean, "
             "leader, trend)",
    "schema": "no row values at all: the privacy tier 'schema' returns only the SQL, column names and types "
              "and the row count",
}


def sandbox_limits(settings: Settings) -> str:
    """The limits every query runs under."""
    return (f"Each query runs read-only in a sandbox for at most {settings.timeout:g} s and "
            f"{settings.memory_limit} of memory, fetching at most {settings.max_rows:,} rows")


def limits(settings: Settings, rows: int) -> str:
    """The limits of a query and of a tool result, in one sentence."""
    return f"{sandbox_limits(settings)}; a tool result carries at most {rows:,} of them."


def instructions(settings: Settings) -> str:
    """The server's instructions: how to use the tools together."""
    return (
        "nl2sql answers questions about one database with SQL that is proven read-only before it runs. "
        "Start with list_tables (and describe_table for the tables you need, or the nl2sql://schema and "
        "nl2sql://semantic-layer resources); use list_metrics for the business definitions (revenue, orders …) "
        "the data owner verified. Prefer ask for a plain question: it writes the SQL, runs it, checks the result "
        "and states the answer with every number grounded in the rows. Use run_sql for your own SQL. Nothing can "
        "modify the data: any statement other than one SELECT query is refused. "
        + sandbox_limits(settings) + f". Privacy tier: {settings.privacy}. Every call is recorded in "
        "nl2sql's audit log."
    )


def tool_descriptions(settings: Settings, rows: int) -> dict[str, str]:
    """Each tool's description, with the limits and privacy tier of this server."""
    tier = settings.privacy
    results = TIER_RESULTS[tier].format(rows=rows)
    values = ("sample values of text columns (up to 20) or the min/max of numbers and dates"
              if tier != "schema" else "no sample values (privacy tier 'schema')")
    return {
        "list_tables": (
            "List the tables of the database: name, description, row count and column names, plus the "
            "relationships (join paths, as from_table.column -> to_table.column). Call this first."),
        "describe_table": (
            "Describe one table: each column's type, nullability, description, synonyms, distinct count and "
            f"null share, {values}; its primary key and relationships. Personal-data columns never show "
            "values. An unknown name is an error that suggests the closest table."),
        "list_metrics": (
            "List the business metrics of the semantic layer (name, SQL expression, default filter, synonyms, "
            "format) and the verified question/SQL examples. Use these definitions rather than inventing "
            "your own: 'revenue' here may count completed orders only."),
        "ask": (
            "Answer a question about the data in plain language (English or Chinese). Returns answer_id, the "
            f"SQL that ran, the columns, {results}, the row count, a narration whose every number was "
            "checked against the result, the assumptions made (e.g. which metric definition), and warnings "
            "(empty results, join fan-out, truncation). chart=true adds the chart as a PNG image"
            f"{'' if tier == 'rows' else ' (not under this privacy tier: a chart shows row values)'}. Each "
            "question stands alone: "
            "no follow-ups, so include every filter and period. When the question cannot be answered from the "
            "data it is refused (an error naming the words that could not be placed) rather than guessed. "
            + limits(settings, rows)),
        "run_sql": (
            "Run your own SQL (DuckDB dialect) through the same guard and sandbox as generated SQL. Returns "
            f"the SQL as run (a LIMIT is added or lowered to the row cap), the columns, {results}, the row count "
            "and warnings. Refused, as an error with the reason: anything but exactly one SELECT / WITH … "
            "SELECT / UNION query (no INSERT, UPDATE, DELETE, DROP, CREATE, COPY, ATTACH, PRAGMA, SET), "
            "table functions and file paths (read_csv, 'file.parquet'), tables not in list_tables, unknown "
            "columns (with a 'did you mean'), recursive CTEs and joins without a condition over 50 M rows. "
            "A query past the time or memory limit is stopped and reported as an error. " + limits(settings, rows)),
        "explain": (
            "Explain an earlier answer by its answer_id: the SQL, which backend and model wrote it, repairs, "
            "assumptions, notes on how it was made and, unless the privacy tier is 'schema', the receipts: "
            "each number of the narration with the cell or aggregate behind it. The last 50 answers are kept."),
    }
