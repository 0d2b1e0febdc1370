"""`nl2sql report`: a config file -> sections -> Markdown and self-contained HTML, reproducibly.

load_config (validated YAML, errors with line numbers) -> period (the latest complete week,
month or day up to as_of, and the one before) -> each section through pipeline.ask (pinned SQL
runs as given; a question is asked for the period) -> comparison with the previous period ->
thresholds -> alerts -> templates (prompts/report/*.j2). `pin` writes generated SQL back into
the config file as text, so its comments and order survive.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from nl2sql.backends.pinned import PinnedSQL
from nl2sql.charts import NUMERIC
from nl2sql.errors import ConfigError, Nl2SqlError, did_you_mean
from nl2sql.narrator import as_number

if TYPE_CHECKING:
    from nl2sql.catalog import Catalog
    from nl2sql.log import AuditLog
    from nl2sql.pipeline import Answer, AskOptions
    from nl2sql.sandbox import Result, Sandbox

PERIODS = ("week", "month", "day")
FORMATS = ("md", "html")
TOP_KEYS = {"title", "database", "schema", "as_of", "period", "output", "sections", "backend", "narration",
            "description", "max_rows"}
OUTPUT_KEYS = {"dir", "formats", "name"}
SECTION_KEYS = {"title", "question", "sql", "chart", "compare", "thresholds", "narration", "description"}
CHART_KEYS = {"type", "x", "y", "series", "title", "sort", "limit", "stacked"}
THRESHOLD_KEYS = {"column", "row", "below", "above", "change_pct_below", "change_pct_above", "message"}
SHOWN_ROWS = 20


# -- config ---------------------------------------------------------------------------------------

class _Map(dict):  # type: ignore[type-arg]
    """A YAML mapping that remembers the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    """A SafeLoader (no arbitrary objects) whose mappings are _Map with line numbers."""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    mapping = _Map(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
    return mapping


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)


@dataclasses.dataclass
class Threshold:
    """An alert rule on one column (optionally one row) of a section's result."""

    column: str
    row: str | None = None
    below: float | None = None
    above: float | None = None
    change_pct_below: float | None = None
    change_pct_above: float | None = None
    message: str | None = None


@dataclasses.dataclass
class SectionConfig:
    """One section: a question and/or pinned SQL, how to chart, compare and alert."""

    title: str
    question: str | None
    sql: str | None
    chart: dict[str, Any] | bool = True
    compare: bool = True
    thresholds: list[Threshold] = dataclasses.field(default_factory=list)
    narration: bool = True
    description: str | None = None
    line: int = 0


@dataclasses.dataclass
class ReportConfig:
    """A validated report config."""

    path: Path
    title: str
    database: str | None = None
    schema: str | None = None
    as_of: str = "latest"
    period: str = "week"
    out_dir: Path = Path("reports")
    formats: tuple[str, ...] = FORMATS
    name: str | None = None
    backend: str | None = None
    narration: bool = True
    description: str | None = None
    max_rows: int = 1000
    sections: list[SectionConfig] = dataclasses.field(default_factory=list)


def _err(path: Path, line: int, message: str, hint: str | None = None) -> ConfigError:
    return ConfigError(f"{path}:{line}: {message}", hint=hint or "Fix the report config and run again.")


def _check_keys(path: Path, data: _Map, allowed: set[str], where: str) -> None:
    for key in data:
        if key not in allowed:
            guess = did_you_mean(str(key), sorted(allowed))
            raise _err(path, data.key_lines.get(str(key), data.line), f"unknown key '{key}' in {where}.",
                       hint=guess or f"Allowed keys: {', '.join(sorted(allowed))}.")


def _typed(path: Path, data: _Map, key: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind in (int, float, (int, float)) and isinstance(value, bool)):
        raise _err(path, data.key_lines.get(key, data.line), f"'{key}' must be {what}, not {value!r}."[:300])
    return value


def load_config(path: str | Path) -> ReportConfig:
    """Read and validate a report config; every error names the file and line."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"Report config not found: {path}.",
                          hint="Pass a YAML file; see examples/weekly_report.yaml.")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read {path}: {exc}.") from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context_mark", None)
        if context is not None and context.line + 1 != line:
            problem += f" ({getattr(exc, 'context', None) or 'started'} on line {context.line + 1})"
        raise _err(path, line, f"this is not valid YAML: {problem}.",
                   hint="Check indentation and quoting near that line.") from None
    if not isinstance(data, _Map):
        raise _err(path, 1, "a report config is a mapping with 'title' and 'sections'.",
                   hint="See examples/weekly_report.yaml.")
    _check_keys(path, data, TOP_KEYS, "the report")
    title = _typed(path, data, "title", str, "text")
    if not title:
        raise _err(path, data.line, "the report needs a 'title'.")
    period = _typed(path, data, "period", str, "week, month or day") or "week"
    if period not in PERIODS:
        raise _err(path, data.key_lines["period"], f"unknown period '{period}'.",
                   hint=did_you_mean(period, PERIODS) or "Use week, month or day.")
    as_of = data.get("as_of", "latest")
    as_of = as_of.isoformat() if isinstance(as_of, dt.date) else str(as_of)
    try:
        parse_as_of(as_of)
    except ValueError as exc:
        raise _err(path, data.key_lines.get("as_of", data.line), str(exc)) from None
    output = data.get("output") or _Map()
    if not isinstance(output, _Map):
        raise _err(path, data.key_lines["output"], "'output' must be a mapping with 'dir' and 'formats'.")
    _check_keys(path, output, OUTPUT_KEYS, "output")
    formats = output.get("formats", list(FORMATS))
    formats = [formats] if isinstance(formats, str) else formats
    if not isinstance(formats, list) or not formats or any(f not in FORMATS for f in formats):
        raise _err(path, output.key_lines.get("formats", output.line), "output formats must be a list of md, html.")
    out_dir = Path(str(output.get("dir", "reports"))).expanduser()
    database = _typed(path, data, "database", str, "a path")
    schema = _typed(path, data, "schema", str, "a path")
    backend = _typed(path, data, "backend", str, "offline, openai or auto")
    if backend is not None and backend not in ("offline", "openai", "auto"):
        raise _err(path, data.key_lines["backend"], f"unknown backend '{backend}'.",
                   hint=did_you_mean(backend, ("offline", "openai", "auto")) or "Use offline, openai or auto.")
    sections_raw = data.get("sections")
    if not isinstance(sections_raw, list) or not sections_raw:
        raise _err(path, data.key_lines.get("sections", data.line), "the report needs a list of 'sections'.")
    sections = [_section(path, raw, i) for i, raw in enumerate(sections_raw, 1)]
    base = path.parent
    return ReportConfig(
        path=path, title=title, period=period, as_of=as_of, formats=tuple(dict.fromkeys(formats)),
        out_dir=out_dir if out_dir.is_absolute() else base / out_dir, name=_typed(path, output, "name", str, "text"),
        database=str(_relative(base, database)) if database else None,
        schema=str(_relative(base, schema)) if schema else None, backend=backend,
        narration=_typed(path, data, "narration", bool, "true or false") is not False,
        description=_typed(path, data, "description", str, "text"),
        max_rows=_typed(path, data, "max_rows", int, "a number") or 1000, sections=sections)


def _relative(base: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p  # relative paths count from the config file


def _section(path: Path, raw: Any, number: int) -> SectionConfig:
    if not isinstance(raw, _Map):
        raise _err(path, getattr(raw, "line", 0) or 1, f"section {number} must be a mapping with a 'title'.")
    _check_keys(path, raw, SECTION_KEYS, f"section {number}")
    title = _typed(path, raw, "title", str, "text")
    question = _typed(path, raw, "question", str, "text")
    sql = _typed(path, raw, "sql", str, "text")
    if not (question and question.strip()) and not (sql and sql.strip()):
        raise _err(path, raw.line, f"section {number} needs a 'question' or pinned 'sql'.")
    chart = raw.get("chart", True)
    if isinstance(chart, _Map):
        _check_keys(path, chart, CHART_KEYS, f"the chart of section {number}")
        chart = dict(chart)
    elif not isinstance(chart, bool):
        raise _err(path, raw.key_lines["chart"], "'chart' must be true, false or a mapping (type, x, y, ...).")
    thresholds = []
    for item in raw.get("thresholds") or []:
        if not isinstance(item, _Map):
            raise _err(path, raw.key_lines["thresholds"], "each threshold is a mapping with a 'column'.")
        _check_keys(path, item, THRESHOLD_KEYS, f"a threshold of section {number}")
        column = _typed(path, item, "column", str, "a column name")
        if not column:
            raise _err(path, item.line, "a threshold needs the 'column' it watches.")
        limits = {k: _typed(path, item, k, (int, float), "a number")
                  for k in ("below", "above", "change_pct_below", "change_pct_above")}
        if all(v is None for v in limits.values()):
            raise _err(path, item.line, "a threshold needs one of below, above, change_pct_below, change_pct_above.")
        row = item.get("row")
        thresholds.append(Threshold(column=column, row=None if row is None else str(row),
                                    message=_typed(path, item, "message", str, "text"), **limits))
    return SectionConfig(title=title or (question or f"Section {number}").strip()[:80], question=question,
                         sql=sql.strip() if sql else None, chart=chart,
                         compare=_typed(path, raw, "compare", bool, "true or false") is not False,
                         thresholds=thresholds, narration=_typed(path, raw, "narration", bool, "true or false")
                         is not False, description=_typed(path, raw, "description", str, "text"), line=raw.line)


# -- periods --------------------------------------------------------------------------------------

def parse_as_of(value: str) -> dt.date | str:
    """A date, or the words 'today' / 'latest'; anything else is a ValueError for people."""
    if value in ("today", "latest"):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"as_of must be a date (YYYY-MM-DD), 'today' or 'latest', not {value!r}.") from None


@dataclasses.dataclass(frozen=True)
class Period:
    """A reporting period (start and end inclusive) and the one before it."""

    kind: str
    start: dt.date
    end: dt.date
    previous_start: dt.date
    previous_end: dt.date

    def params(self) -> dict[str, str]:
        """The values pinned SQL may use as {{ name }}."""
        one = dt.timedelta(days=1)
        return {"period_start": str(self.start), "period_end": str(self.end),
                "period_end_exclusive": str(self.end + one), "previous_start": str(self.previous_start),
                "previous_end": str(self.previous_end), "previous_end_exclusive": str(self.previous_end + one)}

    def phrase(self, question: str) -> str:
        """The question asked for this period: '<question> from 2025-06-09 to 2025-06-15'."""
        return f"{question} from {self.start} to {self.end}"

    def previous(self) -> Period:
        """The period before, as a Period of its own (for running the same SQL on it)."""
        return period_containing(self.previous_start, self.kind)

    @property
    def label(self) -> str:
        """'Week 24, 2025 (Jun 9 – Jun 15)', 'June 2025' or '2025-06-09'."""
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"Week {week}, {year} ({self.start:%b} {self.start.day} – {self.end:%b} {self.end.day})"
        if self.kind == "month":
            return f"{self.start:%B %Y}"
        return str(self.start)

    @property
    def previous_label(self) -> str:
        """'the previous week', 'the previous month' or 'the previous day'."""
        return f"the previous {self.kind}"


def period_containing(day: dt.date, kind: str) -> Period:
    """The calendar week (Monday to Sunday), month or day that contains `day`, and the one before."""
    if kind == "day":
        return Period(kind, day, day, day - dt.timedelta(days=1), day - dt.timedelta(days=1))
    if kind == "week":
        start = day - dt.timedelta(days=day.weekday())
        end = start + dt.timedelta(days=6)
        return Period(kind, start, end, start - dt.timedelta(days=7), start - dt.timedelta(days=1))
    start = day.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    previous_end = start - dt.timedelta(days=1)
    return Period(kind, start, end, previous_end.replace(day=1), previous_end)


def report_period(as_of: dt.date, kind: str) -> Period:
    """The latest complete period up to and including `as_of` (as_of's own day counts as complete).

    A weekly report run on Monday 2025-06-16 covers Monday 9 to Sunday 15 June; run on Sunday
    the 15th it covers the same week; a monthly report on 2025-12-31 covers December.
    """
    current = period_containing(as_of, kind)
    if current.end == as_of:
        return current
    return period_containing(current.start - dt.timedelta(days=1), kind)


def resolve_as_of(value: str, catalog: Catalog, today: dt.date | None = None) -> dt.date:
    """as_of as a date: given, today, or the data's latest date."""
    from nl2sql.pipeline import latest_date

    parsed = parse_as_of(value)
    if isinstance(parsed, dt.date):
        return parsed
    if parsed == "today":
        return today or dt.date.today()
    latest = latest_date(catalog)
    if latest is None:
        raise ConfigError("as_of is 'latest' but the data has no date column to take it from.",
                          hint="Set as_of to a date, or pass --as-of YYYY-MM-DD.")
    return dt.date.fromisoformat(latest[:10])


def render_sql(template: str, params: dict[str, str], where: str) -> str:
    """Fill {{ period_start }} and friends into pinned SQL (a sandboxed template; unknown names are errors)."""
    import jinja2
    import jinja2.sandbox

    env = jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
    try:
        return env.from_string(template).render(**params)
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"{where}: the SQL uses an unknown parameter ({exc.message}).",
                          hint="Available: " + ", ".join("{{ " + k + " }}" for k in params) + ".") from None
    except jinja2.TemplateError as exc:
        raise ConfigError(f"{where}: the SQL template is malformed: {exc}.") from None


# -- running --------------------------------------------------------------------------------------

@dataclasses.dataclass
class Change:
    """One measure now and in the previous period."""

    label: str
    column: str
    current: float
    previous: float | None

    @property
    def pct(self) -> float | None:
        """Change in percent, or None when the previous value is missing or zero."""
        if self.previous in (None, 0):
            return None
        assert self.previous is not None
        return (self.current - self.previous) / abs(self.previous) * 100


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


def _measures(result: Result) -> list[int]:
    return [i for i, (n, t) in enumerate(result.columns)
            if t.upper().startswith(NUMERIC) and not n.lower().endswith("id")]


def _keys(result: Result) -> list[int]:
    from nl2sql.charts import TEMPORAL

    return [i for i, (_, t) in enumerate(result.columns) if not t.upper().startswith(NUMERIC + TEMPORAL)]


def _row_label(row: tuple[Any, ...], keys: list[int]) -> str:
    return " / ".join(str(row[k]) for k in keys)


def compare(current: Result, previous: Result | None) -> tuple[list[Change], list[Change]]:
    """(headline, per-row changes): totals of each measure, and the main measure row by row.

    Rows are matched by their text columns; a time series (no text column) compares totals only.
    """
    from nl2sql.narrator import NON_ADDITIVE

    measures = _measures(current)
    keys = _keys(current)
    headline: list[Change] = []
    rows: list[Change] = []
    if not measures:
        return headline, rows
    prev_names = [n for n, _ in previous.columns] if previous else []
    for i in measures:
        name = current.columns[i][0]
        additive = not any(k in name.lower() for k in NON_ADDITIVE)
        if not additive and len(current.rows) != 1:
            continue
        now = sum(v for v in (as_number(r[i]) for r in current.rows) if v is not None)
        before = None
        if previous is not None and name in prev_names:
            j = prev_names.index(name)
            before = sum(v for v in (as_number(r[j]) for r in previous.rows) if v is not None)
        headline.append(Change("total" if len(current.rows) != 1 else "", name, now, before))
    main = measures[-1]
    name = current.columns[main][0]
    if keys and previous is not None and name in prev_names:
        pkeys = _keys(previous)
        j = prev_names.index(name)
        before_by = {_row_label(r, pkeys): as_number(r[j]) for r in previous.rows}
        for r in current.rows:
            value = as_number(r[main])
            if value is not None:
                rows.append(Change(_row_label(r, keys), name, value, before_by.get(_row_label(r, keys))))
    elif keys:
        rows = [Change(_row_label(r, keys), name, v, None) for r in current.rows
                if (v := as_number(r[main])) is not None]
    return headline, rows


def evaluate_thresholds(section: SectionConfig, result: Result, changes: list[Change], headline: list[Change],
                        period_label: str) -> list[str]:
    """Alert lines for the thresholds a result crosses."""
    from nl2sql.narrator import fmt_number

    alerts = []
    names = [n for n, _ in result.columns]
    keys = _keys(result)
    for t in section.thresholds:
        if t.column not in names:
            guess = did_you_mean(t.column, names)
            alerts.append(f"Threshold on '{t.column}' cannot be checked: the result has no such column."
                          + (f" {guess}" if guess else ""))
            continue
        i = names.index(t.column)
        by_row = {c.label: c for c in changes if c.column == t.column}
        candidates: list[tuple[str, float, Change | None]] = []
        for r in result.rows:
            label = _row_label(r, keys) if keys else ""
            if t.row is not None and label.lower() != t.row.lower() and \
                    not any(str(r[k]).lower() == t.row.lower() for k in keys):
                continue
            value = as_number(r[i])
            if value is not None:
                change = by_row.get(label) or (headline[0] if not keys and headline
                                               and headline[0].column == t.column else None)
                candidates.append((label, value, change))
        if t.row is not None and not candidates:
            # a row that vanished entirely fell by 100 %
            prev = next((c for c in changes if c.label.lower() == t.row.lower()), None)
            candidates.append((t.row, 0.0, prev))
        for label, value, change in candidates:
            pct = change.pct if change else None
            hit = ((t.below is not None and value < t.below) or (t.above is not None and value > t.above)
                   or (pct is not None and t.change_pct_below is not None and pct < t.change_pct_below)
                   or (pct is not None and t.change_pct_above is not None and pct > t.change_pct_above))
            if not hit:
                continue
            what = f"{label} {t.column}".strip()
            detail = f"{what}: {fmt_number(value)}"
            if change is not None and change.previous is not None:
                detail += f" vs {fmt_number(change.previous)} in the previous period"
                if pct is not None:
                    detail += f" ({pct:+.1f}%)"
            alerts.append(f"{t.message}: {detail}" if t.message else detail)
    return alerts


def comparison_sentence(headline: list[Change], period: Period) -> str | None:
    """'Compared with the previous week: revenue 1.2M (+12.3%).' (computed, so always grounded)."""
    from nl2sql.narrator import fmt_number

    parts = []
    for c in headline:
        if c.previous is None:
            continue
        pct = f" ({c.pct:+.1f}%)" if c.pct is not None else ""
        parts.append(f"{c.column} {fmt_number(c.current)} vs {fmt_number(c.previous)}{pct}")
    if not parts:
        return None
    return f"Compared with {period.previous_label}: " + "; ".join(parts) + "."


def run_section(section: SectionConfig, number: int, period: Period, catalog: Catalog, make_backend: Any,
                sandbox: Sandbox, options: AskOptions, audit: AuditLog | None, where: str,
                narrate: bool) -> SectionResult:
    """One section, current and previous period; any failure is caught and reported on the section."""
    from nl2sql.pipeline import ask

    out = SectionResult(config=section, number=number)
    try:
        opts = dataclasses.replace(options, narrate=True)
        backend = make_backend()
        if section.sql:
            sql = render_sql(section.sql, period.params(), f"{where} section {number}")
            runner: Any = PinnedSQL(sql, backend)
            opts = dataclasses.replace(opts, max_repairs=0)  # pinned SQL is not rewritten: show its own error
            question = section.question or section.title
        else:
            runner = backend
            question = period.phrase(section.question)
        answer = ask(question, catalog=catalog, backend=runner, sandbox=sandbox, options=opts, audit=audit)
        if not (narrate and section.narration):
            answer.narration = None
        out.answer, out.sql = answer, answer.sql
        previous = None
        if section.compare:
            prev_period = period.previous()
            if section.sql:
                prev_sql = render_sql(section.sql, prev_period.params(), f"{where} section {number}")
                if prev_sql != sql:  # SQL that ignores the period has nothing to compare
                    previous = ask(question, catalog=catalog, backend=PinnedSQL(prev_sql, backend),
                                   sandbox=sandbox, options=dataclasses.replace(opts, narrate=False),
                                   audit=audit).result
            else:
                previous = ask(prev_period.phrase(section.question),
                               catalog=catalog, backend=make_backend(), sandbox=sandbox,
                               options=dataclasses.replace(options, narrate=False), audit=audit).result
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


def _chart(section: SectionConfig, answer: Answer) -> bytes | None:
    import io

    from nl2sql.charts import ChartError, InvalidChartSpec, render, validate_spec

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


def build_report(config: ReportConfig, catalog: Catalog, make_backend: Any, sandbox: Sandbox, options: AskOptions,
                 as_of: dt.date, audit: AuditLog | None = None, progress: Any = None) -> Report:
    """Run every section for the period that `as_of` closes."""
    period = report_period(as_of, config.period)
    sections = []
    for number, section in enumerate(config.sections, 1):
        if progress:
            progress(number, section.title)
        sections.append(run_section(section, number, period, catalog, make_backend, sandbox, options, audit,
                                    str(config.path), config.narration))
    generated = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    return Report(config=config, period=period, as_of=as_of, sections=sections, generated=generated)


# -- output ---------------------------------------------------------------------------------------

def slug(text: str) -> str:
    """A file-name-safe version of a title."""
    return re.sub(r"[^\w]+", "-", text.lower(), flags=re.UNICODE).strip("-")[:60] or "report"


def _cell(value: Any) -> str:
    from nl2sql.render import format_cell

    return format_cell(value)


def _view(report: Report, fmt: str, files_dir: str | None) -> dict[str, Any]:
    """What the templates see: plain values, numbers formatted, charts as data URIs or file names."""
    from nl2sql.narrator import fmt_number

    def change_text(c: Change) -> str:
        if c.previous is None:
            return fmt_number(c.current)
        pct = f"{c.pct:+.1f}%" if c.pct is not None else "new"
        return f"{fmt_number(c.current)} ({pct} vs {fmt_number(c.previous)})"

    sections = []
    for s in report.sections:
        answer = s.answer
        result = answer.result if answer else None
        item: dict[str, Any] = {
            "number": s.number, "title": s.config.title, "description": s.config.description,
            "question": s.config.question, "ok": s.ok, "error": s.error, "error_type": s.error_type, "sql": s.sql,
            "alerts": s.alerts, "comparison": s.comparison,
            "narration": answer.narration if answer else None,
            "warnings": answer.warnings if answer else [],
            "assumptions": answer.assumptions if answer else [],
            "headline": [{"column": c.column, "label": c.label, "text": change_text(c), "pct": c.pct}
                         for c in s.headline],
            "columns": [n for n, _ in result.columns] if result else [],
            "numeric": [t.upper().startswith(NUMERIC) for _, t in result.columns] if result else [],
            "rows": [[_cell(v) for v in r] for r in result.rows[:SHOWN_ROWS]] if result else [],
            "more_rows": max(0, result.row_count - SHOWN_ROWS) if result else 0,
            "changes": [{"label": c.label, "now": fmt_number(c.current),
                         "before": fmt_number(c.previous) if c.previous is not None else "–",
                         "pct": f"{c.pct:+.1f}%" if c.pct is not None else "–"} for c in s.changes[:SHOWN_ROWS]],
            "change_column": s.changes[0].column if s.changes else None,
            "compared": any(c.previous is not None for c in s.changes),
            "chart": None,
        }
        if s.chart_png:
            if fmt == "html":
                item["chart"] = "data:image/png;base64," + base64.b64encode(s.chart_png).decode()
            else:
                item["chart"] = f"{files_dir}/section-{s.number}.png"
        sections.append(item)
    top = [{"section": s.config.title, "column": c.column, "text": change_text(c)}
           for s, c in report.top_changes]
    return {
        "title": report.config.title, "description": report.config.description, "period": report.period.label,
        "period_start": str(report.period.start), "period_end": str(report.period.end),
        "previous_label": report.period.previous_label, "as_of": str(report.as_of), "generated": report.generated,
        "alerts": [{"section": s.config.title, "text": a} for s, a in report.alerts], "top_changes": top,
        "failed": [{"number": s.number, "title": s.config.title, "error": s.error} for s in report.failed],
        "sections": sections, "section_count": len(report.sections),
    }


def _environment(override_dir: str | Path | None) -> Any:
    import jinja2

    from nl2sql.resources import bundled

    dirs = []
    if override_dir:
        path = Path(override_dir).expanduser()
        if (path / "report").is_dir():
            dirs.append(str(path / "report"))
    dirs.append(str(bundled("prompts") / "report"))
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(dirs), undefined=jinja2.StrictUndefined,
                             autoescape=jinja2.select_autoescape(["html.j2"], default_for_string=False,
                                                                 default=False),
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["md"] = md_escape
    return env


def md_escape(value: Any) -> str:
    """Text safe inside Markdown: no links, images, HTML or table breaks from data values."""
    text = " ".join(str(value).split())
    return re.sub(r"([\\`\[\]|<>])", r"\\\1", text)


def render_report(report: Report, fmt: str, files_dir: str | None = None,
                  templates_dir: str | Path | None = None) -> str:
    """The report as Markdown ('md') or self-contained HTML ('html')."""
    import jinja2

    env = _environment(templates_dir)
    name = "report.md.j2" if fmt == "md" else "report.html.j2"
    try:
        return env.get_template(name).render(**_view(report, fmt, files_dir))
    except jinja2.TemplateError as exc:
        raise ConfigError(f"The report template {name} failed: {exc}.", hint="Fix the template override.") from None


def output_base(report: Report) -> str:
    """The file name stem: <name or slug(title)>-<period start>."""
    return f"{report.config.name or slug(report.config.title)}-{report.period.start}"


def write_report(report: Report, out_dir: Path, formats: tuple[str, ...],
                 templates_dir: str | Path | None = None) -> list[Path]:
    """Render and write every format; files appear whole or not at all (temp file + rename)."""
    import os
    import tempfile

    out_dir.mkdir(parents=True, exist_ok=True)
    base = output_base(report)
    files_dir = f"{base}_files"
    rendered = {fmt: render_report(report, fmt, files_dir, templates_dir) for fmt in formats}  # render all first
    written: list[Path] = []

    def put(path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(path)

    if "md" in formats:
        charts = [s for s in report.sections if s.chart_png]
        if charts:
            (out_dir / files_dir).mkdir(exist_ok=True)
            for s in charts:
                assert s.chart_png is not None
                put(out_dir / files_dir / f"section-{s.number}.png", s.chart_png)
    for fmt, text in rendered.items():
        put(out_dir / f"{base}.{fmt}", text.encode("utf-8"))
    return written


# -- pinning --------------------------------------------------------------------------------------

def parametrize(sql: str, period: Period) -> str:
    """Replace the period's literal dates in generated SQL by {{ period_start }} and friends."""
    params = period.params()
    # longest names first is irrelevant; dates are distinct values. Exclusive ends before inclusive ones.
    for name in ("period_end_exclusive", "period_start", "period_end"):
        sql = sql.replace(f"'{params[name]}'", "'{{ " + name + " }}'")
    return sql


def _value_end(node: yaml.Node) -> int:
    """The 0-based line after a YAML value (a block scalar ends at column 0 of the next line)."""
    return (node.end_mark.line if node.end_mark.column > 0 else node.end_mark.line - 1) + 1


def pin_config(path: Path, pinned: dict[int, str]) -> str:
    """The config text with `sql: |` after each pinned section's question (an earlier `sql:` removed).

    Edits the text (not a re-dump of the YAML), so comments, order and formatting survive.
    """
    text = path.read_text(encoding="utf-8")
    root = yaml.compose(text)
    assert isinstance(root, yaml.MappingNode)
    sections_node = next(v for k, v in root.value if k.value == "sections")
    lines = text.splitlines(keepends=True)
    edits: list[tuple[int, int, list[str]]] = []  # (start, end, replacement lines), non-overlapping
    for number, node in enumerate(sections_node.value, 1):
        if number not in pinned:
            continue
        for key, value in node.value:
            if key.value == "sql":
                end = _value_end(value)
                while end > key.start_mark.line + 1 and not lines[end - 1].strip():
                    end -= 1  # a block scalar's span takes the blank lines after it: keep them
                edits.append((key.start_mark.line, end, []))
        key, value = next((k, v) for k, v in node.value if k.value == "question")
        indent = " " * key.start_mark.column
        block = [f"{indent}sql: |\n"] + [f"{indent}  {line}\n" if line.strip() else "\n"
                                         for line in pinned[number].strip().splitlines()]
        edits.append((_value_end(value), _value_end(value), block))
    for start, end, block in sorted(edits, key=lambda e: e[0], reverse=True):
        lines[start:end] = block
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return "".join(lines)


@dataclasses.dataclass
class Pinned:
    """What `report pin` did: SQL per section number, notes, and sections it could not pin."""

    sql: dict[int, str]
    notes: list[str]
    failures: list[str]


def pin_report(config: ReportConfig, catalog: Catalog, make_backend: Any, sandbox: Sandbox, options: AskOptions,
               period: Period, force: bool = False, audit: AuditLog | None = None) -> Pinned:
    """Ask each unpinned question (all of them with `force`) for `period` and write its SQL into the config."""
    from nl2sql.catalog import write_atomic
    from nl2sql.guard import without_cap
    from nl2sql.pipeline import ask

    done = Pinned({}, [], [])
    for number, section in enumerate(config.sections, 1):
        if not section.question or (section.sql and not force):
            continue
        try:
            answer = ask(period.phrase(section.question), catalog=catalog, backend=make_backend(), sandbox=sandbox,
                         options=options, audit=audit)
        except Nl2SqlError as exc:
            done.failures.append(f"section {number} ({section.title}): {exc.message}")
            continue
        sql = without_cap(answer.sql)  # the guard's row cap is added again at run time
        done.sql[number] = parametrize(sql, period)
        if done.sql[number] == sql:
            done.notes.append(f"section {number} ({section.title}): its SQL does not depend on the period")
    if done.sql:
        write_atomic(config.path, pin_config(config.path, done.sql))
        load_config(config.path)  # the pinned file must still be a valid config
    return done
