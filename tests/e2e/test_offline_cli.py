"""The offline engine through the CLI: the shop set under `nl2sql eval`, refusals, the quick start."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import REPO, SQL_EVAL, run_cli
from tests.helpers import SHOP_QUESTIONS as QUESTIONS


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


@pytest.mark.parametrize(("question", "words"), [
    ("What is the weather in Paris?", ["'weather'", "'paris'"]),
    ("Show me the salaries of employees", ["'salaries'", "'employees'"]),
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


def test_the_reading_is_in_json_and_explain() -> None:
    data = json.loads(run_cli("ask", "top 5 products by revenue last quarter", "--json").stdout)
    assert data["reading"].startswith("measure revenue = SUM(")
    assert "period last quarter (2025-07-01 to 2025-09-30) on orders.order_date" in data["reading"]
    assert "order by revenue, highest first; limit 5" in data["reading"]
    explained = run_cli("ask", "revenue by channel in 2025", "--explain")
    shown = " ".join(explained.stdout.split())  # the terminal wraps long lines
    assert explained.returncode == 0 and "Reading: measure revenue" in shown and "by orders.channel" in shown


def test_a_refusal_names_the_unknown_word_and_the_closest_terms() -> None:
    result = run_cli("ask", "revenu by regoin in 2025")
    assert result.returncode == 1
    assert "'revenu'" in result.stderr and "'regoin'" in result.stderr
    assert "revenue" in result.stderr and "region" in result.stderr
