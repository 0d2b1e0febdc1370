"""The offline engine's readings: each answer checked against an independent query of the shop data."""

from __future__ import annotations

from typing import Any

import pytest

from nl2sql.backends.base import SqlRequest
from nl2sql.backends.offline import OfflineBackend
from nl2sql.data.context import build_context
from nl2sql.jobs.ask import Answer, AskOptions, ask

AS_OF = "2025-12-31"
REVENUE = "SUM(oi.quantity * oi.unit_price * (1 - oi.discount))"
SALES = "FROM orders o JOIN order_items oi ON oi.order_id = o.order_id"


def answer(shop: Any, *questions: str) -> Answer:
    """The answer to the last question, the earlier ones asked first in the same conversation."""
    catalog, sandbox = shop
    backend = OfflineBackend()
    result = None
    for question in questions:
        result = ask(question, catalog=catalog, backend=backend, sandbox=sandbox,
                     options=AskOptions(narrate=False, as_of=AS_OF))
    assert result is not None
    return result


def rows(shop: Any, sql: str) -> list[tuple]:
    """An independent query's rows, straight from DuckDB over the same parquet files."""
    import duckdb

    from tests.helpers import REPO

    con = duckdb.connect()
    for name in ("customers", "products", "orders", "order_items", "marketing_spend"):
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM '{REPO / 'sample_data' / 'shop' / name}.parquet'")
    return con.execute(sql).fetchall()


def column(a: Answer, name: str) -> list[Any]:
    index = [n for n, _ in a.result.columns].index(name)
    return [row[index] for row in a.result.rows]


def test_metric_default_filter_and_the_reading(shop) -> None:  # type: ignore[no-untyped-def]
    a = answer(shop, "Revenue by category in 2025")
    assert "orders.status = 'completed'" in a.sql
    assert any("2025 means 2025-01-01 to 2025-12-31" in x for x in a.assumptions)
    assert a.reading is not None and "period 2025 (2025-01-01 to 2025-12-31) on orders.order_date" in a.reading
    assert "by products.category" in a.reading and "only where orders.status = 'completed'" in a.reading


def test_relative_dates_count_from_as_of(shop) -> None:  # type: ignore[no-untyped-def]
    a = answer(shop, "Revenue by channel last month")
    assert "'2025-11-01'" in a.sql and "'2025-12-01'" in a.sql
    assert any("--as-of 2025-12-31" in x for x in a.assumptions)


def test_a_breakdown_lifts_the_default_filter_on_its_column(shop) -> None:  # type: ignore[no-untyped-def]
    a = answer(shop, "orders by status")
    assert sorted(column(a, "status")) == ["cancelled", "completed", "returned"]
    assert sum(column(a, "orders")) == rows(shop, "SELECT COUNT(*) FROM orders")[0][0]
    assert "without the default filter of orders" in str(a.reading)


def test_share_of_total_and_share_within_a_group(shop) -> None:  # type: ignore[no-untyped-def]
    total = answer(shop, "What share of 2025 revenue came from each region?")
    assert sum(column(total, "revenue_share_pct")) == pytest.approx(100)
    within = answer(shop, "for each category, what share of its 2025 revenue came from each channel?")
    by_category: dict[str, float] = {}
    for category, share in zip(column(within, "category"), column(within, "revenue_share_pct"), strict=True):
        by_category[category] = by_category.get(category, 0) + share
    assert len(by_category) == 5 and all(v == pytest.approx(100) for v in by_category.values())


def test_rate_of_a_value_is_part_over_whole(shop) -> None:  # type: ignore[no-untyped-def]
    a = answer(shop, "what percentage of orders were cancelled in 2025")
    expected = rows(shop, "SELECT 100.0 * COUNT(*) FILTER (WHERE status = 'cancelled') / COUNT(*) FROM orders "
                          "WHERE order_date >= DATE '2025-01-01' AND order_date < DATE '2026-01-01'")[0][0]
    assert a.result.rows[0][0] == pytest.approx(expected)
    chinese = answer(shop, "各渠道的取消率")
    assert len(chinese.result.rows) == 3 and all(0 < v < 20 for v in column(chinese, "cancelled_pct"))


def test_margin_percent_is_margin_over_revenue(shop) -> None:  # type: ignore[no-untyped-def]
    a = answer(shop, "gross margin % by category")
    expected = dict(rows(shop, f"SELECT p.category, 100.0 * SUM(oi.quantity * (oi.unit_price * (1 - oi.discount) "
                               f"- p.unit_cost)) / {REVENUE} {SALES} JOIN products p ON p.product_id = oi.product_id "
                               "WHERE o.status = 'completed' GROUP BY 1"))
    got = dict(zip(column(a, "category"), column(a, "gross_margin_pct"), strict=True))
    assert got == pytest.approx(expected)


@pytest.mark.parametrize(("question", "n", "ascending"), [
    ("bottom five products by revenue in 2025", 5, True),
    ("销售额最低的五个产品", 5, True),
    ("2025年销售额前十的客户", 10, False),
    ("which three countries brought in the most revenue in 2025?", 3, False),
])
def test_top_and_bottom_n_in_words_and_chinese(shop, question: str, n: int, ascending: bool) -> None:  # type: ignore[no-untyped-def]
    a = answer(shop, question)
    values = column(a, "revenue")
    assert len(values) == n and values == sorted(values, reverse=not ascending)


def test_several_dimensions(shop) -> None:  # type: ignore[no-untyped-def]
    a = answer(shop, "marketing spend by channel and month in 2025")
    assert [n for n, _ in a.result.columns] == ["channel", "month", "marketing_spend"]
    assert a.result.row_count == 36


def test_period_versus_period_gives_both_periods_the_change_and_the_change_in_percent(shop) -> None:  # type: ignore[no-untyped-def]
    a = answer(shop, "revenue this month versus the previous month")
    (nov, nov_revenue, _, _), (dec, dec_revenue, change, pct) = a.result.rows
    assert (nov, dec) == ("November 2025", "December 2025")
    assert float(change) == pytest.approx(float(dec_revenue - nov_revenue))
    assert pct == pytest.approx(100 * float(dec_revenue - nov_revenue) / float(nov_revenue))
    weeks = answer(shop, "units sold last week compared with the week before")
    assert weeks.result.row_count == 2 and "2025-12-15 to 2025-12-21" in str(weeks.reading)


def test_first_and_last_date_per_group(shop) -> None:  # type: ignore[no-untyped-def]
    a = answer(shop, "first and last order date for each customer segment")
    expected = {s: (lo, hi) for s, lo, hi in rows(shop, "SELECT c.segment, MIN(o.order_date), MAX(o.order_date) FROM "
                                                  "orders o JOIN customers c USING (customer_id) GROUP BY 1")}
    assert {s: (lo, hi) for s, lo, hi in a.result.rows} == expected


def test_never_and_listings(shop) -> None:  # type: ignore[no-untyped-def]
    never = answer(shop, "哪些产品从来没有被订购过？")
    assert sorted(r[0] for r in never.result.rows) == ["Aero Lamp 218", "Classic Sweater 220", "Zen Candle Set 219"]
    launched = answer(shop, "Which products launched in 2025?")
    assert launched.result.row_count == rows(shop, "SELECT COUNT(*) FROM products WHERE year(launched_on) = 2025")[0][0]
    subcategories = answer(shop, "list the subcategories under Sports")
    assert sorted(r[0] for r in subcategories.result.rows) == sorted(
        r[0] for r in rows(shop, "SELECT DISTINCT subcategory FROM products WHERE category = 'Sports'"))


def test_averages_per_day_and_per_order(shop) -> None:  # type: ignore[no-untyped-def]
    daily = answer(shop, "average daily revenue in December 2025")
    expected = rows(shop, f"SELECT AVG(v) FROM (SELECT o.order_date, {REVENUE} AS v {SALES} WHERE o.status = "
                          "'completed' AND o.order_date >= DATE '2025-12-01' GROUP BY 1)")[0][0]
    assert float(daily.result.rows[0][0]) == pytest.approx(float(expected))
    per_order = answer(shop, "what's the average shipping cost per order")
    assert float(per_order.result.rows[0][0]) == pytest.approx(float(rows(
        shop, "SELECT AVG(shipping_cost) FROM orders")[0][0]))


def test_values_compared_with_vs_are_a_breakdown_of_those_values(shop) -> None:  # type: ignore[no-untyped-def]
    a = answer(shop, "web vs mobile revenue in 2025")
    assert sorted(column(a, "channel")) == ["mobile", "web"]


def test_learned_synonyms_reach_the_lexicon(shop) -> None:  # type: ignore[no-untyped-def]
    catalog, _ = shop
    request = SqlRequest(question="takings by region", catalog=catalog, context=build_context("", catalog),
                         latest_date=AS_OF)
    from nl2sql.core.errors import RefusalError

    with pytest.raises(RefusalError, match="takings"):
        OfflineBackend().write_sql(request)
    draft = OfflineBackend(synonyms={"revenue": ["takings"]}).write_sql(request)
    assert draft.reading and draft.reading.startswith("measure revenue")


def test_synonyms_learned_mid_session_reach_the_next_question(shop) -> None:  # type: ignore[no-untyped-def]
    import copy

    catalog = copy.deepcopy(shop[0])
    request = SqlRequest(question="takings by region", catalog=catalog, context=build_context("", catalog),
                         latest_date=AS_OF)
    from nl2sql.core.errors import RefusalError

    with pytest.raises(RefusalError):
        OfflineBackend().write_sql(request)
    next(m for m in catalog.metrics if m.name == "revenue").synonyms.append("takings")  # what `feedback bad` does
    reading = OfflineBackend().write_sql(request).reading
    assert reading is not None and reading.startswith("measure revenue")


@pytest.mark.parametrize(("question", "columns", "n"), [
    ("每个类别有多少个产品", ["category", "products"], 5),        # each X has how many Y: Y counted by X
    ("哪个国家的客户最多", ["country", "customers"], 1),          # the most customers, counted after the noun
    ("企业客户和个人客户的销售额对比", ["segment", "revenue"], 2),  # two values compared
])
def test_chinese_word_order(shop, question: str, columns: list[str], n: int) -> None:  # type: ignore[no-untyped-def]
    a = answer(shop, question)
    assert [c for c, _ in a.result.columns] == columns and a.result.row_count == n


def test_negated_relations_and_ratios_of_measures(shop) -> None:  # type: ignore[no-untyped-def]
    unsold = answer(shop, "products not sold in December 2025")
    assert sorted(r[0] for r in unsold.result.rows) == sorted(r[0] for r in rows(
        shop, "SELECT product_name FROM products p WHERE NOT EXISTS (SELECT 1 FROM order_items oi JOIN orders o USING "
              "(order_id) WHERE oi.product_id = p.product_id AND o.order_date >= DATE '2025-12-01')"))
    per_unit = answer(shop, "revenue per unit by category")
    assert [n for n, _ in per_unit.result.columns] == ["category", "revenue_per_units"]
