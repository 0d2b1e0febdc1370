"""`nl2sql mcp` as an agent sees it: the server started as a subprocess, driven by the MCP SDK's
own client over stdio (and once over streamable HTTP on 127.0.0.1)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import duckdb
import pytest
import yaml
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult, CreateMessageResult, ErrorData, TextContent

from tests.helpers import REPO, run_cli

QUESTION = "Revenue by category in 2025"


@pytest.fixture(scope="module")
def shop_db(tmp_path_factory: pytest.TempPathFactory, shop_dir: Path) -> Path:
    """The shop as one DuckDB file (its annotation, shop.yaml, is found by the file's name)."""
    path = tmp_path_factory.mktemp("mcp") / "shop.duckdb"
    con = duckdb.connect(str(path))
    for table in sorted(shop_dir.glob("*.parquet")):
        con.execute(f"CREATE TABLE {table.stem} AS SELECT * FROM read_parquet('{table}')")
    con.close()
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def talk(args: list[str], script: Callable[[Client], Awaitable[Any]], **client: Any) -> Any:
    """Start `nl2sql mcp ARGS` and run `script` with an SDK client connected to it over stdio."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "nl2sql", "mcp", *args],
                                   env=dict(os.environ), cwd=str(REPO))

    async def main() -> Any:
        async with Client(params, read_timeout_seconds=120, **client) as session:
            return await script(session)

    return anyio.run(main)


async def call(client: Client, tool: str, **arguments: Any) -> CallToolResult:
    return await client.call_tool(tool, arguments)


def data(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    assert result.is_error, result.structured_content
    return result.content[0].text


def history() -> list[dict[str, Any]]:
    out = run_cli("history", "--json", "-n", "200")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


# -- the tools --------------------------------------------------------------------------------------

def test_an_agent_lists_describes_asks_and_cannot_write(shop_db: Path) -> None:
    before = digest(shop_db)
    cli = run_cli("ask", QUESTION, "--json", "--db", str(shop_db))
    assert cli.returncode == 0, cli.stderr
    expected = json.loads(cli.stdout)

    async def script(client: Client) -> dict[str, Any]:
        seen: dict[str, Any] = {"tools": (await client.list_tools()).tools}
        seen["orders"] = data(await call(client, "describe_table", name="orders"))
        seen["typo"] = error_text(await call(client, "describe_table", name="order"))
        seen["ask"] = await call(client, "ask", question=QUESTION, chart=True)
        for i, sql in enumerate(["DROP TABLE orders", "DELETE FROM orders", "COPY orders TO 'out.csv'",
                                 "SELECT * FROM read_csv('/etc/passwd')", "SELECT 1; DROP TABLE orders"]):
            seen[f"attack{i}"] = error_text(await call(client, "run_sql", sql=sql))
        seen["count"] = data(await call(client, "run_sql", sql="SELECT count(*) AS n FROM orders"))
        seen["explain"] = data(await call(client, "explain", answer_id=data(seen["ask"])["answer_id"]))
        return seen

    seen = talk(["--db", str(shop_db)], script)
    assert [t.name for t in seen["tools"]] == ["list_tables", "describe_table", "list_metrics", "ask", "run_sql",
                                               "explain"]
    assert all(t.annotations.read_only_hint and not t.annotations.destructive_hint for t in seen["tools"])
    run_sql = next(t for t in seen["tools"] if t.name == "run_sql")
    assert "DROP" in run_sql.description and "30 s" in run_sql.description  # what is refused; the limits

    status = next(c for c in seen["orders"]["columns"] if c["name"] == "status")
    assert status["values"] == ["completed", "cancelled", "returned"] and status["type"] == "VARCHAR"
    assert "orders.customer_id -> customers.customer_id" in seen["orders"]["relationships"]
    assert "No table named 'order'" in seen["typo"] and "'orders'" in seen["typo"]

    answer = data(seen["ask"])
    assert answer["rows"] == expected["rows"] and answer["sql"] == expected["sql"]
    assert answer["columns"] == expected["columns"] and answer["narration"] == expected["narration"]
    image = seen["ask"].content[1]
    assert image.type == "image" and image.mime_type == "image/png"
    assert base64.b64decode(image.data).startswith(b"\x89PNG\r\n\x1a\n")
    assert seen["explain"]["sql"] == expected["sql"] and seen["explain"]["receipts"]

    assert seen["attack0"].startswith("UnsafeSQLError:") and "DROP" in seen["attack0"]
    assert all(seen[f"attack{i}"].split(":")[0] in ("UnsafeSQLError", "InvalidSQLError") for i in range(5))
    assert seen["count"]["rows"] == [[61224]]
    assert digest(shop_db) == before  # the data file is unchanged, byte for byte

    kinds = [(r["kind"], r["verdict"]) for r in history()]
    assert ("mcp-describe_table", "ok") in kinds and ("mcp-describe_table", "failed") in kinds
    assert ("mcp-ask", "accepted") in kinds and ("mcp-run_sql", "rejected") in kinds
    assert ("mcp-run_sql", "ok") in kinds and ("mcp-explain", "ok") in kinds
    assert ("ask", "accepted") in kinds  # the CLI's own ask, for comparison
    assert sum(kind == "mcp-run_sql" for kind, _ in kinds) == 6


def test_a_query_past_the_time_limit_is_stopped_and_the_next_one_runs() -> None:
    heavy = "SELECT count(*) AS n FROM order_items a JOIN order_items b ON a.order_id <> b.order_id"

    async def script(client: Client) -> tuple[str, dict[str, Any]]:
        stopped = error_text(await call(client, "run_sql", sql=heavy))
        return stopped, data(await call(client, "run_sql", sql="SELECT count(*) AS n FROM products"))

    stopped, after = talk(["--timeout", "1"], script)
    assert stopped.startswith("QueryTimeoutError:") and "longer than 1 s" in stopped
    assert after["rows"] == [[120]]


# -- privacy ----------------------------------------------------------------------------------------

def catalog_text() -> str:
    """Everything the semantic layer says except its value lists: what tier `schema` may show."""
    def strings(node: Any) -> list[str]:
        if isinstance(node, dict):
            return [s for k, v in node.items() if k not in ("values", "value_synonyms") for s in [k, *strings(v)]]
        if isinstance(node, list):
            return [s for item in node for s in strings(item)]
        return [str(node)]

    return "\n".join(strings(yaml.safe_load((REPO / "schemas" / "shop.yaml").read_text(encoding="utf-8"))))


def row_values(shop_dir: Path, numbers: list[float]) -> set[str]:
    """Every text value of the data, and the numbers of an answer as they could be written."""
    con = duckdb.connect()
    found: set[str] = set()
    for table in sorted(shop_dir.glob("*.parquet")):
        for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{table}')").fetchall():
            if kind == "VARCHAR":
                sql = f'SELECT DISTINCT "{name}" FROM read_parquet(\'{table}\') WHERE "{name}" IS NOT NULL'
                found |= {v for (v,) in con.execute(sql).fetchall() if len(v) >= 3}
    for n in numbers:
        found |= {repr(n), f"{n:,.0f}", f"{n:.0f}", f"{n:,.2f}"}
    return found


def leaks(texts: list[str], values: set[str], allowed: str) -> list[str]:
    body = "\n".join(texts)
    return sorted(v for v in values if re.search(rf"(?<!\w){re.escape(v)}(?!\w)", body)
                  and not re.search(rf"(?<!\w){re.escape(v)}(?!\w)", allowed))


def test_with_privacy_schema_no_row_value_reaches_the_agent(shop_dir: Path) -> None:
    expected = json.loads(run_cli("ask", QUESTION, "--json").stdout)
    numbers = [row[1] for row in expected["rows"]]
    sent = ["SELECT * FROM customers LIMIT 5", "SELECT product_name, category FROM products",
            "SELECT CAST(product_name AS INTEGER) AS n FROM products", "SELECT count(*) AS n FROM products "
            "WHERE category = 'Book'"]

    async def script(client: Client) -> list[CallToolResult | str]:
        results: list[CallToolResult | str] = [await call(client, "list_tables"), await call(client, "list_metrics")]
        for table in ("customers", "products", "orders", "order_items", "marketing_spend"):
            results.append(await call(client, "describe_table", name=table))
        results.append(await call(client, "ask", question=QUESTION, chart=True))
        results.append(await call(client, "ask", question="Top 5 products by revenue"))
        results += [await call(client, "run_sql", sql=sql) for sql in sent]
        results.append(await call(client, "explain", answer_id="a1"))
        for uri in ("nl2sql://schema", "nl2sql://semantic-layer"):
            results.append((await client.read_resource(uri)).contents[0].text)
        return results

    results = talk(["--privacy", "schema"], script)
    texts = [r if isinstance(r, str) else "\n".join(b.text for b in r.content if b.type == "text") for r in results]
    assert not [b for r in results if not isinstance(r, str) for b in r.content if b.type != "text"]  # no chart
    answer = json.loads(texts[7])
    assert answer["row_count"] == 5 and "rows" not in answer and "narration" not in answer
    assert answer["sql"] == expected["sql"]
    assert "ConversionException" in texts[11] or "Conversion" in texts[11]  # the error itself still arrives
    values = row_values(shop_dir, numbers)
    allowed = catalog_text() + "\n".join([QUESTION, "Top 5 products by revenue", *sent])
    assert leaks(texts, values, allowed) == []
    # the check can fail: the same values are found in what the tier `rows` would have shown
    assert leaks([json.dumps(expected), "Conversion Error: 'Canon PowerShot Zoom 3'"], values, allowed)


# -- transports -------------------------------------------------------------------------------------

def listening(port: int) -> list[str]:
    """The local addresses listening on `port` (from /proc/net/tcp and tcp6, in their hex form)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                found.append(local.rsplit(":", 1)[0])
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux's /proc/net/tcp")
def test_http_transport_listens_on_loopback_only() -> None:
    refused = run_cli("mcp", "--http", "0.0.0.0:8765")
    assert refused.returncode == 2 and "loopback" in refused.stderr

    proc = subprocess.Popen([sys.executable, "-m", "nl2sql", "mcp", "--http", "127.0.0.1:0"], cwd=REPO,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr or ()], daemon=True).start()
    try:
        url = None
        deadline = time.monotonic() + 90
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                url = re.search(r"http://127\.0\.0\.1:\d+/mcp", lines.get(timeout=1))
            except queue.Empty:
                continue
        assert url is not None, f"no URL on stderr (exit {proc.poll()})"
        port = int(url.group(0).rsplit(":", 1)[1].split("/")[0])
        assert listening(port) == ["0100007F"]  # 127.0.0.1 only: not 0.0.0.0, not an IPv6 address

        async def main() -> dict[str, Any]:
            async with Client(url.group(0)) as client:
                return data(await call(client, "list_tables"))

        assert anyio.run(main)["database"] == "shop"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0


# -- sampling: the client's model writes the SQL ----------------------------------------------------

REGIONS = "SELECT region, count(*) AS customers FROM customers GROUP BY region ORDER BY customers DESC"


def scripted(sql_reply: str, narration: str) -> tuple[Callable[..., Awaitable[CreateMessageResult]], list[Any]]:
    """A sampling callback standing in for the client's model: SQL for SQL requests, text for narration."""
    requests: list[Any] = []

    async def sample(context: Any, params: Any) -> CreateMessageResult:
        requests.append(params)
        narrate = "explain query results" in (params.system_prompt or "")
        text = narration if narrate else sql_reply
        return CreateMessageResult(role="assistant", content=TextContent(type="text", text=text),
                                   model="scripted-model")

    return sample, requests


@pytest.mark.parametrize("mode", ["legacy", "auto"])  # a mid-call request (<= 2025-11-25), or input-required
def test_sampling_lets_the_clients_model_write_the_sql(mode: str) -> None:
    sample, requests = scripted(json.dumps({"sql": REGIONS, "assumptions": ["customers counted once"]}),
                                "North America has the most customers: 791.")

    async def script(client: Client) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        answer = data(await call(client, "ask", question="How many customers are in each region?"))
        return answer, data(await call(client, "run_sql", sql=REGIONS)), data(await call(client, "explain",
                                                                                      answer_id="a1"))

    answer, direct, explained = talk(["--sampling"], script, sampling_callback=sample, mode=mode)
    assert answer["backend"] == "sampling" and answer["model"] == "scripted-model"
    assert answer["rows"] == direct["rows"] and answer["assumptions"] == ["customers counted once"]
    assert answer["narration"] == "North America has the most customers: 791." and direct["rows"][0][1] == 791
    assert explained["narrated_by"] == "model"
    assert len(requests) == 2  # one SQL request, one narration: each reached the model once
    assert "How many customers are in each region?" in requests[0].messages[-1].content.text
    assert requests[0].system_prompt and "CREATE TABLE customers" in requests[0].messages[0].content.text
    assert ("mcp-ask", "sampling", "accepted") in [(r["kind"], r["backend"], r["verdict"]) for r in history()]


def test_sql_from_the_clients_model_is_guarded_like_any_other() -> None:
    sample, requests = scripted(json.dumps({"sql": "DROP TABLE customers"}), "unused")

    async def script(client: Client) -> tuple[str, dict[str, Any]]:
        refused = error_text(await call(client, "ask", question="How many customers are in each region?"))
        return refused, data(await call(client, "run_sql", sql="SELECT count(*) AS n FROM customers"))

    refused, after = talk(["--sampling"], script, sampling_callback=sample, mode="legacy")
    assert refused.startswith("UnsafeSQLError:") and len(requests) == 3  # the first try and two repair rounds
    assert after["rows"] == [[2000]]


def test_without_client_sampling_the_offline_engine_answers() -> None:
    async def script(client: Client) -> dict[str, Any]:
        return data(await call(client, "ask", question=QUESTION))

    answer = talk(["--sampling"], script)
    assert answer["backend"] == "offline" and answer["row_count"] == 5
    assert any("does not offer sampling" in w for w in answer["warnings"])



def test_a_declined_sampling_request_is_a_tool_error_that_says_what_to_do() -> None:
    async def decline(context: Any, params: Any) -> ErrorData:
        return ErrorData(code=-1, message="User rejected sampling request")

    async def script(client: Client) -> tuple[str, dict[str, Any]]:
        failed = error_text(await call(client, "ask", question="How many customers are in each region?"))
        return failed, data(await call(client, "list_tables"))

    failed, after = talk(["--sampling"], script, sampling_callback=decline, mode="legacy")
    assert failed.startswith("ProviderError:") and "User rejected sampling request" in failed
    assert "without --sampling" in failed and after["database"] == "shop"  # the server goes on
