"""Thresholds: alert lines for the rows and totals that cross them, and config errors for those that cannot.

A threshold on a column the section's result does not have, or on a row that neither period nor
the data knows, is a mistake in the config that would otherwise never fire (or fire falsely) while
cron sees exit 0: it is a ConfigError naming the config's file and line, with a did-you-mean.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nl2sql.answer.measures import fmt_measure, humanize
from nl2sql.core.errors import ConfigError, did_you_mean
from nl2sql.core.values import fmt_number
from nl2sql.jobs.report.compare import Change, Comparison, Inputs, keys_of, ranking
from nl2sql.jobs.report.config import SectionConfig, Threshold


def _error(path: Path, t: Threshold, message: str, choices: list[str], row: bool = False) -> ConfigError:
    guess = did_you_mean((t.row or "") if row else t.column, choices) if choices else None
    shown = ", ".join(choices[:8]) + (" …" if len(choices) > 8 else "")
    return ConfigError(f"{path}:{t.row_line if row else t.line}: {message}",
                       hint=guess or (f"It has: {shown}." if shown else "Fix the threshold and run again."))


def check_thresholds(section: SectionConfig, number: int, inputs: Inputs, comparison: Comparison, path: Path,
                     known_value: Callable[[str], bool]) -> list[str]:
    """Alert lines for the thresholds the section crosses; ConfigError for a threshold that names an
    unknown column or row. `known_value(row)` tells whether the data has such a label at all."""
    alerts = []
    names = inputs.current.column_names
    for t in section.thresholds:
        if t.column not in names:
            raise _error(path, t, f"section {number} ({section.title}) has a threshold on '{t.column}', which is "
                         "not a column of its result.", names)
        for label, change in _candidates(t, section, number, inputs, comparison, path, known_value):
            line = _crossed(t, label, change, inputs)
            if line:
                alerts.append(line)
    return alerts


def _candidates(t: Threshold, section: SectionConfig, number: int, inputs: Inputs, comparison: Comparison,
                path: Path, known_value: Callable[[str], bool]) -> list[tuple[str, Change]]:
    """(row label, its change in the threshold's column) for each row the threshold watches."""
    kinds = inputs.kinds
    if not keys_of(inputs.current, kinds):  # one row or a series: the section's total
        total = next((c for c in comparison.headline if c.column == t.column), None)
        return [("", total)] if total is not None and total.current is not None else []
    now = ranking(inputs.whole_now or inputs.current, kinds, t.column)
    before = ranking(inputs.whole_before or inputs.previous, kinds, t.column)
    labels = list(dict.fromkeys([*now, *before]))
    if t.row is None:
        watched = [k for k in now if k in {c.label for c in comparison.rows}] or list(now)
    else:
        wanted = t.row.lower()
        watched = [k for k in labels if k.lower() == wanted or wanted in (p.lower() for p in k.split(" · "))]
        if not watched:
            if not known_value(t.row):
                raise _error(path, t, f"section {number} ({section.title}) has a threshold on row '{t.row}', which "
                             "is in neither period's result nor in the data.", labels, row=True)
            return [(t.row, Change(t.row, t.column, 0.0, None))]  # a known value with no rows: nothing to compare
    return [(k, Change(k, t.column, now[k][0] if k in now else 0.0, before[k][0] if k in before else None))
            for k in watched]


def _crossed(t: Threshold, label: str, change: Change, inputs: Inputs) -> str | None:
    value = change.current if change.current is not None else 0.0
    pct = change.pct
    hit = ((t.below is not None and value < t.below) or (t.above is not None and value > t.above)
           or (pct is not None and t.change_pct_below is not None and pct < t.change_pct_below)
           or (pct is not None and t.change_pct_above is not None and pct > t.change_pct_above))
    if not hit:
        return None
    measure = inputs.kinds.get(t.column)
    what = f"{label} {humanize(t.column)}".strip()
    detail = f"{what}: {fmt_measure(value, measure, fmt_number)}"
    if change.previous is not None:
        detail += f" vs {fmt_measure(change.previous, measure, fmt_number)} in the previous period"
        if pct is not None:
            detail += f" ({pct:+.1f}%)"
    return f"{t.message}: {detail}" if t.message else detail
