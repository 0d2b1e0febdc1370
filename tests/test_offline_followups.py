"""Follow-ups revise the previous answer: filters, breakdowns, grains, periods and rankings."""

from __future__ import annotations

import pytest

from nl2sql.core.errors import RefusalError
from tests.test_offline import answer, column


def test_only_then_split_by_the_same_column_drops_the_filter(shop) -> None:  # type: ignore[no-untyped-def]
    web = answer(shop, "revenue by region in 2025", "only the web channel")
    assert "orders.channel = 'web'" in web.sql and "customers.region" in web.sql and "'2025-01-01'" in web.sql
    split = answer(shop, "revenue by region in 2025", "only the web channel", "split by channel")
    assert sorted(set(column(split, "channel"))) == ["mobile", "store", "web"]
    assert "= 'web'" not in split.sql


def test_split_by_status_lifts_the_default_filter(shop) -> None:  # type: ignore[no-untyped-def]
    for turns in (("orders by channel last month", "split by status"), ("上个月各渠道的订单数", "按状态拆分")):
        a = answer(shop, *turns)
        assert sorted(set(column(a, "status"))) == ["cancelled", "completed", "returned"]
        assert a.result.row_count == 9


def test_top_n_only_on_a_time_series_ranks_by_the_measure(shop) -> None:  # type: ignore[no-untyped-def]
    series = answer(shop, "revenue by month in 2025")
    top = answer(shop, "revenue by month in 2025", "top 3 only")
    expected = sorted(series.result.rows, key=lambda r: r[1], reverse=True)[:3]
    assert top.result.rows == expected


def test_and_last_year_shifts_one_period_or_both_periods_of_a_comparison(shop) -> None:  # type: ignore[no-untyped-def]
    one = answer(shop, "revenue in Q3 2025", "and last year?")
    assert "'2024-07-01'" in one.sql and "'2024-10-01'" in one.sql
    both = answer(shop, "revenue in Q4 2025 vs Q3 2025", "and last year?")
    assert column(both, "period") == ["Q3 2024", "Q4 2024"]
    same = answer(shop, "revenue by segment this year", "same period last year?")
    assert "'2024-01-01'" in same.sql and "'2025-01-01'" in same.sql and same.result.row_count == 3


def test_what_about_a_value_replaces_the_filter_on_its_column(shop) -> None:  # type: ignore[no-untyped-def]
    a = answer(shop, "how many customers do we have in Europe", "what about Asia Pacific?")
    assert "'Asia Pacific'" in a.sql and "'Europe'" not in a.sql


def test_grains_add_a_bucket_or_replace_the_breakdown_with_instead(shop) -> None:  # type: ignore[no-untyped-def]
    added = answer(shop, "各类别的销售额", "按月")
    assert [n for n, _ in added.result.columns] == ["category", "month", "revenue"]
    replaced = answer(shop, "marketing spend by campaign in 2025", "by month instead")
    assert [n for n, _ in replaced.result.columns] == ["month", "marketing_spend"]
    weekly = answer(shop, "revenue by month for the last 3 months", "make that per week")
    assert [n for n, _ in weekly.result.columns] == ["week", "revenue"] and weekly.result.row_count == 14


def test_which_x_is_the_worst_ranks_by_x_with_the_measure_s_polarity(shop) -> None:  # type: ignore[no-untyped-def]
    a = answer(shop, "return rate by category in 2025", "which subcategory is the worst?")
    assert [n for n, _ in a.result.columns] == ["subcategory", "return_rate"] and a.result.row_count == 1
    every = answer(shop, "return rate by subcategory in 2025")
    assert a.result.rows[0][1] == max(column(every, "return_rate"))  # a high return rate is the worst


def test_a_listing_becomes_a_ranking(shop) -> None:  # type: ignore[no-untyped-def]
    a = answer(shop, "which Sports products did we sell this quarter?", "top 3 by revenue, please")
    assert a.result.row_count == 3 and "products.category = 'Sports'" in a.sql and "'2025-10-01'" in a.sql


def test_how_many_of_them_keeps_the_rows_with_facts(shop) -> None:  # type: ignore[no-untyped-def]
    signed = answer(shop, "how many customers signed up in 2025?")
    ordered = answer(shop, "how many customers signed up in 2025?", "how many of them have placed an order?")
    assert 0 < ordered.result.rows[0][0] < signed.result.rows[0][0]


def test_a_follow_up_that_changes_nothing_is_refused(shop) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RefusalError):
        answer(shop, "revenue by region", "and then?")


def test_only_a_value_of_the_breakdown_column_keeps_the_breakdown_and_filters(shop) -> None:  # type: ignore[no-untyped-def]
    a = answer(shop, "revenue by region in 2025", "now show only Europe")
    assert column(a, "region") == ["Europe"]


def test_compare_in_a_follow_up_keeps_both_periods(shop) -> None:  # type: ignore[no-untyped-def]
    a = answer(shop, "revenue by category last year", "vs this year")
    assert sorted(set(column(a, "period"))) == [2024, 2025] and a.result.row_count == 10
    b = answer(shop, "revenue in Q3 2025", "compare with last year")
    assert column(b, "period") == ["Q3 2024", "Q3 2025"]
