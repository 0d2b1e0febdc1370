"""The offline engine: right answers to everyday questions with no model, honest refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nl2sql.backends.base import SqlRequest
from nl2sql.backends.offline import OfflineBackend
from nl2sql.data.annotations import find_annotation_file
from nl2sql.data.build import build_catalog
from nl2sql.data.context import build_context
from nl2sql.data.sources import resolve
from tests.conftest import REPO, SQL_EVAL, run_cli

QUESTIONS = REPO / "tests" / "fixtures" / "shop_questions.jsonl"


@pytest.fixture(scope="module")
def shop():  # type: ignore[no-untyped-def]
    source = resolve(None)
    return build_catalog(source, find_annotation_file("shop", None, None), None, use_cache=False)


def _draft(question: str, catalog):  # type: ignore[no-untyped-def]
    request = SqlRequest(question=question, catalog=catalog, context=build_context(question, catalog),
                         latest_date=catalog.latest_date())
    return OfflineBackend().write_sql(request)


def test_shop_question_set_passes_under_eval(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    result = run_cli("eval", str(QUESTIONS), "--db", str(REPO / "sample_data" / "shop"), "--backend", "offline",
                     "--json", "--output", str(out), "--fail-under", "0.95")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    summary = json.loads(result.stdout)["summary"]["offline"]
    assert summary["accuracy"] >= 0.95 and summary["precision"] >= 0.95
    assert summary["correct_refusals"] == summary["by_category"]["refuse"]["n"]
    zh = summary["by_category"]["zh"]
    assert zh["correct"] == zh["n"]


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


@pytest.mark.parametrize(("question", "words"), [
    ("What is the weather in Paris?", ["'weather'", "'paris'"]),
    ("Show me the salaries of employees", ["'salary'", "'employee'"]),
])
def test_refusals_name_the_unplaced_words(question: str, words: list[str]) -> None:
    result = run_cli("ask", question)
    assert result.returncode == 1
    for word in words:
        assert word in result.stderr
    assert "--backend openai" in result.stderr


def test_quick_start_question_answers_without_a_key() -> None:
    result = run_cli("ask", "Revenue by category in 2025", "--json",
                     env={"OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["backend"] == "offline" and data["row_count"] == 5
    assert data["rows"][0][0] == "Electronics"
    assert data["narration"].startswith("Electronics leads on revenue")
    assert data["chart"]["type"] == "bar"
    assert data["usage"] == {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}


def test_chinese_question_gets_a_chinese_answer() -> None:
    data = json.loads(run_cli("ask", "2025年各地区的销售额", "--json").stdout)
    assert data["rows"][0][0] == "North America"
    assert "最高" in data["narration"]


def test_precision_on_sql_eval_and_refusal_of_unanswerable(sqleval_dir: Path) -> None:
    answered = run_cli("eval", str(SQL_EVAL / "questions.jsonl"), "--db", str(sqleval_dir), "--backend", "offline",
                       "--json", timeout=600)
    s = json.loads(answered.stdout)["summary"]["offline"]
    assert s["answered"] == 0 or s["precision"] >= 0.9
    refused = run_cli("eval", str(SQL_EVAL / "unanswerable.jsonl"), "--db", str(sqleval_dir), "--backend",
                      "offline", "--json", timeout=600)
    u = json.loads(refused.stdout)["summary"]["offline"]
    assert u["correct_refusals"] / u["questions"] >= 0.95


def test_as_of_moves_relative_periods() -> None:
    data = json.loads(run_cli("ask", "revenue last week by channel", "--as-of", "2025-06-18", "--json").stdout)
    assert any("2025-06-09 to 2025-06-15" in a for a in data["assumptions"])
    rows = dict((r[0], r[1]) for r in data["rows"])
    assert rows["mobile"] < 0.2 * rows["web"]  # the week of the mobile outage
    bad = run_cli("ask", "revenue last week", "--as-of", "18-06-2025")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr


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
