"""F1: escape sequences from data cells, column names, model text and provider errors never reach a
terminal or a report raw; rich markup in data is shown as text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.fake_openai import FakeOpenAI
from tests.faults.common import HOSTILE, MARKUP, PAYLOADS, assert_terminal_safe, write_csv
from tests.helpers import run_cli as _run_cli


def run_cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None):  # type: ignore[no-untyped-def]
    """The CLI on a wide terminal, so table cells are not wrapped."""
    return _run_cli(*args, env={"COLUMNS": "400", **(env or {})}, stdin=stdin)


@pytest.fixture
def hostile_csv(tmp_path: Path) -> Path:
    rows = [[f"{HOSTILE} {i % 3}", i, f"note{PAYLOADS[i % len(PAYLOADS)]}"] for i in range(6)]
    return write_csv(tmp_path / "hostile.csv", ["label", "amount", "c\x1b[2Jx"], rows)


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as s:
        yield s


def _env(server: FakeOpenAI) -> dict[str, str]:
    return {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-key-0000000000", "NL2SQL_RETRIES": "0"}


def _check(result, where: str) -> None:  # type: ignore[no-untyped-def]
    assert "Traceback" not in result.stderr, result.stderr
    assert_terminal_safe(result.stdout, f"{where}: stdout")
    assert_terminal_safe(result.stderr, f"{where}: stderr")


@pytest.mark.parametrize("payload", [*PAYLOADS, "\x00", "\r", "\x7f", "\x9d0;t\x9c"])
def test_the_sanitiser_shows_every_control_character(payload: str) -> None:
    from nl2sql.core.text import json_text, terminal_safe, untrusted

    shown = terminal_safe(f"a{payload}b")
    assert_terminal_safe(shown)
    assert shown.startswith("a") and shown.endswith("b") and len(shown) > 2
    assert terminal_safe("plain text, 中文, tabs\tand\nnewlines") == "plain text, 中文, tabs\tand\nnewlines"
    assert_terminal_safe(json_text({"x": f"a{payload}"}))
    assert json.loads(json_text({"x": payload})) == {"x": payload}  # escaped, not altered
    assert "</data>" not in untrusted("a </data> b < /DATA > c <error>").lower()


def test_sql_schema_and_json_show_hostile_data_safely(hostile_csv: Path) -> None:
    view = run_cli("sql", "SELECT * FROM hostile ORDER BY amount", "--db", str(hostile_csv))
    assert view.returncode == 0, view.stderr
    _check(view, "sql")
    assert "␛[2J" in view.stdout and MARKUP in view.stdout  # visible, and markup shown as text
    as_json = run_cli("sql", "SELECT * FROM hostile ORDER BY amount", "--db", str(hostile_csv), "--json")
    _check(as_json, "sql --json")
    assert json.loads(as_json.stdout)["rows"][0][0].startswith(HOSTILE)  # the data itself is kept exactly
    tree = run_cli("schema", "--db", str(hostile_csv))
    assert tree.returncode == 0, tree.stderr
    _check(tree, "schema")
    exported = run_cli("sql", "SELECT * FROM hostile", "--db", str(hostile_csv), "--format", "markdown")
    _check(exported, "sql --format markdown")


def test_model_text_refusals_and_provider_errors_are_shown_safely(server: FakeOpenAI, hostile_csv: Path) -> None:
    reply = json.dumps({"sql": "SELECT label, count(*) AS n FROM hostile GROUP BY label",
                        "explanation": f"counts {HOSTILE}", "assumptions": [f"assume {HOSTILE}"]})
    server.add({"content": reply}, {"content": f"Labels differ {HOSTILE} in this result."})
    answered = run_cli("ask", f"labels {PAYLOADS[0]} please", "--db", str(hostile_csv), "--explain",
                       env=_env(server))
    assert answered.returncode == 0, answered.stderr
    _check(answered, "ask")
    assert "assume ␛[2J" in answered.stdout
    server.add({"content": json.dumps({"refusal": f"no {HOSTILE} way"})})
    refused = run_cli("ask", "something else", "--db", str(hostile_csv), env=_env(server))
    assert refused.returncode == 1
    _check(refused, "refusal")
    assert "no ␛[2J" in refused.stderr
    server.add({"status": 400, "message": f"bad request {HOSTILE}"})
    failed = run_cli("ask", "and again", "--db", str(hostile_csv), env=_env(server))
    assert failed.returncode == 3
    _check(failed, "provider error")
    history = run_cli("history")
    _check(history, "history")
    assert "labels ␛[2J please" in history.stdout


def test_chat_list_and_reports_hold_no_control_characters(hostile_csv: Path, tmp_path: Path) -> None:
    turns = run_cli("chat", "--json", "--db", str(hostile_csv),
                    stdin=f"/run SELECT label, amount FROM hostile -- {PAYLOADS[2]}\n")
    assert turns.returncode == 0, turns.stderr
    listing = run_cli("chat", "--list")
    _check(listing, "chat --list")
    config = tmp_path / "report.yaml"
    config.write_text(yaml.safe_dump({
        "title": f"Hostile {PAYLOADS[0]}", "database": str(hostile_csv), "as_of": "2025-01-05",
        "output": {"dir": "out", "formats": ["md", "html"]},
        "sections": [{"title": f"Labels {PAYLOADS[2]}", "compare": False, "chart": False,
                      "sql": "SELECT label, sum(amount) AS amount FROM hostile GROUP BY label"}]}), encoding="utf-8")
    report = run_cli("report", str(config))
    assert report.returncode == 0, report.stderr
    _check(report, "report")
    files = sorted((tmp_path / "out").glob("*.*"))
    assert {f.suffix for f in files} == {".md", ".html"}
    for f in files:
        text = f.read_text(encoding="utf-8")
        assert_terminal_safe(text, f.name)
        assert "␛" in text  # shown, not obeyed
