"""Comparing a section with the previous period: headline totals, rows matched by label, thresholds."""

from __future__ import annotations

import dataclasses
from typing import Any

from nl2sql.answer.measures import by_name
from nl2sql.core.errors import did_you_mean
from nl2sql.core.values import Result, as_number, fmt_number, is_numeric_type, is_temporal_type
from nl2sql.jobs.report.config import SectionConfig
from nl2sql.jobs.report.period import Period


@dataclasses.dataclass
class Change:
    """One measure now and in the previous period."""

    label: str
    column: str
    current: float
    previous: float | None

    @property
    def pct(self) -> float | None:
        """Change in percent, or None when the previous value is missing or zero."""
        if self.previous in (None, 0):
            return None
        assert self.previous is not None
        return (self.current - self.previous) / abs(self.previous) * 100


def _measures(result: Result) -> list[int]:
    return [i for i, (n, t) in enumerate(result.columns)
            if is_numeric_type(t) and not n.lower().endswith("id")]


def _keys(result: Result) -> list[int]:
    return [i for i, (_, t) in enumerate(result.columns) if not is_numeric_type(t) and not is_temporal_type(t)]


def _row_label(row: tuple[Any, ...], keys: list[int]) -> str:
    return " / ".join(str(row[k]) for k in keys)


def compare(current: Result, previous: Result | None) -> tuple[list[Change], list[Change]]:
    """(headline, per-row changes): totals of each measure, and the main measure row by row.

    Rows are matched by their text columns; a time series (no text column) compares totals only.
    """
    measures = _measures(current)
    keys = _keys(current)
    headline: list[Change] = []
    rows: list[Change] = []
    if not measures:
        return headline, rows
    prev_names = [n for n, _ in previous.columns] if previous else []
    for i in measures:
        name = current.columns[i][0]
        additive = by_name(name).additive
        if not additive and len(current.rows) != 1:
            continue
        now = sum(v for v in (as_number(r[i]) for r in current.rows) if v is not None)
        before = None
        if previous is not None and name in prev_names:
            j = prev_names.index(name)
            before = sum(v for v in (as_number(r[j]) for r in previous.rows) if v is not None)
        headline.append(Change("total" if len(current.rows) != 1 else "", name, now, before))
    main = measures[-1]
    name = current.columns[main][0]
    if keys and previous is not None and name in prev_names:
        pkeys = _keys(previous)
        j = prev_names.index(name)
        before_by = {_row_label(r, pkeys): as_number(r[j]) for r in previous.rows}
        for r in current.rows:
            value = as_number(r[main])
            if value is not None:
                rows.append(Change(_row_label(r, keys), name, value, before_by.get(_row_label(r, keys))))
    elif keys:
        rows = [Change(_row_label(r, keys), name, v, None) for r in current.rows
                if (v := as_number(r[main])) is not None]
    return headline, rows


def evaluate_thresholds(section: SectionConfig, result: Result, changes: list[Change], headline: list[Change],
                        period_label: str) -> list[str]:
    """Alert lines for the thresholds a result crosses."""
    alerts = []
    names = [n for n, _ in result.columns]
    keys = _keys(result)
    for t in section.thresholds:
        if t.column not in names:
            guess = did_you_mean(t.column, names)
            alerts.append(f"Threshold on '{t.column}' cannot be checked: the result has no such column."
                          + (f" {guess}" if guess else ""))
            continue
        i = names.index(t.column)
        by_row = {c.label: c for c in changes if c.column == t.column}
        candidates: list[tuple[str, float, Change | None]] = []
        for r in result.rows:
            label = _row_label(r, keys) if keys else ""
            if t.row is not None and label.lower() != t.row.lower() and \
                    not any(str(r[k]).lower() == t.row.lower() for k in keys):
                continue
            value = as_number(r[i])
            if value is not None:
                change = by_row.get(label) or (headline[0] if not keys and headline
                                               and headline[0].column == t.column else None)
                candidates.append((label, value, change))
        if t.row is not None and not candidates:
            # a row that vanished entirely fell by 100 %
            prev = next((c for c in changes if c.label.lower() == t.row.lower()), None)
            candidates.append((t.row, 0.0, prev))
        for label, value, change in candidates:
            pct = change.pct if change else None
            hit = ((t.below is not None and value < t.below) or (t.above is not None and value > t.above)
                   or (pct is not None and t.change_pct_below is not None and pct < t.change_pct_below)
                   or (pct is not None and t.change_pct_above is not None and pct > t.change_pct_above))
            if not hit:
                continue
            what = f"{label} {t.column}".strip()
            detail = f"{what}: {fmt_number(value)}"
            if change is not None and change.previous is not None:
                detail += f" vs {fmt_number(change.previous)} in the previous period"
                if pct is not None:
                    detail += f" ({pct:+.1f}%)"
            alerts.append(f"{t.message}: {detail}" if t.message else detail)
    return alerts


def comparison_sentence(headline: list[Change], period: Period) -> str | None:
    """'Compared with the previous week: revenue 1.2M (+12.3%).' (computed, so always grounded)."""
    parts = []
    for c in headline:
        if c.previous is None:
            continue
        pct = f" ({c.pct:+.1f}%)" if c.pct is not None else ""
        parts.append(f"{c.column} {fmt_number(c.current)} vs {fmt_number(c.previous)}{pct}")
    if not parts:
        return None
    return f"Compared with {period.previous_label}: " + "; ".join(parts) + "."
