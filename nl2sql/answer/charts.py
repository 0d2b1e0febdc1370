"""Charts are a declarative, validated ChartSpec; nothing a model writes is ever executed.

The spec names columns of the result; `validate_spec` refuses anything else. `choose_chart`
picks a chart by simple rules (time -> line, categories -> bar). `draw.py` draws a spec.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nl2sql.core.values import is_numeric_type, is_temporal_type

CHART_TYPES = ("bar", "barh", "line", "area", "scatter", "pie", "histogram")


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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (y as a list)."""
        data = dataclasses.asdict(self)
        data["y"] = list(self.y)
        return {k: v for k, v in data.items() if v not in (None, False)}


class InvalidChartSpec(ValueError):
    """A chart spec that is not a dict of known fields naming result columns."""


def validate_spec(raw: Any, columns: list[str]) -> ChartSpec:
    """Build a ChartSpec from untrusted JSON-like data, or raise InvalidChartSpec."""
    if not isinstance(raw, dict):
        raise InvalidChartSpec("a chart spec must be a JSON object")
    allowed = {"type", "x", "y", "series", "title", "sort", "limit", "stacked"}
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


def choose_chart(columns: list[tuple[str, str]], row_count: int, title: str | None = None) -> ChartSpec | None:
    """A sensible chart for a result by rules: time -> line, categories -> bar; None if nothing fits."""
    if row_count < 2 or len(columns) < 2:
        return None
    names = [n for n, _ in columns]
    types = {n: t.upper() for n, t in columns}
    numeric = [n for n in names if is_numeric_type(types[n])]
    temporal = [n for n in names if is_temporal_type(types[n])]
    text = [n for n in names if n not in numeric and n not in temporal]
    if temporal and numeric:
        x = temporal[0]
        series = text[0] if text else None
        ys = [n for n in numeric if n != x][: 1 if series else 3]
        return ChartSpec("line", x, tuple(ys), series=series, title=title)
    if text and numeric:
        x = text[0]
        series = text[1] if len(text) > 1 else None
        ys = numeric[: 1 if series else 2]
        kind = "barh" if row_count > 8 and not series else "bar"
        return ChartSpec(kind, x, tuple(ys), series=series, title=title, sort=None if series else "desc",
                         stacked=bool(series))
    if len(numeric) >= 2:
        # a leading integer column that looks like a year or a rank reads best as a line
        return ChartSpec("line" if row_count > 2 and numeric[0].lower() in ("year", "month", "week", "day")
                         else "scatter", numeric[0], (numeric[1],), title=title)
    return None


class ChartError(ValueError):
    """The result cannot be drawn as the spec asks (e.g. a pie of negative values)."""


def with_type(spec: ChartSpec, kind: str, columns: list[str]) -> ChartSpec:
    """The same chart drawn as another type (`--chart-type`); validated like any spec."""
    return validate_spec({**spec.to_dict(), "type": kind}, columns)


def pick_chart(raw: Any, columns: list[tuple[str, str]], row_count: int, title: str | None) -> tuple[ChartSpec | None,
                                                                                                       str | None]:
    """The model's spec when it is valid for this result, else one chosen by rules.

    Returns (spec, why the model's spec was not used); a model's spec is untrusted input.
    """
    if raw is not None:
        try:
            spec = validate_spec(raw, [n for n, _ in columns])
            return (dataclasses.replace(spec, title=spec.title or title), None)
        except InvalidChartSpec as exc:
            return choose_chart(columns, row_count, title), f"the model's chart spec was not used: {exc}"
    return choose_chart(columns, row_count, title), None


def chart_format(path: Any) -> str:
    """'png' or 'svg' from the file name; anything else is refused."""
    suffix = str(path).rsplit(".", 1)[-1].lower() if "." in str(path) else ""
    if suffix not in ("png", "svg"):
        raise ChartError(f"cannot tell the chart format of {str(path)!r}: use a .png or .svg file name")
    return suffix
