"""Result checks: the warnings a person sees when a result looks wrong (and silence when it is fine)."""

from __future__ import annotations

import pytest

from nl2sql.core.values import Result
from nl2sql.data.catalog import Catalog
from nl2sql.jobs.ask import run_sql
from nl2sql.safety.checks import impossible_shares, null_heavy
from nl2sql.safety.sandbox import Sandbox


def _warnings(shop: tuple[Catalog, Sandbox], sql: str) -> list[str]:
    catalog, sandbox = shop
    return run_sql(sql, catalog, sandbox, 1000).warnings


def test_fan_out_fires_on_a_join_that_repeats_orders(shop: tuple[Catalog, Sandbox]) -> None:
    # counting orders after joining their items counts each order once per item
    warnings = _warnings(shop, "SELECT o.channel, COUNT(*) AS orders FROM orders o "
                               "JOIN order_items i ON i.order_id = o.order_id GROUP BY o.channel")
    assert len(warnings) == 1 and warnings[0].startswith("Join fan-out: joining order_items repeats rows of orders")


def test_fan_out_fires_on_a_sum_over_the_one_side(shop: tuple[Catalog, Sandbox]) -> None:
    warnings = _warnings(shop, "SELECT c.region, SUM(c.customer_id) AS s FROM customers c "
                               "JOIN orders o ON o.customer_id = c.customer_id GROUP BY 1")
    assert any("repeats rows of customers" in w for w in warnings)


@pytest.mark.parametrize("sql", [
    # the right way: sum item lines joined to their order (many-to-one)
    "SELECT o.channel, SUM(i.quantity * i.unit_price) AS revenue FROM order_items i "
    "JOIN orders o ON o.order_id = i.order_id GROUP BY 1",
    # counting distinct keys survives the join
    "SELECT o.channel, COUNT(DISTINCT o.order_id) AS orders FROM orders o "
    "JOIN order_items i ON i.order_id = o.order_id GROUP BY 1",
    # orders joined to their customer (many-to-one): no repetition
    "SELECT c.region, COUNT(*) AS orders FROM orders o JOIN customers c ON c.customer_id = o.customer_id GROUP BY 1",
])
def test_fan_out_stays_silent_on_correct_joins(shop: tuple[Catalog, Sandbox], sql: str) -> None:
    assert _warnings(shop, sql) == []


def test_an_empty_result_names_the_filter_and_close_values(shop: tuple[Catalog, Sandbox]) -> None:
    warnings = _warnings(shop, "SELECT COUNT(*) FROM orders WHERE status = 'complete' AND channel = 'web'")
    assert warnings == ["No row of orders has status = 'complete'. Did you mean 'completed'?"]
    warnings = _warnings(shop, "SELECT * FROM customers WHERE region IN ('Europe', 'Antarctica')")
    assert "The query returned no rows." not in warnings  # Europe matches
    warnings = _warnings(shop, "SELECT * FROM customers WHERE region = 'Antarctica'")
    assert warnings[0] == "The query returned no rows."
    assert warnings[1].startswith("No row of customers has region = 'Antarctica'. It has values such as")


def test_an_empty_period_says_what_the_data_covers(shop: tuple[Catalog, Sandbox]) -> None:
    warnings = _warnings(shop, "SELECT order_id FROM orders WHERE order_date >= DATE '2030-01-01'")
    assert "Nothing matched: orders.order_date covers 2024-01-01 to 2025-12-31" in " ".join(warnings)


def test_truncation_is_a_warning(shop: tuple[Catalog, Sandbox]) -> None:
    catalog, sandbox = shop
    run = run_sql("SELECT order_id FROM orders", catalog, sandbox, 10)
    assert run.warnings[0].startswith("Only the first 10 rows are shown (row cap 10)")


def test_null_heavy_columns() -> None:
    result = Result(columns=[("region", "VARCHAR"), ("manager", "VARCHAR")],
                    rows=[("a", None), ("b", None), ("c", "x"), ("d", None)])
    assert null_heavy(result) == ["Column 'manager' is empty (NULL) in 3 of 4 rows; a join or a filter may not "
                                  "have matched."]
    assert null_heavy(Result(columns=[("a", "INTEGER")], rows=[(1,), (None,), (3,), (4,)])) == []


def test_shares_above_100_percent() -> None:
    wrong = Result(columns=[("channel", "VARCHAR"), ("share_pct", "DOUBLE")], rows=[("web", 70.0), ("mobile", 55.0)])
    assert impossible_shares(wrong)[0].startswith("Column 'share_pct' adds up to 125.0 %")
    fraction = Result(columns=[("channel", "VARCHAR"), ("share", "DOUBLE")], rows=[("web", 0.6), ("mobile", 0.6)])
    assert "120.0 %" in impossible_shares(fraction)[0]
    right = Result(columns=[("channel", "VARCHAR"), ("share", "DOUBLE")], rows=[("web", 0.6), ("mobile", 0.4)])
    assert impossible_shares(right) == []
