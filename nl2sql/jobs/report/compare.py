"""Comparing a section with the previous period, like with like.

Rows are matched by identity (their label columns: a product, a channel), not by position: each
row of this period gets its value and rank in the previous one, from the whole previous ranking
(a product that was #7 last week is "up from #7", not "–"); a row with no previous rows at all is
"new"; rows of the previous top N that left it are listed as "dropped out" with both values.
Section totals come from the section's own total query (queries.total_query), so a total never
sums two different top-N lists. The summary's biggest movers are these totals and matched rows.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nl2sql.answer.measures import Measure, measures_of
from nl2sql.answer.shape import key_of, result_shape
from nl2sql.core.values import Result, as_number

NEW, ENTERED, DROPPED, GONE = "new", "entered", "dropped out", "gone"


@dataclasses.dataclass
class Change:
    """One measure of one row (or of the whole section: label ''), now and in the previous period."""

    label: str
    column: str
    current: float | None
    previous: float | None
    rank: int | None = None
    previous_rank: int | None = None
    status: str | None = None  # new, entered (the top N), dropped out (of the top N), gone (no rows now)

    @property
    def pct(self) -> float | None:
        """Change in percent, or None when a value is missing or the previous one is zero."""
        if self.previous in (None, 0) or self.current is None:
            return None
        assert self.previous is not None
        return (self.current - self.previous) / abs(self.previous) * 100

    @property
    def delta(self) -> float | None:
        """The change in the measure's own unit, or None when a value is missing."""
        return None if self.current is None or self.previous is None else self.current - self.previous


@dataclasses.dataclass
class Comparison:
    """A section against the previous period: totals, rows matched by identity, the top-N size."""

    headline: list[Change]
    rows: list[Change]
    top_n: int | None = None
    measure: Measure | None = None


@dataclasses.dataclass
class Inputs:
    """What a comparison reads: the section's rows, the whole rankings and the totals of both periods."""

    current: Result
    kinds: dict[str, Measure]
    previous: Result | None = None
    whole_now: Result | None = None  # the top-N query without its LIMIT
    whole_before: Result | None = None
    totals_now: Result | None = None  # the total query: one row of the section's measures
    totals_before: Result | None = None
    top_n: int | None = None


def keys_of(result: Result, kinds: dict[str, Measure]) -> tuple[int, ...]:
    """The label columns that identify a row (text and ids; not periods, not measures)."""
    return result_shape(result.columns, result.rows, kinds).labels


def ranking(result: Result | None, kinds: dict[str, Measure], column: str) -> dict[str, tuple[float | None, int]]:
    """row label -> (value of `column`, rank in the result's own order)."""
    if result is None or column not in result.column_names:
        return {}
    keys = keys_of(result, kinds)
    i = result.column_names.index(column)
    return {key_of(r, keys): (as_number(r[i]), rank) for rank, r in enumerate(result.rows, 1)} if keys else {}


def _headline(inputs: Inputs, measures: list[str]) -> list[Change]:
    now, before = inputs.totals_now, inputs.totals_before
    if now is None and len(inputs.current.rows) == 1:
        now, before = inputs.current, inputs.previous
    if now is not None and now.rows:
        found = []
        for name in measures:
            if name in now.column_names:
                value = as_number(now.rows[0][now.column_names.index(name)])
                old = (as_number(before.rows[0][before.column_names.index(name)])
                       if before is not None and before.rows and name in before.column_names else None)
                if value is not None:
                    found.append(Change("", name, value, old))
        return found
    if inputs.top_n:
        return []  # the rows are a cut: their sum is no total
    found = []
    for name in measures:
        if inputs.kinds[name].additive:
            i = inputs.current.column_names.index(name)
            old = None
            if inputs.previous is not None and name in inputs.previous.column_names:
                j = inputs.previous.column_names.index(name)
                old = sum(v for r in inputs.previous.rows if (v := as_number(r[j])) is not None)
            found.append(Change("", name, sum(v for r in inputs.current.rows if (v := as_number(r[i])) is not None),
                                old))
    return found


def compare(inputs: Inputs) -> Comparison:
    """Totals and rows matched by identity (see the module doc)."""
    current, kinds = inputs.current, inputs.kinds
    measures = [current.columns[i][0] for i in measures_of(current.columns, kinds)]
    if not measures:
        return Comparison([], [])
    headline = _headline(inputs, measures)
    main = measures[0]
    keys = keys_of(current, kinds)
    if not keys:
        return Comparison(headline, [], inputs.top_n, kinds[main])
    before = ranking(inputs.whole_before or inputs.previous, kinds, main)
    now_all = ranking(inputs.whole_now or current, kinds, main)
    whole_known = inputs.previous is not None and not (inputs.whole_before or inputs.previous).truncated
    rows: list[Change] = []
    i = current.column_names.index(main)
    for rank, r in enumerate(current.rows, 1):
        key = key_of(r, keys)
        old = before.get(key)
        status = None
        if inputs.previous is not None and old is None and whole_known:
            status = NEW
        elif inputs.top_n and old is not None and old[1] > inputs.top_n:
            status = ENTERED
        rows.append(Change(key, main, as_number(r[i]), old[0] if old else None, rank if inputs.top_n else None,
                           old[1] if old and inputs.top_n else None, status))
    shown = {c.label for c in rows}
    limit = inputs.top_n or len(before)
    for key, (value, old_rank) in before.items():
        if key not in shown and old_rank <= limit:
            now = now_all.get(key)
            rows.append(Change(key, main, now[0] if now else None, value, now[1] if now and inputs.top_n else None,
                               old_rank if inputs.top_n else None, DROPPED if inputs.top_n else GONE))
    return Comparison(headline, rows, inputs.top_n, kinds[main])


def movers(sections: list[tuple[Any, Comparison]], limit: int = 5, min_pct: float = 5.0) -> list[tuple[Any, Change]]:
    """The biggest changes of the report: section totals by their % change, and matched rows of measures
    that add up by how much of their section's total they moved (a row's change / the previous total)."""
    scored: list[tuple[float, Any, Change]] = []
    seen: set[tuple[str, float, float | None]] = set()
    for section, comparison in sections:
        for c in comparison.headline:
            key = (c.column, round(c.current or 0.0, 6), c.previous)
            if c.pct is not None and abs(c.pct) >= min_pct and key not in seen:  # sections often share a total
                seen.add(key)
                scored.append((abs(c.pct), section, c))
        measure = comparison.measure
        total = next((c.previous for c in comparison.headline if measure and c.column == measure.name), None)
        if not measure or not measure.additive or not total:
            continue
        for c in comparison.rows:
            if c.delta is not None and c.pct is not None and abs(c.pct) >= min_pct and c.status is None:
                scored.append((abs(c.delta) / abs(total) * 100, section, c))
    scored.sort(key=lambda t: -t[0])
    return [(s, c) for _, s, c in scored[:limit]]
