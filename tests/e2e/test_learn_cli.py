"""Feedback and the example store as people and scripts use them: `ask --feedback`, `feedback good|bad`,
`examples list|show|remove|export|import`, chat's /good and /bad, and `eval --from-examples`."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.helpers import run_cli


def _json(*args: str, stdin: str | None = None) -> object:
    result = run_cli(*args, "--json", stdin=stdin)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_feedback_from_the_shell_and_the_store_commands(tmp_path: Path) -> None:
    answer = _json("ask", "orders by channel in 2025", "--feedback", "good")
    stored = _json("examples", "list")
    assert [e["question"] for e in stored] == ["orders by channel in 2025"]
    assert stored[0]["history_id"] == answer["history_id"] and stored[0]["row_count"] == 3
    shown = _json("examples", "show", str(stored[0]["id"]))
    assert shown["sql"] == answer["sql"].rsplit("\nLIMIT", 1)[0]
    # a bad mark with the right SQL stores the correction under the question that was asked
    run_cli("ask", "how many customers in Europe")
    bad = _json("feedback", "bad", "--sql", "SELECT count(*) AS customers FROM customers WHERE region = 'Europe'")
    assert bad["stored"]["question"] == "how many customers in Europe" and bad["stored"]["row_count"] == 1
    target = tmp_path / "shop.yaml"
    exported = run_cli("examples", "export", "--to", str(target))
    assert exported.returncode == 0 and len(yaml.safe_load(target.read_text())["examples"]) == 2
    assert run_cli("schema", "--schema", str(target), "--json").returncode == 0  # a file `schema` accepts
    removed = _json("examples", "remove", str(stored[0]["id"]))
    assert removed == {"removed": stored[0]["id"]} and len(_json("examples", "list")) == 1  # type: ignore[arg-type]


def test_import_reports_what_it_rejected_and_exits_1(tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps({"question": "products by category", "gold_sql": [
        "SELECT category, count(*) AS n FROM products GROUP BY category"]}) + "\n"
                     + json.dumps({"question": "wipe", "sql": "DELETE FROM orders"}) + "\n")
    result = run_cli("examples", "import", str(pairs))
    assert result.returncode == 1 and "Added 1 example(s); rejected 1." in result.stdout
    assert "wipe" in result.stdout and "Traceback" not in result.stderr


def test_chat_good_and_bad_and_eval_replays_the_store() -> None:
    lines = ["revenue by region in 2025", "/good", "revenue by territory in 2025", "/bad by 'territory' I meant region",
             "revenue by territory in 2025"]
    result = run_cli("chat", "--json", stdin="\n".join(lines) + "\n")
    turns = [json.loads(line) for line in result.stdout.splitlines()]
    assert turns[1]["command"] == "good" and turns[1]["example"] >= 1
    assert turns[2]["error"]["type"] == "RefusalError"
    assert turns[3] == {"command": "bad", "entry": turns[3]["entry"], "synonym": "territory -> column:customers.region"}
    assert turns[4]["row_count"] == 4  # the learned word counts at once, in the same chat
    replay = run_cli("eval", "--from-examples", "--db", "sample_data/shop", "--backend", "offline", "--json")
    summary = json.loads(replay.stdout)["summary"]["offline"]
    assert replay.returncode == 0 and summary["questions"] == 1 and summary["accuracy"] == 1.0
