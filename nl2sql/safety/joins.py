"""Join checks: a join that repeats the rows being summed (fan-out), and an inner join that drops rows.

Each runs small queries of its own under the query's FROM, JOINs and WHERE, and speaks only when
the number people see is actually affected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from nl2sql.safety.probe import FROM, owner, parse, row_key, run_check, tables_in_scope

if TYPE_CHECKING:
    from nl2sql.data.catalog import Catalog, Table
    from nl2sql.safety.sandbox import Sandbox


def _base_query(select: exp.Select, tree: exp.Expr, joins: list[exp.Join] | None = None) -> exp.Select:
    """SELECT <nothing yet> with the select's FROM, JOINs, WHERE (and the query's CTEs)."""
    check = exp.select()
    check.set(FROM, select.args[FROM].copy())
    check.set("joins", [j.copy() for j in (joins if joins is not None else select.args.get("joins") or [])])
    if select.args.get("where"):
        check.set("where", select.args["where"].copy())
    if tree.args.get("with") is not None and select is tree:
        check.set("with", tree.args["with"].copy())
    return check


def _aggregated(select: exp.Select, scope: dict[str, Table]) -> list[tuple[exp.AggFunc, str, Table]]:
    """(aggregate, alias, table) for each SUM/AVG/COUNT of this SELECT over one table's columns.

    An aggregate over columns of two tables (SUM(i.quantity * p.cost)) is computed per joined row on
    purpose and is left out; COUNT(*) belongs to the driving table.
    """
    found: list[tuple[exp.AggFunc, str, Table]] = []
    for agg in select.find_all(exp.Sum, exp.Avg, exp.Count):
        if agg.parent_select is not select or isinstance(agg.this, exp.Distinct):
            continue
        if isinstance(agg, exp.Count) and (agg.this is None or isinstance(agg.this, exp.Star)):
            driving = select.args[FROM].this
            if isinstance(driving, exp.Table) and driving.alias_or_name.lower() in scope:
                found.append((agg, driving.alias_or_name.lower(), scope[driving.alias_or_name.lower()]))
            continue
        owners = {o[0]: o[1] for col in agg.find_all(exp.Column) if (o := owner(col, scope))}
        if len(owners) == 1:
            alias, table = next(iter(owners.items()))
            found.append((agg, alias, table))
    return found


def _inflation(select: exp.Select, tree: exp.Expr, agg: exp.AggFunc, alias: str, key: str, catalog: Catalog,
               sandbox: Sandbox) -> tuple[float, float, int, int] | None:
    """(value over the joined rows, value with each keyed row once, joined rows, keys), or None."""
    key_col = exp.column(key, table=alias)
    whole = _base_query(select, tree)
    whole.select(agg.copy().as_("v"), exp.Count(this=exp.Star()).as_("n"),
                 exp.Count(this=exp.Distinct(expressions=[key_col.copy()])).as_("d"), copy=False)
    if isinstance(agg, exp.Count) and (agg.this is None or isinstance(agg.this, exp.Star)):
        rows = run_check(whole.sql(dialect="duckdb"), catalog, sandbox, 1)
        return (float(rows[0][1]), float(rows[0][2]), rows[0][1], rows[0][2]) if rows and rows[0][2] else None
    inner = _base_query(select, tree)
    argument = agg.this.copy()
    inner.select(key_col.copy().as_("k"), argument.as_("x"), copy=False).distinct(copy=False)
    once = exp.select(agg.__class__(this=exp.column("x")).as_("v")).from_(inner.subquery("nl2sql_once"))
    if tree.args.get("with") is not None and select is tree:
        once.set("with", inner.args.pop("with"))
    joined, single = run_check(whole.sql(dialect="duckdb"), catalog, sandbox, 1), run_check(once.sql(dialect="duckdb"),
                                                                                   catalog, sandbox, 1)
    if not joined or not single or joined[0][0] is None or single[0][0] is None:
        return None
    return float(joined[0][0]), float(single[0][0]), joined[0][1], joined[0][2]


def fan_out(sql: str, catalog: Catalog, sandbox: Sandbox) -> list[str]:
    """Warn when a join repeats the rows of a table whose columns are summed, averaged or counted,
    and the repetition changes the number.

    For each aggregate over one table's columns in a SELECT with joins: its value over the joined
    rows vs its value with each row of that table counted once (by its key), under the same FROM,
    JOINs and WHERE. Only a difference is reported: a join that repeats rows whose values are not
    aggregated (or an aggregate computed per joined row on purpose) changes nothing.
    """
    tree = parse(sql)
    if tree is None:
        return []
    out: list[str] = []
    for select in tree.find_all(exp.Select):
        joins = select.args.get("joins")
        if not joins or not select.args.get(FROM):
            continue
        scope = tables_in_scope(select, catalog)
        for agg, alias, table in _aggregated(select, scope):
            key = row_key(table)
            found = _inflation(select, tree, agg, alias, key, catalog, sandbox) if key else None
            if found is None:
                continue
            joined, single, n, d = found
            if n <= d or abs(joined - single) <= 1e-9 * max(1.0, abs(single)):
                continue
            others = ", ".join(j.this.name for j in joins if isinstance(j.this, exp.Table)
                               and j.this.alias_or_name.lower() != alias)
            what = agg.sql(dialect="duckdb")[:80]
            message = (f"Join fan-out: joining {others or 'the other tables'} repeats rows of {table.name} "
                       f"({n:,} joined rows for {d:,} rows of {table.name}), so {what} is {_fmt(joined)} over the "
                       f"joined rows but {_fmt(single)} with each row of {table.name} counted once. Aggregate "
                       f"{table.name} before joining, or count distinct keys.")
            if message not in out:
                out.append(message)
    return out


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.4g}"


def dropped_by_joins(sql: str, catalog: Catalog, sandbox: Sandbox) -> list[str]:
    """Warn when an inner join silently drops rows of the driving table that have no match.

    For each plain (inner) join whose table no later join depends on: the rows the same FROM,
    JOINs and WHERE would keep with that join made LEFT, that find no partner. Those rows are left
    out of the answer; the hint says how to keep them.
    """
    tree = parse(sql)
    if tree is None:
        return []
    out = []
    for select in tree.find_all(exp.Select):
        joins = select.args.get("joins") or []
        driving = select.args[FROM].this if select.args.get(FROM) else None
        if not joins or not isinstance(driving, exp.Table) or catalog.table(driving.name) is None:
            continue
        for n in range(len(joins)):
            message = _dropped(select, tree, joins, n, driving, catalog, sandbox)
            if message and message not in out:
                out.append(message)
    return out


def _would_count(select: exp.Select, alias: str) -> bool:
    """True when rows without a partner in `alias` would change the result: a listing, COUNT(*), or an
    aggregate over another table's columns (aggregates over the partner's columns skip its NULLs)."""
    aggregates = [a for a in select.find_all(exp.AggFunc) if a.parent_select is select]
    if not aggregates:
        return True
    for agg in aggregates:
        columns = list(agg.find_all(exp.Column))
        if not columns or any(c.table.lower() != alias for c in columns):
            return True
    return False


def _dropped(select: exp.Select, tree: exp.Expr, joins: list[exp.Join], n: int, driving: exp.Table,
             catalog: Catalog, sandbox: Sandbox) -> str | None:
    join = joins[n]
    target = join.this
    if (join.args.get("kind") or join.args.get("side") or "").upper() not in ("", "INNER") \
            or not isinstance(target, exp.Table) or join.args.get("on") is None:
        return None
    alias = target.alias_or_name.lower()
    if any(c.table.lower() == alias for later in joins[n + 1:] for c in later.find_all(exp.Column)):
        return None  # a later join goes through this table: making it LEFT would not tell
    if not _would_count(select, alias):
        return None
    on_cols = [c for c in join.args["on"].find_all(exp.Column) if c.table.lower() == alias]
    here = [c for c in join.args["on"].find_all(exp.Column) if c.table and c.table.lower() != alias]
    if not on_cols or not here:
        return None
    left = join.copy()
    left.set("side", "LEFT")
    left.set("kind", None)
    check = _base_query(select, tree, [*joins[:n], left, *joins[n + 1:]])
    key = here[0].copy()
    check.select(exp.Count(this=exp.Star()).as_("rows"), exp.Count(this=exp.Distinct(expressions=[key])).as_("keys"),
                 exp.Sum(this=exp.Case(ifs=[exp.If(this=exp.Is(this=key.copy(), expression=exp.Null()),
                                                    true=exp.Literal.number(1))],
                                       default=exp.Literal.number(0))).as_("nulls"), copy=False)
    check.where(exp.Is(this=on_cols[0].copy(), expression=exp.Null()), copy=False)
    rows = run_check(check.sql(dialect="duckdb"), catalog, sandbox, 1)
    if not rows or not rows[0][0]:
        return None
    dropped, keys, nulls = rows[0][0], rows[0][1], int(rows[0][2] or 0)
    side = here[0].table
    source = tables_in_scope(select, catalog).get(side.lower())
    whose = source.name if source else side
    missing = (f"{nulls:,} with no {here[0].name}" if nulls == dropped else
               f"{keys:,} {here[0].name} value{'s' if keys != 1 else ''} not in {target.name}"
               + (f", {nulls:,} with no {here[0].name}" if nulls else ""))
    return (f"The inner join with {target.name} leaves out {dropped:,} row{'s' if dropped != 1 else ''} of {whose} "
            f"with no match in {target.name} ({missing}). If they belong in the answer, use LEFT JOIN "
            f"{target.name} and show the missing ones as a value of their own (COALESCE(…, 'none')).")
