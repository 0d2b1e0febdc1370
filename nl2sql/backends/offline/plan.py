"""The Plan: a typed reading of a question, and the same reading in words.

The planner fills it, `revise` changes it for a follow-up, `sqlbuild` turns it into SQL, and
`describe` states it for the user (`--explain`, `--json` "reading"): the measure and its
definition, filters, the period with its dates, grain, order and limit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from nl2sql.data.catalog import Catalog


def slug(name: str) -> str:
    """A name as a lower-case alias: 'Resolution Hours' -> resolution_hours."""
    return re.sub(r"\W+", "_", name.lower()).strip("_") or "value"


@dataclasses.dataclass
class Filter:
    """column op value(s); op is in, not in, >, >=, <, <=."""

    table: str
    column: str
    op: str
    values: list[object]

    def describe(self) -> str:
        """'customers.region = 'Europe'' and the like."""
        values = [repr(v) if isinstance(v, str) else f"{v:g}" if isinstance(v, float) else str(v)
                  for v in self.values]
        if self.op in ("in", "not in") and len(values) == 1:
            return f"{self.table}.{self.column} {'=' if self.op == 'in' else '!='} {values[0]}"
        if self.op in ("in", "not in"):
            return f"{self.table}.{self.column} {self.op} ({', '.join(values)})"
        return f"{self.table}.{self.column} {self.op} {values[0]}"


@dataclasses.dataclass(frozen=True)
class Period:
    """A half-open date range [start, end) with its words."""

    start: dt.date
    end: dt.date
    label: str

    @property
    def whole_year(self) -> int | None:
        """The year, when the period is exactly one calendar year."""
        if (self.start.month, self.start.day) == (1, 1) and self.end == dt.date(self.start.year + 1, 1, 1):
            return self.start.year
        return None

    def describe(self) -> str:
        """'Q3 2025 (2025-07-01 to 2025-09-30)'."""
        last = self.end - dt.timedelta(days=1)
        dates = str(self.start) if last == self.start else f"{self.start} to {last}"
        return self.label if self.label == dates else f"{self.label} ({dates})"


@dataclasses.dataclass
class Measure:
    """What to compute.

    metric | agg (agg of table.column) | count (rows of table) | rate (share of the base's rows
    that match `part`) | share (of the total, or within the first dimension) | ratio (base / over)
    | per (average of the base's totals per grain)
    """

    kind: str
    label: str
    metric: str | None = None
    agg: str | None = None  # sum | avg | min | max | median | count_distinct
    table: str | None = None
    column: str | None = None
    part: list[Filter] = dataclasses.field(default_factory=list)
    base: Measure | None = None
    over: Measure | None = None
    grain: str | None = None
    within: int = 0  # share: how many leading dimensions the share is taken within
    percent: bool = False  # ratio: times 100


@dataclasses.dataclass
class Dim:
    """A breakdown: a column (grouped with the table's key when the column is a name), or a time bucket."""

    table: str
    column: str
    key: str | None = None
    grain: str | None = None  # a time bucket of a date column
    at: int = dataclasses.field(default=0, compare=False)  # where the question asks for it (keeps its order)


@dataclasses.dataclass
class Relation:
    """Rows of an entity that have (or, negated, have no) rows in a related table."""

    table: str
    negate: bool = False
    filters: list[Filter] = dataclasses.field(default_factory=list)
    period: Period | None = None
    date: tuple[str, str] | None = None


@dataclasses.dataclass
class Plan:
    """A typed reading of a question."""

    measures: list[Measure] = dataclasses.field(default_factory=list)
    dims: list[Dim] = dataclasses.field(default_factory=list)
    filters: list[Filter] = dataclasses.field(default_factory=list)
    periods: list[Period] = dataclasses.field(default_factory=list)  # one: the period; two: compared
    date: tuple[str, str] | None = None  # the date column periods and buckets apply to
    order: str | None = None  # desc | asc
    limit: int | None = None
    lifted: list[str] = dataclasses.field(default_factory=list)  # metrics whose default filter is dropped
    listing: str | None = None  # list rows of this table
    list_column: tuple[str, str] | None = None  # list the distinct values of this column
    list_order: tuple[str, str, str] | None = None  # (table, column, asc|desc) for a listing
    shown: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # more columns a listing shows
    relation: Relation | None = None
    assumptions: list[str] = dataclasses.field(default_factory=list)

    @property
    def grain(self) -> str | None:
        """The time bucket, if the plan has one."""
        return next((d.grain for d in self.dims if d.grain), None)


def _measure_words(m: Measure, catalog: Catalog, lifted: list[str]) -> str:
    if m.kind == "metric":
        metric = catalog.metric(str(m.metric))
        if metric is None:
            return str(m.metric)
        only = f", only where {metric.filter}" if metric.filter and metric.name not in lifted else ""
        return f"{m.label} = {metric.sql}{only}"
    if m.kind == "agg":
        return f"{m.label} = {m.agg}({m.table}.{m.column})" if m.agg != "count_distinct" else \
            f"{m.label} = number of distinct {m.table}.{m.column}"
    if m.kind == "count":
        return f"{m.label} = number of {m.table} rows"
    base = _measure_words(m.base, catalog, lifted) if m.base else ""
    if m.kind == "rate":
        return f"{m.label} = share of [{base}] where {' and '.join(f.describe() for f in m.part)}, in %"
    if m.kind == "share":
        scope = "the total" if not m.within else "each group"
        return f"{m.label} = [{base}] as a share of {scope}, in %"
    if m.kind == "ratio":
        over = _measure_words(m.over, catalog, lifted) if m.over else ""
        return f"{m.label} = [{base}] divided by [{over}]"
    return f"{m.label} = average per {m.grain} of [{base}]"


def describe(plan: Plan, catalog: Catalog) -> str:
    """The plan in words, one clause per part, separated by '; '."""
    parts: list[str] = []
    if plan.listing or plan.list_column:
        what = f"rows of {plan.listing}" if plan.listing else "distinct {}.{}".format(*plan.list_column or ("", ""))
        parts.append(f"list {what}")
    parts += [f"measure {_measure_words(m, catalog, plan.lifted)}" for m in plan.measures]
    for metric in plan.lifted:
        parts.append(f"without the default filter of {metric}")
    dims = [f"{d.grain} of {d.table}.{d.column}" if d.grain else f"{d.table}.{d.column}" for d in plan.dims]
    if dims:
        parts.append("by " + ", ".join(dims))
    if plan.filters:
        parts.append("where " + " and ".join(f.describe() for f in plan.filters))
    if plan.relation:
        r = plan.relation
        inner = " and ".join([f.describe() for f in r.filters] + ([r.period.describe()] if r.period else []))
        parts.append(f"{'with no' if r.negate else 'with'} rows in {r.table}" + (f" where {inner}" if inner else ""))
    on = f" on {plan.date[0]}.{plan.date[1]}" if plan.date else ""
    if len(plan.periods) == 1:
        parts.append(f"period {plan.periods[0].describe()}{on}")
    elif plan.periods:
        parts.append("compare " + " with ".join(p.describe() for p in plan.periods) + on)
    if plan.list_order:
        parts.append(f"order by {plan.list_order[0]}.{plan.list_order[1]} "
                     f"{'highest' if plan.list_order[2] == 'desc' else 'lowest'} first")
    elif plan.order and plan.measures:
        parts.append(f"order by {plan.measures[0].label}, {'highest' if plan.order == 'desc' else 'lowest'} first")
    if plan.limit:
        parts.append(f"limit {plan.limit}")
    return "; ".join(parts)
