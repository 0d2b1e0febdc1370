"""What checks need of a query: its tree, the tables in scope, a row key, and small queries of our own.

A check query goes through the same guard and sandbox as any other; one that fails stays silent.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

from nl2sql.core.errors import Nl2SqlError
from nl2sql.safety.guard import guard

if TYPE_CHECKING:
    from nl2sql.data.catalog import Catalog, Table
    from nl2sql.safety.sandbox import Sandbox

log = logging.getLogger(__name__)

FROM = "from_" if "from_" in exp.Select.arg_types else "from"  # sqlglot renamed the key in v27


def parse(sql: str) -> exp.Expr | None:
    """The query's syntax tree, or None (a check that cannot parse stays silent)."""
    try:
        return sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return None


def tables_in_scope(select: exp.Select, catalog: Catalog) -> dict[str, Table]:
    """alias (lower case) -> catalog table, for the plain tables in a SELECT's FROM and JOINs."""
    sources = []
    if select.args.get(FROM):
        sources.append(select.args[FROM].this)
    sources += [j.this for j in select.args.get("joins") or []]
    scope = {}
    for src in sources:
        if isinstance(src, exp.Table):
            table = catalog.table(src.name)
            if table is not None:
                scope[src.alias_or_name.lower()] = table
    return scope


def owner(column: exp.Column, scope: dict[str, Table]) -> tuple[str, Table] | None:
    """The (alias, table) a column reference belongs to, if it can be told."""
    if column.table:
        table = scope.get(column.table.lower())
        return (column.table.lower(), table) if table else None
    owners = [(a, t) for a, t in scope.items() if any(c.name.lower() == column.name.lower() for c in t.columns)]
    return owners[0] if len(owners) == 1 else None


def row_key(table: Table) -> str | None:
    """A column that identifies a row: the primary key, or an *id column with all values distinct."""
    if len(table.primary_key) == 1:
        return table.primary_key[0]
    for col in table.columns:
        if col.primary_key or (col.name.lower().endswith("id") and col.profile.distinct == table.row_count
                               and table.row_count > 0 and col.profile.null_share == 0):
            return col.name
    return None


def run_check(sql: str, catalog: Catalog, sandbox: Sandbox, max_rows: int = 100) -> list[tuple[Any, ...]] | None:
    try:
        return sandbox.run(guard(sql, catalog, max_rows, parse_here=False), max_rows=max_rows).rows
    except Nl2SqlError as exc:  # a check never fails the answer
        log.debug("check query failed: %s", exc.message)
        return None
