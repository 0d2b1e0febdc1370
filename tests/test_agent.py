"""The tools of `nl2sql mcp` in process (jobs.agent): what each privacy tier lets through, the audit
log's MCP records, and the sampling backend's replay of replies the client has already given."""

from __future__ import annotations

import json

import pytest

from nl2sql import Workspace
from nl2sql.backends.sampling import ReplyNeeded, SamplingBackend
from nl2sql.core.errors import ExecutionError, UsageError
from nl2sql.jobs.agent import Agent
from nl2sql.jobs.agent_view import withhold_values

REGIONS = "SELECT region, count(*) AS customers FROM customers GROUP BY region ORDER BY customers DESC"


def mcp_records(ws: Workspace) -> list[tuple[str, str | None]]:
    return [(r["kind"], r["verdict"]) for r in ws.audit.recent(100) if r["kind"].startswith("mcp-")]


def test_masking_keeps_names_and_hides_values() -> None:
    known = {"orders", "status", "category"}
    text = "No row of orders has status = 'complete'. Did you mean 'completed'? Column 'category' from 2024-01-31."
    assert withhold_values(text, known) == ("No row of orders has status = '…'. Did you mean '…'? "
                                            "Column 'category' from ….")


def test_personal_data_is_masked_and_results_are_capped() -> None:
    with Workspace.open(backend="offline") as ws:
        agent = Agent(ws, result_rows=3)
        out = agent.run_sql("SELECT customer_name, email, country FROM customers ORDER BY customer_id LIMIT 10")
    assert out["row_count"] == 10 and len(out["rows"]) == 3 and out["rows_shown"] == 3
    assert all(row[0] == "***" and row[1] == "***" and row[2] not in ("***", None) for row in out["rows"])
    assert "first 3 of 10 rows" in out["rows_note"]


def test_stats_tier_returns_aggregates_and_masks_values_in_errors() -> None:
    with Workspace.open(backend="offline", privacy="stats") as ws:
        agent = Agent(ws)
        answer, png = agent.ask("Revenue by category in 2025", chart=True)
        with pytest.raises(ExecutionError) as failed:
            agent.run_sql("SELECT CAST(product_name AS INTEGER) AS n FROM products")
    assert "rows" not in answer and answer["aggregates"]["rows"] == 5 and answer["aggregates"]["total"] > 0
    assert png is None and "withholds" in answer["chart_note"]
    assert "'…'" in failed.value.message and "product_name" in failed.value.message


def test_every_call_is_recorded_as_coming_from_mcp() -> None:
    with Workspace.open(backend="offline") as ws:
        agent = Agent(ws)
        agent.list_tables()
        agent.describe_table("orders")
        with pytest.raises(UsageError) as typo:
            agent.describe_table("ordrs")
        assert "'orders'" in (typo.value.hint or "")
        answer, _ = agent.ask("Revenue by category in 2025")
        agent.explain(answer["answer_id"])
        agent.schema_text()
        records = mcp_records(ws)
    assert sorted(records) == sorted([("mcp-list_tables", "ok"), ("mcp-describe_table", "ok"),
                                      ("mcp-describe_table", "failed"), ("mcp-ask", "accepted"),
                                      ("mcp-explain", "ok"), ("mcp-resource", "ok")])


def test_an_ask_waiting_for_the_clients_model_is_recorded_once_when_it_ends() -> None:
    replies: dict[str, str] = {}
    seen: list[list[dict[str, str]]] = []

    def complete(messages: list[dict[str, str]], max_tokens: int) -> tuple[str, str | None]:
        key = json.dumps(messages)
        seen.append(messages)
        if key not in replies:
            raise ReplyNeeded(key, messages)
        return replies[key], "client-model"

    with Workspace.open(backend="offline") as ws:
        agent = Agent(ws)
        backend = lambda: SamplingBackend(ws.settings, complete)  # noqa: E731 - a fresh one per round
        for reply in (json.dumps({"sql": REGIONS}), "North America leads."):
            with pytest.raises(ReplyNeeded) as need:
                agent.ask("How many customers are in each region?", backend=backend())
            assert mcp_records(ws) == []  # an unfinished round leaves no trace
            replies[need.value.key] = reply
        answer, _ = agent.ask("How many customers are in each region?", backend=backend())
        records = mcp_records(ws)
    assert answer["backend"] == "sampling" and answer["model"] == "client-model" and answer["row_count"] == 4
    assert answer["narration"] == "North America leads."
    assert records == [("mcp-ask", "accepted")]
    assert seen[0][0]["role"] == "system" and "How many customers" in seen[0][-1]["content"]
