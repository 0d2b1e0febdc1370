"""`nl2sql report`: a config file -> sections -> Markdown and self-contained HTML, reproducibly.

config (validated YAML, errors with line numbers) -> period (the latest complete week, month or
day up to as_of, and the one before) -> each section through the ask pipeline (pinned SQL runs
as given; a question is asked for the period) -> comparison with the previous period ->
thresholds -> alerts -> output (templates in prompts/report/*.j2). `pin` writes generated SQL
back into the config file as text, so its comments and order survive.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Callable
from typing import TYPE_CHECKING

from nl2sql.answer.charts import ChartError, InvalidChartSpec, validate_spec
from nl2sql.answer.draw import render
from nl2sql.backends.pinned import PinnedSQL
from nl2sql.core.errors import Nl2SqlError
from nl2sql.core.values import Result
from nl2sql.jobs.ask import Answer, Pipeline
from nl2sql.jobs.report.compare import Change, compare, comparison_sentence, evaluate_thresholds
from nl2sql.jobs.report.config import ReportConfig, SectionConfig
from nl2sql.jobs.report.period import Period, render_sql, report_period

if TYPE_CHECKING:
    from nl2sql.backends.base import Backend


@dataclasses.dataclass
class SectionResult:
    """What a section produced, or why it failed."""

    config: SectionConfig
    number: int
    answer: Answer | None = None
    sql: str | None = None
    error: str | None = None
    error_type: str | None = None
    headline: list[Change] = dataclasses.field(default_factory=list)
    changes: list[Change] = dataclasses.field(default_factory=list)
    alerts: list[str] = dataclasses.field(default_factory=list)
    chart_png: bytes | None = None
    comparison: str | None = None

    @property
    def ok(self) -> bool:
        """True when the section rendered."""
        return self.error is None


@dataclasses.dataclass
class Report:
    """A report run: its config, period and sections."""

    config: ReportConfig
    period: Period
    as_of: dt.date
    sections: list[SectionResult]
    generated: str

    @property
    def failed(self) -> list[SectionResult]:
        """Sections that failed."""
        return [s for s in self.sections if not s.ok]

    @property
    def alerts(self) -> list[tuple[SectionResult, str]]:
        """Every alert, with its section."""
        return [(s, a) for s in self.sections for a in s.alerts]

    @property
    def top_changes(self) -> list[tuple[SectionResult, Change]]:
        """The biggest headline changes first (by size of the % change)."""
        items, seen = [], set()
        for s in self.sections:
            for c in s.headline:
                key = (c.column, round(c.current, 6), c.previous)
                if c.pct is not None and key not in seen:  # two sections often share a total
                    seen.add(key)
                    items.append((s, c))
        return sorted(items, key=lambda p: -abs(p[1].pct or 0))[:5]


def run_section(section: SectionConfig, number: int, period: Period, pipeline: Pipeline,
                make_backend: Callable[[], Backend], where: str, narrate: bool) -> SectionResult:
    """One section, current and previous period; any failure is caught and reported on the section."""
    out = SectionResult(config=section, number=number)
    try:
        answer, previous = _ask_both(section, number, period, pipeline, make_backend, where)
        if not (narrate and section.narration):
            answer.narration = None
        out.answer, out.sql = answer, answer.sql
        out.headline, out.changes = compare(answer.result, previous)
        out.alerts = evaluate_thresholds(section, answer.result, out.changes, out.headline, period.label)
        if previous is not None:
            out.comparison = comparison_sentence(out.headline, period)
        out.chart_png = _chart(section, answer)
    except Nl2SqlError as exc:
        out.error, out.error_type = exc.message + (f" ({exc.hint})" if exc.hint else ""), type(exc).__name__
    except Exception as exc:  # one broken section must not sink a scheduled report
        out.error, out.error_type = f"{type(exc).__name__}: {str(exc)[:300]}", "InternalError"
    return out


def _ask_both(section: SectionConfig, number: int, period: Period, pipeline: Pipeline,
              make_backend: Callable[[], Backend], where: str) -> tuple[Answer, Result | None]:
    """The section's answer for the period, and its result for the previous period (when compared)."""
    backend = make_backend()
    previous_period = period.previous()
    if not section.sql:
        assert section.question is not None
        answer = pipeline.ask(period.phrase(section.question), backend, narrate=True)
        if not section.compare:
            return answer, None
        return answer, pipeline.ask(previous_period.phrase(section.question), make_backend(), narrate=False).result
    # pinned SQL is not rewritten (no repairs: a failure shows its own error) and needs no model for SQL
    sql = render_sql(section.sql, period.params(), f"{where} section {number}")
    question = section.question or section.title
    answer = pipeline.ask(question, PinnedSQL(sql, backend), narrate=True, max_repairs=0)
    previous_sql = render_sql(section.sql, previous_period.params(), f"{where} section {number}")
    if not section.compare or previous_sql == sql:  # SQL that ignores the period has nothing to compare
        return answer, None
    return answer, pipeline.ask(question, PinnedSQL(previous_sql, backend), narrate=False, max_repairs=0).result


def _chart(section: SectionConfig, answer: Answer) -> bytes | None:
    if section.chart is False or answer.result.row_count < 2:
        return None
    spec = answer.chart
    if isinstance(section.chart, dict):
        base = spec.to_dict() if spec else {}
        spec = validate_spec({**base, **section.chart}, [n for n, _ in answer.result.columns]) \
            if base or {"type", "x", "y"} <= set(section.chart) else None
        if spec is None:
            raise InvalidChartSpec("the chart options need type, x and y for this result")
    if spec is None:
        return None
    spec = dataclasses.replace(spec, title=section.title)
    buffer = io.BytesIO()
    try:
        render(spec, answer.result.columns, answer.result.rows, buffer, fmt="png")
    except ChartError:
        return None
    return buffer.getvalue()


def build_report(config: ReportConfig, pipeline: Pipeline, make_backend: Callable[[], Backend], as_of: dt.date,
                 progress: Callable[[int, str], None] | None = None) -> Report:
    """Run every section for the period that `as_of` closes."""
    period = report_period(as_of, config.period)
    sections = []
    for number, section in enumerate(config.sections, 1):
        if progress:
            progress(number, section.title)
        sections.append(run_section(section, number, period, pipeline, make_backend, str(config.path),
                                    config.narration))
    generated = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    return Report(config=config, period=period, as_of=as_of, sections=sections, generated=generated)
