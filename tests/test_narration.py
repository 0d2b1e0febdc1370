"""Narration that respects what a number means: no totals of averages, both values of a comparison,
the leader of each dimension, years written as years, and every number grounded in the rows."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nl2sql.answer.grounding import check, evidence
from nl2sql.answer.measures import AVERAGE, COUNT, DISTINCT, PERCENT, PERIOD, RATIO, SUM, measure_kinds
from nl2sql.answer.narrator import narrate
from nl2sql.core.values import format_cell

RATES = [("category", "VARCHAR"), ("return_rate", "DOUBLE")]
RATE_ROWS = [("Sports", 0.0516), ("Electronics", 0.0506), ("Books", 0.0491), ("Home", 0.0490)]
RATE_SQL = ("SELECT p.category, COUNT(DISTINCT o.order_id) FILTER (WHERE o.status = 'returned') / "
            "COUNT(DISTINCT o.order_id) AS return_rate FROM orders o JOIN order_items i ON i.order_id = o.order_id "
            "JOIN products p ON p.product_id = i.product_id GROUP BY 1 ORDER BY 2 DESC")


def _grounded(question: str, columns: list[tuple[str, str]], rows: list[tuple[object, ...]], sql: str | None = None,
              ) -> str:
    text = narrate(question, columns, rows, sql=sql)
    verdict = check(text, evidence(columns, rows, question))
    assert verdict.ok, (text, verdict.unsupported)
    return text


@pytest.mark.parametrize("sql, kinds", [
    (RATE_SQL, {"return_rate": (RATIO, False)}),
    ("SELECT channel, COUNT(DISTINCT orders.order_id) AS orders FROM orders GROUP BY orders.channel",
     {"orders": (DISTINCT, True)}),  # each order has one channel: the groups add up
    ("SELECT p.product_name, COUNT(DISTINCT o.order_id) AS returned FROM orders o JOIN order_items i "
     "ON i.order_id = o.order_id JOIN products p ON p.product_id = i.product_id GROUP BY 1",
     {"returned": (DISTINCT, False)}),  # one order holds several products: they do not
    ("SELECT YEAR(order_date) AS year, region, SUM(amount) AS revenue, COUNT(*) AS n, AVG(csat) AS csat, "
     "100.0 * SUM(profit) / SUM(amount) AS margin_pct FROM orders GROUP BY 1, 2",
     {"year": (PERIOD, False), "revenue": (SUM, True), "n": (COUNT, True), "csat": (AVERAGE, False),
      "margin_pct": (PERCENT, False)}),
])
def test_measure_kinds_come_from_the_sql(sql: str, kinds: dict[str, tuple[str, bool]]) -> None:
    columns = [(name, "DOUBLE") for name in kinds]
    found = measure_kinds(columns, sql)
    assert {n: (m.kind, m.additive) for n, m in found.items()} == kinds


def test_rates_are_never_added_up_or_shared() -> None:
    text = _grounded("Return rate by category", RATES, RATE_ROWS, RATE_SQL)
    assert text == "Sports leads on return rate with 5.2%. The lowest is Home (4.9%)."
    # the same by name alone (no SQL), and for averages: no total, no share
    csat = _grounded("CSAT by team", [("team", "VARCHAR"), ("avg_csat", "DOUBLE")],
                     [("north", 4.8), ("south", 4.7)])
    assert "add up" not in csat and "%" not in csat


def test_a_top_n_is_not_the_whole() -> None:
    rows = [("Eco Tablet", 32901.0), ("Aero Camera", 26903.0), ("Lite Laptop", 22093.0)]
    text = _grounded("Top 3 products by revenue", [("product_name", "VARCHAR"), ("revenue", "DOUBLE")], rows,
                     "SELECT product_name, SUM(x) AS revenue FROM t GROUP BY 1 ORDER BY 2 DESC LIMIT 3")
    assert "of the total" not in text and "The top 3 add up to 81,897." in text


def test_two_dimensions_name_the_top_cells_and_each_dimensions_leader() -> None:
    columns = [("region", "VARCHAR"), ("channel", "VARCHAR"), ("revenue", "DOUBLE")]
    rows = [("North America", "web", 530.0), ("Europe", "web", 380.0), ("North America", "mobile", 320.0),
            ("Europe", "store", 100.0), ("Europe", "mobile", 90.0)]
    text = _grounded("Revenue by region and channel", columns, rows)
    assert text.startswith("The largest revenue: North America · web 530; Europe · web 380; North America · mobile "
                           "320.")
    assert "By region, North America leads with 850 in total (59.9% of all)." in text
    assert "By channel, web leads with 910 in total (64.1% of all)." in text


def test_a_year_on_year_comparison_states_both_values_the_change_and_the_percent() -> None:
    columns = [("year", "BIGINT"), ("category", "VARCHAR"), ("revenue", "DOUBLE")]
    rows = [(2024, "Books", 250.0), (2024, "Home", 1000.0), (2025, "Books", 200.0), (2025, "Home", 1300.0)]
    sql = "SELECT YEAR(d) AS year, category, SUM(x) AS revenue FROM t GROUP BY 1, 2"
    text = _grounded("Revenue 2024 vs 2025 by category", columns, rows, sql)
    assert text == ("In total, revenue went from 1,250 in 2024 to 1,500 in 2025 (+250, +20.0%). The biggest rise: "
                    "Home, 1,000 in 2024 → 1,300 in 2025 (+300, +30.0%). The biggest fall: Books, 250 in 2024 → 200 "
                    "in 2025 (-50, -20.0%).")
    assert "2,024" not in text
    zh = _grounded("2024 与 2025 各品类收入", columns, rows, sql)
    assert zh.startswith("revenue 合计从 2024 的 1,250 变为 2025 的 1,500（+250, +20.0%）。")


def test_a_trend_over_years_and_one_row_of_several_measures() -> None:
    years = [("year", "DATE"), ("revenue", "DOUBLE")]
    text = _grounded("Revenue by year", years, [(dt.date(2024, 1, 1), 100.0), (dt.date(2025, 1, 1), 150.0)])
    assert text == "Revenue went from 100 in 2024 to 150 in 2025 (+50, +50.0%)."
    one = _grounded("Revenue and orders", [("revenue", "DOUBLE"), ("orders", "BIGINT")], [(1234.6, 42)])
    assert one == "Revenue 1,235; orders 42."


def test_years_and_ids_are_written_as_they_are() -> None:
    assert format_cell(2024, plain=True) == "2024" and format_cell(2024) == "2,024"
    assert format_cell(1234567, plain=True) == "1234567"


LABELS = st.sampled_from(["web", "mobile", "store", "Books", "Home", "北美", "Europe"])
AMOUNTS = st.floats(min_value=0.01, max_value=5e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([2023, 2024, 2025]), LABELS, AMOUNTS), min_size=2, max_size=12,
                unique_by=lambda r: (r[0], r[1])),
       st.sampled_from(["revenue", "avg_price", "return_rate", "orders"]), st.booleans())
def test_the_computed_narration_is_grounded_for_any_shape(rows: list[tuple[int, str, float]], measure: str,
                                                          with_year: bool) -> None:
    if with_year:
        columns = [("year", "BIGINT"), ("label", "VARCHAR"), (measure, "DOUBLE")]
        data: list[tuple[object, ...]] = list(rows)
    else:
        columns = [("label", "VARCHAR"), (measure, "DOUBLE")]
        data = list({r[1]: (r[1], r[2]) for r in rows}.values())
    _grounded("question", columns, data)
