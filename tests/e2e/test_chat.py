"""`nl2sql chat`: follow-up chains (offline and openai), every slash command, views r1, r2, …,
persistence and resume after a crash, and Ctrl-C during a long query (through a pseudo-terminal)."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from nl2sql.jobs.evaluate.compare import results_match
from nl2sql.jobs.evaluate.questions import load_questions
from tests.fake_openai import FakeOpenAI, sql_reply
from tests.helpers import REPO, run_cli

QUESTIONS = REPO / "tests" / "fixtures" / "shop_questions.jsonl"
REGION_SQL = "SELECT region, count(*) AS customers FROM customers GROUP BY region ORDER BY customers DESC"


def chat(*lines: str, args: tuple[str, ...] = (), env: dict[str, str] | None = None,
         cwd: Path | None = None) -> list[dict]:
    """Run `nl2sql chat --json` with the lines on stdin; the JSON objects it printed."""
    result = run_cli("chat", "--json", *args, stdin="\n".join(lines) + "\n", env=env, cwd=cwd)
    assert "Traceback" not in result.stderr, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _shop_rows(sql: str) -> list[tuple]:
    con = duckdb.connect()
    for name in ("customers", "orders", "order_items", "products", "marketing_spend"):
        con.execute(f"CREATE VIEW {name} AS FROM '{REPO / 'sample_data/shop' / (name + '.parquet')}'")
    return con.execute(sql).fetchall()


def test_the_offline_follow_up_chains_pass_through_chat_json() -> None:
    chains = [item for item in load_questions(QUESTIONS) if item.turns]
    assert len(chains) >= 12
    lines: list[str] = []
    for item in chains:
        lines += [*item.turns, item.question, "/reset"]
    out = chat(*lines)
    answers = iter(out)
    for item in chains:
        turn_outputs = [next(answers) for _ in range(len(item.turns) + 1)]
        final = turn_outputs[-1]
        assert "error" not in final, (item.question, final)
        assert final["question"] == item.question and final["view"] == f"r{len(item.turns) + 1}"
        gold = _shop_rows(item.gold_sql[0])
        assert results_match(gold, [tuple(r) for r in final["rows"]]), item.question
        assert next(answers)["command"] == "reset"


def test_the_conversation_in_the_issue(tmp_path: Path) -> None:
    out = chat("revenue by region in 2025", "only the web channel", "by month instead", "as a line chart",
               "export that to /no/such/folder/r.csv", "export that as csv", "/quit", "never reached", cwd=tmp_path)
    assert [o.get("view") for o in out[:3]] == ["r1", "r2", "r3"]
    assert "orders.channel = 'web'" in out[2]["sql"] and [c["name"] for c in out[2]["columns"]] == [
        "month", "revenue"]
    assert out[3]["command"] == "chart" and out[3]["chart"]["type"] == "line"
    assert "title" not in out[3]["chart"]  # not "by month instead": the chart names revenue by month
    assert (tmp_path / out[3]["path"]).stat().st_size > 10_000
    assert out[4]["error"]["message"] == "The folder /no/such/folder does not exist."
    assert out[5]["command"] == "export" and out[5]["rows"] == 12
    assert (tmp_path / out[5]["path"]).read_text().startswith("month,revenue\n2025-01-01,")
    assert len(out) == 6  # /quit ends the chat


def test_every_slash_command(tmp_path: Path) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/ORDER BY customers DESC/ORDER BY customers ASC/' \"$1\"\n")
    editor.chmod(0o755)
    csv, parquet, js, png = (tmp_path / f"r.{ext}" for ext in ("csv", "parquet", "json", "svg"))
    out = chat(
        "/help", "/sql", "/undo",
        f"/run {REGION_SQL}",
        "/sql",
        "/edit",
        "/run SELECT region, customers * 2 AS doubled FROM r1 WHERE customers > 400 ORDER BY 1",
        f"/chart barh {png}", "/chart pei", "/charts",
        f"/export csv {csv}", f"/export parquet {parquet}", f"/export json {js}", "/export xlsx a.xlsx",
        "/explain", "/history", "/undo", "/history", "/reset", "/history", "/quit",
        env={"EDITOR": str(editor)})
    by = iter(out)
    assert len(next(by)["commands"]) == 13  # /help
    assert next(by)["error"]["message"] == "There is no result yet."  # /sql before any turn
    assert next(by)["error"]["message"] == "There is nothing to undo."
    r1 = next(by)
    assert r1["view"] == "r1" and r1["rows"][0] == ["North America", 791]
    assert next(by) == {"command": "sql", "view": "r1", "sql": REGION_SQL}
    r2 = next(by)  # /edit: the editor turned DESC into ASC
    assert r2["view"] == "r2" and r2["rows"][0] == ["Latin America", 198]
    r3 = next(by)
    assert r3["sql"].startswith("WITH r1 AS (\n" + REGION_SQL)
    assert r3["rows"] == [["Asia Pacific", 886], ["Europe", 1136], ["North America", 1582]]
    chart = next(by)
    assert chart["command"] == "chart" and chart["chart"]["type"] == "barh" and png.read_text().startswith("<?xml")
    assert next(by)["error"]["hint"] == "Did you mean 'pie'?"
    assert next(by)["error"]["hint"] == "Did you mean '/chart'?"
    assert next(by)["rows"] == 3 and csv.read_text().splitlines()[1] == "Asia Pacific,886"
    assert next(by)["format"] == "parquet"
    assert duckdb.sql(f"SELECT * FROM '{parquet}' ORDER BY 1").fetchall()[0] == ("Asia Pacific", 886)
    assert next(by)["format"] == "json" and json.loads(js.read_text())[0] == {"region": "Asia Pacific",
                                                                              "doubled": 886}
    assert next(by)["error"]["hint"] == "Use csv, parquet or json."
    explain = next(by)
    assert explain["command"] == "explain" and explain["receipts"] and explain["narrated_by"] == "computed"
    assert [t["view"] for t in next(by)["turns"]] == ["r1", "r2", "r3"]
    assert next(by) == {"command": "undo", "removed": "r3"}
    assert [t["view"] for t in next(by)["turns"]] == ["r1", "r2"]
    assert next(by) == {"command": "reset", "removed": 2}
    assert next(by)["turns"] == []
    assert next(by, None) is None


def test_views_from_earlier_turns_and_unknown_views() -> None:
    out = chat("revenue by category in 2025", "/run SELECT SUM(revenue) AS total FROM r1",
               "/run SELECT * FROM r9")
    assert out[1]["rows"][0][0] == pytest.approx(sum(r[1] for r in out[0]["rows"]))
    assert out[2]["error"]["type"] == "InvalidSQLError" and "r9" in out[2]["error"]["message"]


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as s:
        yield s


def test_an_openai_follow_up_reads_the_previous_result(server: FakeOpenAI) -> None:
    server.add({"content": sql_reply(REGION_SQL)}, {"content": "North America leads with 791."},
               {"content": sql_reply("SELECT region, customers FROM r1 WHERE customers > 500")},
               {"content": "Two regions have more than 500 customers."})
    out = chat("How many customers per region?", "only those above 500",
               env={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-1234567890",
                    "NL2SQL_RETRIES": "0"})
    assert out[1]["rows"] == [["North America", 791], ["Europe", 568]] and out[1]["view"] == "r2"
    prompt = server.chat_requests[2]["body"]["messages"][1]["content"]
    assert "Earlier in this conversation" in prompt and "r1: 'How many customers per region?'" in prompt
    assert "r1(region VARCHAR, customers BIGINT; 4 rows)" in prompt and REGION_SQL in prompt


def test_resume_after_a_crash_and_list(isolated_home: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "nl2sql", "chat", "--json"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    assert proc.stdin is not None and proc.stdout is not None
    for question in ("revenue by region in 2025", "only the web channel"):
        proc.stdin.write(question + "\n")
        proc.stdin.flush()
        assert "view" in json.loads(proc.stdout.readline())
    proc.stdin.write("/run SELECT count(*) FROM order_items a JOIN order_items b ON a.unit_price < b.unit_price "
                     "AND a.quantity > b.quantity\n")
    proc.stdin.flush()
    time.sleep(1.0)
    proc.kill()  # a crash in the middle of the third turn
    proc.wait()
    listing = json.loads(run_cli("chat", "--list", "--json").stdout)
    assert len(listing) == 1 and listing[0]["turns"] == 2 and listing[0]["last"] == "only the web channel"
    out = chat("/explain", "/history", "/run SELECT region FROM r2 ORDER BY revenue DESC LIMIT 1", "by month instead",
               args=("--resume", listing[0]["id"][:10]))
    receipts = out.pop(0)["receipts"]  # the receipts of r2 were saved with the turn
    assert receipts and all(r["source"] for r in receipts)
    assert [t["view"] for t in out[0]["turns"]] == ["r1", "r2"]
    assert out[1]["rows"] == [["North America"]] and out[1]["view"] == "r3"
    # the offline engine's follow-up state came back too: still the web channel, now by month
    assert "orders.channel = 'web'" in out[2]["sql"] and out[2]["columns"][0]["name"] == "month"
    missing = run_cli("chat", "--resume", "nope")
    assert missing.returncode == 2 and "is not a saved chat" in missing.stderr


def test_resume_without_db_reopens_the_data_the_chat_was_about(tmp_path: Path) -> None:
    """A chat started with --db, resumed without it, reads that data again (it once crashed here)."""
    data = tmp_path / "tickets"
    data.mkdir()
    (data / "tickets.csv").write_text("ticket_id,status\n1,open\n2,closed\n3,open\n")
    first = chat("how many tickets by status", args=("--db", str(data)))
    assert first[0]["rows"] and first[0]["view"] == "r1"
    again = chat("/run SELECT status, count(*) AS n FROM tickets GROUP BY status ORDER BY n DESC", args=("--resume",))
    assert again[0]["rows"][0] == ["open", 2] and again[0]["view"] == "r2"


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{needle!r} not seen; got {seen[-800:]!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def test_ctrl_c_stops_a_long_query_and_the_chat_goes_on() -> None:
    pid, fd = pty.fork()
    if pid == 0:  # the child: nl2sql chat on a terminal
        os.environ["COLUMNS"] = "200"
        os.execv(sys.executable, [sys.executable, "-m", "nl2sql", "chat", "--timeout", "60"])
    try:
        _read_until(fd, b"nl2sql> ", 60)
        os.write(fd, b"/run SELECT count(*) FROM order_items a JOIN order_items b ON a.unit_price < b.unit_price "
                     b"AND a.quantity > b.quantity\r")
        time.sleep(2.0)
        os.write(fd, b"\x03")  # Ctrl-C, through the terminal
        _read_until(fd, b"Interrupted", 20)
        os.write(fd, b"How many customers are in each region?\r")
        out = _read_until(fd, b"saved as r1", 60)
        assert b"791" in out
        os.write(fd, b"/quit\r")
        _read_until(fd, b"nl2sql chat --resume", 20)
    finally:
        with __import__("contextlib").suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)
