"""The guarded pipeline for an agent: the tools of `nl2sql mcp` as plain data.

Each public method of `Agent` is one tool. It goes through the Workspace (catalog, guard,
sandbox, limits), returns what the privacy tier lets a model see (`agent_view.py`), and records
the call in the audit log marked as coming from MCP (kind `mcp-<tool>`). Errors are the usual
`Nl2SqlError`s, values in their text masked unless the tier is `rows`. The MCP protocol itself lives in
`nl2sql.cli.mcp`; nothing here knows about it.
"""

from __future__ import annotations

import collections
import dataclasses
import io
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nl2sql.backends.sampling import ReplyNeeded
from nl2sql.core.audit import AuditLog
from nl2sql.core.errors import InvalidSQLError, Nl2SqlError, RefusalError, UnsafeSQLError, UsageError, did_you_mean
from nl2sql.jobs.agent_view import (
    identifiers,
    masked_rows,
    metric_view,
    pii_columns,
    result_view,
    semantic_layer,
    table_view,
    withhold_values,
)

if TYPE_CHECKING:
    from nl2sql.backends.base import Backend
    from nl2sql.jobs.ask import Answer
    from nl2sql.jobs.workspace import Workspace

RESULT_ROWS = 100  # rows per tool result (the query itself may fetch up to max_rows)
ANSWERS_KEPT = 50  # answers `explain` can still find


class HeldAudit(AuditLog):
    """The audit log as the pipeline sees it during one MCP ask: each record is marked `mcp-ask`
    and held until the ask ends. An ask that must first fetch a model reply from the client
    (`ReplyNeeded`) is run again with it; only the run that ends is recorded."""

    def __init__(self, path: Path) -> None:  # no super().__init__: nothing is written until flushed
        self.path = path
        self.held: list[dict[str, Any]] = []

    def record(self, **fields: Any) -> int:
        """Hold one entry, marked as an MCP ask."""
        self.held.append({**fields, "kind": "mcp-ask"})
        return 0


def verdict_of(exc: BaseException) -> str:
    """The audit verdict of a failed call."""
    if isinstance(exc, RefusalError):
        return "refused"
    if isinstance(exc, UnsafeSQLError | InvalidSQLError):
        return "rejected"
    return "failed"


class Agent:
    """The tools over one workspace: one call at a time (one sandbox), answers kept for `explain`."""

    def __init__(self, workspace: Workspace, result_rows: int = RESULT_ROWS) -> None:
        self.ws = workspace
        self.result_rows = result_rows
        self.answers: collections.OrderedDict[str, Answer] = collections.OrderedDict()
        self._asked = 0
        self._lock = threading.Lock()

    @property
    def tier(self) -> str:
        """The privacy tier: schema, stats or rows."""
        return self.ws.settings.privacy

    # -- the tools ----------------------------------------------------------------------------------

    def list_tables(self) -> dict[str, Any]:
        """Every table with its description, row count and column names; the relationships."""
        def work() -> dict[str, Any]:
            cat = self.ws.catalog
            tables = [{"name": t.name, "description": t.description, "row_count": t.row_count,
                       "columns": [c.name for c in t.columns]} for t in cat.tables]
            return {"database": cat.name, "description": cat.description, "privacy": self.tier, "tables": tables,
                    "relationships": [str(r) for r in cat.relationships]}

        return self._call("list_tables", "list_tables()", work)

    def describe_table(self, name: str) -> dict[str, Any]:
        """A table's columns (types, meaning, values per tier), keys and relationships."""
        def work() -> dict[str, Any]:
            cat = self.ws.catalog
            table = cat.table(name.strip())
            if table is None:
                raise UsageError(f"No table named {name[:100]!r}.",
                                 hint=did_you_mean(name, cat.table_names) or f"Tables: {', '.join(cat.table_names)}.")
            return table_view(table, cat, self.tier)

        return self._call("describe_table", f"describe_table({name[:200]!r})", work)

    def list_metrics(self) -> dict[str, Any]:
        """The semantic layer's metrics (definition, default filter, synonyms) and verified examples."""
        def work() -> dict[str, Any]:
            cat = self.ws.catalog
            return {"metrics": [metric_view(m) for m in cat.metrics],
                    "examples": [{"question": e.question, "sql": e.sql} for e in cat.examples]}

        return self._call("list_metrics", "list_metrics()", work)

    def run_sql(self, sql: str) -> dict[str, Any]:
        """The agent's own SQL through the guard and the sandbox; the result per tier."""
        def work() -> dict[str, Any]:
            if not isinstance(sql, str) or not sql.strip():
                raise UsageError("No SQL given.", hint="Pass one SELECT query.")
            run = self.ws.sql(sql)
            assert run.result is not None  # not check-only: the sandbox ran it
            return {"sql": run.guarded.as_written, **result_view(run.result, self.tier, self._pii(), self.result_rows),
                    "warnings": self._warnings(run.warnings), "privacy": self.tier,
                    "timings_ms": {k: round(v, 1) for k, v in run.timings_ms.items()}}

        return self._call("run_sql", sql[:2000] if isinstance(sql, str) else "", work)

    def ask(self, question: str, *, backend: Backend | None = None, chart: bool = False,
            chart_type: str | None = None) -> tuple[dict[str, Any], bytes | None]:
        """Answer a question with the whole pipeline; (the answer per tier, a PNG chart or None).

        `backend` defaults to a fresh one of the workspace's (each question stands alone).
        """
        with self._lock:
            started = time.perf_counter()
            held = HeldAudit(self.ws.audit.path)
            try:
                check_chart_type(chart_type)
                pipeline = dataclasses.replace(self.ws.pipeline(), audit=held)
                answer = pipeline.ask(question, backend or self.ws.new_backend(), chart_type=chart_type)
            except ReplyNeeded:
                raise  # asked again once the client's model has replied; nothing to record yet
            except Nl2SqlError as exc:
                if not held.held:  # failed before the pipeline started (a bad chart type, a backend setting)
                    self._record("ask", str(question)[:2000], started, verdict=verdict_of(exc),
                                 error=f"{type(exc).__name__}: {exc.message}"[:1000])
                self._flush(held)
                raise self._withheld(exc) from None
            except BaseException:
                self._flush(held)
                raise
            self._flush(held)
            self._asked += 1
            answer_id = f"a{self._asked}"
            self.answers[answer_id] = answer
            while len(self.answers) > ANSWERS_KEPT:
                self.answers.popitem(last=False)
            data = self._answer_view(answer_id, answer)
            png = self._chart(answer, data) if chart else None
            return data, png

    def explain(self, answer_id: str) -> dict[str, Any]:
        """How an earlier answer was made: SQL, backend, assumptions, notes, and the narration's receipts."""
        def work() -> dict[str, Any]:
            answer = self.answers.get(answer_id.strip())
            if answer is None:
                kept = ", ".join(self.answers) or "none yet"
                raise UsageError(f"No answer {answer_id[:40]!r} in this session.",
                                 hint=f"Use an answer_id that ask returned (kept: {kept}).")
            data: dict[str, Any] = {"answer_id": answer_id.strip(), "question": answer.question, "sql": answer.sql,
                                    "backend": answer.backend, "model": answer.model, "repairs": answer.repairs,
                                    "assumptions": answer.assumptions, "notes": answer.notes,
                                    "usage": answer.usage.to_dict(), "timings_ms": answer.to_dict()["timings_ms"],
                                    "privacy": self.tier}
            if self.tier == "schema":
                data["receipts_withheld"] = "The narration and its receipts state row values; the tier withholds them."
            else:
                data.update(narration=answer.narration, narrated_by=answer.narrated_by,
                            receipts=[r.to_dict() for r in answer.receipts])
            return data

        return self._call("explain", f"explain({answer_id[:40]!r})", work)

    def schema_text(self) -> str:
        """The schema resource: CREATE TABLE statements with comments (values per tier), relationships."""
        from nl2sql.data.context import create_table

        def work() -> dict[str, Any]:
            cat = self.ws.catalog
            blocks = [create_table(t, values_allowed=self.tier != "schema") for t in cat.tables]
            if cat.relationships:
                blocks.append("-- Relationships:\n" + "\n".join(f"--   {r}" for r in cat.relationships))
            return {"text": "\n\n".join(blocks) + "\n"}

        return str(self._call("resource", "nl2sql://schema", work)["text"])

    def semantic_layer(self) -> dict[str, Any]:
        """The semantic-layer resource: meaning, values per tier, relationships, metrics, examples."""
        return self._call("resource", "nl2sql://semantic-layer", lambda: semantic_layer(self.ws.catalog, self.tier))

    # -- helpers ------------------------------------------------------------------------------------

    def _call(self, tool: str, summary: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Run one tool under the lock and record it (kind mcp-<tool>); errors masked per tier."""
        started = time.perf_counter()
        with self._lock:
            try:
                data = work()
            except Nl2SqlError as exc:
                self._record(tool, summary, started, verdict=verdict_of(exc),
                             error=f"{type(exc).__name__}: {exc.message}"[:1000])
                raise self._withheld(exc) from None
            self._record(tool, summary, started, verdict="ok", sql=data.get("sql"), row_count=data.get("row_count"))
            return data

    def _record(self, tool: str, summary: str, started: float, **fields: Any) -> None:
        elapsed = {"total": (time.perf_counter() - started) * 1000}
        self._write([{"kind": f"mcp-{tool}", "question": summary, "backend": None, "timings": elapsed, **fields}])

    def _flush(self, held: HeldAudit) -> None:
        self._write(held.held)
        held.held = []

    def _write(self, records: list[dict[str, Any]]) -> None:
        try:
            for fields in records:
                self.ws.audit.record(**fields)
        except (sqlite3.Error, OSError) as exc:  # the answer still stands; say so on stderr
            self.ws.problems.append(f"The audit log could not be written: {exc}")

    def _pii(self) -> set[str]:
        return pii_columns(self.ws.catalog)

    def _warnings(self, warnings: list[str]) -> list[str]:
        if self.tier == "rows":
            return list(warnings)
        known = identifiers(self.ws.catalog)
        return [withhold_values(w, known) for w in warnings]

    def _withheld(self, exc: Nl2SqlError) -> Nl2SqlError:
        """The error as the tier allows: unless it is `rows`, quoted values and dates in its text are masked
        (a failed cast quotes the value it could not convert)."""
        if self.tier == "rows":
            return exc
        known = identifiers(self.ws.catalog)
        hint = withhold_values(exc.hint, known) if exc.hint else None
        return type(exc)(withhold_values(exc.message, known), hint=hint)

    def _answer_view(self, answer_id: str, answer: Answer) -> dict[str, Any]:
        """The answer for the agent. Tier `rows`: the `ask --json` object (DESIGN §5), rows capped and
        personal data masked, receipts and notes left to `explain`. Other tiers: named fields only."""
        full = answer.to_dict()
        view = result_view(answer.result, self.tier, self._pii(), self.result_rows)
        if self.tier == "rows":
            data = {k: v for k, v in full.items() if k not in ("rows", "receipts", "notes", "columns", "row_count",
                                                              "truncated")}
        else:
            data = {k: full[k] for k in ("question", "backend", "model", "sql", "assumptions", "repairs", "usage",
                                         "timings_ms")}
            data["warnings"] = self._warnings(answer.warnings)
            if self.tier == "stats":
                data["narration"] = answer.narration
        if answer.explanation and self.tier != "schema":
            data["explanation"] = answer.explanation
        return {"answer_id": answer_id, **data, **view, "privacy": self.tier}

    def _chart(self, answer: Answer, data: dict[str, Any]) -> bytes | None:
        """The answer's chart as PNG, when the tier shows rows and a chart suits the result."""
        from nl2sql.answer.charts import ChartError

        if self.tier != "rows":
            data["chart_note"] = f"Charts show row values; the privacy tier {self.tier!r} withholds them."
            return None
        if answer.chart is None:
            data["chart_note"] = "No chart suits this result (it needs at least two rows and a numeric column)."
            return None
        from nl2sql.answer.draw import render

        buffer = io.BytesIO()
        try:
            render(answer.chart, answer.result.columns, masked_rows(answer.result, self._pii()), buffer, fmt="png")
        except ChartError as exc:
            data["chart_note"] = f"The chart could not be drawn: {exc}."
            return None
        return buffer.getvalue()


def check_chart_type(chart_type: str | None) -> None:
    """Refuse an unknown chart type before any work."""
    from nl2sql.answer.charts import CHART_TYPES

    if chart_type is not None and chart_type not in CHART_TYPES:
        raise UsageError(f"Unknown chart type {chart_type[:40]!r}.",
                         hint=did_you_mean(chart_type, CHART_TYPES) or f"Use one of {', '.join(CHART_TYPES)}.")
