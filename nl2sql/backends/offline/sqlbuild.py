"""Plan -> SQL, built as sqlglot expressions (never pasted strings), joined along the
relationship graph's shortest paths. The SQL then goes through the same guard and sandbox as
every other backend's."""

from __future__ import annotations

import datetime as dt
import itertools

import sqlglot
from sqlglot import exp

from nl2sql.backends.offline.lexicon import metric_of, table_of
from nl2sql.backends.offline.planner import Plan, _label_column, measure_table_names
from nl2sql.core.errors import RefusalError
from nl2sql.data.catalog import Catalog, Relationship

GRAIN_NAMES = {"day": "day", "week": "week", "month": "month", "quarter": "quarter", "year": "year"}


def _col(table: str, column: str) -> exp.Column:
    return exp.column(column, table=table, quoted=False)


def _relationship(catalog: Catalog, a: str, b: str) -> Relationship:
    for r in catalog.relationships:
        if {r.from_table, r.to_table} == {a, b}:
            return r
    raise RefusalError(f"No relationship joins {a} and {b}.", hint="Declare it under relationships: in the "
                       "annotation file, or use --backend openai.")


def _on(r: Relationship) -> exp.Expr:
    return exp.EQ(this=_col(r.from_table, r.from_column), expression=_col(r.to_table, r.to_column))


def _date_column(plan: Plan, catalog: Catalog, measure_tables: list[str]) -> tuple[str, str] | None:
    candidates: list[tuple[int, str, str]] = []
    for rank, name in enumerate(measure_tables):
        for c in table_of(catalog, name).columns:
            if c.is_temporal:
                preferred = 0 if any(k in c.name.lower() for k in ("date", "day", "time", "created")) else 1
                candidates.append((rank * 2 + preferred, name, c.name))
    if not candidates:
        return None
    _, table, column = min(candidates)
    return table, column


def _literal(value: object) -> exp.Expr:
    if isinstance(value, float) and value.is_integer():
        return exp.Literal.number(int(value))
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def _date(d: dt.date) -> exp.Expr:
    return exp.cast(exp.Literal.string(d.isoformat()), exp.DataType.build("DATE"))


def build_sql(plan: Plan, catalog: Catalog) -> tuple[str, list[str]]:
    """The SQL for a plan and the assumptions it makes."""
    assumptions: list[str] = []
    if plan.never:
        return _never_sql(plan, catalog), [f"'never' means no matching row in {plan.never[1]}"]
    if plan.list_table:
        return _list_sql(plan, catalog), assumptions
    measure_tables = measure_table_names(plan, catalog)
    base = measure_tables[0]
    needed = list(dict.fromkeys(measure_tables + [t for t, _ in plan.dims] + [f.table for f in plan.filters]))
    date_col = None
    if plan.start or plan.grain or plan.compare_years:
        date_col = _date_column(plan, catalog, measure_tables)
        if date_col is None:
            raise RefusalError("The question has a time period, but the measure's tables have no date column.",
                               hint="Ask without the period, or use --backend openai.")
        needed.append(date_col[0])
    query = exp.select().from_(exp.to_table(base))
    joined = [base]
    for target in needed:
        path = catalog.join_path(base, target) if target != base else [base]
        if not path:
            raise RefusalError(f"The offline engine cannot join {base} to {target}: no relationship path.",
                               hint="Declare relationships in the annotation file, or use --backend openai.")
        for a, b in itertools.pairwise(path):
            if b not in joined:
                query = query.join(exp.to_table(b), on=_on(_relationship(catalog, a, b)), join_type="inner")
                joined.append(b)
    group: list[exp.Expr] = []
    if date_col and (plan.grain or plan.compare_years):
        if plan.compare_years and not plan.grain:
            expr: exp.Expr = exp.func("year", _col(*date_col))
            alias = "year"
        else:
            grain = GRAIN_NAMES[plan.grain or "month"]
            expr = exp.cast(exp.func("date_trunc", exp.Literal.string(grain), _col(*date_col)),
                            exp.DataType.build("DATE"))
            alias = grain
        query = query.select(exp.alias_(expr, alias))
        group.append(expr)
    names = [c for _, c in plan.dims]
    for table, column in plan.dims:
        alias = column if names.count(column) == 1 else f"{table}_{column}"
        query = query.select(exp.alias_(_col(table, column), alias))
        group.append(_col(table, column))
    filtered_columns = {f"{f.table}.{f.column}".lower() for f in plan.filters}
    measure_exprs: list[exp.Expr] = []
    for m in plan.measures:
        if m.kind == "metric":
            metric = metric_of(catalog, str(m.metric))
            expr = sqlglot.parse_one(metric.sql, read="duckdb")
            if metric.filter:
                overridden = [c for c in filtered_columns if c in metric.filter.lower()]
                if overridden:
                    assumptions.append(f"{metric.name}: the question's own filter on {overridden[0]} replaces the "
                                       f"default filter ({metric.filter})")
                else:
                    query = query.where(sqlglot.parse_one(metric.filter, read="duckdb"))
                    assumptions.append(f"{metric.name} counts only rows where {metric.filter}")
        elif m.kind == "count":
            t = table_of(catalog, str(m.table))
            key = t.primary_key[0] if len(t.primary_key) == 1 else next(
                (c.name for c in t.columns if c.primary_key or (c.profile.distinct == t.row_count and
                                                                 c.name.lower().endswith("id"))), None)
            expr = (exp.Count(this=exp.Distinct(expressions=[_col(t.name, key)])) if key and len(joined) > 1
                    else exp.Count(this=exp.Star()))
        else:
            col = _col(str(m.table), str(m.column))
            expr = (exp.Count(this=exp.Distinct(expressions=[col])) if m.agg == "count_distinct"
                    else exp.func(str(m.agg), col))
        query = query.select(exp.alias_(expr, m.label))
        measure_exprs.append(expr)
    if plan.share and measure_exprs and (plan.dims or plan.grain):
        share = exp.Round(this=exp.Mul(this=exp.Literal.number(100), expression=exp.Div(
            this=measure_exprs[0], expression=exp.Window(this=exp.Sum(this=measure_exprs[0].copy()))),),
            decimals=exp.Literal.number(2))
        query = query.select(exp.alias_(share, "share_pct"))
        assumptions.append(f"share_pct is each row's share of the total {plan.measures[0].label}, in percent")
    for f in plan.filters:
        query = query.where(_filter(f))
    if date_col:
        if plan.compare_years:
            query = query.where(exp.In(this=exp.func("year", _col(*date_col)),
                                       expressions=[exp.Literal.number(y) for y in plan.compare_years]))
        if plan.start and plan.end:
            query = query.where(exp.GTE(this=_col(*date_col), expression=_date(plan.start)))
            query = query.where(exp.LT(this=_col(*date_col), expression=_date(plan.end)))
            assumptions.append(f"{plan.period_label} means {plan.start} to {plan.end - dt.timedelta(days=1)} "
                               f"by {date_col[0]}.{date_col[1]}")
    if group:
        query = query.group_by(*group)
    first = plan.measures[0].label
    if plan.grain or plan.compare_years:
        query = query.order_by(*[exp.Ordered(this=exp.Literal.number(i + 1)) for i in range(len(group))])
    elif plan.dims:
        # ties broken by the dimensions, so the same question always lists rows in the same order
        query = query.order_by(exp.Ordered(this=exp.to_identifier(first), desc=plan.order != "asc"),
                               *[exp.Ordered(this=exp.Literal.number(i + 1)) for i in range(len(group))])
    if plan.limit and (plan.dims or plan.grain):
        query = query.limit(plan.limit)
    return query.sql(dialect="duckdb"), assumptions


def _filter(f: object) -> exp.Expr:
    column = _col(f.table, f.column)  # type: ignore[attr-defined]
    values = f.values  # type: ignore[attr-defined]
    if f.op == "in":  # type: ignore[attr-defined]
        if len(values) == 1:
            return exp.EQ(this=column, expression=_literal(values[0]))
        return exp.In(this=column, expressions=[_literal(v) for v in values])
    ops = {">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE, "=": exp.EQ}
    return ops[f.op](this=column, expression=_literal(values[0]))  # type: ignore[attr-defined]


def _list_sql(plan: Plan, catalog: Catalog) -> str:
    table = str(plan.list_table)
    label = _label_column(catalog, table)
    query = exp.select(_col(table, label)).from_(exp.to_table(table))
    if plan.list_order:
        t, c = plan.list_order[0].split(".")
        if c != label:
            query = query.select(_col(t, c))
        query = query.order_by(exp.Ordered(this=_col(t, c), desc=plan.list_order[1] == "desc"))
    else:
        query = exp.select(exp.Star()).from_(exp.to_table(table))
    for f in plan.filters:
        if f.table != table:
            raise RefusalError(f"The offline engine lists {table} filtered by its own columns only.",
                               hint="Use --backend openai for this question.")
        query = query.where(_filter(f))
    if plan.limit or plan.list_order:
        query = query.limit(plan.limit or 10)
    return query.sql(dialect="duckdb")


def _never_sql(plan: Plan, catalog: Catalog) -> str:
    entity, related = plan.never  # type: ignore[misc]
    path = catalog.join_path(entity, related)
    if len(path) < 2:
        raise RefusalError(f"No relationship path from {entity} to {related}.", hint="Use --backend openai.")
    hop = path[1]
    r = _relationship(catalog, entity, hop)
    inner = exp.select(exp.Literal.number(1)).from_(exp.to_table(hop)).where(_on(r))
    label = _label_column(catalog, entity)
    query = exp.select(_col(entity, label)).from_(exp.to_table(entity)).where(
        exp.Not(this=exp.Exists(this=inner))).order_by(_col(entity, label))
    for f in plan.filters:
        if f.table == entity:
            query = query.where(_filter(f))
    return query.sql(dialect="duckdb")
