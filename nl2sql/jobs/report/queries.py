"""Queries a report derives from a section's SQL, so it compares like with like.

- `whole_ranking`: a top-N query without its LIMIT, so a row that left (or entered) the top N keeps
  its rank and value in both periods;
- `total_query`: the section's measures over all its rows (no GROUP BY, ORDER BY or LIMIT), so a
  total is the true one: distinct returned orders, not a sum over ten products; an average over all
  orders, not an average of averages.

Both are rewritten with sqlglot and run through the same guard and sandbox as any other query;
None when the query is not a plain grouped SELECT that can be rewritten safely.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp


def _select(sql: str) -> exp.Select | None:
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return None
    return tree if isinstance(tree, exp.Select) else None


def whole_ranking(sql: str) -> str | None:
    """The query without its outer LIMIT (and OFFSET) when it is an ORDER BY … LIMIT N top-N; else None."""
    select = _select(sql)
    if select is None or select.args.get("limit") is None or select.args.get("order") is None:
        return None
    select.set("limit", None)
    select.set("offset", None)
    return select.sql(dialect="duckdb")


def _aggregate(node: exp.Expr) -> bool:
    return isinstance(node, exp.AggFunc) or node.find(exp.AggFunc) is not None


def total_query(sql: str) -> str | None:
    """SELECT <the aggregate outputs> FROM … WHERE … of a grouped query; None when it cannot be made.

    Not for queries with HAVING, DISTINCT, window functions or set operations, or whose outputs
    mix aggregates with grouped columns outside an aggregate.
    """
    select = _select(sql)
    if select is None or select.args.get("group") is None:
        return None
    if select.args.get("having") or select.args.get("distinct") or select.find(exp.Window) is not None:
        return None
    kept = []
    for projection in select.expressions:
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        if not _aggregate(inner):
            continue
        if any(not _inside_aggregate(col) for col in inner.find_all(exp.Column)):
            return None  # e.g. SUM(x) / region_size: a grouped column outside the aggregate
        kept.append(projection.copy())
    if not kept:
        return None
    total = select.copy()
    total.set("expressions", kept)
    for key in ("group", "order", "limit", "offset", "qualify"):
        total.set(key, None)
    return total.sql(dialect="duckdb")


def _inside_aggregate(column: exp.Column) -> bool:
    parent = column.parent
    while parent is not None and not isinstance(parent, exp.Select):
        if isinstance(parent, exp.AggFunc):
            return True
        parent = parent.parent
    return False
