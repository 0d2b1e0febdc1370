"""A section's chart: the answer's spec (or the config's chart options), titled with the section and its
period, sized for a half-width card, and optionally with the previous period beside it.

`chart: {previous: true}` adds the previous period as a second series: for categories, each
category's value last period next to this period's (matched by identity over the whole previous
ranking, so a product new to the top N still has its previous bar); for a series over time, the
previous period's line laid over this one's dates (Monday on Monday, the 3rd on the 3rd).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from typing import Any

from nl2sql.answer.charts import ChartError, ChartSpec, InvalidChartSpec, choose_chart, validate_spec, with_fields
from nl2sql.answer.draw import render
from nl2sql.answer.shape import key_of
from nl2sql.core.values import is_temporal_type
from nl2sql.jobs.ask import Answer
from nl2sql.jobs.report.compare import Inputs, keys_of, ranking
from nl2sql.jobs.report.config import SectionConfig
from nl2sql.jobs.report.period import Period

CARD_CHART_SIZE = (5.4, 3.4)  # inches: 810 px at 150 dpi, shown ~560 px wide in a card and ~340 px on a phone
CARD_FONT_SIZE = 11.0  # points: ~10 px type on a phone, ~16 px in a desktop card
PERIOD_COLUMN = "period"


def section_chart(section: SectionConfig, answer: Answer, inputs: Inputs, period: Period) -> bytes | None:
    """The section's chart as PNG bytes, or None (no chart wanted, one row, or nothing drawable)."""
    result = answer.result
    if section.chart is False or result.row_count < 2:
        return None
    options = dict(section.chart) if isinstance(section.chart, dict) else {}
    previous = bool(options.pop("previous", False))
    names = result.column_names
    spec = answer.chart or choose_chart(result.columns, result.row_count, None, result.rows)
    if options and spec is not None:
        spec = with_fields(spec, options, names)
    elif options:
        if not {"type", "x", "y"} <= set(options):
            raise InvalidChartSpec("the chart options need type, x and y for this result")
        spec = validate_spec(options, names)
    if spec is None:
        return None
    spec = dataclasses.replace(spec, title=section.title, subtitle=period.label)
    columns, rows = result.columns, result.rows
    if previous and inputs.previous is not None and spec.series is None:
        spec, columns, rows = _with_previous(spec, inputs, period)
    buffer = io.BytesIO()
    try:
        render(spec, columns, rows, buffer, fmt="png", size=CARD_CHART_SIZE, font_size=CARD_FONT_SIZE)
    except ChartError:
        return None
    return buffer.getvalue()


def _with_previous(spec: ChartSpec, inputs: Inputs, period: Period
                   ) -> tuple[ChartSpec, list[tuple[str, str]], list[tuple[Any, ...]]]:
    """The chart's rows with a 'period' series: this period's and the previous one's."""
    current, previous = inputs.current, inputs.previous
    assert previous is not None
    y = spec.y[0]
    now_label, before_label = period.short_label, period.previous().short_label
    x_type = dict(current.columns)[spec.x]
    columns = [(spec.x, x_type), (PERIOD_COLUMN, "VARCHAR"), (y, dict(current.columns)[y])]
    xi, yi = current.column_names.index(spec.x), current.column_names.index(y)
    rows: list[tuple[Any, ...]] = [(r[xi], now_label, r[yi]) for r in current.rows]
    if is_temporal_type(x_type) and spec.x in previous.column_names:
        pxi = previous.column_names.index(spec.x)
        pyi = previous.column_names.index(y) if y in previous.column_names else None
        for r in previous.rows:
            if pyi is not None and isinstance(r[pxi], dt.date):
                rows.append((period.onto_current(_day(r[pxi])), before_label, r[pyi]))
    else:
        before = ranking(inputs.whole_before or previous, inputs.kinds, y)
        keys = keys_of(current, inputs.kinds)
        for r in current.rows:
            old = before.get(key_of(r, keys))
            rows.append((r[xi], before_label, old[0] if old else 0.0 if inputs.kinds[y].additive else None))
    kind = "line" if is_temporal_type(x_type) else ("bar" if spec.type in ("pie", "barh") and len(current.rows) <= 8
                                                      else spec.type)
    fixed = dataclasses.replace(spec, type=kind, series=PERIOD_COLUMN, stacked=False, sort=None, limit=None,
                                subtitle=f"{period.label} vs {before_label}")
    return fixed, columns, rows


def _day(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value

