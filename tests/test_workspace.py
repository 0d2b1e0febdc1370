"""The Python API in process: Workspace.open and its jobs (ask, sql, chat, report) with a fake backend
that answers from a queue of scripted replies, and the offline engine."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from nl2sql import Workspace
from nl2sql.core.errors import ConfigError, InvalidSQLError, RefusalError
from tests.helpers import REPO, FakeBackend

REGION_SQL = "SELECT region, count(*) AS customers FROM customers GROUP BY region ORDER BY customers DESC"


def _regions() -> list[tuple[object, ...]]:
    con = duckdb.connect()
    con.execute(f"CREATE VIEW customers AS FROM '{REPO / 'sample_data/shop/customers.parquet'}'")
    return con.execute(REGION_SQL).fetchall()


def test_ask_runs_the_backends_sql_and_keeps_a_grounded_narration() -> None:
    regions = _regions()
    fake = FakeBackend(sql=[REGION_SQL], narrations=[f"{regions[0][0]} has the most customers: {regions[0][1]}."])
    with Workspace.open(backend=lambda: fake) as ws:
        answer = ws.ask("How many customers are in each region?")
    assert answer.result.rows == regions
    assert answer.narrated_by == "model" and answer.narration.startswith(str(regions[0][0]))
    assert answer.usage.input_tokens == 150 and answer.chart is not None and answer.chart.x == "region"
    assert "CREATE" not in answer.sql and fake.sql_requests[0].question == "How many customers are in each region?"


def test_an_invented_number_falls_back_to_the_computed_narration() -> None:
    fake = FakeBackend(sql=[REGION_SQL], narrations=["There are 123456 customers.", "Still 123456."])
    with Workspace.open(backend=lambda: fake) as ws:
        answer = ws.ask("customers per region")
    assert answer.narrated_by == "computed" and "123456" not in (answer.narration or "")
    assert len(fake.narration_requests) == 2 and fake.narration_requests[1].feedback == "123456"


def test_a_bad_column_is_repaired_and_the_repair_sees_the_error() -> None:
    fake = FakeBackend(sql=["SELECT regoin FROM customers", "SELECT region FROM customers GROUP BY region"])
    with Workspace.open(backend=lambda: fake) as ws:
        answer = ws.ask("which regions are there?")
    assert answer.repairs == 1 and answer.result.row_count == 4
    repair = fake.sql_requests[1]
    assert repair.previous_sql == "SELECT regoin FROM customers" and "regoin" in (repair.error or "")


def test_refusals_and_unsafe_sql_never_run() -> None:
    with Workspace.open(backend=lambda: FakeBackend(sql=[{"refusal": "no salary data"}])) as ws, \
            pytest.raises(RefusalError, match="no salary data"):
        ws.ask("What are the salaries?")
    fake = FakeBackend(sql=["DROP TABLE orders"] * 3)
    with Workspace.open(backend=lambda: fake, max_repairs=2) as ws, pytest.raises(Exception, match="Refused"):
        ws.ask("delete everything")
    assert len(fake.sql_requests) == 3  # the first try and two repairs, every one refused by the guard


def test_sql_only_guards_without_running() -> None:
    with Workspace.open(backend=lambda: FakeBackend(sql=[REGION_SQL])) as ws:
        answer = ws.ask("regions", sql_only=True)
        # the SQL as written; the guard's row cap is reported on its own, not pasted into the SQL
        assert answer.result.rows == [] and answer.sql == REGION_SQL and answer.row_cap == 1000
        assert ws._sandbox is None or not ws._sandbox._ready  # the worker was never needed


def test_sql_checks_and_runs_through_the_guard() -> None:
    with Workspace.open() as ws:
        assert ws.sql("SELECT count(*) AS n FROM orders").result.rows[0][0] > 50_000
        assert ws.sql("SELECT 1 AS one FROM products", check=True).result is None
        with pytest.raises(InvalidSQLError, match="Unknown table"):
            ws.sql("SELECT * FROM salaries")


def test_chat_keeps_views_that_later_questions_read() -> None:
    fake = FakeBackend(sql=[REGION_SQL, "SELECT region FROM r1 WHERE customers > 400"])
    with Workspace.open(backend=lambda: fake) as ws:
        chat = ws.chat()
        chat.ask("customers per region")
        second = chat.ask("only the big ones")
    assert second.sql.startswith("WITH r1 AS (") and "FROM r1" in second.sql
    assert [r[0] for r in second.result.rows] == [r[0] for r in _regions() if r[1] > 400]
    assert "r1(region VARCHAR, customers BIGINT; 4 rows)" in (fake.sql_requests[1].conversation or "")


def test_offline_follow_ups_revise_the_plan_in_process() -> None:
    with Workspace.open(backend="offline") as ws:
        chat = ws.chat()
        chat.ask("revenue by region in 2025")
        web = chat.ask("only the web channel")
    assert "channel = 'web'" in web.sql and web.result.row_count == 4


def test_a_report_runs_in_process_with_its_alert(tmp_path: Path) -> None:
    with Workspace.open(backend="offline") as ws:
        report = ws.report(REPO / "examples" / "weekly_report.yaml", as_of="2025-06-15")
    assert not report.failed and report.period.label.startswith("Week 24, 2025")
    assert any("Mobile orders fell" in alert for _, alert in report.alerts)


def test_settings_are_checked_when_the_workspace_opens() -> None:
    for bad in ({"timeout": float("nan")}, {"max_rows": True}, {"threads": 10_000}, {"max_rows": 10**12},
                {"memory_limit": "lots"}, {"as_of": "yesterday"}):
        with pytest.raises(ConfigError):
            Workspace.open(**bad)


def test_the_readme_python_example_runs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code, "README has no Python API example"
    exec(compile(code.group(1), "README.md", "exec"), {})  # the example asserts what it shows


def test_the_sql_shown_keeps_its_own_limit_and_the_row_cap_is_reported_apart() -> None:
    sql = "SELECT region, count(*) AS customers FROM customers GROUP BY region ORDER BY customers DESC\nLIMIT 2"
    with Workspace.open(backend=lambda: FakeBackend(sql=[sql])) as ws:
        answer = ws.ask("the two biggest regions")
    data = answer.to_dict()
    assert data["sql"] == sql and data["row_cap"] is None and data["row_count"] == 2  # its LIMIT is no cap of ours
    with Workspace.open(backend=lambda: FakeBackend(sql=[REGION_SQL])) as ws:
        data = ws.ask("regions").to_dict()
    assert data["sql"] == REGION_SQL and "1001" not in data["sql"] and data["row_cap"] == 1000
