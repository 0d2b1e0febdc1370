"""`nl2sql report`: a config file -> sections -> Markdown and self-contained HTML, reproducibly.

config (validated YAML, errors with line numbers) -> period (the latest complete week, month or
day up to as_of, and the one before) -> each section through the ask pipeline (pinned SQL runs
as given; a question is asked for the period) -> comparison with the previous period, like with
like (rows matched by identity over whole rankings, totals from the section's own total query) ->
thresholds (a threshold naming an unknown column or row stops the report: exit 2) -> alerts ->
output (templates in prompts/report/*.j2). `pin` writes generated SQL back into the config file
as text, so its comments and order survive.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlglot import exp

from nl2sql.answer.measures import Measure, measure_kinds
from nl2sql.answer.sqlfacts import label_sources, top_n
from nl2sql.backends.pinned import PinnedSQL
from nl2sql.core.errors import ConfigError, Nl2SqlError
from nl2sql.core.values import Result
from nl2sql.jobs.ask import Answer, Pipeline
from nl2sql.jobs.report.charting import section_chart
from nl2sql.jobs.report.compare import Change, Comparison, Inputs, compare, movers
from nl2sql.jobs.report.config import ReportConfig, SectionConfig
from nl2sql.jobs.report.period import Period, render_sql, report_period
from nl2sql.jobs.report.queries import total_query, whole_ranking
from nl2sql.jobs.report.thresholds import check_thresholds

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
    comparison: Comparison = dataclasses.field(default_factory=lambda: Comparison([], []))
    kinds: dict[str, Measure] = dataclasses.field(default_factory=dict)
    alerts: list[str] = dataclasses.field(default_factory=list)
    chart_png: bytes | None = None

    @property
    def ok(self) -> bool:
        """True when the section rendered."""
        return self.error is None

    @property
    def headline(self) -> list[Change]:
        """The section's totals, now and before."""
        return self.comparison.headline

    @property
    def changes(self) -> list[Change]:
        """Its rows matched with the previous period (dropped-out rows last)."""
        return self.comparison.rows


@dataclasses.dataclass
class Report:
    """A report run: its config, period and sections."""

    config: ReportConfig
    period: Period
    as_of: dt.date
    sections: list[SectionResult]
    generated: dt.datetime

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
        """The biggest movers: section totals and matched rows, never sums of two different lists."""
        return movers([(s, s.comparison) for s in self.sections if s.ok])


@dataclasses.dataclass
class _Asker:
    """Runs a section's queries for one period: the section's own, and the ones derived from it."""

    section: SectionConfig
    pipeline: Pipeline
    make_backend: Callable[[], Backend]

    def question(self, period: Period, narrate: bool) -> Answer:
        assert self.section.question is not None
        return self.pipeline.ask(period.phrase(self.section.question), self.make_backend(), narrate=narrate)

    def pinned(self, sql: str, narrate: bool = False) -> Answer:
        # pinned SQL is not rewritten (no repairs: a failure shows its own error) and needs no model for SQL
        question = self.section.question or self.section.title
        return self.pipeline.ask(question, PinnedSQL(sql, self.make_backend()), narrate=narrate, max_repairs=0)

    def derived(self, sql: str | None) -> Result | None:
        return self.pinned(sql).result if sql else None


def run_section(section: SectionConfig, number: int, period: Period, pipeline: Pipeline,
                make_backend: Callable[[], Backend], where: str, narrate: bool) -> SectionResult:
    """One section, current and previous period; a failure is reported on the section, except a
    config error (an unknown threshold column or row), which stops the report."""
    out = SectionResult(config=section, number=number)
    asker = _Asker(section, pipeline, make_backend)
    try:
        answer, previous = _ask_both(asker, number, period, where)
        if not (narrate and section.narration):
            answer.narration = None
        out.answer, out.sql = answer, answer.sql
        out.kinds = measure_kinds(answer.result.columns, answer.sql, answer.result.rows)
        inputs = _inputs(asker, answer, previous, out.kinds)
        out.comparison = compare(inputs)
        out.alerts = check_thresholds(section, number, inputs, out.comparison, Path(where),
                                      lambda row: _known_value(asker, answer.sql, row))
        out.chart_png = section_chart(section, answer, inputs, period)
    except ConfigError:
        raise
    except Nl2SqlError as exc:
        out.error, out.error_type = exc.message + (f" ({exc.hint})" if exc.hint else ""), type(exc).__name__
    except Exception as exc:  # one broken section must not sink a scheduled report
        out.error, out.error_type = f"{type(exc).__name__}: {str(exc)[:300]}", "InternalError"
    return out


def _known_value(asker: _Asker, sql: str, row: str) -> bool:
    """Whether the data has `row` as a value of a label column of the section (any period)."""
    for table, column in label_sources(sql):
        col = next((c for c in t.columns if c.name.lower() == column.lower()), None) \
            if (t := asker.pipeline.catalog.table(table)) else None
        if col is None:
            continue
        if row.lower() in {v.lower() for v in col.known_values()}:
            return True
        lowered = exp.func("lower", exp.cast(exp.column(col.name, quoted=True), "VARCHAR"))
        probe = exp.select("1").from_(exp.to_table(table)).where(lowered.eq(exp.Literal.string(row.lower())))
        found = asker.derived(probe.sql(dialect="duckdb"))
        if found is not None and found.rows:
            return True
    return False


def _ask_both(asker: _Asker, number: int, period: Period, where: str) -> tuple[Answer, Answer | None]:
    """The section's answer for the period, and its answer for the previous period (when compared)."""
    section = asker.section
    if not section.sql:
        answer = asker.question(period, narrate=True)
        return answer, asker.question(period.previous(), narrate=False) if section.compare else None
    sql = render_sql(section.sql, period.params(), f"{where} section {number}")
    answer = asker.pinned(sql, narrate=True)
    previous_sql = render_sql(section.sql, period.previous().params(), f"{where} section {number}")
    if not section.compare or previous_sql == sql:  # SQL that ignores the period has nothing to compare
        return answer, None
    return answer, asker.pinned(previous_sql)


def _inputs(asker: _Asker, answer: Answer, previous: Answer | None, kinds: dict[str, Measure]) -> Inputs:
    """The section's rows and, for both periods, its whole ranking (top-N sections) and its totals."""
    n = top_n(answer.sql)
    before_sql = previous.sql if previous is not None else None
    return Inputs(
        current=answer.result, kinds=kinds, previous=previous.result if previous else None, top_n=n,
        whole_now=asker.derived(whole_ranking(answer.sql)) if n else None,
        whole_before=asker.derived(whole_ranking(before_sql)) if n and before_sql else None,
        totals_now=asker.derived(total_query(answer.sql)) if answer.result.row_count > 1 else None,
        totals_before=asker.derived(total_query(before_sql)) if before_sql and answer.result.row_count > 1 else None)


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
    return Report(config=config, period=period, as_of=as_of, sections=sections,
                  generated=dt.datetime.now().astimezone())
