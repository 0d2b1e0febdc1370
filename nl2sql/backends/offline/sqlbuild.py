"""Plan -> SQL, built as sqlglot expressions (never pasted strings) and rendered in a dialect.

Aggregates join along the relationship graph's shortest paths; two compared periods come back
one row per period (and per group) with the change and the change in % from the period before;
'average per day' averages the daily totals in a subquery; listings select the rows' names, and
'never' is a NOT EXISTS over the related rows. The SQL then goes through the same guard and
sandbox as every other backend's.
"""

from __future__ import annotations

import dataclasses

from sqlglot import exp

from nl2sql.backends.offline.lexicon import label_column, table_of
from nl2sql.backends.offline.measures import MeasureSQL
from nl2sql.backends.offline.plan import Dim, Measure, Plan
from nl2sql.backends.offline.sqlparts import (
    Joins,
    alias,
    col,
    condition,
    ident,
    in_period,
    literal,
    on,
    parse,
    relationship,
)
from nl2sql.core.errors import RefusalError
from nl2sql.data.catalog import Catalog


def build_sql(plan: Plan, catalog: Catalog, dialect: str = "duckdb") -> tuple[str, list[str]]:
    """The SQL for a plan in `dialect` (duckdb, postgres, spark ...) and the assumptions it makes."""
    if plan.listing or plan.list_column:
        return _listing(plan, catalog).sql(dialect=dialect), []
    query, assumptions = aggregate_query(plan, catalog)
    return query.sql(dialect=dialect), assumptions


def _joins(plan: Plan, catalog: Catalog, tables: list[str]) -> Joins:
    joins = Joins(catalog, tables[0])
    extra = [d.table for d in plan.dims] + [f.table for f in plan.filters]
    extra += [f.table for m in plan.measures for inner in (m, m.base) if inner is not None for f in inner.part]
    extra += [plan.date[0]] if plan.date else []
    extra += [plan.relation.table] if plan.relation and not plan.relation.negate else []
    for name in [*tables, *extra]:
        joins.need(name)
    return joins


def _measure_tables(plan: Plan, catalog: Catalog) -> list[str]:
    """The tables the measures read (a metric's expression and filter included), in catalog order."""
    names: list[str] = []

    def visit(m: Measure | None) -> None:
        if m is None:
            return
        if m.kind == "metric":
            metric = catalog.metric(str(m.metric))
            if metric is not None:
                found = {c.table.lower() for text in (metric.sql, metric.filter) if text
                         for c in parse(text).find_all(exp.Column) if c.table}
                names.extend(t.name for t in catalog.tables if t.name.lower() in found)
        elif m.table:
            names.append(m.table)
        visit(m.base)
        visit(m.over)

    for m in plan.measures:
        visit(m)
    return list(dict.fromkeys(names))


def _dim_exprs(plan: Plan) -> list[tuple[exp.Expr, str, list[exp.Expr]]]:
    """(select expression, alias, group-by expressions) per dimension."""
    names = [d.column for d in plan.dims]
    out: list[tuple[exp.Expr, str, list[exp.Expr]]] = []
    for d in plan.dims:
        if d.grain:
            bucket = exp.cast(exp.func("date_trunc", exp.Literal.string(d.grain), col(d.table, d.column)),
                              exp.DataType.build("DATE"))
            out.append((bucket, d.grain, [bucket]))
            continue
        name = d.column if names.count(d.column) == 1 else f"{d.table}_{d.column}"
        group: list[exp.Expr] = [col(d.table, d.key), col(d.table, d.column)] if d.key else [col(d.table, d.column)]
        out.append((col(d.table, d.column), name, group))
    return out


@dataclasses.dataclass
class _Query:
    plan: Plan
    catalog: Catalog
    joins: Joins
    ms: MeasureSQL

    def where(self, query: exp.Select) -> exp.Select:
        for f in self.plan.filters:
            query = query.where(condition(f))
        if self.ms.shared_filter:
            query = query.where(parse(self.ms.shared_filter))
        date = col(*self.plan.date) if self.plan.date else None
        if date is not None and len(self.plan.periods) == 1:
            query = query.where(in_period(date, self.plan.periods[0]))
        elif date is not None and self.plan.periods:
            query = query.where(exp.or_(*[exp.Paren(this=in_period(date, p)) for p in self.plan.periods]))
        return query


def aggregate_query(plan: Plan, catalog: Catalog) -> tuple[exp.Select, list[str]]:
    """SELECT dims, measures FROM joins WHERE ... GROUP BY dims ORDER BY ... LIMIT ..."""
    tables = _measure_tables(plan, catalog)
    if not tables:
        raise RefusalError("The question names no measure the offline engine can compute.")
    joins = _joins(plan, catalog, tables)
    ms = MeasureSQL(catalog, plan, joins)
    ms.decide_shared()
    q = _Query(plan, catalog, joins, ms)
    per = [m for m in plan.measures if m.kind == "per"]
    if per:
        return _per_query(q), ms.assumptions
    if len(plan.periods) == 2:
        return _compare_query(q), ms.assumptions
    dims = _dim_exprs(plan)
    query = exp.select(*[alias(e, name) for e, name, _ in dims])
    measures = [(ms.expr(m), m.label) for m in plan.measures]
    query = query.select(*[alias(e, name) for e, name in measures])
    query = q.where(joins.apply(query))
    group = [g for _, _, gs in dims for g in gs]
    if group:
        query = query.group_by(*group)
    query = _order(plan, query, measures, dims)
    if plan.limit and dims:
        query = query.limit(plan.limit)
    return query, ms.assumptions


def _order(plan: Plan, query: exp.Select, measures: list, dims: list) -> exp.Select:
    positions = [exp.Ordered(this=exp.Literal.number(i + 1)) for i in range(len(dims))]
    if plan.order and dims:
        first = exp.Ordered(this=exp.column(ident(measures[0][1])), desc=plan.order == "desc",
                            nulls_first=plan.order == "asc")
        return query.order_by(first, *positions)
    if plan.grain:
        return query.order_by(*positions)
    if dims and not any(m.agg in ("min", "max") for m in plan.measures):
        first = exp.Ordered(this=exp.column(ident(measures[0][1])), desc=True, nulls_first=False)
        return query.order_by(first, *positions)
    return query.order_by(*positions) if dims else query  # first/last dates: in the order of the groups


def _period_label(plan: Plan) -> exp.Expr:
    assert plan.date is not None
    date = col(*plan.date)
    years = [p.whole_year for p in plan.periods]
    ifs = [exp.If(this=in_period(date, p), true=literal(y if all(years) else p.label)) for p, y in
           zip(plan.periods, years, strict=True)]
    return exp.Case(ifs=ifs)


def _compare_query(q: _Query) -> exp.Select:
    """One row per period (and group): the measures, the change and the change in % from the period before."""
    plan = q.plan
    assert plan.date is not None
    if plan.order or plan.limit:
        raise RefusalError("The offline engine does not rank while comparing periods.",
                           hint="Ask for the comparison, or for the ranking in one period.")
    label = _period_label(plan)
    dims = _dim_exprs(plan)
    measures = [(q.ms.expr(m), m.label) for m in plan.measures]
    first = measures[0][0]
    partition = [g for _, _, gs in dims for g in gs]
    order = exp.Order(expressions=[exp.Ordered(this=exp.Min(this=col(*plan.date)))])
    previous = exp.Window(this=exp.func("lag", first.copy()), partition_by=partition or None, order=order)
    change = exp.Sub(this=first.copy(), expression=previous.copy())
    pct = exp.Div(this=exp.Mul(this=exp.Literal.number("100.0"), expression=exp.Paren(this=change.copy())),
                  expression=exp.Nullif(this=previous.copy(), expression=exp.Literal.number(0)))
    query = exp.select(alias(label, "period"), *[alias(e, n) for e, n, _ in dims])
    query = query.select(*[alias(e, n) for e, n in measures], alias(change, "change"), alias(pct, "change_pct"))
    query = q.where(q.joins.apply(query)).group_by(label.copy(), *partition)
    positions = [exp.Ordered(this=exp.Literal.number(i + 2)) for i in range(len(dims))]
    return query.order_by(*positions, exp.Ordered(this=exp.Min(this=col(*plan.date))))


def _per_query(q: _Query) -> exp.Select:
    """'average daily revenue': the totals per bucket in a subquery, averaged (per group) outside."""
    plan = q.plan
    if len(plan.measures) != 1 or plan.date is None:
        raise RefusalError("The offline engine averages one measure per day/week/month at a time.")
    m = plan.measures[0]
    assert m.base is not None and m.grain is not None
    bucket = Dim(plan.date[0], plan.date[1], grain=m.grain)
    inner_plan = dataclasses.replace(plan, dims=[bucket, *plan.dims], measures=[m.base], order=None, limit=None)
    inner, _ = aggregate_query(inner_plan, q.catalog)
    inner.set("order", None)
    dims = _dim_exprs(plan)
    names = [name for _, name, _ in dims]
    outer = exp.select(*[exp.column(ident(n)) for n in names],
                       alias(exp.Avg(this=exp.column(ident(m.base.label))), m.label))
    outer = outer.from_(inner.subquery("totals"))
    if names:
        outer = outer.group_by(*[exp.column(ident(n)) for n in names]).order_by(*[exp.column(ident(n)) for n in names])
    return outer


def _listing(plan: Plan, catalog: Catalog) -> exp.Select:
    if plan.list_column:
        t, c = plan.list_column
        joins = Joins(catalog, t)
        for f in plan.filters:
            joins.need(f.table)
        query = exp.select(col(t, c)).distinct()
        query = joins.apply(query)
        for f in plan.filters:
            query = query.where(condition(f))
        return query.order_by(col(t, c))
    name = str(plan.listing)
    entity = table_of(catalog, name)
    label = label_column(entity)
    shown: list[exp.Expr] = [col(name, label.name)]
    keys = [c.name for c in entity.columns if c.primary_key] or entity.primary_key
    if keys and keys[0] != label.name and (label.profile.distinct or 0) < entity.row_count:
        shown.insert(0, col(name, keys[0]))  # names repeat: show the key too
    for f in plan.filters:
        if f.table == name and f.op not in ("in", "not in") and f.column != label.name:
            shown.append(col(name, f.column))
    for t, c in plan.shown:
        if c != label.name:
            shown.append(col(t, c))
    if plan.list_order and plan.list_order[1] != label.name:
        shown.append(col(plan.list_order[0], plan.list_order[1]))
    if plan.date and plan.date[0] == name and not plan.relation:
        shown.append(col(*plan.date))
    return _listing_query(plan, catalog, name, shown)


def _listing_query(plan: Plan, catalog: Catalog, name: str, shown: list[exp.Expr]) -> exp.Select:
    relation = plan.relation
    joins = Joins(catalog, name)
    inside = relation is not None and relation.negate
    outer_filters = [f for f in plan.filters if f.table == name or not inside]
    for f in outer_filters:
        joins.need(f.table)
    if relation is not None and not relation.negate:
        joins.need(relation.table)
    if plan.date and not inside:
        joins.need(plan.date[0])
    query = joins.apply(exp.select(*shown))
    if len(joins.tables) > 1:
        query = query.distinct()
    for f in outer_filters:
        query = query.where(condition(f))
    if plan.date and plan.periods and not inside:
        query = query.where(in_period(col(*plan.date), plan.periods[0]))
    if inside:
        query = query.where(exp.Not(this=exp.Exists(this=_related(plan, catalog, name))))
    if plan.list_order:
        t, c, direction = plan.list_order
        query = query.order_by(exp.Ordered(this=col(t, c), desc=direction == "desc", nulls_first=False))
    else:
        query = query.order_by(*[s.copy() for s in shown[:2]])
    if plan.limit:
        query = query.limit(plan.limit)
    return query


def _related(plan: Plan, catalog: Catalog, entity: str) -> exp.Select:
    """SELECT 1 FROM the related rows of one entity row (for NOT EXISTS), with the question's filters and period."""
    assert plan.relation is not None
    path = catalog.join_path(entity, plan.relation.table)
    if len(path) < 2:
        raise RefusalError(f"No relationship path from {entity} to {plan.relation.table}.",
                           hint="Declare it in the annotation file, or use --backend openai.")
    joins = Joins(catalog, path[1])
    for t in path[2:]:
        joins.need(t)
    for f in plan.filters:
        if f.table != entity:
            joins.need(f.table)
    if plan.date:
        joins.need(plan.date[0])
    query = joins.apply(exp.select(exp.Literal.number(1)))
    query = query.where(on(relationship(catalog, entity, path[1])))
    for f in plan.filters:
        if f.table != entity:
            query = query.where(condition(f))
    if plan.date and plan.periods:
        query = query.where(in_period(col(*plan.date), plan.periods[0]))
    return query
