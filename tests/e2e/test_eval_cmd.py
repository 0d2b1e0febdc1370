"""`nl2sql eval` end to end: a small question file, a scripted model server, the gold backend."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from nl2sql.core.errors import UsageError
from nl2sql.jobs.evaluate.questions import load_questions
from tests.fake_openai import FakeOpenAI, sql_reply
from tests.helpers import REPO, SQL_EVAL, run_cli

ANSWERS = {
    "How many customers are there?": "SELECT count(*) FROM customers",
    "Customers per segment": "SELECT segment, count(*) AS n FROM customers GROUP BY 1",  # right
    "Products per category": "SELECT category, count(*) FROM products WHERE category <> 'Books' GROUP BY 1",  # wrong
    "Only the Corporate ones": "SELECT count(*) FROM customers WHERE segment = 'Corporate'",
}


def _reply(body: dict) -> str:
    text = body["messages"][-1]["content"]
    if "Question:" not in text:
        return "Narration."
    question = text.rsplit("Question:", 1)[1].strip()
    if "weather" in question:
        return json.dumps({"refusal": "no weather data"})
    return sql_reply(ANSWERS.get(question, "SELECT 1"))


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    db = tmp_path / "mini.duckdb"
    with duckdb.connect(str(db)) as con:
        for t in ("customers", "products"):
            con.execute(f"CREATE TABLE {t} AS FROM '{REPO / 'sample_data/shop' / (t + '.parquet')}'")
    questions = tmp_path / "q.jsonl"
    lines = [
        {"question": "How many customers are there?", "gold_sql": ["SELECT count(*) FROM customers"],
         "category": "count"},
        {"question": "Customers per segment", "gold_sql": ["SELECT segment, count(*) FROM customers GROUP BY 1"],
         "category": "group"},
        {"question": "Products per category", "gold_sql": ["SELECT category, count(*) FROM products GROUP BY 1"],
         "category": "group"},
        {"question": "What is the weather in Paris?", "expect": "refuse"},
        {"question": "Only the Corporate ones", "turns": ["Customers per segment"],
         "gold_sql": ["SELECT count(*) FROM customers WHERE segment = 'Corporate'"], "category": "follow-up"},
    ]
    questions.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return db, questions


def test_eval_with_a_scripted_model(setup: tuple[Path, Path], tmp_path: Path) -> None:
    db, questions = setup
    out = tmp_path / "results.jsonl"
    with FakeOpenAI(default=_reply) as server:
        result = run_cli("eval", str(questions), "--db", str(db), "--backend", "openai", "--json",
                         "--output", str(out), "--jobs", "2",
                         env={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"})
    assert result.returncode == 0, result.stderr
    s = json.loads(result.stdout)["summary"]["openai"]
    assert s["questions"] == 5 and s["correct"] == 4
    assert s["accuracy"] == pytest.approx(0.8) and s["answered"] == 4 and s["precision"] == pytest.approx(0.75)
    assert s["refusals"] == 1 and s["correct_refusals"] == 1
    assert s["by_category"]["group"] == {"n": 2, "correct": 1, "answered": 2}
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [x["status"] for x in lines] == ["correct", "correct", "wrong", "refused", "correct"]
    # the follow-up saw the earlier turn's SQL as conversation
    assert len(lines) == 5


def test_fail_under_and_ab_differences(setup: tuple[Path, Path]) -> None:
    db, questions = setup
    with FakeOpenAI(default=_reply) as server:
        env = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "k"}
        result = run_cli("eval", str(questions), "--db", str(db), "--backend", "gold", "--backend", "openai",
                         "--json", "--fail-under", "0.9", env=env)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["summary"]["gold"]["accuracy"] == 1.0
    worse = {d["line"]: d["change"]["openai"] for d in data["differences"]}
    assert worse == {3: "worse"}


def test_rich_report(setup: tuple[Path, Path]) -> None:
    db, questions = setup
    result = run_cli("eval", str(questions), "--db", str(db), "--backend", "gold", env={"COLUMNS": "150"})
    assert result.returncode == 0, result.stderr
    assert "accuracy" in result.stdout and "100.0% (5)" in result.stdout and "by category" in result.stdout


def test_question_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "ok", "gold_sql": ["SELECT 1"]}\n{not json}\n')
    with pytest.raises(UsageError, match="line 2"):
        load_questions(bad)
    bad.write_text('{"question": "no gold"}\n')
    with pytest.raises(UsageError, match="gold_sql"):
        load_questions(bad)
    with pytest.raises(UsageError, match="not found"):
        load_questions(tmp_path / "missing.jsonl")
    result = run_cli("eval", str(tmp_path / "missing.jsonl"), "--db", str(tmp_path))
    assert result.returncode == 2 and "not found" in result.stderr


def test_gold_scores_itself_perfectly_on_sql_eval(sqleval_dir: Path) -> None:
    result = run_cli("eval", str(SQL_EVAL / "questions.jsonl"), "--db", str(sqleval_dir), "--backend", "gold",
                     "--json", timeout=600)
    assert result.returncode == 0, result.stderr
    s = json.loads(result.stdout)["summary"]["gold"]
    assert s["questions"] == 252 and s["accuracy"] == 1.0
