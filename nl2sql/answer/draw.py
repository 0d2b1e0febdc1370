"""Drawing: fixed code that reads a validated ChartSpec and the result's values. Nothing is evaluated.

The only module that imports matplotlib (Agg backend, `text.parse_math` off: a '$' in the data
is not TeX).
"""

from __future__ import annotations

from typing import Any

from nl2sql.answer.charts import ChartError, ChartSpec, chart_format
from nl2sql.answer.measures import by_name
from nl2sql.core.values import as_number

MAX_CATEGORIES = 15  # beyond this, bar and pie charts show the top N and one "Other" bar
MAX_LABEL_CHARS = 28
CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei",
             "PingFang SC", "Heiti SC", "SimHei"]
PALETTE = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C", "#CCB974",
           "#64B5CD"]


def _text(value: Any) -> str:
    import datetime as dt

    if isinstance(value, dt.datetime) and value.time() == dt.time():
        value = value.date()
    text = "(none)" if value is None else str(value)
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"


def _number_format(value: float, _pos: Any = None) -> str:
    """Axis ticks: 1,234,567 · 12.5 · 0.25 (thousands separators, no scientific notation)."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value == int(value):
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _is_temporal(values: list[Any]) -> bool:
    import datetime as dt

    present = [v for v in values if v is not None]
    return bool(present) and all(isinstance(v, dt.date) for v in present)


def _series_table(spec: ChartSpec, columns: list[str], rows: list[tuple[Any, ...]]) -> tuple[list[Any],
                                                                                                dict[str, list[Any]]]:
    """x values in order, and one list of y values per line/bar group (series × y columns)."""
    xi = columns.index(spec.x)
    yis = [columns.index(y) for y in spec.y]
    if spec.series is None:
        xs = [r[xi] for r in rows]
        return xs, {columns[yi]: [as_number(r[yi]) for r in rows] for yi in yis}
    si = columns.index(spec.series)
    xs = list(dict.fromkeys(r[xi] for r in rows))
    groups = list(dict.fromkeys(r[si] for r in rows))
    table: dict[str, list[Any]] = {}
    for g in groups:
        values = {r[xi]: as_number(r[yis[0]]) for r in rows if r[si] == g}
        table[_text(g)] = [values.get(x) for x in xs]
    return xs, table


def _ordered(spec: ChartSpec, columns: list[str], rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    if spec.sort and spec.series is None:
        yi = columns.index(spec.y[0])
        rows = sorted(rows, key=lambda r: (as_number(r[yi]) is None, as_number(r[yi]) or 0.0),
                      reverse=spec.sort == "desc")
    elif _is_temporal([r[columns.index(spec.x)] for r in rows]):
        xi = columns.index(spec.x)
        rows = sorted((r for r in rows if r[xi] is not None), key=lambda r: r[xi])
    if spec.limit:
        rows = rows[: spec.limit]
    return list(rows)


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
           fmt: str | None = None) -> None:
    """Draw the chart to `path` (PNG or SVG, by extension; or a binary file object and `fmt`).

    Data labels are plain text (`text.parse_math` is off: a '$' in the data is not TeX).
    """
    import logging
    import textwrap
    import warnings

    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from cycler import cycler
    from matplotlib.ticker import FuncFormatter

    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # missing CJK fonts are optional
    names = [n for n, _ in columns]
    rows = _ordered(spec, names, [tuple(r) for r in rows])
    if not rows:
        raise ChartError("the result has no rows to draw")
    style: Any = {"text.parse_math": False, "font.family": ["DejaVu Sans", *CJK_FONTS], "axes.spines.top": False,
             "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3, "axes.titlesize": 13,
             "axes.titleweight": "bold", "axes.prop_cycle": cycler(color=PALETTE),
             "svg.fonttype": "none"}
    with matplotlib.rc_context(style):
        fig, ax = plt.subplots(figsize=(9, 5.2), dpi=110)
        try:
            note = _draw(ax, spec, names, rows)
            title = (spec.title or f"{', '.join(spec.y)} by {spec.x}") + (f" ({note})" if note else "")
            lines = textwrap.wrap(title, 70, max_lines=2, placeholder=" …")
            ax.set_title("\n".join(lines), loc="left")
            ticks = FuncFormatter(_number_format)
            if spec.type == "barh":
                ax.xaxis.set_major_formatter(ticks)
                ax.grid(axis="y", visible=False)
            elif spec.type != "pie":
                ax.yaxis.set_major_formatter(ticks)
                if spec.type in ("bar", "histogram"):
                    ax.grid(axis="x", visible=False)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tight_layout gives up on extreme labels; the chart still draws
                fig.tight_layout()
            fmt = fmt or chart_format(path)
            fig.savefig(path, format=fmt, dpi=150 if fmt == "png" else None)
        finally:
            plt.close(fig)


def _draw(ax: Any, spec: ChartSpec, names: list[str], rows: list[tuple[Any, ...]]) -> str | None:
    """Draw onto `ax`; returns a note for the title (e.g. 'top 15 of 40') or None."""
    xs, table = _series_table(spec, names, rows)
    if spec.type == "pie":
        return _draw_pie(ax, xs, table)
    if spec.type in ("bar", "barh"):
        return _draw_bars(ax, spec, xs, table)
    if spec.type == "histogram":
        _draw_histogram(ax, spec, names, rows)
    elif spec.type == "scatter":
        _draw_scatter(ax, spec, names, rows, table)
    else:
        _draw_lines(ax, spec, xs, table)
    return None


def _draw_histogram(ax: Any, spec: ChartSpec, names: list[str], rows: list[tuple[Any, ...]]) -> None:
    col = spec.x if as_number(rows[0][names.index(spec.x)]) is not None else spec.y[0]
    values = [v for v in (as_number(r[names.index(col)]) for r in rows) if v is not None]
    if not values:
        raise ChartError(f"column {col!r} has no numbers to draw")
    ax.hist(values, bins=min(30, max(5, int(len(values) ** 0.5))), color=PALETTE[0], edgecolor="white")
    ax.set_xlabel(col)
    ax.set_ylabel("count")


def _draw_scatter(ax: Any, spec: ChartSpec, names: list[str], rows: list[tuple[Any, ...]],
                  table: dict[str, list[Any]]) -> None:
    xi = names.index(spec.x)
    for n, (label, ys) in enumerate(table.items()):
        pts = [(a, b) for r, b in zip(rows, ys, strict=False) if (a := as_number(r[xi])) is not None and b is not None]
        if not pts:
            raise ChartError(f"scatter needs numbers in {spec.x!r} and {label!r}")
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], label=label, alpha=0.75, color=PALETTE[n % len(PALETTE)])
    ax.set_xlabel(spec.x)
    ax.set_ylabel(", ".join(spec.y))
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


def _draw_lines(ax: Any, spec: ChartSpec, xs: list[Any], table: dict[str, list[Any]]) -> None:
    import matplotlib.dates as mdates

    kind = spec.type
    temporal = _is_temporal(xs)
    xvals = xs if temporal or all(as_number(x) is not None for x in xs) else [_text(x) for x in xs]
    bottom = [0.0] * len(xs)
    for n, (label, ys) in enumerate(table.items()):
        vals = [float("nan") if y is None else y for y in ys]
        color = PALETTE[n % len(PALETTE)]
        if kind == "area":
            top = [b + (0 if v != v else v) for b, v in zip(bottom, vals, strict=False)] if spec.stacked else vals
            ax.fill_between(xvals, bottom if spec.stacked else 0, top, alpha=0.35, color=color, label=label)
            ax.plot(xvals, top, color=color, linewidth=1.5)
            if spec.stacked:
                bottom = top
        else:
            ax.plot(xvals, vals, marker="o" if len(xs) <= 24 else None, markersize=4, linewidth=2,
                    color=color, label=label)
    if temporal:
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    elif len(xs) > 8 and not all(as_number(x) is not None for x in xs):
        ax.tick_params(axis="x", labelrotation=35)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    ax.set_xlabel(spec.x)
    if len(table) > 1:
        ax.legend(frameon=False, fontsize=9)
    else:
        ax.set_ylabel(next(iter(table)))
    if all(v is None or v >= 0 for ys in table.values() for v in ys):
        ax.set_ylim(bottom=0)


def _draw_bars(ax: Any, spec: ChartSpec, xs: list[Any], table: dict[str, list[Any]]) -> str | None:
    kind = spec.type
    additive = by_name(spec.y[0]).additive
    labels = [_text(x) for x in xs]
    note = None
    if len(table) == 1:
        label, ys = next(iter(table.items()))
        values = [y or 0.0 for y in ys]
        labels, values, note = _top_n(labels, values, additive)
        table = {label: values}
    else:
        keep = min(len(labels), MAX_CATEGORIES)
        if keep < len(labels):
            note = f"first {keep} of {len(labels)}"
        labels = labels[:keep]
        table = {k: [v or 0.0 for v in vals[:keep]] for k, vals in table.items()}
    positions = list(range(len(labels)))
    groups = list(table.items())
    width = 0.8 if spec.stacked or len(groups) == 1 else 0.8 / len(groups)
    base = [0.0] * len(labels)
    for n, (label, values) in enumerate(groups):
        offset = 0.0 if spec.stacked or len(groups) == 1 else (n - (len(groups) - 1) / 2) * width
        pos = [p + offset for p in positions]
        color = PALETTE[n % len(PALETTE)]
        colors: Any = color
        if len(groups) == 1 and labels and labels[-1].startswith("Other ("):
            colors = [color] * (len(labels) - 1) + ["#A0A0A0"]  # the rest, not a category of its own
        if kind == "barh":
            ax.barh(pos, values, height=width, left=base if spec.stacked else None, label=label, color=colors)
        else:
            ax.bar(pos, values, width=width, bottom=base if spec.stacked else None, label=label, color=colors)
        if spec.stacked:
            base = [b + v for b, v in zip(base, values, strict=False)]
    if kind == "barh":
        ax.set_yticks(positions, labels)
        ax.invert_yaxis()  # the first (largest, when sorted) at the top
        ax.set_ylabel(spec.x)
        ax.set_xlabel(groups[0][0] if len(groups) == 1 else ", ".join(spec.y))
    else:
        ax.set_xticks(positions, labels)
        if len(labels) > 8 or max((len(s) for s in labels), default=0) * len(labels) > 70:
            ax.tick_params(axis="x", labelrotation=35)
            for tick in ax.get_xticklabels():
                tick.set_horizontalalignment("right")
        ax.set_xlabel(spec.x)
        ax.set_ylabel(groups[0][0] if len(groups) == 1 else ", ".join(spec.y))
    if len(groups) > 1:
        ax.legend(frameon=False, fontsize=9, title=spec.series)
    return note
