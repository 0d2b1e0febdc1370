"""Result checks: warnings when a result looks wrong, so a wrong answer is never stated with confidence.

- shape: truncated rows, shortened cells, no rows;
- empty results: which filter value matched nothing, with close values that exist;
- join fan-out: a join repeats the rows of the table being summed or counted;
- NULL-heavy output columns; shares that add up to more than 100 %.

Checks that need the data run small queries of our own through the same guard and sandbox.
A check that cannot run stays silent: it never turns an answer into an error.
"""

from __future__ import annotations

import decimal
import difflib
import logging
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

from nl2sql.core.errors import Nl2SqlError
from nl2sql.core.values import is_date_type
from nl2sql.safety.guard import guard

if TYPE_CHECKING:
    from nl2sql.core.values import Result
    from nl2sql.data.catalog import Catalog, Table
    from nl2sql.safety.sandbox import Sandbox

log = logging.getLogger(__name__)

FROM = "from_" if "from_" in exp.Select.arg_types else "from"  # sqlglot renamed the key in v27
NULL_HEAVY_SHARE = 0.5
SHARE_WORDS = ("share", "pct", "percent", "percentage", "占比", "比例")


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


def impossible_shares(result: Result) -> list[str]:
    """Share-of-total columns that add up to more than 100 %."""
    if result.truncated or len(result.rows) < 2:
        return []
    out = []
    for i, (name, _) in enumerate(result.columns):
        if not any(w in name.lower() for w in SHARE_WORDS):
            continue
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


# ---------------------------------------------------------------------------------------------


def _parse(sql: str) -> exp.Expr | None:
    """The query's syntax tree, or None (a check that cannot parse stays silent)."""
    try:
        return sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return None


def _tables_in_scope(select: exp.Select, catalog: Catalog) -> dict[str, Table]:
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


def _owner(column: exp.Column, scope: dict[str, Table]) -> tuple[str, Table] | None:
    """The (alias, table) a column reference belongs to, if it can be told."""
    if column.table:
        table = scope.get(column.table.lower())
        return (column.table.lower(), table) if table else None
    owners = [(a, t) for a, t in scope.items() if any(c.name.lower() == column.name.lower() for c in t.columns)]
    return owners[0] if len(owners) == 1 else None


def _key(table: Table) -> str | None:
    """A column that identifies a row: the primary key, or an *id column with all values distinct."""
    if len(table.primary_key) == 1:
        return table.primary_key[0]
    for col in table.columns:
        if col.primary_key or (col.name.lower().endswith("id") and col.profile.distinct == table.row_count
                               and table.row_count > 0 and col.profile.null_share == 0):
            return col.name
    return None


def _run(sql: str, catalog: Catalog, sandbox: Sandbox, max_rows: int = 100) -> list[tuple[Any, ...]] | None:
    try:
        return sandbox.run(guard(sql, catalog, max_rows, parse_here=False), max_rows=max_rows).rows
    except Nl2SqlError as exc:  # a check never fails the answer
        log.debug("check query failed: %s", exc.message)
        return None


def fan_out(sql: str, catalog: Catalog, sandbox: Sandbox) -> list[str]:
    """Warn when a join repeats the rows of a table whose columns are summed, averaged or counted.

    For each aggregating SELECT with joins: COUNT(*) of its joined rows vs COUNT(DISTINCT key)
    of the table being aggregated, under the same FROM, JOINs and WHERE. More joined rows than
    keys means each row of that table is counted more than once.
    """
    tree = _parse(sql)
    if tree is None:
        return []
    out = []
    for select in tree.find_all(exp.Select):
        joins = select.args.get("joins")
        if not joins or not select.args.get(FROM):
            continue
        scope = _tables_in_scope(select, catalog)
        aggregated: dict[str, Table] = {}
        for agg in select.find_all(exp.Sum, exp.Avg, exp.Count):
            if agg.parent_select is not select or isinstance(agg.this, exp.Distinct):
                continue
            if isinstance(agg, exp.Count) and (agg.this is None or isinstance(agg.this, exp.Star)):
                driving = select.args[FROM].this
                if isinstance(driving, exp.Table) and driving.alias_or_name.lower() in scope:
                    aggregated[driving.alias_or_name.lower()] = scope[driving.alias_or_name.lower()]
                continue
            for col in agg.find_all(exp.Column):
                owner = _owner(col, scope)
                if owner:
                    aggregated[owner[0]] = owner[1]
        for alias, table in aggregated.items():
            key = _key(table)
            if key is None:
                continue
            check = exp.select(exp.Count(this=exp.Star()).as_("n"),
                               exp.Count(this=exp.Distinct(expressions=[exp.column(key, table=alias)])).as_("d"))
            check.set(FROM, select.args[FROM].copy())
            check.set("joins", [j.copy() for j in joins])
            if select.args.get("where"):
                check.set("where", select.args["where"].copy())
            if tree.args.get("with") is not None and select is tree:
                check.set("with", tree.args["with"].copy())
            rows = _run(check.sql(dialect="duckdb"), catalog, sandbox, 1)
            if not rows:
                continue
            n, d = rows[0]
            if n and d and n > d:
                others = ", ".join(j.this.name for j in joins if isinstance(j.this, exp.Table)
                                   and j.this.alias_or_name.lower() != alias)
                out.append(f"Join fan-out: joining {others or 'the other tables'} repeats rows of {table.name} "
                           f"({n:,} joined rows for {d:,} {table.name} rows), so sums and counts over "
                           f"{table.name} are inflated. Aggregate before joining, or count distinct keys.")
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
        owner = _owner(col, scope)
        if owner is None:
            continue
        literals = node.expressions if isinstance(node, exp.In) else [node.expression]
        for lit in literals:
            if isinstance(lit, exp.Literal) and lit.is_string:
                found.append((owner[1], col.name, lit.this))
    return found


def empty_result(sql: str, catalog: Catalog, sandbox: Sandbox) -> list[str]:
    """For a query with no rows: which text filter matched nothing, and which values come close."""
    tree = _parse(sql)
    if tree is None:
        return []
    out = []
    for select in tree.find_all(exp.Select):
        scope = _tables_in_scope(select, catalog)
        for table, column, value in _literal_filters(select, scope):
            ident = exp.column(column, quoted=True).sql(dialect="duckdb")
            lit = exp.Literal.string(value).sql(dialect="duckdb")
            hit = _run(f'SELECT 1 FROM "{table.name}" WHERE {ident} = {lit} LIMIT 1', catalog, sandbox, 1)
            if hit is None or hit:
                continue
            values = _run(f'SELECT DISTINCT CAST({ident} AS VARCHAR) FROM "{table.name}" WHERE {ident} IS NOT NULL '
                          f"LIMIT 5000", catalog, sandbox, 5000) or []
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
        scope = _tables_in_scope(select, catalog)
        where = select.args.get("where")
        if where is None:
            continue
        for col in where.find_all(exp.Column):
            owner = _owner(col, scope)
            if owner is None:
                continue
            column = next((c for c in owner[1].columns if c.name.lower() == col.name.lower()), None)
            if column and is_date_type(column.type) and column.profile.min:
                note = (f"Nothing matched: {owner[1].name}.{column.name} covers {str(column.profile.min)[:10]} to "
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


def check_result(sql: str, result: Result, catalog: Catalog, sandbox: Sandbox | None, max_rows: int) -> list[str]:
    """All the warnings for one result, most important first."""
    warnings = shape_warnings(result, max_rows)
    if sandbox is not None:
        if not result.rows or _all_zero(result):
            warnings += empty_result(sql, catalog, sandbox)
        else:
            warnings += fan_out(sql, catalog, sandbox)
    warnings += null_heavy(result)
    warnings += impossible_shares(result)
    return warnings
