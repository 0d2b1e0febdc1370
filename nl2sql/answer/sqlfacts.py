"""What a query's text says about its reading: the date span its filters allow, its other filters, a top-N cut.

Read from the outermost SELECT's WHERE with sqlglot (never executed): `d >= '2025-01-01' AND d <
'2026-01-01'`, `d BETWEEN … AND …`, `YEAR(d) = 2025` or `YEAR(d) IN (2024, 2025)` give a span;
`channel = 'web'` and `region IN ('Europe', 'Asia')` are filters. Chart titles and the partial-period
check use them; anything unusual is simply not described.
"""

from __future__ import annotations

import datetime as dt

import sqlglot
from sqlglot import exp

DAY = dt.timedelta(days=1)


def _tree(sql: str | None) -> exp.Expr | None:
    if not sql:
        return None
    try:
        return sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return None


def _outer(tree: exp.Expr | None) -> exp.Select | None:
    while isinstance(tree, exp.Subquery | exp.Paren):
        tree = tree.this
    return tree if isinstance(tree, exp.Select) else None


def _date(node: exp.Expr | None) -> dt.date | None:
    while isinstance(node, exp.Cast | exp.TryCast | exp.Paren):
        node = node.this
    if isinstance(node, exp.Literal) and node.is_string:
        try:
            return dt.date.fromisoformat(str(node.this)[:10])
        except ValueError:
            return None
    return None


def _year(node: exp.Expr | None) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string and str(node.this).isdigit() and len(str(node.this)) == 4:
        return int(node.this)
    return None


def _conditions(where: exp.Expr) -> list[exp.Expr]:
    """The AND-ed conditions of a WHERE (OR-ed ones are left whole and read as nothing)."""
    node = where.this if isinstance(where, exp.Where) else where
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.And):
        return _conditions(node.this) + _conditions(node.expression)
    return [node]


def _name(column: exp.Column) -> str:
    return column.name.lower()


def date_spans(sql: str | None) -> dict[str, tuple[dt.date | None, dt.date | None]]:
    """column name -> (first day, day after the last) that the outer WHERE allows; None: open."""
    select = _outer(_tree(sql))
    where = select.args.get("where") if select is not None else None
    spans: dict[str, list[dt.date | None]] = {}
    for cond in _conditions(where) if where is not None else []:
        target = cond.this
        if isinstance(target, exp.Year) and isinstance(target.this, exp.Column):
            years = [_year(e) for e in (cond.expressions if isinstance(cond, exp.In) else [cond.expression])] \
                if isinstance(cond, exp.In | exp.EQ) else []
            if years and all(y is not None for y in years):
                ys = [y for y in years if y is not None]
                _narrow(spans.setdefault(_name(target.this), [None, None]), dt.date(min(ys), 1, 1),
                        dt.date(max(ys) + 1, 1, 1))
            continue
        if not isinstance(target, exp.Column):
            continue
        span = spans.setdefault(_name(target), [None, None])
        if isinstance(cond, exp.Between):
            low, high = _date(cond.args.get("low")), _date(cond.args.get("high"))
            _narrow(span, low, high + DAY if high else None)
        elif isinstance(cond, exp.GTE | exp.GT):
            day = _date(cond.expression)
            _narrow(span, (day + DAY if isinstance(cond, exp.GT) else day) if day else None, None)
        elif isinstance(cond, exp.LT | exp.LTE):
            day = _date(cond.expression)
            _narrow(span, None, (day + DAY if isinstance(cond, exp.LTE) else day) if day else None)
    return {k: (v[0], v[1]) for k, v in spans.items() if v[0] or v[1]}


def _narrow(span: list[dt.date | None], start: dt.date | None, end: dt.date | None) -> None:
    if start and (span[0] is None or start > span[0]):
        span[0] = start
    if end and (span[1] is None or end < span[1]):
        span[1] = end


def literal_filters(sql: str | None) -> list[tuple[str, list[str]]]:
    """(column, values) for each `column = 'text'` / `column IN ('a', 'b')` of the outer WHERE."""
    select = _outer(_tree(sql))
    where = select.args.get("where") if select is not None else None
    found = []
    for cond in _conditions(where) if where is not None else []:
        if isinstance(cond, exp.EQ | exp.In) and isinstance(cond.this, exp.Column):
            values = cond.expressions if isinstance(cond, exp.In) else [cond.expression]
            texts = [str(v.this) for v in values if isinstance(v, exp.Literal) and v.is_string]
            if texts and len(texts) == len(values):
                found.append((cond.this.name, texts))
    return found


def label_sources(sql: str | None) -> list[tuple[str, str]]:
    """(table, column) behind each plain column the outer SELECT outputs (not inside an aggregate)."""
    select = _outer(_tree(sql))
    if select is None:
        return []
    aliases = {t.alias_or_name.lower(): t.name for t in select.find_all(exp.Table)}
    found = []
    for projection in select.expressions:
        inner = projection.this if isinstance(projection, exp.Alias) else projection
        if isinstance(inner, exp.Column):
            table = aliases.get(inner.table.lower()) if inner.table else (
                next(iter(aliases.values())) if len(aliases) == 1 else None)
            if table:
                found.append((table, inner.name))
    return found


def top_n(sql: str | None) -> int | None:
    """The N of `ORDER BY … LIMIT N` on the outermost query, or None."""
    tree = _tree(sql)
    limit = tree.args.get("limit") if tree is not None else None
    if tree is None or limit is None or tree.args.get("order") is None:
        return None
    value = limit.expression
    return int(value.this) if isinstance(value, exp.Literal) and str(value.this).isdigit() else None


def span_text(start: dt.date | None, end: dt.date | None) -> str | None:
    """'2024', 'Jan – Jun 2025', 'Jun 9 – Jun 15, 2025', 'since Mar 1, 2025' for a half-open span."""
    if start is None and end is None:
        return None
    if start is None:
        return f"until {_day(end - DAY)}" if end else None
    if end is None:
        return f"since {_day(start)}"
    last = end - DAY
    if start.month == 1 and start.day == 1 and end.month == 1 and end.day == 1:
        return str(start.year) if end.year == start.year + 1 else f"{start.year} – {last.year}"
    if start.day == 1 and end.day == 1:
        if (start.year, start.month) == (last.year, last.month):
            return f"{start:%b %Y}"
        return f"{start:%b} – {last:%b %Y}" if start.year == last.year else f"{start:%b %Y} – {last:%b %Y}"
    if start == last:
        return _day(start)
    return f"{start:%b} {start.day} – {last:%b} {last.day}, {last.year}" if start.year == last.year \
        else f"{_day(start)} – {_day(last)}"


def _day(day: dt.date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def describe(sql: str | None, known: str | None = None) -> str | None:
    """The reading's filters and period in a few words: 'channel: web · 2024' (for a chart's subtitle).

    Filters also found in `known` (e.g. a WHERE made of the metrics' own filters) are left out.
    """
    skip = {(c.lower(), tuple(v)) for c, v in literal_filters(known)}
    parts = [f"{column}: {', '.join(values[:3])}{' …' if len(values) > 3 else ''}"
             for column, values in literal_filters(sql) if (column.lower(), tuple(values)) not in skip]
    spans = [span_text(*span) for span in date_spans(sql).values()]
    parts += [s for s in spans if s]
    return " · ".join(parts)[:120] or None
