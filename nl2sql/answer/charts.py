"""Charts are a declarative, validated ChartSpec; nothing a model writes is ever executed.

The spec names columns of the result; `validate_spec` refuses anything else. `choose_chart`
picks a chart by simple rules (time -> line, a few periods next to categories -> grouped bars,
categories -> bars) and `sane` keeps any spec honest (a time axis in order, whole and never a pie).
`draw.py` draws a spec.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nl2sql.answer.measures import IDENTIFIER, PERIOD, Measure, measure_kinds, measures_of
from nl2sql.core.values import is_numeric_type, is_temporal_type

CHART_TYPES = ("bar", "barh", "line", "area", "scatter", "pie", "histogram")
MODEL_FIELDS = {"type", "x", "y", "series", "title", "sort", "limit", "stacked"}  # what a spec may set
MAX_COMPARED_PERIODS = 4  # a period column with this few values next to categories: grouped bars
MAX_TIME_BARS = 24  # more points in time than this: a line


@dataclasses.dataclass(frozen=True)
class ChartSpec:
    """What to draw: type, x column, y column(s), optional series column and presentation."""

    type: str
    x: str
    y: tuple[str, ...]
    series: str | None = None
    title: str | None = None
    sort: str | None = None  # "asc", "desc" or None
    limit: int | None = None
    stacked: bool = False
    # set by us, never by a model: the reading's filters and period, and the partial first/last periods
    subtitle: str | None = None
    partial: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (y as a list)."""
        data = dataclasses.asdict(self)
        data["y"] = list(self.y)
        data["partial"] = list(self.partial)
        return {k: v for k, v in data.items() if v not in (None, False, [])}


class InvalidChartSpec(ValueError):
    """A chart spec that is not a dict of known fields naming result columns."""


def validate_spec(raw: Any, columns: list[str]) -> ChartSpec:
    """Build a ChartSpec from untrusted JSON-like data, or raise InvalidChartSpec."""
    if not isinstance(raw, dict):
        raise InvalidChartSpec("a chart spec must be a JSON object")
    allowed = MODEL_FIELDS
    unknown = set(raw) - allowed
    if unknown:
        raise InvalidChartSpec(f"unknown chart fields: {', '.join(sorted(map(str, unknown)))}")
    kind = raw.get("type")
    if kind not in CHART_TYPES:
        raise InvalidChartSpec(f"chart type must be one of {', '.join(CHART_TYPES)}")
    ys = raw.get("y")
    ys = [ys] if isinstance(ys, str) else ys
    if not isinstance(ys, list) or not ys or not all(isinstance(y, str) for y in ys):
        raise InvalidChartSpec("y must be a column name or a list of column names")
    x = raw.get("x")
    for name in [x, *ys] + ([raw["series"]] if raw.get("series") is not None else []):
        if not isinstance(name, str) or name not in columns:
            raise InvalidChartSpec(f"{str(name)[:60]!r} is not a column of the result")
    sort = raw.get("sort")
    if sort not in (None, "asc", "desc"):
        raise InvalidChartSpec("sort must be asc, desc or null")
    limit = raw.get("limit")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 1000):
        raise InvalidChartSpec("limit must be an integer from 1 to 1000")
    title = raw.get("title")
    if title is not None and not isinstance(title, str):
        raise InvalidChartSpec("title must be text")
    assert isinstance(x, str)  # checked with the other columns above
    return ChartSpec(type=kind, x=x, y=tuple(ys), series=raw.get("series"),
                     title=title[:120] if title else None, sort=sort, limit=limit,
                     stacked=bool(raw.get("stacked", False)))


def _roles(columns: list[tuple[str, str]], rows: list[tuple[Any, ...]] | None,
           kinds: dict[str, Measure] | None) -> tuple[list[str], list[str], list[str], dict[str, Measure]]:
    """(measures, time columns, label columns) by name; years are time, ids are labels, never measures."""
    kinds = kinds if kinds is not None else measure_kinds(columns, None, rows)
    names = [n for n, _ in columns]
    types = {n: t.upper() for n, t in columns}
    measures = [names[i] for i in measures_of(columns, kinds)]
    times = [n for n in names if is_temporal_type(types[n]) or (n in kinds and kinds[n].kind == PERIOD)]
    labels = [n for n in names if n not in measures and n not in times and
              (not is_numeric_type(types[n]) or (n in kinds and kinds[n].kind == IDENTIFIER))]
    return measures, times, labels, kinds


def choose_chart(columns: list[tuple[str, str]], row_count: int, title: str | None = None,
                 rows: list[tuple[Any, ...]] | None = None, kinds: dict[str, Measure] | None = None,
                 ) -> ChartSpec | None:
    """A sensible chart for a result by rules; None if nothing fits.

    Time -> a line (a bar chart for a few periods), in time order. A period next to categories (2024 vs
    2025 by category) -> grouped bars, one colour and legend entry per period. Categories -> bars,
    largest first (horizontal when there are many). Stacking only for measures that add up.
    """
    if row_count < 2 or len(columns) < 2:
        return None
    measures, times, labels, kinds = _roles(columns, rows, kinds)
    if not measures:
        return None
    additive = kinds[measures[0]].additive
    if times:
        x = times[0]
        periods = len({r[[n for n, _ in columns].index(x)] for r in rows}) if rows else row_count
        if labels and periods <= MAX_COMPARED_PERIODS and periods < row_count:
            return ChartSpec("bar", labels[0], (measures[0],), series=x, title=title)  # grouped: a bar per period
        series = labels[0] if labels else None
        kind = "bar" if not series and periods <= MAX_TIME_BARS and x not in [n for n, t in columns
                                                                            if is_temporal_type(t)] else "line"
        return ChartSpec(kind, x, tuple(measures[: 1 if series else 3]), series=series, title=title)
    if labels:
        x = labels[0]
        series = labels[1] if len(labels) > 1 else None
        longest = max((len(str(r[[n for n, _ in columns].index(x)])) for r in rows or []), default=0)
        kind = "barh" if (row_count > 8 or longest > 14) and not series else "bar"
        return ChartSpec(kind, x, tuple(measures[: 1 if series else 2]), series=series, title=title,
                         sort=None if series else "desc", stacked=bool(series) and additive)
    if len(measures) >= 2:
        return ChartSpec("scatter", measures[0], (measures[1],), title=title)
    return None


def sane(spec: ChartSpec, columns: list[tuple[str, str]], rows: list[tuple[Any, ...]] | None = None
         ) -> tuple[ChartSpec | None, str | None]:
    """A spec made honest for this result, and what was changed (None: nothing).

    A time axis stays in time order, whole (no top-N cut, no 'Other') and is never a pie; a year or
    an id is never drawn as a measure; averages and rates are never stacked.
    """
    measures, times, _, kinds = _roles(columns, rows, None)
    changes = []
    ys = tuple(y for y in spec.y if y in measures or y not in kinds)
    if not ys:
        return None, f"{', '.join(spec.y)} are labels, not measures"
    if ys != spec.y:
        changes.append(f"{', '.join(y for y in spec.y if y not in ys)} is a label, not a measure")
    fixed = dataclasses.replace(spec, y=ys)
    if spec.x in times and spec.type not in ("scatter", "histogram"):
        kind = "line" if spec.type == "pie" or (rows is not None and len(rows) > MAX_TIME_BARS) \
            else ("bar" if spec.type == "barh" else spec.type)
        if kind != spec.type:
            changes.append(f"a time axis is drawn as a {kind} chart, not a {spec.type}")
        if spec.sort or spec.limit:
            changes.append("a time axis stays in time order and whole")
        fixed = dataclasses.replace(fixed, type=kind, sort=None, limit=None)
    if fixed.stacked and ys and ys[0] in kinds and not kinds[ys[0]].additive:
        fixed = dataclasses.replace(fixed, stacked=False)
        changes.append(f"{ys[0]} does not add up, so its bars are side by side, not stacked")
    return fixed, "; ".join(changes) or None


class ChartError(ValueError):
    """The result cannot be drawn as the spec asks (e.g. a pie of negative values)."""


def with_type(spec: ChartSpec, kind: str, columns: list[str]) -> ChartSpec:
    """The same chart drawn as another type (`--chart-type`); validated like any spec."""
    return with_fields(spec, {"type": kind}, columns)


def with_fields(spec: ChartSpec, changes: dict[str, Any], columns: list[str]) -> ChartSpec:
    """The spec with some of its model-settable fields changed (validated); subtitle and partial kept."""
    fields = {k: v for k, v in spec.to_dict().items() if k in MODEL_FIELDS}
    checked = validate_spec({**fields, **changes}, columns)
    return dataclasses.replace(checked, subtitle=spec.subtitle, partial=spec.partial)


def pick_chart(raw: Any, columns: list[tuple[str, str]], row_count: int, title: str | None,
               rows: list[tuple[Any, ...]] | None = None, kinds: dict[str, Measure] | None = None,
               ) -> tuple[ChartSpec | None, str | None]:
    """The model's spec when it is valid for this result, else one chosen by rules.

    Returns (spec, why the model's spec was not used or was changed); a model's spec is untrusted input.
    """
    chosen = choose_chart(columns, row_count, title, rows, kinds)
    if raw is None:
        return chosen, None
    try:
        spec = validate_spec(raw, [n for n, _ in columns])
    except InvalidChartSpec as exc:
        return chosen, f"the model's chart spec was not used: {exc}"
    fixed, why = sane(dataclasses.replace(spec, title=spec.title or title), columns, rows)
    if fixed is None:
        return chosen, f"the model's chart spec was not used: {why}"
    return fixed, f"the model's chart was changed: {why}" if why else None


def chart_format(path: Any) -> str:
    """'png' or 'svg' from the file name; anything else is refused."""
    suffix = str(path).rsplit(".", 1)[-1].lower() if "." in str(path) else ""
    if suffix not in ("png", "svg"):
        raise ChartError(f"cannot tell the chart format of {str(path)!r}: use a .png or .svg file name")
    return suffix
