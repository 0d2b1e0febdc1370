"""Drawing: fixed code that reads a validated ChartSpec and the result's values. Nothing is evaluated.

The only module that imports matplotlib (Agg backend, `text.parse_math` off: a '$' in the data
is not TeX). A time axis is drawn in time order and whole, its ticks read as people write dates
("Jan 2025", "2025 Q1", "2025"), and partial first or last periods (spec.partial) are drawn hollow
and hatched with a "partial" note. Axis labels and legends use humanised column names.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

from nl2sql.answer.charts import ChartError, ChartSpec, chart_format
from nl2sql.answer.measures import PERIOD, fmt_measure, humanize, measure_kinds
from nl2sql.answer.shape import grain_of, label
from nl2sql.core.files import write_atomic
from nl2sql.core.values import as_number

MAX_CATEGORIES = 15  # beyond this, bar and pie charts of categories show the top N and one "Other" bar
MAX_LABEL_CHARS = 28
MAX_DATE_TICKS = 12
CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei",
             "PingFang SC", "Heiti SC", "SimHei"]
PALETTE = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C", "#CCB974",
           "#64B5CD"]
PARTIAL_NOTE = "partial period"
SIZE = (9.0, 5.2)  # inches, at 110 dpi on screen and 150 in a PNG


def _text(value: Any, grain: str | None = None) -> str:
    text = f"{value:%b %Y}" if grain == "month" and isinstance(value, dt.date) else label(value, grain)
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"


def _number_format(value: float, _pos: Any = None) -> str:
    """Axis ticks: 1,234,567 · 12.5 · 0.25 (thousands separators, no scientific notation)."""
    if abs(value) >= 1000 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


class _Axis:
    """What the drawing needs to know about the x axis: is it time, its grain, which points are partial."""

    def __init__(self, spec: ChartSpec, names: list[str], rows: list[tuple[Any, ...]],
                 columns: list[tuple[str, str]]) -> None:
        kinds = measure_kinds(columns, None, rows)
        xs = [r[names.index(spec.x)] for r in rows]
        present = [v for v in xs if v is not None]
        self.dates = bool(present) and all(isinstance(v, dt.date) for v in present)
        self.period = spec.x in kinds and kinds[spec.x].kind == PERIOD
        self.time = self.dates or self.period
        self.grain = grain_of(xs) if self.dates else None
        self.partial = set(spec.partial)
        series_values = [r[names.index(spec.series)] for r in rows] if spec.series else []
        self.series_grain = grain_of(series_values)
        self.series_period = self.series_grain is not None or (
            spec.series in kinds and kinds[spec.series].kind == PERIOD)
        self.percent = {y: kinds[y] for y in spec.y if y in kinds and kinds[y].is_percent}
        ys = [as_number(r[names.index(y)]) for r in rows for y in spec.y]
        self.counts = all(v is not None and v.is_integer() for v in ys) and any(v for v in ys)

    def is_partial(self, value: Any) -> bool:
        return bool(self.partial) and label(value, "day" if self.dates else None) in self.partial


def _series_table(spec: ChartSpec, columns: list[str], rows: list[tuple[Any, ...]], axis: _Axis
                  ) -> tuple[list[Any], dict[str, list[Any]]]:
    """x values in order, and one list of y values per line/bar group (series × y columns)."""
    xi = columns.index(spec.x)
    yis = [columns.index(y) for y in spec.y]
    if spec.series is None:
        return [r[xi] for r in rows], {humanize(columns[yi]): [as_number(r[yi]) for r in rows] for yi in yis}
    si = columns.index(spec.series)
    xs = list(dict.fromkeys(r[xi] for r in rows))
    groups = sorted(dict.fromkeys(r[si] for r in rows), key=lambda g: (g is None, g)) if axis.series_period \
        else list(dict.fromkeys(r[si] for r in rows))
    table: dict[str, list[Any]] = {}
    for g in groups:
        values = {r[xi]: as_number(r[yis[0]]) for r in rows if r[si] == g}
        table[_text(g, axis.series_grain)] = [values.get(x) for x in xs]
    if axis.series_period and not axis.time and table:  # periods compared: categories by the latest period
        latest = list(table.values())[-1]
        order = sorted(range(len(xs)), key=lambda i: -(latest[i] or 0.0))
        xs = [xs[i] for i in order]
        table = {k: [v[i] for i in order] for k, v in table.items()}
    return xs, table


def _ordered(spec: ChartSpec, columns: list[str], rows: list[tuple[Any, ...]], axis: _Axis) -> list[tuple[Any, ...]]:
    xi = columns.index(spec.x)
    if axis.time:  # time is never re-sorted by value nor cut
        return sorted((r for r in rows if r[xi] is not None), key=lambda r: r[xi])
    if spec.sort and spec.series is None:
        yi = columns.index(spec.y[0])
        rows = sorted(rows, key=lambda r: (as_number(r[yi]) is None, as_number(r[yi]) or 0.0),
                      reverse=spec.sort == "desc")
    return list(rows[: spec.limit] if spec.limit else rows)


def _top_n(labels: list[str], values: list[float], additive: bool) -> tuple[list[str], list[float], str | None]:
    """Top MAX_CATEGORIES by value plus 'Other' (the rest summed) when the measure adds up."""
    if len(labels) <= MAX_CATEGORIES:
        return labels, values, None
    ranked = sorted(zip(labels, values, strict=False), key=lambda p: -p[1])
    head, tail = ranked[: MAX_CATEGORIES - 1], ranked[MAX_CATEGORIES - 1:]
    if additive:
        return ([p[0] for p in head] + [f"Other ({len(tail)})"], [p[1] for p in head] + [sum(p[1] for p in tail)],
                None)
    return [p[0] for p in ranked[:MAX_CATEGORIES]], [p[1] for p in ranked[:MAX_CATEGORIES]], \
        f"top {MAX_CATEGORIES} of {len(labels)}"


def render(spec: ChartSpec, columns: list[tuple[str, str]], rows: list[tuple[Any, ...]], path: Any,
           fmt: str | None = None, size: tuple[float, float] = SIZE, font_size: float = 10.0) -> None:
    """Draw the chart to `path` (PNG or SVG, by extension; or a binary file object and `fmt`).

    `size` in inches and `font_size` in points: a chart shown small (a report card on a phone) needs
    larger type relative to its size.

    Data labels are plain text (`text.parse_math` is off: a '$' in the data is not TeX).
    """
    import logging
    import warnings

    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from cycler import cycler

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # missing CJK fonts are optional
    names = [n for n, _ in columns]
    rows = [tuple(r) for r in rows]
    axis = _Axis(spec, names, rows, columns)
    rows = _ordered(spec, names, rows, axis)
    if not rows:
        raise ChartError("the result has no rows to draw")
    style: Any = {"text.parse_math": False, "font.family": ["DejaVu Sans", *CJK_FONTS], "axes.spines.top": False,
                  "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3, "axes.titlesize": font_size * 1.3,
                  "font.size": font_size, "legend.fontsize": font_size * 0.9, "legend.title_fontsize": font_size * 0.9,
                  "axes.titleweight": "bold", "axes.prop_cycle": cycler(color=PALETTE), "svg.fonttype": "none"}
    with matplotlib.rc_context(style):
        fig, ax = plt.subplots(figsize=size, dpi=110)
        try:
            note = _draw(ax, spec, names, rows, axis)
            _titles(ax, spec, note, size[0] * 10.0 / font_size)
            _value_ticks(ax, spec, axis)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tight_layout gives up on extreme labels; the chart still draws
                fig.tight_layout()
            fmt = fmt or chart_format(path)
            if isinstance(path, str | Path):  # drawn in memory, then written whole: a full disk keeps the old file
                buffer = io.BytesIO()
                fig.savefig(buffer, format=fmt, dpi=150 if fmt == "png" else None)
                write_atomic(path, buffer.getvalue())
            else:
                fig.savefig(path, format=fmt, dpi=150 if fmt == "png" else None)
        finally:
            plt.close(fig)


def _titles(ax: Any, spec: ChartSpec, note: str | None, width: float) -> None:
    """The title (wrapped to the chart's width in characters) and a subtitle with the reading's filters."""
    import textwrap

    chars = int(width * 7.5)
    title = spec.title or f"{', '.join(humanize(y) for y in spec.y)} by {humanize(spec.x)}"
    title = title[:1].upper() + title[1:]
    ax.set_title("\n".join(textwrap.wrap(title, chars, max_lines=2, placeholder=" …")), loc="left",
                 pad=20 if spec.subtitle or note else 8)
    subtitle = " · ".join(p for p in (spec.subtitle, note) if p)
    if subtitle:
        ax.annotate(textwrap.shorten(subtitle, int(chars * 1.25), placeholder=" …"), xy=(0, 1),
                    xycoords="axes fraction",
                    xytext=(0, 6), textcoords="offset points", fontsize="small", color="#555555", ha="left",
                    va="bottom")


def _value_ticks(ax: Any, spec: ChartSpec, axis: _Axis) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    measure = axis.percent.get(spec.y[0])
    ticks = FuncFormatter(lambda v, _pos: fmt_measure(v, measure, _number_format) if measure else _number_format(v))
    value_axis = ax.xaxis if spec.type == "barh" else ax.yaxis
    if axis.counts and spec.type not in ("pie", "histogram"):
        value_axis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))  # 3 returns, not 2.5
    if spec.type == "barh":
        ax.xaxis.set_major_formatter(ticks)
        ax.grid(axis="y", visible=False)
    elif spec.type != "pie" and spec.type != "histogram":
        ax.yaxis.set_major_formatter(ticks)
        if spec.type == "bar":
            ax.grid(axis="x", visible=False)


def _draw(ax: Any, spec: ChartSpec, names: list[str], rows: list[tuple[Any, ...]], axis: _Axis) -> str | None:
    """Draw onto `ax`; returns a note for the subtitle (e.g. 'top 15 of 40') or None."""
    xs, table = _series_table(spec, names, rows, axis)
    if spec.type == "pie":
        return _draw_pie(ax, xs, table)
    if spec.type in ("bar", "barh"):
        return _draw_bars(ax, spec, xs, table, axis)
    if spec.type == "histogram":
        _draw_histogram(ax, spec, names, rows)
    elif spec.type == "scatter":
        _draw_scatter(ax, spec, names, rows, table)
    else:
        _draw_lines(ax, spec, xs, table, axis)
    return None


def _draw_histogram(ax: Any, spec: ChartSpec, names: list[str], rows: list[tuple[Any, ...]]) -> None:
    col = spec.x if as_number(rows[0][names.index(spec.x)]) is not None else spec.y[0]
    values = [v for v in (as_number(r[names.index(col)]) for r in rows) if v is not None]
    if not values:
        raise ChartError(f"column {col!r} has no numbers to draw")
    ax.hist(values, bins=min(30, max(5, int(len(values) ** 0.5))), color=PALETTE[0], edgecolor="white")
    ax.set_xlabel(humanize(col))
    ax.set_ylabel("count")


def _draw_scatter(ax: Any, spec: ChartSpec, names: list[str], rows: list[tuple[Any, ...]],
                  table: dict[str, list[Any]]) -> None:
    xi = names.index(spec.x)
    for n, (name, ys) in enumerate(table.items()):
        pts = [(a, b) for r, b in zip(rows, ys, strict=False) if (a := as_number(r[xi])) is not None and b is not None]
        if not pts:
            raise ChartError(f"scatter needs numbers in {spec.x!r} and {name!r}")
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], label=name, alpha=0.75, color=PALETTE[n % len(PALETTE)])
    ax.set_xlabel(humanize(spec.x))
    ax.set_ylabel(", ".join(humanize(y) for y in spec.y))
    if len(table) > 1:
        ax.legend(frameon=False)


def _draw_pie(ax: Any, xs: list[Any], table: dict[str, list[Any]]) -> str | None:
    labels = [_text(x) for x in xs]
    values = [v or 0.0 for v in next(iter(table.values()))]
    if any(v < 0 for v in values):
        raise ChartError("a pie chart cannot show negative values; use --chart-type bar")
    labels, values, note = _top_n(labels, values, True)
    ax.pie(values, labels=labels, autopct=lambda p: f"{p:.1f}%" if p >= 3 else "", startangle=90,
           counterclock=False, colors=PALETTE * 3, wedgeprops={"edgecolor": "white"})
    ax.axis("equal")
    return note


def _date_ticks(ax: Any, xs: list[Any], axis: _Axis) -> None:
    """Month, quarter and year ticks at the data's own points ('Jan 2025'); days and weeks by matplotlib."""
    import matplotlib.dates as mdates

    if axis.grain in ("month", "quarter", "year"):
        step = max(1, -(-len(xs) // MAX_DATE_TICKS))
        shown = xs[::step]
        ax.set_xticks(shown, [f"{x:%b %Y}" if axis.grain == "month" else label(x, axis.grain) for x in shown])
        if len(shown) * 0.7 > ax.figure.get_figwidth() - 1.4 and axis.grain == "month":
            ax.tick_params(axis="x", labelrotation=45)
            for tick in ax.get_xticklabels():
                tick.set_horizontalalignment("right")
        return
    if axis.grain == "day" and len(xs) <= 16:  # a week or two of days: "Mon 9", the month in the axis label
        ax.set_xticks(xs, [f"{x:%a} {x.day}" for x in xs])
        first, last = xs[0], xs[-1]
        ax.set_xlabel(f"{first:%B %Y}" if (first.year, first.month) == (last.year, last.month)
                      else f"{first:%b %Y} – {last:%b %Y}")
        return
    locator = mdates.AutoDateLocator(maxticks=MAX_DATE_TICKS)
    ax.xaxis.set_major_locator(locator)
    # a new year reads "Jan 2025", not a bare "2025" between month names
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(
        locator, zero_formats=["", "%b %Y", "%b %-d", "%H:%M", "%H:%M", "%S.%f"], show_offset=True))


def _draw_lines(ax: Any, spec: ChartSpec, xs: list[Any], table: dict[str, list[Any]], axis: _Axis) -> None:
    xvals = xs if axis.dates or all(as_number(x) is not None for x in xs) else [_text(x) for x in xs]
    partial = [i for i, x in enumerate(xs) if axis.is_partial(x)]
    bottom = [0.0] * len(xs)
    for n, (name, ys) in enumerate(table.items()):
        vals = [float("nan") if y is None else y for y in ys]
        color = PALETTE[n % len(PALETTE)]
        if spec.type == "area":
            top = [b + (0 if v != v else v) for b, v in zip(bottom, vals, strict=False)] if spec.stacked else vals
            ax.fill_between(xvals, bottom if spec.stacked else 0, top, alpha=0.35, color=color, label=name)
            ax.plot(xvals, top, color=color, linewidth=1.5)
            bottom = top if spec.stacked else bottom
            continue
        whole = [float("nan") if i in partial else v for i, v in enumerate(vals)]
        ax.plot(xvals, whole, marker="o" if len(xs) <= 24 else None, markersize=4, linewidth=2, color=color,
                label=name)
        for i in partial:  # a dashed step into a hollow point: this period is not whole
            j = i + 1 if i == 0 else i - 1
            if 0 <= j < len(xs):
                ax.plot([xvals[j], xvals[i]], [vals[j], vals[i]], linestyle=":", linewidth=1.5, color=color)
            ax.plot([xvals[i]], [vals[i]], marker="o", markersize=7, markerfacecolor="white", color=color,
                    linestyle="none", label=PARTIAL_NOTE if n == 0 and i == partial[0] else None)
    ax.set_xlabel(humanize(spec.x))
    if axis.dates:
        _date_ticks(ax, xs, axis)
    elif len(xs) > 8 and not all(as_number(x) is not None for x in xs):
        ax.tick_params(axis="x", labelrotation=35)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    if len(table) > 1 or partial:
        handles, names = ax.get_legend_handles_labels()
        keep = [i for i, name in enumerate(names) if len(table) > 1 or name == PARTIAL_NOTE]
        ax.legend([handles[i] for i in keep], [names[i] for i in keep], frameon=False,
                  title=humanize(spec.series) if spec.series else None)
    if len(table) == 1:
        ax.set_ylabel(next(iter(table)))
    if all(v is None or v >= 0 for ys in table.values() for v in ys):
        ax.set_ylim(bottom=0)


def _draw_bars(ax: Any, spec: ChartSpec, xs: list[Any], table: dict[str, list[Any]], axis: _Axis) -> str | None:
    labels = [_text(x, axis.grain) for x in xs]
    partial = {i for i, x in enumerate(xs) if axis.is_partial(x)}
    note = None
    if len(table) == 1 and not axis.time:
        name, ys = next(iter(table.items()))
        labels, values, note = _top_n(labels, [y or 0.0 for y in ys], measure_kinds([(spec.y[0], "DOUBLE")])
                                      [spec.y[0]].additive)
        table = {name: values}
    elif len(labels) > MAX_CATEGORIES and not axis.time:
        note = f"first {MAX_CATEGORIES} of {len(labels)}"
        labels = labels[:MAX_CATEGORIES]
    table = {k: [v or 0.0 for v in vals[: len(labels)]] for k, vals in table.items()}
    positions = list(range(len(labels)))
    groups = list(table.items())
    width = 0.8 if spec.stacked or len(groups) == 1 else 0.8 / len(groups)
    base = [0.0] * len(labels)
    horizontal = spec.type == "barh"
    for n, (name, values) in enumerate(groups):
        offset = 0.0 if spec.stacked or len(groups) == 1 else (n - (len(groups) - 1) / 2) * width
        pos = [p + offset for p in positions]
        color = PALETTE[n % len(PALETTE)]
        colors: Any = [("#A0A0A0" if lab.startswith("Other (") and len(groups) == 1 else color) for lab in labels]
        hatches = ["//" if i in partial else "" for i in positions]
        draw = ax.barh if horizontal else ax.bar
        bars = draw(pos, values, width, label=name, color=colors,
                    **({"left": base} if horizontal and spec.stacked else {"bottom": base} if spec.stacked else {}))
        for bar, hatch in zip(bars, hatches, strict=False):
            if hatch:
                bar.set_hatch(hatch)
                bar.set_alpha(0.55)
        if spec.stacked:
            base = [b + v for b, v in zip(base, values, strict=False)]
    _bar_axes(ax, spec, positions, labels, groups, horizontal, bool(partial))
    return note


def _bar_axes(ax: Any, spec: ChartSpec, positions: list[int], labels: list[str],
              groups: list[tuple[str, list[float]]], horizontal: bool, partial: bool) -> None:
    value_label = groups[0][0] if len(groups) == 1 else ", ".join(humanize(y) for y in spec.y)
    if horizontal:
        ax.set_yticks(positions, labels)
        ax.invert_yaxis()  # the first (largest, when sorted) at the top
        ax.set_ylabel(humanize(spec.x))
        ax.set_xlabel(value_label)
    else:
        ax.set_xticks(positions, labels)
        if len(labels) > 8 or max((len(s) for s in labels), default=0) * len(labels) > 70:
            ax.tick_params(axis="x", labelrotation=35)
            for tick in ax.get_xticklabels():
                tick.set_horizontalalignment("right")
        ax.set_xlabel(humanize(spec.x))
        ax.set_ylabel(value_label)
    if len(groups) > 1 or partial:
        from matplotlib.patches import Patch

        handles, names = ax.get_legend_handles_labels() if len(groups) > 1 else ([], [])
        if partial:
            handles.append(Patch(facecolor="white", edgecolor="#555555", hatch="//"))
            names.append(PARTIAL_NOTE)
        ax.legend(handles, names, frameon=False,
                  title=humanize(spec.series) if spec.series and len(groups) > 1 else None)
