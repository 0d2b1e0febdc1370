"""The offline engine: right answers to everyday questions with no model, honest refusals."""

from __future__ import annotations

import pytest

from nl2sql.backends.base import SqlRequest
from nl2sql.backends.offline import OfflineBackend
from nl2sql.data.annotations import find_annotation_file
from nl2sql.data.build import build_catalog
from nl2sql.data.context import build_context
from nl2sql.data.sources import resolve
from tests.helpers import REPO

QUESTIONS = REPO / "tests" / "fixtures" / "shop_questions.jsonl"


@pytest.fixture(scope="module")
def shop():  # type: ignore[no-untyped-def]
    source = resolve(None)
    return build_catalog(source, find_annotation_file("shop", None, None), None, use_cache=False)


def _draft(question: str, catalog):  # type: ignore[no-untyped-def]
    request = SqlRequest(question=question, catalog=catalog, context=build_context(question, catalog),
                         latest_date=catalog.latest_date())
    return OfflineBackend().write_sql(request)


def test_metric_default_filter_and_assumptions(shop) -> None:  # type: ignore[no-untyped-def]
    draft = _draft("Revenue by category in 2025", shop)
    assert "orders.status = 'completed'" in draft.sql
    assert any("completed" in a for a in draft.assumptions)
    assert any("2025 means 2025-01-01 to 2025-12-31" in a for a in draft.assumptions)


def test_explicit_status_overrides_the_metric_filter(shop) -> None:  # type: ignore[no-untyped-def]
    draft = _draft("How many orders were cancelled in 2025?", shop)
    assert "'cancelled'" in draft.sql and "'completed'" not in draft.sql
    assert any("replaces the default filter" in a for a in draft.assumptions)


def test_relative_dates_count_from_the_data(shop) -> None:  # type: ignore[no-untyped-def]
    draft = _draft("Revenue by channel last month", shop)
    assert "'2025-11-01'" in draft.sql and "'2025-12-01'" in draft.sql
    assert any("latest date, 2025-12-31" in a for a in draft.assumptions)


def test_follow_ups_revise_the_previous_plan(shop) -> None:  # type: ignore[no-untyped-def]
    backend = OfflineBackend()

    def sql(question: str) -> str:
        request = SqlRequest(question=question, catalog=shop, context=build_context(question, shop),
                             latest_date=shop.latest_date())
        return backend.write_sql(request).sql or ""

    assert "customers.region" in sql("revenue by region in 2025")
    web = sql("only the web channel")
    assert "orders.channel = 'web'" in web and "customers.region" in web and "'2025-01-01'" in web
    monthly = sql("by month instead")
    assert "DATE_TRUNC('MONTH'" in monthly and "customers.region" not in monthly and "'web'" in monthly
    assert "'2024-01-01'" in sql("and in 2024?")
    assert "LIMIT 3" in sql("top 3 only")
