"""Result checks: warnings when a result looks wrong, so a wrong answer is never stated with confidence.

- shape: truncated rows, shortened cells, no rows;
- empty results: which filter value matched nothing, with close values that exist;
- join fan-out: a join repeats the rows of the table being summed or counted, and that changes the number;
- rows an inner join leaves out (no matching row on the other side), with how to keep them;
- a first or last week/month/quarter/year that is only partly covered;
- NULL-heavy output columns; shares of one total that add up to more than 100 %.

Checks that need the data run small queries of our own through the same guard and sandbox.
A check that cannot run stays silent: it never turns an answer into an error.
"""

from __future__ import annotations

import decimal
import difflib
from typing import TYPE_CHECKING

from sqlglot import exp

from nl2sql.core.values import is_date_type
from nl2sql.safety.joins import dropped_by_joins, fan_out
from nl2sql.safety.periods import partial_periods
from nl2sql.safety.probe import owner, parse, run_check, tables_in_scope

if TYPE_CHECKING:
    from nl2sql.core.values import Result
    from nl2sql.data.catalog import Catalog, Table
    from nl2sql.safety.sandbox import Sandbox

NULL_HEAVY_SHARE = 0.5
SHARE_WORDS = ("share", "of_total", "pct_of", "percent_of", "占比")


def shape_warnings(result: Result, max_rows: int) -> list[str]:
    """Truncated rows, shortened cells, an empty result."""
    warnings = []
    if result.truncated and result.cut_by == "bytes":
        warnings.append(f"Only the first {result.row_count:,} rows are shown: the result reached the size cap for "
                        f"results held in memory before the row cap ({max_rows:,}); totals and shares cover those "
                        "rows only. Use --format with -o FILE to export every row.")
    elif result.truncated:
        warnings.append(f"Only the first {result.row_count:,} rows are shown (row cap {max_rows:,}); "
                        "totals and shares cover those rows only.")
    if result.cells_capped:
        warnings.append(f"{result.cells_capped} long cell(s) were shortened.")
    if not result.rows:
        warnings.append("The query returned no rows.")
    return warnings


def null_heavy(result: Result) -> list[str]:
    """Output columns that are mostly NULL (a join or a filter that did not match)."""
    n = len(result.rows)
    if n == 0:
        return []
    out = []
    for i, (name, _) in enumerate(result.columns):
        nulls = sum(1 for row in result.rows if row[i] is None)
        if nulls and (nulls == n or (n >= 3 and nulls / n >= NULL_HEAVY_SHARE)):
            out.append(f"Column '{name}' is empty (NULL) in {nulls:,} of {n:,} rows; a join or a filter may not "
                       "have matched.")
    return out


def _shares_of_one_whole(result: Result, sql: str | None) -> list[int]:
    """Columns that are each row's share of one total: named a share ('share', 'of_total', '占比'), or
    computed over a window of the whole result (x / SUM(x) OVER ()). A percentage per row (a margin,
    a discount, a return rate) is no share of one whole, and its rows need not add up to 100 %."""
    windowed: set[str] = set()
    tree = parse(sql) if sql else None
    if tree is not None and isinstance(tree, exp.Select):
        for projection in tree.expressions:
            for window in projection.find_all(exp.Window):
                if isinstance(window.this, exp.Sum) and not window.args.get("partition_by") \
                        and projection.find(exp.Div) is not None:
                    windowed.add(projection.alias_or_name.lower())
    return [i for i, (name, _) in enumerate(result.columns)
            if name.lower() in windowed or any(w in name.lower() for w in SHARE_WORDS)]


def impossible_shares(result: Result, sql: str | None = None) -> list[str]:
    """Shares of one total that add up to more than 100 % (rows counted twice, or mixed bases)."""
    if result.truncated or len(result.rows) < 2:
        return []
    out = []
    for i in _shares_of_one_whole(result, sql):
        name = result.columns[i][0]
        values = [float(r[i]) for r in result.rows
                  if isinstance(r[i], int | float | decimal.Decimal) and not isinstance(r[i], bool)]
        if len(values) < 2 or any(v < 0 for v in values):
            continue
        total = sum(values)
        fraction = max(values) <= 1.0
        if (fraction and total > 1.005) or (not fraction and total > 100.5):
            shown = f"{total * 100:.1f} %" if fraction else f"{total:.1f} %"
            out.append(f"Column '{name}' adds up to {shown}; shares of one total cannot exceed 100 %. "
                       "Rows may be counted twice (check the joins) or the shares have different bases.")
    return out


def _literal_filters(select: exp.Select, scope: dict[str, Table]) -> list[tuple[Table, str, str]]:
    """(table, column, value) for each `column = 'text'` / `column IN ('a', 'b')` filter."""
    found: list[tuple[Table, str, str]] = []
    where = select.args.get("where")
    if where is None:
        return found
    for node in where.find_all(exp.EQ, exp.In):  # LIKE patterns are not values
        col = node.this if isinstance(node.this, exp.Column) else None
        if col is None:
            continue
        found_owner = owner(col, scope)
        if found_owner is None:
            continue
        literals = node.expressions if isinstance(node, exp.In) else [node.expression]
        for lit in literals:
            if isinstance(lit, exp.Literal) and lit.is_string:
                found.append((found_owner[1], col.name, lit.this))
    return found


def empty_result(sql: str, catalog: Catalog, sandbox: Sandbox) -> list[str]:
    """For a query with no rows: which text filter matched nothing, and which values come close."""
    tree = parse(sql)
    if tree is None:
        return []
    out = []
    for select in tree.find_all(exp.Select):
        scope = tables_in_scope(select, catalog)
        for table, column, value in _literal_filters(select, scope):
            ident = exp.column(column, quoted=True).sql(dialect="duckdb")
            lit = exp.Literal.string(value).sql(dialect="duckdb")
            hit = run_check(f'SELECT 1 FROM "{table.name}" WHERE {ident} = {lit} LIMIT 1', catalog, sandbox, 1)
            if hit is None or hit:
                continue
            values = run_check(f'SELECT DISTINCT CAST({ident} AS VARCHAR) FROM "{table.name}" '
                               f"WHERE {ident} IS NOT NULL LIMIT 5000", catalog, sandbox, 5000) or []
            names = [str(v[0]) for v in values]
            lowered = {n.lower(): n for n in names}
            close = [lowered[c] for c in difflib.get_close_matches(value.lower(), list(lowered), n=3, cutoff=0.75)]
            hint = (f" Did you mean {', '.join(repr(c) for c in close)}?" if close
                    else f" It has values such as {', '.join(repr(n) for n in names[:5])}." if names else "")
            out.append(f"No row of {table.name} has {column} = {value!r}.{hint}")
    if not out:
        out.extend(_date_ranges(tree, catalog))
    return out


def _date_ranges(tree: exp.Expr, catalog: Catalog) -> list[str]:
    """When nothing else explains an empty result: the period the date filters cover vs the data's."""
    out = []
    for select in tree.find_all(exp.Select):
        scope = tables_in_scope(select, catalog)
        where = select.args.get("where")
        if where is None:
            continue
        for col in where.find_all(exp.Column):
            found = owner(col, scope)
            if found is None:
                continue
            column = next((c for c in found[1].columns if c.name.lower() == col.name.lower()), None)
            if column and is_date_type(column.type) and column.profile.min:
                note = (f"Nothing matched: {found[1].name}.{column.name} covers {str(column.profile.min)[:10]} to "
                        f"{str(column.profile.max)[:10]}; check that the period asked for lies inside it.")
                if note not in out:
                    out.append(note)
    return out


def _all_zero(result: Result) -> bool:
    """One row of aggregates that are all 0 or NULL: COUNT/SUM over rows that matched nothing."""
    if len(result.rows) != 1:
        return False
    row = result.rows[0]
    return all(v is None or (isinstance(v, int | float | decimal.Decimal) and not isinstance(v, bool) and v == 0)
               for v in row)


def check_result(sql: str, result: Result, catalog: Catalog, sandbox: Sandbox | None,
                 max_rows: int) -> list[str]:
    """All the warnings for one result, most important first."""
    warnings = shape_warnings(result, max_rows)
    if sandbox is not None:
        if not result.rows or _all_zero(result):
            warnings += empty_result(sql, catalog, sandbox)
        else:
            warnings += fan_out(sql, catalog, sandbox)
            warnings += dropped_by_joins(sql, catalog, sandbox)
    warnings += partial_periods(sql, result, catalog)[0]
    warnings += null_heavy(result)
    warnings += impossible_shares(result, sql)
    return warnings
