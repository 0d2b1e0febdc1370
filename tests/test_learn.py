"""Learning from people, in process: confirmed answers become verified examples a model is shown for
similar questions; what did not run, is gone from the schema, or was rejected is never offered."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
import yaml

from nl2sql import Workspace
from nl2sql.core.errors import RefusalError, UsageError
from nl2sql.data.annotations import apply_annotations, load_annotations
from nl2sql.data.build import build_catalog
from nl2sql.data.sources import resolve
from tests.helpers import FakeBackend

REVENUE_BY_SEGMENT = ("SELECT c.segment, SUM(oi.quantity * oi.unit_price * (1 - oi.discount)) AS revenue "
                      "FROM orders o JOIN order_items oi ON oi.order_id = o.order_id "
                      "JOIN customers c ON c.customer_id = o.customer_id WHERE o.status = 'completed' GROUP BY 1")


def test_a_good_answer_is_stored_and_shown_to_the_model_for_a_paraphrase() -> None:
    fake = FakeBackend(sql=[REVENUE_BY_SEGMENT, REVENUE_BY_SEGMENT])
    with Workspace.open(backend=lambda: fake) as ws:
        first = ws.ask("What is the revenue per customer segment?")
        example = ws.feedback_good(first.history_id)
        assert example.fingerprint.row_count == 3 and example.fingerprint.columns == ("segment", "revenue")
        ws.ask("revenue for each segment of customers")
    shown = fake.sql_requests[1].context.examples
    assert [e.question for e in shown][:1] == ["What is the revenue per customer segment?"]
    assert "customers c ON" in shown[0].sql and "LIMIT" not in shown[0].sql  # our row cap is not part of it


def test_a_bad_answer_is_not_stored_and_lowers_the_examples_it_used() -> None:
    fake = FakeBackend(sql=[REVENUE_BY_SEGMENT, REVENUE_BY_SEGMENT])
    with Workspace.open(backend=lambda: fake) as ws:
        example = ws.feedback_good(ws.ask("revenue per segment").history_id)
        second = ws.ask("revenue by segment please")
        ws.feedback_bad(second.history_id, why="it should only count Corporate")
        assert [e.question for e in ws.examples.all()] == ["revenue per segment"]  # the bad one was not stored
        assert ws.examples.get(example.id).score < 1.0
        ws.feedback_bad(second.history_id)
        assert ws.learned_examples("revenue by segment") == []  # trusted too little to be shown


def test_an_answer_that_did_not_run_cannot_be_confirmed() -> None:
    with Workspace.open(backend=lambda: FakeBackend(sql=[{"refusal": "no salaries here"}])) as ws:
        with pytest.raises(RefusalError):
            ws.ask("what do we pay people?")
        with pytest.raises(UsageError, match="no answered question"):
            ws.feedback_good()
        assert not ws.has_examples or ws.examples.all() == []


def test_an_example_whose_column_was_dropped_is_not_used_and_the_user_is_told(tmp_path: Path) -> None:
    db = tmp_path / "crm.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE deals AS SELECT * FROM (VALUES (1, 'won', 10.0), (2, 'lost', 5.0)) "
                    "t(id, stage, amount)")
    sql = "SELECT stage, SUM(amount) AS total FROM deals GROUP BY stage"
    with Workspace.open(db=str(db), backend=lambda: FakeBackend(sql=[sql])) as ws:
        ws.feedback_good(ws.ask("total amount by stage").history_id)
    with duckdb.connect(str(db)) as con:
        con.execute("ALTER TABLE deals DROP COLUMN stage")
    fake = FakeBackend(sql=["SELECT SUM(amount) AS total FROM deals"])
    with Workspace.open(db=str(db), backend=lambda: fake) as ws:
        ws.ask("total amount per stage")
        assert fake.sql_requests[0].context.examples == []
        assert any("no longer fits the data" in p and "stage" in p for p in ws.problems)


def test_import_rejects_a_drop_and_unparseable_sql(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.yaml"
    pairs.write_text(yaml.safe_dump({"examples": [
        {"question": "orders by channel", "sql": "SELECT channel, count(*) AS n FROM orders GROUP BY channel"},
        {"question": "remove the orders", "sql": "DROP TABLE orders"},
        {"question": "broken", "sql": "SELEC channel FROM"},
    ]}))
    with Workspace.open(backend="offline") as ws:
        done = ws.import_examples(pairs)
        assert [e.question for e in done.added] == ["orders by channel"]
        reasons = dict(done.rejected)
        assert "Refused" in reasons["remove the orders"] and "parse" in reasons["broken"].lower()
        assert [e.question for e in ws.examples.all()] == ["orders by channel"]


def test_export_writes_yaml_that_the_schema_accepts(tmp_path: Path) -> None:
    target = tmp_path / "shop.yaml"
    target.write_text((Path(__file__).resolve().parents[1] / "schemas" / "shop.yaml").read_text(encoding="utf-8"))
    with Workspace.open(backend=lambda: FakeBackend(sql=[REVENUE_BY_SEGMENT])) as ws:
        ws.feedback_good(ws.ask("revenue per segment").history_id)
        ws.export_examples(target)
    data = load_annotations(target)
    assert {"question": "revenue per segment", "sql": REVENUE_BY_SEGMENT} in data["examples"]
    assert data["metrics"]["revenue"]  # the rest of the annotation file is kept
    catalog = build_catalog(resolve(None), None, None, use_cache=False)
    apply_annotations(catalog, data, target)  # validates every example's tables
    assert any(e.question == "revenue per segment" for e in catalog.examples)


def test_a_learned_synonym_lets_the_offline_engine_answer_what_it_refused() -> None:
    with Workspace.open(backend="offline") as ws, pytest.raises(RefusalError, match="territory"):
        ws.ask("revenue by territory in 2025")
    with Workspace.open(backend="offline") as ws:
        _, _, learned = ws.feedback_bad(why="by 'territory' I meant region")
        assert learned == "territory -> column:customers.region"
    with Workspace.open(backend="offline") as ws:
        answer = ws.ask("revenue by territory in 2025")
        assert answer.result.row_count == 4 and "region" in answer.sql


def test_a_synonym_for_nothing_is_a_usage_error() -> None:
    with Workspace.open(backend="offline") as ws:
        with pytest.raises(RefusalError):
            ws.ask("revenue by planet")
        with pytest.raises(UsageError, match="names nothing"):
            ws.feedback_bad(why="by 'planet' I meant galaxy")


def test_eval_shows_a_databases_verified_examples_to_the_model(tmp_path: Path) -> None:
    from nl2sql.jobs.evaluate.questions import load_questions
    from nl2sql.jobs.evaluate.run import EvalConfig

    with Workspace.open(backend=lambda: FakeBackend(sql=[REVENUE_BY_SEGMENT])) as ws:
        ws.feedback_good(ws.ask("revenue per segment").history_id)
        questions = tmp_path / "q.jsonl"
        questions.write_text(json.dumps({"question": "revenue for each customer segment",
                                         "gold_sql": [REVENUE_BY_SEGMENT]}) + "\n")
        fake = FakeBackend(sql=[REVENUE_BY_SEGMENT])
        results = ws.eval(load_questions(questions), ws.source.path, configs=[EvalConfig("fake", lambda: fake)])
    assert results["fake"][0].correct
    assert [e.question for e in fake.sql_requests[0].context.examples][:1] == ["revenue per segment"]
