"""F2: a privacy tier holds in every prompt, repair rounds included. A query that fails on a cell
(`CAST(note AS INTEGER)`) must not carry the cell to the model under `schema` or `stats`; under
`rows` values appear only inside the delimited untrusted blocks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_openai import FakeOpenAI, sql_reply
from tests.faults.common import write_csv
from tests.helpers import run_cli

SECRET = "SECRET"
BLOCK = re.compile(r"<(data|error)>.*?</\1>", re.S)


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    # 60 distinct notes: too many to be listed as a column's values in any tier
    return write_csv(tmp_path / "notes.csv", ["id", "note"], [[i, f"{SECRET}-{i:03d}-zebra"] for i in range(60)])


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(default=lambda body: "There are 60 notes.") as s:
        yield s


def _ask(server: FakeOpenAI, db: Path, privacy: str) -> list[str]:
    server.requests.clear()
    server.add({"content": sql_reply("SELECT CAST(note AS INTEGER) AS n FROM notes")},
               {"content": sql_reply("SELECT count(*) AS notes FROM notes")})
    result = run_cli("ask", "How many notes are there?", "--db", str(db), "--privacy", privacy, "--json",
                     "--no-cache", env={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-0000000000",
                                        "NL2SQL_RETRIES": "0"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["repairs"] == 1
    return [json.dumps(r["body"], ensure_ascii=False) for r in server.chat_requests]


@pytest.mark.parametrize("privacy", ["schema", "stats"])
def test_no_value_reaches_the_model_under_schema_or_stats(server: FakeOpenAI, notes: Path, privacy: str) -> None:
    bodies = _ask(server, notes, privacy)
    assert len(bodies) >= 2  # the first SQL and its repair round (and the narration under stats)
    for body in bodies:
        assert SECRET not in body and "zebra" not in body, body
    repair = json.loads(bodies[1])["messages"][-1]["content"]
    assert "could not be converted to INT32" in repair  # the model still learns what went wrong


def test_values_reach_the_model_only_inside_untrusted_blocks_under_rows(server: FakeOpenAI, notes: Path) -> None:
    bodies = _ask(server, notes, "rows")
    texts = [m["content"] for body in bodies for m in json.loads(body)["messages"]]
    assert any(SECRET in t for t in texts)  # the repair round quotes the cell ...
    for text in texts:
        assert SECRET not in BLOCK.sub("", text), text  # ... but only inside <error> or <data>
