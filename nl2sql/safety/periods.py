"""Partial periods: a first or last week, month, quarter or year that the data or the filters only partly cover.

"Revenue by week in 2025" starts with the week of Monday 2024-12-30, of which only 5 days are in
2025, and ends with a week of 3 days: both look like a collapse. The span a query reads is its
date filters (answer/sqlfacts) within the data's own first and last date (the catalog's profile of
the date column the period is cut from); a bucket that span does not cover whole is partial.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlglot import exp

from nl2sql.answer.measures import measure_kinds
from nl2sql.answer.shape import label, partial_buckets, result_shape
from nl2sql.answer.sqlfacts import DAY, date_spans
from nl2sql.safety.probe import owner, parse, tables_in_scope

if TYPE_CHECKING:
    from nl2sql.core.values import Result
    from nl2sql.data.catalog import Catalog


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value is not None else None
    except ValueError:
        return None


def covered_span(sql: str, column: str, catalog: Catalog) -> tuple[dt.date, dt.date] | None:
    """(first day, day after the last) that the query reads of the date column behind output `column`."""
    tree = parse(sql)
    select = tree if isinstance(tree, exp.Select) else None
    if select is None:
        return None
    projection = next((p for p in select.expressions if p.alias_or_name.lower() == column.lower()), None)
    source = next(iter(projection.find_all(exp.Column)), None) if projection is not None else None
    found = owner(source, tables_in_scope(select, catalog)) if source is not None else None
    if source is None or found is None:
        return None
    col = found[1].column(source.name)
    first, last = (_as_date(col.profile.min), _as_date(col.profile.max)) if col else (None, None)
    if first is None or last is None:
        return None
    start, end = date_spans(sql).get(source.name.lower(), (None, None))
    return max(first, start or first), min(last + DAY, end or last + DAY)


def partial_periods(sql: str, result: Result, catalog: Catalog) -> tuple[list[str], list[dt.date]]:
    """(warnings, starts of the partial buckets) for a result with a week/month/quarter/year column."""
    kinds = measure_kinds(result.columns, sql)
    shape = result_shape(result.columns, result.rows, kinds, sql)
    if shape.period is None or shape.grain not in ("week", "month", "quarter", "year") or len(result.rows) < 2:
        return [], []
    span = covered_span(sql, result.columns[shape.period][0], catalog)
    if span is None:
        return [], []
    values = [r[shape.period] for r in result.rows]
    partial = partial_buckets(values, shape.grain, span)
    if not partial:
        return [], []
    ordered = sorted({v.date() if isinstance(v, dt.datetime) else v for v in values if isinstance(v, dt.date)})
    grain = shape.grain
    parts = []
    for start, inside, days in partial:
        which = "first" if start == ordered[0] else "last" if start == ordered[-1] else "a"
        parts.append(f"the {which} {grain} ({label(start, grain)}) holds {inside} of its {days} days")
    text = "; ".join(parts)
    return ([f"Partial {grain}s: {text[0].upper()}{text[1:]}, so its total is not comparable with the others "
             f"(marked on the chart)." if len(partial) == 1 else
             f"Partial {grain}s: {text}; their totals are not comparable with the others (marked on the chart)."],
            [p[0] for p in partial])
