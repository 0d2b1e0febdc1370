"""The shape of a result: which column is the period, which are labels, the time grain, a top-N cut.

Narration, grounding and charts read a result the same way: a period column (a date, or a number
named like a period such as `year`) with its grain (day, week, month, quarter, year); label
columns (text and identifiers); and whether the SQL cut the rows to a top N (then the rows are
not the whole, and their sum is no total).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from typing import Any

from nl2sql.answer.measures import IDENTIFIER, PERIOD, Measure
from nl2sql.answer.sqlfacts import top_n
from nl2sql.core.values import as_number, is_numeric_type, is_temporal_type

MAX_LABEL_CHARS = 60


@dataclasses.dataclass(frozen=True)
class ResultShape:
    """Column indexes by role, the period's grain, and the SQL's top-N cut (None: all rows)."""

    period: int | None
    labels: tuple[int, ...]
    grain: str | None
    repeated_periods: bool
    top_n: int | None


def grain_of(values: list[Any]) -> str | None:
    """'year', 'quarter', 'month', 'week', 'day' or 'time' for a list of dates; None when not dates."""
    dates = sorted({v for v in values if isinstance(v, dt.date)})
    if not dates:
        return None
    if any(isinstance(d, dt.datetime) and d.time() != dt.time() for d in dates):
        return "time"
    days = [d.date() if isinstance(d, dt.datetime) else d for d in dates]
    if all(d.month == 1 and d.day == 1 for d in days) and len(days) > 1:
        return "year"
    if all(d.day == 1 for d in days) and len(days) > 1:
        months = {d.month for d in days}
        return "quarter" if months <= {1, 4, 7, 10} and len(days) > 2 else "month"
    if len(days) > 1 and all((b - a).days % 7 == 0 for a, b in itertools.pairwise(days)):
        return "week"
    return "day"


def label(value: Any, grain: str | None = None) -> str:
    """A value as a label: dates at their grain (2024, 2025 Q1, 2025-03, 2025-06-09), ids and years as written."""
    if isinstance(value, dt.datetime) and (grain != "time" and value.time() == dt.time()):
        value = value.date()
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        if grain == "year":
            return str(value.year)
        if grain == "quarter":
            return f"{value.year} Q{(value.month - 1) // 3 + 1}"
        if grain == "month":
            return f"{value:%Y-%m}"
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = "(none)" if value is None else str(value)
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"


def result_shape(columns: list[tuple[str, str]], rows: list[tuple[Any, ...]], kinds: dict[str, Measure],
                 sql: str | None = None) -> ResultShape:
    """Roles of the columns of a result (see the module doc)."""
    period = None
    labels = []
    for i, (name, type_name) in enumerate(columns):
        kind = kinds.get(name)
        if is_temporal_type(type_name) or (kind is not None and kind.kind == PERIOD):
            if period is None:
                period = i
            else:
                labels.append(i)
        elif not is_numeric_type(type_name) or (kind is not None and kind.kind == IDENTIFIER):
            labels.append(i)
    grain = None
    if period is not None:
        values = [r[period] for r in rows]
        grain = grain_of(values) or (columns[period][0].lower() if kinds.get(columns[period][0]) else None)
        repeated = len({v for v in values}) < len(values)
    else:
        repeated = False
    n = top_n(sql)
    return ResultShape(period=period, labels=tuple(labels), grain=grain, repeated_periods=repeated,
                       top_n=n if n is not None and n == len(rows) else None)


def key_of(row: tuple[Any, ...], labels: tuple[int, ...] | list[int]) -> str:
    """The label of a row: its label columns joined with ' · '."""
    return " · ".join(label(row[i]) for i in labels)


def pivot_periods(rows: list[tuple[Any, ...]], period: int, labels: tuple[int, ...], m: int
                  ) -> tuple[Any, Any, dict[str, tuple[float | None, float | None]]]:
    """(first period, last period, label -> (value in the first, value in the last))."""
    periods = sorted({r[period] for r in rows if r[period] is not None})
    first, last = periods[0], periods[-1]
    table: dict[str, list[float | None]] = {}
    for r in rows:
        if r[period] not in (first, last):
            continue
        slot = table.setdefault(key_of(r, labels), [None, None])
        value = as_number(r[m])
        if value is not None:
            i = 0 if r[period] == first else 1
            slot[i] = (slot[i] or 0.0) + value
    return first, last, {k: (v[0], v[1]) for k, v in table.items()}


def group_totals(rows: list[tuple[Any, ...]], i: int, m: int) -> dict[str, float]:
    """label of column i -> the sum of column m over its rows."""
    totals: dict[str, float] = {}
    for r in rows:
        value = as_number(r[m])
        if value is not None:
            totals[label(r[i])] = totals.get(label(r[i]), 0.0) + value
    return totals


def bucket_end(start: dt.date, grain: str) -> dt.date:
    """The first day after the week, month, quarter or year that starts on `start`."""
    if grain == "week":
        return start + dt.timedelta(days=7)
    if grain == "year":
        return dt.date(start.year + 1, 1, 1)
    months = 3 if grain == "quarter" else 1
    month = start.month - 1 + months
    return dt.date(start.year + month // 12, month % 12 + 1, 1)


def partial_buckets(values: list[Any], grain: str | None, covered: tuple[dt.date, dt.date]
                    ) -> list[tuple[dt.date, int, int]]:
    """(bucket start, days covered, days in the bucket) for the weeks/months/quarters/years that the
    covered span (first day, day after the last) only partly holds: their totals are not comparable."""
    if grain not in ("week", "month", "quarter", "year"):
        return []
    start, end = covered
    out = []
    for value in sorted({v.date() if isinstance(v, dt.datetime) else v for v in values if isinstance(v, dt.date)}):
        stop = bucket_end(value, grain)
        inside = (min(stop, end) - max(value, start)).days
        if 0 < inside < (stop - value).days:
            out.append((value, inside, (stop - value).days))
    return out
