"""`nl2sql ask` with the openai backend, driven through the real openai client against a
scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.fake_openai import FakeOpenAI, sql_reply
from tests.helpers import REPO, run_cli

SECRET = "sk-test-SECRETKEY-1234567890"
REGION_SQL = "SELECT region, count(*) AS customers FROM customers GROUP BY region ORDER BY customers DESC"


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as s:
        yield s


def _env(server: FakeOpenAI, **extra: str) -> dict[str, str]:
    return {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": SECRET, "NL2SQL_RETRIES": "2",
            "NL2SQL_REQUEST_TIMEOUT": "10", **extra}


def _ask(server: FakeOpenAI, *args: str, **env: str):  # type: ignore[no-untyped-def]
    return run_cli("ask", *args, env=_env(server, **env))


def _expected_regions() -> list[list[object]]:
    con = duckdb.connect()
    con.execute(f"CREATE VIEW customers AS FROM '{REPO / 'sample_data/shop/customers.parquet'}'")
    return [list(r) for r in con.execute(REGION_SQL).fetchall()]


def test_happy_path(server: FakeOpenAI) -> None:
    server.add({"content": sql_reply(REGION_SQL, ["all customers, whatever their status"])},
               {"content": "North America has the most customers: 791 of 2,000."})
    result = _ask(server, "How many customers are in each region?", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["rows"] == _expected_regions()
    assert data["backend"] == "openai" and data["row_count"] == 4 and data["truncated"] is False
    assert data["narration"].startswith("North America has the most customers")
    assert data["assumptions"] == ["all customers, whatever their status"]
    assert data["usage"]["input_tokens"] == 200 and data["usage"]["output_tokens"] == 40
    assert data["chart"]["type"] == "bar" and data["chart"]["x"] == "region"
    first = server.chat_requests[0]["body"]
    assert first["temperature"] == 0 and first["response_format"] == {"type": "json_object"}
    prompt = first["messages"][1]["content"]
    assert "CREATE TABLE customers" in prompt and "'Europe'" in prompt  # real values from the profile
    assert "How many customers are in each region?" in prompt


def test_rich_output(server: FakeOpenAI) -> None:
    server.add({"content": sql_reply(REGION_SQL)}, {"content": "North America leads."})
    result = _ask(server, "How many customers are in each region?", COLUMNS="120")
    assert result.returncode == 0, result.stderr
    for text in ("SQL", "North America", "791", "North America leads.", "openai"):
        assert text in result.stdout


def test_repair_after_a_bad_column(server: FakeOpenAI) -> None:
    server.add({"content": sql_reply("SELECT regin, count(*) FROM customers GROUP BY 1")},
               {"content": sql_reply(REGION_SQL)})
    data = json.loads(_ask(server, "Customers per region", "--json").stdout)
    assert data["repairs"] == 1 and data["rows"] == _expected_regions()
    repair_prompt = server.chat_requests[1]["body"]["messages"][-1]["content"]
    assert "<error>" in repair_prompt and "Unknown column 'regin'" in repair_prompt


def test_repairs_are_bounded(server: FakeOpenAI) -> None:
    server.add(*[{"content": sql_reply("SELECT nope FROM customers")}] * 5)
    result = _ask(server, "Customers per region", "--json", "--max-repairs", "1")
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"]["type"] == "InvalidSQLError"
    assert len(server.chat_requests) == 2


def test_refusal(server: FakeOpenAI) -> None:
    server.add({"content": json.dumps({"refusal": "the data holds no weather"})})
    result = _ask(server, "What is the weather in Paris?")
    assert result.returncode == 1
    assert "the data holds no weather" in result.stderr and "Traceback" not in result.stderr


def test_rate_limit_then_success(server: FakeOpenAI) -> None:
    server.add({"status": 429, "message": "slow down"}, {"content": sql_reply(REGION_SQL)})
    result = _ask(server, "Customers per region", "--json")
    assert result.returncode == 0, result.stderr
    assert len(server.chat_requests) >= 3  # the 429, the retry, the narration


def test_server_errors_until_exit_3(server: FakeOpenAI) -> None:
    server.add(*[{"status": 500, "message": "upstream exploded"}] * 5)
    result = _ask(server, "Customers per region", "--json", NL2SQL_RETRIES="2")
    assert result.returncode == 3
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "ProviderError" and "500" in error["message"] and error["hint"]
    assert len(server.chat_requests) == 3  # one try + two retries


def test_timeout(server: FakeOpenAI) -> None:
    server.add({"sleep": 3, "content": sql_reply(REGION_SQL)}, {"sleep": 3, "content": sql_reply(REGION_SQL)})
    result = _ask(server, "Customers per region", NL2SQL_REQUEST_TIMEOUT="0.5", NL2SQL_RETRIES="1")
    assert result.returncode == 3
    assert "did not answer within 0.5 s" in result.stderr


def test_malformed_json_then_recovery(server: FakeOpenAI) -> None:
    server.add({"content": '{"sql": "SELECT region FROM'}, {"content": sql_reply(REGION_SQL)})
    data = json.loads(_ask(server, "Customers per region", "--json").stdout)
    assert data["repairs"] == 1 and data["row_count"] == 4


def test_garbage_every_time_is_a_provider_failure(server: FakeOpenAI) -> None:
    server.add(*[{"content": "I am a teapot."}] * 3)
    result = _ask(server, "Customers per region", "--json")
    assert result.returncode == 3
    assert "did not return usable SQL" in json.loads(result.stdout)["error"]["message"]


def test_sql_in_a_markdown_fence(server: FakeOpenAI) -> None:
    server.add({"content": f"Sure! Here is the query:\n```sql\n{REGION_SQL}\n```\nHope it helps."})
    data = json.loads(_ask(server, "Customers per region", "--json").stdout)
    assert data["rows"] == _expected_regions()


def test_drop_table_is_rejected_and_nothing_changes(server: FakeOpenAI, tmp_path: Path) -> None:
    db = tmp_path / "mini.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute(f"CREATE TABLE customers AS FROM '{REPO / 'sample_data/shop/customers.parquet'}'")
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    server.add(*[{"content": sql_reply("DROP TABLE customers")}] * 3)
    result = _ask(server, "Delete the customers table", "--db", str(db), "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"]["type"] == "UnsafeSQLError"
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM customers").fetchone() == (2000,)


def test_a_one_megabyte_reply(server: FakeOpenAI) -> None:
    server.add({"content": "SELECT " + "x" * 1_000_000}, {"content": sql_reply(REGION_SQL)})
    result = _ask(server, "Customers per region", "--json")
    assert result.returncode == 0, result.stderr
    # the huge reply is never sent back to the model
    assert all(len(r["raw"]) < 100_000 for r in server.chat_requests)


def test_api_key_only_travels_in_the_authorization_header(server: FakeOpenAI, isolated_home: Path) -> None:
    server.add({"content": sql_reply(REGION_SQL)}, {"content": "Fine."})
    ok = _ask(server, "Customers per region", "--json")
    server.add(*[{"status": 500, "message": f"bad key {SECRET}"}] * 3)
    failed = _ask(server, "Another question", "--no-cache")
    assert ok.returncode == 0 and failed.returncode == 3
    for request in server.chat_requests:
        assert request["headers"]["authorization"] == f"Bearer {SECRET}"
        assert SECRET not in request["raw"]
    for output in (ok.stdout, ok.stderr, failed.stdout, failed.stderr):
        assert SECRET not in output
    for path in isolated_home.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert "****" in failed.stderr


def test_cache_makes_a_repeat_free(server: FakeOpenAI) -> None:
    server.add({"content": sql_reply(REGION_SQL)}, {"content": "Narration."})
    first = json.loads(_ask(server, "Customers per region", "--json").stdout)
    calls = len(server.chat_requests)
    second = json.loads(_ask(server, "Customers per region", "--json").stdout)
    assert len(server.chat_requests) == calls
    assert second["usage"] == {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}
    assert second["rows"] == first["rows"] and second["narration"] == "Narration."
    server.add({"content": sql_reply(REGION_SQL)})
    _ask(server, "Customers per region", "--json", "--no-cache")
    assert len(server.chat_requests) > calls
    cleared = run_cli("cache", "clear")
    assert cleared.returncode == 0 and "Removed" in cleared.stderr


def test_history_and_usage(server: FakeOpenAI) -> None:
    server.add({"content": sql_reply(REGION_SQL)}, {"content": "Narration."},
               {"content": json.dumps({"refusal": "no weather"})})
    _ask(server, "Customers per region", "--model", "gpt-4o-mini")
    _ask(server, "Weather?", "--model", "gpt-4o-mini")
    history = json.loads(run_cli("history", "--json").stdout)
    assert [h["verdict"] for h in history] == ["refused", "accepted"]
    assert history[1]["sql"].startswith(REGION_SQL) and history[1]["row_count"] == 4
    assert history[1]["input_tokens"] == 200 and history[1]["cost_usd"] > 0
    usage = json.loads(run_cli("history", "--usage", "--json").stdout)
    assert usage[0]["model"] == "gpt-4o-mini" and usage[0]["asks"] == 2


def test_budget_refuses_before_any_call(server: FakeOpenAI) -> None:
    result = _ask(server, "Customers per region", "--budget", "0.000001", "--model", "gpt-4o")
    assert result.returncode == 1 and "exceeds the budget" in result.stderr
    assert server.chat_requests == []


def test_moderation(server: FakeOpenAI) -> None:
    result = _ask(server, "FLAGME please", NL2SQL_MODERATION="true")
    assert result.returncode == 1 and "moderation" in result.stderr
    assert server.chat_requests == []


def test_sql_only_and_formats(server: FakeOpenAI, tmp_path: Path) -> None:
    server.add({"content": sql_reply(REGION_SQL)})
    only = _ask(server, "Customers per region", "--sql-only")
    assert only.returncode == 0 and only.stdout.strip().startswith(REGION_SQL)
    out = tmp_path / "regions.csv"
    written = _ask(server, "Customers per region", "--output", str(out))  # SQL cached; narration scripted
    assert written.returncode == 0, written.stderr
    assert out.read_text().splitlines()[0] == "region,customers"
    md = _ask(server, "Customers per region", "--format", "markdown")
    assert md.stdout.splitlines()[:3] == ["| region | customers |", "|---|---|", "| North America | 791 |"]


def test_prompts_dir_override(server: FakeOpenAI, tmp_path: Path) -> None:
    for name in ("write_sql", "repair_sql", "narrate"):
        (tmp_path / f"{name}.j2").write_text((REPO / "prompts" / f"{name}.j2").read_text())
    (tmp_path / "system.j2").write_text("CUSTOM-SYSTEM-PROMPT. Reply with JSON.")
    server.add({"content": sql_reply(REGION_SQL)})
    assert _ask(server, "Customers per region", "--prompts-dir", str(tmp_path)).returncode == 0
    assert server.chat_requests[0]["body"]["messages"][0]["content"] == "CUSTOM-SYSTEM-PROMPT. Reply with JSON."


def test_pii_values_never_reach_the_model(server: FakeOpenAI) -> None:
    server.add({"content": sql_reply("SELECT customer_name, email, region FROM customers ORDER BY customer_id "
                                     "LIMIT 5")})
    result = _ask(server, "Show five customers with their email", "--json")
    assert result.returncode == 0, result.stderr
    emails = [row[1] for row in json.loads(result.stdout)["rows"]]
    assert emails and all("@" in e for e in emails)
    sent = " ".join(r["raw"] for r in server.chat_requests)
    assert not any(e in sent for e in emails)


def test_openai_without_a_key_explains_how_to_configure() -> None:
    result = run_cli("ask", "Revenue by category in 2025", "--backend", "openai",
                     env={"OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""})
    assert result.returncode == 2
    assert "OPENAI_API_KEY" in result.stderr and "Traceback" not in result.stderr


def test_oversized_and_empty_questions() -> None:
    big = run_cli("ask", "x" * 100_000)
    assert big.returncode == 2 and "limit is 2,000" in big.stderr
    empty = run_cli("ask", "   ")
    assert empty.returncode == 2 and "empty" in empty.stderr


def test_ten_megabyte_question_is_a_clear_error() -> None:
    from nl2sql.core.errors import UsageError
    from nl2sql.core.text import check_question

    with pytest.raises(UsageError, match="10,000,000 characters"):
        check_question("a" * 10_000_000)


@pytest.mark.real_llm
@pytest.mark.skipif(not os.environ.get("NL2SQL_TEST_BASE_URL"), reason="set NL2SQL_TEST_BASE_URL to a model server")
def test_real_local_model_answers_customers_per_region() -> None:
    env = {"OPENAI_BASE_URL": os.environ["NL2SQL_TEST_BASE_URL"], "OPENAI_API_KEY": "local",
           "NL2SQL_MODEL": os.environ.get("NL2SQL_TEST_MODEL", "local"), "NL2SQL_REQUEST_TIMEOUT": "600"}
    result = run_cli("ask", "How many customers are in each region?", "--json", env=env, timeout=1200)
    assert result.returncode == 0, result.stderr
    rows = {tuple(r) for r in json.loads(result.stdout)["rows"]}
    assert rows == {tuple(r) for r in _expected_regions()}
