"""SQL pieces as sqlglot expressions: quoted identifiers, joins along relationships, filters, dates.

Identifiers are quoted whenever the name is not a plain lower-case word, so any column name
works ("Created At", "Agent ID", "select") in DuckDB, PostgreSQL and Spark SQL alike. A join
tree knows which side of each relationship is 'many', so a sum or average over the 'one' side
of a join that multiplies its rows is caught before it is written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from collections import deque

import sqlglot
from sqlglot import exp

from nl2sql.backends.offline.plan import Filter, Period
from nl2sql.core.errors import RefusalError
from nl2sql.data.catalog import Catalog, Relationship

_PLAIN = re.compile(r"[a-z_][a-z0-9_]*")


def ident(name: str) -> exp.Identifier:
    """An identifier, quoted unless it is a plain lower-case word (sqlglot also quotes keywords)."""
    return exp.to_identifier(name, quoted=not _PLAIN.fullmatch(name))


def col(table: str, column: str) -> exp.Column:
    """table.column with both parts quoted as needed."""
    return exp.Column(this=ident(column), table=ident(table))


def table(name: str) -> exp.Table:
    """A table reference."""
    return exp.Table(this=ident(name))


def alias(expression: exp.Expr, name: str) -> exp.Alias:
    """expression AS name."""
    return exp.Alias(this=expression, alias=ident(name))


def literal(value: object) -> exp.Expr:
    """A number or string literal."""
    if isinstance(value, float) and value.is_integer():
        return exp.Literal.number(int(value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def date(d: dt.date) -> exp.Expr:
    """CAST('YYYY-MM-DD' AS DATE)."""
    return exp.cast(exp.Literal.string(d.isoformat()), exp.DataType.build("DATE"))


def in_period(column: exp.Expr, period: Period) -> exp.Expr:
    """column >= start AND column < end."""
    return exp.and_(exp.GTE(this=column.copy(), expression=date(period.start)),
                    exp.LT(this=column.copy(), expression=date(period.end)))


def condition(f: Filter) -> exp.Expr:
    """A plan filter as a condition."""
    column = col(f.table, f.column)
    if f.op in ("in", "not in"):
        cond: exp.Expr = (exp.EQ(this=column, expression=literal(f.values[0])) if len(f.values) == 1
                          else exp.In(this=column, expressions=[literal(v) for v in f.values]))
        return exp.Not(this=cond) if f.op == "not in" else cond
    ops = {">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE, "=": exp.EQ}
    return ops[f.op](this=column, expression=literal(f.values[0]))


def parse(sql: str) -> exp.Expr:
    """An annotation's SQL expression (metric or filter), parsed as DuckDB SQL."""
    return sqlglot.parse_one(sql, read="duckdb")


def restrict(expression: exp.Expr, cond: exp.Expr) -> exp.Expr:
    """Every aggregate in expression counts only rows where cond holds (FILTER (WHERE ...))."""
    def visit(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Filter):
            where = node.args["expression"]
            both = exp.and_(where.this.copy(), cond.copy())
            return exp.Filter(this=node.this.copy(), expression=exp.Where(this=both))
        if isinstance(node, exp.AggFunc) and not isinstance(node, exp.Window):
            return exp.Filter(this=node.copy(), expression=exp.Where(this=cond.copy()))
        for key, value in list(node.args.items()):
            if isinstance(value, exp.Expr):
                node.set(key, visit(value))
            elif isinstance(value, list):
                node.set(key, [visit(v) if isinstance(v, exp.Expr) else v for v in value])
        return node
    return visit(expression.copy())


def relationship(catalog: Catalog, a: str, b: str) -> Relationship:
    """The relationship joining a and b (either direction)."""
    for r in catalog.relationships:
        if {r.from_table.lower(), r.to_table.lower()} == {a.lower(), b.lower()}:
            return r
    raise RefusalError(f"No relationship joins {a} and {b}.", hint="Declare it under relationships: in the "
                       "annotation file, or use --backend openai.")


def on(r: Relationship) -> exp.Expr:
    """The join condition of a relationship."""
    return exp.EQ(this=col(r.from_table, r.from_column), expression=col(r.to_table, r.to_column))


@dataclasses.dataclass
class Joins:
    """The tables of a query joined from a base along shortest relationship paths."""

    catalog: Catalog
    base: str
    edges: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    @property
    def tables(self) -> list[str]:
        """Every table joined, base first."""
        return [self.base, *(b for _, b in self.edges)]

    def need(self, target: str) -> None:
        """Join target (and the tables on its path)."""
        if target in self.tables:
            return
        path = self.catalog.join_path(self.base, target)
        if not path:
            raise RefusalError(f"The offline engine cannot join {self.base} to {target}: no relationship path.",
                               hint="Declare relationships in the annotation file, or use --backend openai.")
        for a, b in itertools.pairwise(path):
            if b not in self.tables:
                self.edges.append((a, b))

    def apply(self, query: exp.Select) -> exp.Select:
        """FROM base JOIN ... ON ... for every edge."""
        query = query.from_(table(self.base))
        for a, b in self.edges:
            query = query.join(table(b), on=on(relationship(self.catalog, a, b)), join_type="inner")
        return query

    def fans_out(self, start: str) -> str | None:
        """A joined table whose rows repeat start's rows (start is on the 'one' side of its join), if any."""
        neighbours: dict[str, list[str]] = {}
        for a, b in self.edges:
            neighbours.setdefault(a, []).append(b)
            neighbours.setdefault(b, []).append(a)
        seen, queue = {start}, deque([start])
        while queue:
            here = queue.popleft()
            for there in neighbours.get(here, []):
                if there in seen:
                    continue
                r = relationship(self.catalog, here, there)
                if r.to_table.lower() == here.lower() and r.from_table.lower() == there.lower():
                    return there
                seen.add(there)
                queue.append(there)
        return None


def aggregated_tables(expression: exp.Expr) -> list[list[str]]:
    """Per sum, average or non-distinct count in an expression: the tables its columns come from."""
    out = []
    for agg in expression.find_all(exp.AggFunc):
        if isinstance(agg, exp.Min | exp.Max) or (isinstance(agg, exp.Count) and isinstance(agg.this, exp.Distinct)):
            continue
        out.append(list(dict.fromkeys(c.table for c in agg.find_all(exp.Column) if c.table)))
    return out
