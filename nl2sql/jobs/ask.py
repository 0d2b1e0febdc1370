"""The pipeline: question or SQL in, an answer out. Reads top to bottom, one step per function.

This module never prints and never imports typer or rich; `nl2sql.cli` renders what it returns.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from nl2sql.answer.charts import ChartSpec, InvalidChartSpec, pick_chart, with_type
from nl2sql.answer.grounding import Receipt, check, evidence
from nl2sql.answer.narrator import facts_text, language_of, summarize
from nl2sql.answer.narrator import narrate as narrate_deterministically
from nl2sql.answer.sqlfacts import describe
from nl2sql.backends.base import Backend, NarrationRequest, SqlDraft, SqlRequest, Usage
from nl2sql.core.audit import AuditLog, cost
from nl2sql.core.errors import (
    ExecutionError,
    InvalidSQLError,
    LimitError,
    ProviderError,
    RefusalError,
    UnsafeSQLError,
    UsageError,
)
from nl2sql.core.text import check_question, untrusted
from nl2sql.core.values import Result, is_numeric_type, json_safe
from nl2sql.data.catalog import Catalog, Example
from nl2sql.data.context import build_context
from nl2sql.jobs.redact import catalog_names, repair_error, repair_tier
from nl2sql.safety.checks import check_result, shape_warnings
from nl2sql.safety.guard import GuardedSQL, guard
from nl2sql.safety.periods import partial_periods
from nl2sql.safety.sandbox import Sandbox


@dataclasses.dataclass
class SqlRun:
    """The outcome of running a user's own SQL through the guard and the sandbox."""

    sql: str
    guarded: GuardedSQL
    result: Result | None
    warnings: list[str]
    timings_ms: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        """The DESIGN §5 fields that apply to a SQL run."""
        result = self.result
        return {
            "sql": self.guarded.as_written, "row_cap": self.guarded.limit - 1 if self.guarded.limit else None,
            "columns": [{"name": n, "type": t} for n, t in (result.columns if result else [])],
            "rows": [[json_safe(v) for v in row] for row in (result.rows if result else [])],
            "row_count": result.row_count if result else 0,
            "truncated": result.truncated if result else False,
            "warnings": self.warnings,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }


def run_sql(sql: str, catalog: Catalog, sandbox: Sandbox | None, max_rows: int) -> SqlRun:
    """Guard `sql`, then (unless `sandbox` is None: check only) run it in the sandbox."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    guarded = guard(sql, catalog, max_rows, parse_here=sandbox is None)
    timings["guard"] = (time.perf_counter() - start) * 1000
    result = None
    warnings: list[str] = []
    if sandbox is not None:
        t = time.perf_counter()
        result = sandbox.run(guarded, max_rows=max_rows)
        timings["execute"] = (time.perf_counter() - t) * 1000
        warnings = check_result(guarded.sql, result, catalog, sandbox, max_rows)
    timings["total"] = (time.perf_counter() - start) * 1000
    return SqlRun(sql=sql, guarded=guarded, result=result, warnings=warnings, timings_ms=timings)


# ---------------------------------------------------------------------------------------------
# ask(): question -> context -> SQL -> guard -> execute -> check -> narrate -> chart -> Answer

PREVIEW_ROWS = 30
PREVIEW_CELL_CHARS = 100
PREVIEW_CHARS = 4_000


@dataclasses.dataclass
class Answer:
    """Everything `nl2sql ask` shows: DESIGN §5."""

    question: str
    backend: str
    model: str | None
    sql: str
    result: Result
    narration: str | None = None
    chart: ChartSpec | None = None
    explanation: str | None = None
    assumptions: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    usage: Usage = dataclasses.field(default_factory=lambda: Usage())
    timings_ms: dict[str, float] = dataclasses.field(default_factory=dict)
    repairs: int = 0
    receipts: list[Receipt] = dataclasses.field(default_factory=list)
    narrated_by: str | None = None  # "model" or "computed"
    notes: list[str] = dataclasses.field(default_factory=list)  # how the answer was made (for --explain)
    row_cap: int | None = None  # the guard capped the rows at this many (`sql` is shown as written, without it)
    history_id: int | None = None  # its entry in the audit log (`nl2sql feedback good ID`)
    reading: str | None = None  # the backend's plan in words, when it states one (offline)

    def to_dict(self) -> dict[str, Any]:
        """The DESIGN §5 JSON object."""
        return {
            "question": self.question, "backend": self.backend, "model": self.model, "sql": self.sql,
            "columns": [{"name": n, "type": t} for n, t in self.result.columns],
            "rows": [[json_safe(v) for v in row] for row in self.result.rows],
            "row_count": self.result.row_count, "truncated": self.result.truncated,
            "narration": self.narration, "chart": self.chart.to_dict() if self.chart else None,
            "assumptions": self.assumptions, "warnings": self.warnings, "usage": self.usage.to_dict(),
            "repairs": self.repairs, "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "history_id": self.history_id,
            "narrated_by": self.narrated_by, "receipts": [r.to_dict() for r in self.receipts], "notes": self.notes,
            "row_cap": self.row_cap, "reading": self.reading,
        }


@dataclasses.dataclass
class AskOptions:
    """Knobs of one ask, from settings and flags."""

    max_rows: int = 1000
    max_repairs: int = 2
    privacy: str = "rows"
    context_budget: int = 6_000
    instructions: str | None = None
    conversation: str | None = None
    budget_usd: float | None = None
    max_tokens: int = 1024
    narrate: bool = True  # eval skips narration and charts: they do not affect the SQL
    as_of: str | None = None  # the date relative periods count from (default: the data's latest date)
    moderation: bool = False
    prices: dict[str, Any] = dataclasses.field(default_factory=dict)
    chart_type: str | None = None  # --chart-type: draw the chart as this type whatever was chosen
    examples: list[Example] = dataclasses.field(default_factory=list)  # learned examples that fit this question


def estimate_cost(prompt_chars: int, options: AskOptions, model: str | None, max_tokens: int) -> float:
    """Worst-case USD of one ask: every repair round plus narration, at full max_tokens."""
    rounds = 1 + options.max_repairs
    return cost(model, (prompt_chars // 4) * rounds + 1500, max_tokens * (rounds + 1), options.prices)


def refusal(reason: str) -> RefusalError:
    """The error for a backend's refusal: its reason, and what to try instead."""
    return RefusalError(f"Cannot answer this from the data: {reason}",
                        hint="Rephrase the question with the tables and columns listed by `nl2sql schema`.")


def write_guarded_sql(
    question: str, catalog: Catalog, backend: Backend, sandbox: Sandbox | None, request: SqlRequest,
    options: AskOptions, usage: Usage, record: dict[str, Any] | None = None,
) -> tuple[SqlDraft, GuardedSQL, Result | None, int]:
    """The repair loop: write SQL, guard it, run it; on an error ask again, up to max_repairs.

    The loop only feeds errors back; every round's SQL goes through the same guard and sandbox.
    With no sandbox (`--sql-only`) the SQL is guarded but not run.
    """
    repairs = 0
    while True:
        draft = backend.write_sql(request)
        usage.add(draft.usage)
        if record is not None and draft.sql:
            record["sql"] = draft.sql  # kept in the history even when the SQL then fails
        if draft.refusal:
            raise refusal(draft.refusal)
        try:
            if draft.sql is None:
                raise InvalidSQLError(f"The model's reply could not be used: {draft.malformed}.")
            guarded = guard(draft.sql, catalog, options.max_rows, parse_here=sandbox is None)
            result = sandbox.run(guarded, max_rows=options.max_rows) if sandbox is not None else None
            return draft, guarded, result, repairs
        except (InvalidSQLError, UnsafeSQLError, ExecutionError) as exc:
            if isinstance(exc, LimitError) or repairs >= options.max_repairs:
                if draft.sql is None:
                    raise ProviderError(f"The model did not return usable SQL: {draft.malformed}.",
                                        hint="Try again, or a stronger model (--model).") from None
                raise
            repairs += 1
            tier = repair_tier(draft.sql or "", catalog, options.privacy)
            request = dataclasses.replace(request, previous_sql=(draft.sql or "")[:4000],
                                          error=repair_error(exc.message, tier,
                                                             f"{draft.sql or ''}\n{catalog_names(catalog)}"))


def narration_inputs(result: Result, catalog: Catalog, privacy: str, sql: str | None = None) -> tuple[str, str]:
    """(preview, aggregates) for the narration prompt: capped, PII masked, privacy tier applied."""
    pii = {c.name.lower() for t in catalog.tables for c in t.columns if c.pii}
    masked = [i for i, (name, _) in enumerate(result.columns) if name.lower() in pii]
    rows = [tuple("***" if i in masked else v for i, v in enumerate(row)) for row in result.rows] if masked \
        else result.rows
    aggregates = untrusted(facts_text(summarize(result.columns, rows, sql)))
    if privacy != "rows":
        return "(rows withheld by the privacy setting)", aggregates
    header = untrusted("\t".join(n for n, _ in result.columns))
    lines = [header]
    for row in rows[:PREVIEW_ROWS]:
        cells = []
        for value in row:
            text = str(json_safe(value))
            text = untrusted(" ".join(text.split()))
            cells.append(text[:PREVIEW_CELL_CHARS])
        lines.append("\t".join(cells))
    preview = "\n".join(lines)[:PREVIEW_CHARS]
    if len(result.rows) > PREVIEW_ROWS:
        preview += f"\n… {len(result.rows) - PREVIEW_ROWS} more rows"
    return preview, aggregates


def narrate_grounded(
    question: str, draft: SqlDraft, guarded: GuardedSQL, result: Result, catalog: Catalog, backend: Backend,
    options: AskOptions, usage: Usage, warnings: list[str], notes: list[str],
) -> tuple[str, list[Receipt], str]:
    """(narration, receipts, 'model' | 'computed'): a model's narration only if every number checks out.

    An ungrounded narration gets one regeneration naming the unsupported numbers; if the second
    is no better, the deterministic narrator speaks instead. Privacy tier `schema` never asks a model.
    """
    ev = evidence(result.columns, result.rows, " ".join([question, guarded.original, *draft.assumptions]))
    if options.privacy != "schema" and result.rows:
        preview, aggregates = narration_inputs(result, catalog, options.privacy, guarded.as_written)
        # the SQL without our row cap: a model shown "LIMIT 1001" tends to report 1001 as a figure
        request = NarrationRequest(question=question, sql=guarded.as_written, result=result,
                                   assumptions=draft.assumptions, language=language_of(question), preview=preview,
                                   aggregates=aggregates)
        for attempt in (1, 2):
            try:
                text, used = backend.narrate(request)
                usage.add(used)
            except ProviderError as exc:
                warnings.append(f"The model could not narrate ({exc.message}); a computed summary is shown.")
                break
            if not text:
                break
            verdict = check(text, ev)
            if verdict.ok:
                if attempt == 2:
                    notes.append("The first narration stated unsupported numbers; the second was grounded.")
                return text, verdict.receipts, "model"
            unsupported = ", ".join(verdict.unsupported[:10])
            notes.append(f"Narration attempt {attempt} stated numbers the result does not support: {unsupported}.")
            request = dataclasses.replace(request, feedback=unsupported)
        else:
            warnings.append("The model's narration stated numbers the result does not support; "
                            "a summary computed from the rows is shown instead.")
    sql = guarded.as_written
    text = narrate_deterministically(question, result.columns, result.rows, result.truncated, sql,
                                     partial_periods(sql, result, catalog)[1])
    return text, check(text, ev).receipts, "computed"


def choose_answer_chart(question: str, draft: SqlDraft, result: Result, options: AskOptions,
                        notes: list[str], sql: str | None = None, catalog: Catalog | None = None) -> ChartSpec | None:
    """The model's spec when valid for the result, else one by rules; `chart_type` overrides the type.

    The title is the question; the subtitle the reading's filters and period (from the SQL, less the
    metrics' own filters); partial first/last periods are marked.
    """
    spec, why = pick_chart(draft.chart, result.columns, result.row_count, question[:120], result.rows)
    if why:
        notes.append(why[0].upper() + why[1:] + ("; a chart was chosen by rules." if "not used" in why else "."))
    if options.chart_type and result.row_count:
        names = [n for n, _ in result.columns]
        if spec is None:
            numeric = [n for n, t in result.columns if is_numeric_type(t)]
            if not numeric or len(names) < 1:
                raise UsageError(f"This result has no numeric column to draw as a {options.chart_type} chart.")
            spec = ChartSpec(options.chart_type, names[0], (numeric[-1],), title=question[:120])
        try:
            spec = with_type(spec, options.chart_type, names)
        except InvalidChartSpec as exc:
            raise UsageError(f"Cannot draw this result as a {options.chart_type!r} chart: {exc}.",
                             hint="Chart types: bar, barh, line, area, scatter, pie, histogram.") from None
    if spec is not None and sql and catalog is not None:
        metric_filters = " AND ".join(f"({m.filter})" for m in catalog.metrics if m.filter)
        partial = partial_periods(sql, result, catalog)[1]
        spec = dataclasses.replace(spec, subtitle=describe(sql, f"SELECT 1 WHERE {metric_filters}"
                                                           if metric_filters else None),
                                   partial=tuple(d.isoformat() for d in partial))
    return spec


def ask(question: str, *, catalog: Catalog, backend: Backend, sandbox: Sandbox | None, options: AskOptions,
        audit: AuditLog | None = None) -> Answer:
    """Answer a question: the whole pipeline, top to bottom. Records the run in the audit log.

    With `sandbox=None` the SQL is written and guarded but not run (`--sql-only`): the Answer
    then holds an empty result and no narration.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}
    usage = Usage()
    record: dict[str, Any] = {"question": question[:2000], "backend": backend.name, "model": backend.model}
    answer: Answer | None = None
    try:
        question = check_question(question)
        if options.moderation and backend.can_moderate and backend.moderate(question):
            raise RefusalError("The question was flagged by the moderation check.", hint="Rephrase the question.")
        t = time.perf_counter()
        context = build_context(question, catalog, options.context_budget, values_allowed=options.privacy != "schema")
        if options.examples:  # verified examples people confirmed come before the annotation file's
            context.examples = list({e.question: e for e in [*options.examples, *context.examples]}.values())[:3]
            record["examples"] = ",".join(str(e.id) for e in context.examples if e.id is not None) or None
        request = SqlRequest(question=question, catalog=catalog, context=context,
                             instructions=options.instructions, conversation=options.conversation,
                             latest_date=options.as_of or catalog.latest_date(), as_of_given=bool(options.as_of))
        timings["context"] = (time.perf_counter() - t) * 1000
        if options.budget_usd is not None and backend.name != "offline":
            chars = len(context.schema_text()) + len(context.metrics_text()) + 3000
            estimate = estimate_cost(chars, options, backend.model, options.max_tokens)
            if estimate > options.budget_usd:
                raise RefusalError(f"The estimated cost of this question (${estimate:.4f}) exceeds the budget "
                                   f"(${options.budget_usd:.4f}).", hint="Raise --budget or use a cheaper --model.")
        t = time.perf_counter()
        draft, guarded, result, repairs = write_guarded_sql(question, catalog, backend, sandbox, request,
                                                            options, usage, record)
        timings["sql_and_execute"] = (time.perf_counter() - t) * 1000
        if result is None:
            record.update(sql=guarded.as_written, verdict="accepted", repairs=repairs)
            timings["total"] = (time.perf_counter() - started) * 1000
            answer = Answer(question=question, backend=backend.name, model=backend.model, sql=guarded.as_written,
                            result=Result(columns=[], rows=[]), explanation=draft.explanation,
                            assumptions=draft.assumptions, usage=usage, timings_ms=timings, repairs=repairs,
                            row_cap=options.max_rows if guarded.limit else None, reading=draft.reading)
            return answer
        record.update(sql=guarded.as_written, verdict="accepted", row_count=result.row_count, repairs=repairs)
        t = time.perf_counter()
        # checks run queries of their own; eval (narrate=False) only needs the rows
        warnings = (check_result(guarded.sql, result, catalog, sandbox, options.max_rows) if options.narrate
                    else shape_warnings(result, options.max_rows))
        timings["check"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        notes: list[str] = []
        narration: str | None = None
        receipts: list[Receipt] = []
        narrated_by: str | None = None
        if options.narrate:
            narration, receipts, narrated_by = narrate_grounded(question, draft, guarded, result, catalog, backend,
                                                                options, usage, warnings, notes)
        timings["narrate"] = (time.perf_counter() - t) * 1000
        chart = (choose_answer_chart(question, draft, result, options, notes, guarded.as_written, catalog)
                 if options.narrate else None)
        timings["total"] = (time.perf_counter() - started) * 1000
        answer = Answer(question=question, backend=backend.name, model=backend.model, sql=guarded.as_written,
                        result=result, row_cap=options.max_rows if guarded.limit else None,
                        narration=narration, chart=chart, explanation=draft.explanation,
                        assumptions=draft.assumptions, warnings=warnings, usage=usage, timings_ms=timings,
                        repairs=repairs, receipts=receipts, narrated_by=narrated_by, notes=notes,
                        reading=draft.reading)
        return answer
    except BaseException as exc:  # every failed run is recorded with what stopped it, a bug or Ctrl-C too
        record.update(verdict=_verdict(exc) if record.get("verdict") in (None, "accepted") else record["verdict"],
                      error=f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"[:1000])
        raise
    finally:
        if audit is not None:
            timings.setdefault("total", (time.perf_counter() - started) * 1000)
            entry = audit.record(**record, input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
                                 cost_usd=usage.cost_usd, timings=timings)
            if answer is not None:
                answer.history_id = entry


def _verdict(exc: BaseException) -> str:
    """The audit log's verdict for a run that ended in `exc`."""
    if isinstance(exc, RefusalError):
        return "refused"
    if isinstance(exc, UnsafeSQLError | InvalidSQLError):
        return "rejected"
    if isinstance(exc, KeyboardInterrupt | SystemExit):
        return "interrupted"
    return "failed"


@dataclasses.dataclass
class Pipeline:
    """The parts a job answers with: one catalog, one sandbox, the ask options and the audit log."""

    catalog: Catalog
    sandbox: Sandbox | None
    options: AskOptions
    audit: AuditLog | None = None

    def ask(self, question: str, backend: Backend, **changes: Any) -> Answer:
        """`ask()` with these parts and `backend`; `changes` adjust the options for this question."""
        options = dataclasses.replace(self.options, **changes) if changes else self.options
        return ask(question, catalog=self.catalog, backend=backend, sandbox=self.sandbox, options=options,
                   audit=self.audit)
