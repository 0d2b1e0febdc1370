"""Helpers the tests share (imported, never through conftest): paths, the CLI in a subprocess,
the shop catalog, and an in-process fake backend with a queue of scripted replies."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SQL_EVAL = SHARED / "benchmarks" / "sql-eval"
SHOP_QUESTIONS = REPO / "tests" / "fixtures" / "shop_questions.jsonl"


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python -m nl2sql ARGS` in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "nl2sql", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd, input=stdin, timeout=timeout)


class FakeBackend:
    """A backend that answers from a queue of scripted replies, in process (like simonw/llm's MockModel).

    Each `write_sql` takes the next reply: SQL text, or `{"refusal": ...}`, or a SqlDraft; each
    `narrate` takes the next narration (None: the computed narrator speaks). The requests it was
    given are kept in `sql_requests` and `narration_requests` for assertions.
    """

    name = "fake"
    model: str | None = "fake-model"
    stateful = False
    can_moderate = False

    def __init__(self, sql: list[Any] | None = None, narrations: list[str | None] | None = None,
                 default_sql: Callable[[Any], Any] | None = None) -> None:
        self.sql_replies = list(sql or [])
        self.narrations = list(narrations or [])
        self.default_sql = default_sql
        self.sql_requests: list[Any] = []
        self.narration_requests: list[Any] = []

    def write_sql(self, request: Any) -> Any:
        from nl2sql.backends.base import SqlDraft, Usage

        self.sql_requests.append(request)
        if self.sql_replies:
            reply = self.sql_replies.pop(0)
        elif self.default_sql is not None:
            reply = self.default_sql(request)
        else:
            raise AssertionError(f"FakeBackend has no reply left for {request.question!r}")
        if isinstance(reply, SqlDraft):
            return reply
        if isinstance(reply, dict):
            return SqlDraft(refusal=reply["refusal"], usage=Usage(10, 2, calls=1))
        return SqlDraft(sql=reply, explanation="scripted", usage=Usage(100, 20, calls=1))

    def narrate(self, request: Any) -> tuple[str | None, Any]:
        from nl2sql.backends.base import Usage

        self.narration_requests.append(request)
        text = self.narrations.pop(0) if self.narrations else None
        return text, Usage(50, 10, calls=1 if text else 0)

    def moderate(self, text: str) -> bool:
        return False

    def reset(self) -> None:
        pass
