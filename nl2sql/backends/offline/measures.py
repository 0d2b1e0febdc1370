"""Measures as SQL expressions: metrics with their default filters, aggregates, counts, rates,
shares and ratios. Divisions are NULL-safe and in floating point in every dialect."""

from __future__ import annotations

import dataclasses

from sqlglot import exp

from nl2sql.backends.offline.lexicon import metric_of, table_of
from nl2sql.backends.offline.plan import Measure, Plan
from nl2sql.backends.offline.sqlparts import Joins, aggregated_tables, col, condition, parse, restrict
from nl2sql.core.errors import RefusalError
from nl2sql.data.catalog import Catalog


@dataclasses.dataclass
class MeasureSQL:
    """What the measures need from the query: the join tree, the filters every measure shares."""

    catalog: Catalog
    plan: Plan
    joins: Joins
    shared_filter: str | None = None  # a default filter common to every measure: goes into WHERE
    assumptions: list[str] = dataclasses.field(default_factory=list)

    def defaults(self, m: Measure) -> list[str]:
        """The default filters of the metrics a measure reads (minus those the question lifted)."""
        found = []
        if m.kind == "metric":
            metric = metric_of(self.catalog, str(m.metric))
            if metric.filter and metric.name not in self.plan.lifted:
                found.append(metric.filter)
        for inner in (m.base, m.over):
            if inner is not None:
                found += self.defaults(inner)
        return list(dict.fromkeys(found))

    def decide_shared(self) -> None:
        """One default filter shared by every measure goes into WHERE; otherwise each measure filters its own."""
        sets = [tuple(self.defaults(m)) for m in self.plan.measures]
        if sets and all(s == sets[0] for s in sets) and len(sets[0]) == 1:
            self.shared_filter = sets[0][0]
            metric = next(m for m in self.plan.measures)
            self.assumptions.append(f"{_first_metric(metric)} counts only rows where {self.shared_filter}")

    def expr(self, m: Measure) -> exp.Expr:
        """The measure as an expression (aggregate over the query's rows)."""
        if m.kind == "metric":
            metric = metric_of(self.catalog, str(m.metric))
            expression = parse(metric.sql)
            self._check_fan_out(expression, m.label)
            if metric.filter and metric.name not in self.plan.lifted and metric.filter != self.shared_filter:
                expression = restrict(expression, parse(metric.filter))
            return expression
        if m.kind == "agg":
            return self._agg(m)
        if m.kind == "count":
            return self._count(m)
        return self._derived(m)

    def _agg(self, m: Measure) -> exp.Expr:
        column = col(str(m.table), str(m.column))
        if m.agg == "count_distinct":
            return exp.Count(this=exp.Distinct(expressions=[column]))
        if m.agg not in ("min", "max"):
            self._check_table(str(m.table), m.label)
        names = {"sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max, "median": exp.Median}
        return names[str(m.agg)](this=column)

    def _count(self, m: Measure) -> exp.Expr:
        t = table_of(self.catalog, str(m.table))
        keys = [c.name for c in t.columns if c.primary_key] or t.primary_key
        key = keys[0] if len(keys) == 1 else next(
            (c.name for c in t.columns if c.name.lower().endswith("id") and c.profile.distinct
             and c.profile.distinct == t.row_count), None)
        if len(self.joins.tables) > 1 and key:
            return exp.Count(this=exp.Distinct(expressions=[col(t.name, key)]))
        if len(self.joins.tables) > 1:
            self._check_table(t.name, m.label)
        return exp.Count(this=exp.Star())

    def _derived(self, m: Measure) -> exp.Expr:
        assert m.base is not None
        base = self.expr(m.base)
        hundred = exp.Literal.number("100.0")
        if m.kind == "rate":
            part = exp.and_(*[condition(f) for f in m.part])
            numerator = restrict(base, part)
            return exp.Div(this=exp.Mul(this=hundred, expression=numerator), expression=_nullif(base.copy()))
        if m.kind == "share":
            partition = [self._dim_expr(i) for i in range(m.within)]
            total = exp.Window(this=exp.Sum(this=base.copy()), partition_by=partition or None)
            return exp.Div(this=exp.Mul(this=hundred, expression=base), expression=_nullif(total))
        if m.kind == "ratio":
            assert m.over is not None
            over = self.expr(m.over)
            scale = hundred if m.percent else exp.Literal.number("1.0")
            return exp.Div(this=exp.Mul(this=scale, expression=base), expression=_nullif(over))
        raise RefusalError(f"The offline engine cannot compute {m.label} here.")

    def _dim_expr(self, i: int) -> exp.Expr:
        d = self.plan.dims[i]
        return col(d.table, d.column)

    def _check_table(self, name: str, label: str) -> None:
        repeated = self.joins.fans_out(name)
        if repeated:
            raise RefusalError(f"{label} would count each {name} row once per matching {repeated} row; the offline "
                               "engine does not aggregate across that join.",
                               hint="Ask without the breakdown or filter on " + repeated + ", or use --backend openai.")

    def _check_fan_out(self, expression: exp.Expr, label: str) -> None:
        """A row-level expression over several tables is at the grain of its finest table: fine unless that
        table's rows repeat too (every table of the aggregate fans out)."""
        for names in aggregated_tables(expression):
            joined = [n for n in names if self.catalog.table(n) is not None and n in self.joins.tables]
            if joined and all(self.joins.fans_out(n) for n in joined):
                self._check_table(joined[0], label)


def _nullif(expression: exp.Expr) -> exp.Expr:
    return exp.Nullif(this=expression, expression=exp.Literal.number(0))


def _first_metric(m: Measure) -> str:
    while m.kind != "metric" and m.base is not None:
        m = m.base
    return str(m.metric or m.label)
