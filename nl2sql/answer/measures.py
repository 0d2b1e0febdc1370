"""Measure kinds: what each numeric column of a result means, so nobody adds up averages.

A kind is read from the SQL that made the column: SUM -> sum, COUNT -> count, COUNT(DISTINCT)
-> distinct count, AVG/MEDIAN -> average, a division -> ratio (x 100: percent), MIN/MAX ->
extreme, a grouped numeric expression such as YEAR(date) -> period. When the SQL does not say
(no SQL, a column passed through from a CTE or subquery), the column's name decides: `*_rate`,
`avg_*`, `*_pct` are not additive, `*_id`, `*_code` and `year` are identifiers.

Totals and shares of a column's rows mean something only when it is `additive`: sums and counts
are; averages, ratios, percentages and extremes are not. A distinct count is additive only across
groups that split its key (orders counted per order channel add up; per product they do not, as
one order holds several products).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import sqlglot
from sqlglot import exp

from nl2sql.core.values import as_number, is_numeric_type, is_temporal_type

SUM, COUNT, DISTINCT, AVERAGE, RATIO, PERCENT, EXTREME, VALUE = (
    "sum", "count", "distinct count", "average", "ratio", "percent", "extreme", "value")
IDENTIFIER, PERIOD = "identifier", "period"  # numbers that name things or times: never summed or formatted
NOT_MEASURES = (IDENTIFIER, PERIOD)

_AVERAGE_WORDS = ("avg", "average", "mean", "median", "price", "per_", "平均", "均价")
_RATIO_WORDS = ("rate", "ratio", "share", "margin", "conversion", "率", "占比", "比例")
_PERCENT_WORDS = ("pct", "percent", "percentage", "百分比")
_EXTREME_WORDS = ("max", "min", "largest", "smallest", "highest", "lowest", "最大", "最小")
_PERIOD_NAMES = ("year", "yr", "quarter", "month", "week", "day", "hour", "年", "年份", "月", "月份", "季度")
_AVERAGE_FUNCS = (exp.Avg, exp.Median, exp.Quantile, exp.PercentileCont, exp.PercentileDisc, exp.Stddev,
                  exp.StddevPop, exp.StddevSamp, exp.Variance, exp.VariancePop)
_WRAPPERS = (exp.Cast, exp.TryCast, exp.Round, exp.Paren, exp.Alias, exp.Abs)


@dataclasses.dataclass(frozen=True)
class Measure:
    """One numeric column: its kind, whether its rows add up, whether it is a fraction of one (0.25 = 25 %)."""

    name: str
    kind: str
    additive: bool
    fraction: bool = False

    @property
    def is_measure(self) -> bool:
        """False for identifiers and periods (ids, codes, years): they are labels, not quantities."""
        return self.kind not in NOT_MEASURES

    @property
    def is_percent(self) -> bool:
        """Shown with a % sign: a percentage, or a rate kept as a fraction of one."""
        return self.kind == PERCENT or self.fraction


def is_identifier_name(name: str) -> bool:
    """A column whose numbers name things rather than measure them (ids, codes)."""
    lowered = name.lower()
    return lowered == "id" or lowered.endswith(("_id", "id", "_code", "code", "_no", "_number", "_key"))


def is_period_name(name: str) -> bool:
    """A column named like a period (year, month, week ...): its numbers are calendar positions."""
    return name.lower().strip() in _PERIOD_NAMES


_WORDS = {"avg": "average", "pct": "%", "perc": "%", "qty": "quantity", "amt": "amount", "cnt": "count",
          "num": "number of", "nbr": "number of", "no": "number", "id": "ID", "yr": "year", "csat": "CSAT",
          "aov": "AOV", "ltv": "LTV", "sku": "SKU", "usd": "USD", "eur": "EUR", "yoy": "YoY", "mom": "MoM"}


def humanize(name: str) -> str:
    """A column name as people read it: 'return_rate' -> 'return rate', 'avgOrderValue' -> 'average order value'."""
    if not name or any("\u4e00" <= ch <= "\u9fff" for ch in name):
        return name
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name.strip())
    words = [w for w in re.split(r"[\s_\-.]+", spaced) if w]
    shown = [_WORDS.get(w.lower(), w if w.isupper() and len(w) > 1 else w.lower()) for w in words]
    return " ".join(shown) or name


def is_label_name(name: str) -> bool:
    """A column named like an identifier or a period: its numbers are written as is (2024, not 2,024)."""
    return is_identifier_name(name) or is_period_name(name)


def by_name(name: str) -> Measure:
    """The kind a column's name suggests (the fallback when the SQL does not tell)."""
    lowered = name.lower()
    if is_period_name(name):
        return Measure(name, PERIOD, False)
    if is_identifier_name(name):
        return Measure(name, IDENTIFIER, False)
    if any(w in lowered for w in _PERCENT_WORDS):
        return Measure(name, PERCENT, False)
    if any(w in lowered for w in _RATIO_WORDS):
        return Measure(name, RATIO, False)
    if any(w in lowered for w in _AVERAGE_WORDS):
        return Measure(name, AVERAGE, False)
    if any(w in lowered.split("_") or lowered.startswith(w) for w in _EXTREME_WORDS):
        return Measure(name, EXTREME, False)
    if lowered.startswith(("n_", "num_", "count")) or lowered.endswith(("_count", "count")):
        return Measure(name, COUNT, True)
    return Measure(name, VALUE, True)


def _strip(node: exp.Expr) -> exp.Expr:
    """The expression inside casts, rounding, parentheses and COALESCE(x, 0)."""
    while True:
        if isinstance(node, (*_WRAPPERS, exp.Coalesce)):
            node = node.this
        else:
            return node


def _is_hundred(node: exp.Expr) -> bool:
    node = _strip(node)
    return isinstance(node, exp.Literal) and not node.is_string and node.this in ("100", "100.0", "100.00")


def _aliases(select: exp.Select) -> dict[str, str]:
    """alias (lower case) -> table name, for the tables a SELECT reads."""
    return {t.alias_or_name.lower(): t.name.lower() for t in select.find_all(exp.Table)}


def _looks_like_key(column: str, table: str) -> bool:
    """order_id of orders, id of anything, category_id of categories: the column names the table's rows."""
    column, table = column.lower(), table.lower()
    if column == "id":
        return True
    stem = column.removesuffix("_id")
    singular = table[:-3] + "y" if table.endswith("ies") else table[:-1] if table.endswith("s") else table
    return stem != column and stem in (table, singular)


def _group_expressions(select: exp.Select) -> list[exp.Expr]:
    """The GROUP BY expressions, with positions (GROUP BY 1) and output aliases resolved."""
    group = select.args.get("group")
    outputs = {p.alias_or_name.lower(): p for p in select.expressions}
    found = []
    for e in group.expressions if group is not None else []:
        if isinstance(e, exp.Literal) and not e.is_string and e.this.isdigit() \
                and 0 < int(e.this) <= len(select.expressions):
            e = select.expressions[int(e.this) - 1]
        elif isinstance(e, exp.Column) and not e.table and e.name.lower() in outputs:
            e = outputs[e.name.lower()]
        found.append(e.this if isinstance(e, exp.Alias) else e)
    return found


def _distinct_is_additive(count: exp.Count, select: exp.Select) -> bool:
    """True when every group holds its own keys: grouped only by columns of the counted key's table."""
    group = select.args.get("group")
    if group is None:
        return True
    keys = list(count.find_all(exp.Column))
    aliases = _aliases(select)
    if len(keys) != 1:
        return False
    key = keys[0]
    owner = key.table.lower() if key.table else (next(iter(aliases)) if len(aliases) == 1 else "")
    if owner not in aliases or not _looks_like_key(key.name, aliases[owner]):
        return False
    grouped = [c for e in _group_expressions(select) for c in e.find_all(exp.Column)]
    return bool(grouped) and all((c.table.lower() if c.table else owner) == owner for c in grouped)


def _is_aggregate(node: exp.Expr) -> bool:
    return isinstance(node, exp.AggFunc) or any(isinstance(n, exp.AggFunc) for n in node.find_all(exp.AggFunc))


def _from_expression(name: str, node: exp.Expr, select: exp.Select) -> Measure | None:
    """The kind an output expression has, or None when it does not tell."""
    node = _strip(node)
    if node.find(exp.Window):
        return None
    if not _is_aggregate(node):
        grouped = select.args.get("group") is not None or any(_is_aggregate(e) for e in select.expressions)
        return Measure(name, PERIOD if node.find(exp.Column) else IDENTIFIER, False) if grouped else None
    if isinstance(node, exp.Mul) and (_is_hundred(node.this) or _is_hundred(node.expression)):
        inner = _strip(node.expression if _is_hundred(node.this) else node.this)
        if isinstance(inner, exp.Div):
            return Measure(name, PERCENT, False)
    if isinstance(node, exp.Div | exp.IntDiv):
        top = _strip(node.this)
        if isinstance(top, exp.Mul) and (_is_hundred(top.this) or _is_hundred(top.expression)):
            return Measure(name, PERCENT, False)  # 100.0 * a / b
        return Measure(name, RATIO, False)
    if isinstance(node, _AVERAGE_FUNCS):
        return Measure(name, AVERAGE, False)
    if isinstance(node, exp.Min | exp.Max):
        return Measure(name, EXTREME, False)
    if isinstance(node, exp.Count):
        if isinstance(node.this, exp.Distinct):
            return Measure(name, DISTINCT, _distinct_is_additive(node, select))
        return Measure(name, COUNT, True)
    if isinstance(node, exp.Sum):
        return Measure(name, SUM, True)
    if isinstance(node, exp.Add | exp.Sub | exp.Neg | exp.Mul):
        parts = [p for p in (node.this, node.args.get("expression")) if isinstance(p, exp.Expr)]
        kinds = [_from_expression(name, p, select) for p in parts if _is_aggregate(p)]
        if kinds and all(k is not None and k.additive for k in kinds):
            return Measure(name, SUM, True)  # SUM(a) - SUM(b) and 2 * SUM(a) still add up
    return None


def _outer_select(tree: exp.Expr) -> exp.Select | None:
    while isinstance(tree, exp.Subquery | exp.Paren):
        tree = tree.this
    if isinstance(tree, exp.SetOperation):
        tree = tree.this
    return tree if isinstance(tree, exp.Select) else None


def _outputs(sql: str) -> tuple[exp.Select, dict[str, exp.Expr]] | None:
    """The outermost SELECT and its output expressions by name (lower case)."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return None
    select = _outer_select(tree) if tree is not None else None
    if select is None:
        return None
    outputs = {}
    for projection in select.expressions:
        if projection.alias_or_name:
            outputs[projection.alias_or_name.lower()] = projection
    return select, outputs


def _as_shown(measure: Measure, values: list[float]) -> Measure:
    """Rates and percentages as their values read: all within 0..1 is a fraction of one (0.25 = 25 %)."""
    if measure.kind != RATIO or not values:
        return measure
    percentish = any(w in measure.name.lower() for w in (*_RATIO_WORDS, *_PERCENT_WORDS))
    if percentish and all(-1.0 <= v <= 1.0 for v in values) and any(v != 0 for v in values):
        return dataclasses.replace(measure, fraction=True)
    return measure


def measure_kinds(columns: list[tuple[str, str]], sql: str | None = None,
                  rows: list[tuple[Any, ...]] | None = None) -> dict[str, Measure]:
    """The kind of every numeric column of a result, from the SQL that made it, else from its name.

    With `rows`, a rate or percentage whose values all lie within 0..1 is marked a fraction of one.
    """
    parsed = _outputs(sql) if sql else None
    kinds: dict[str, Measure] = {}
    for name, type_name in columns:
        if not is_numeric_type(type_name) or is_temporal_type(type_name):
            continue
        named = by_name(name)
        found = None
        if parsed is not None and name.lower() in parsed[1]:
            found = _from_expression(name, parsed[1][name.lower()], parsed[0])
        if found is not None and found.kind == PERIOD and named.kind not in NOT_MEASURES:
            found = Measure(name, VALUE, named.additive)  # a grouped number that is not named like a period
        measure = found if found is not None else named
        if rows:
            i = [n for n, _ in columns].index(name)
            measure = _as_shown(measure, [v for r in rows if (v := as_number(r[i])) is not None])
        kinds[name] = measure
    return kinds


def measures_of(columns: list[tuple[str, str]], kinds: dict[str, Measure]) -> list[int]:
    """Indexes of the columns that are measures (numeric, not an identifier or a period)."""
    return [i for i, (n, _) in enumerate(columns) if n in kinds and kinds[n].is_measure]


def fmt_measure(value: float, measure: Measure | None, fmt: Any) -> str:
    """A value as its kind reads: 0.0516 of a rate -> '5.2%', 12.3456 percent -> '12.3%', else `fmt(value)`."""
    if measure is not None and measure.fraction and abs(value) <= 1.5:
        return f"{value * 100:.1f}%"
    if measure is not None and measure.kind == PERCENT:
        return f"{value:.1f}%"
    return str(fmt(value))
