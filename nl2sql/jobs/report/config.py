"""The report config: YAML read with a SafeLoader that keeps line numbers; every error names file:line."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any, cast

import yaml

from nl2sql.core.errors import ConfigError, did_you_mean
from nl2sql.jobs.report.period import parse_as_of

PERIODS = ("week", "month", "day")
FORMATS = ("md", "html")
TOP_KEYS = {"title", "database", "schema", "as_of", "period", "output", "sections", "backend", "narration",
            "description", "max_rows"}
OUTPUT_KEYS = {"dir", "formats", "name"}
SECTION_KEYS = {"title", "question", "sql", "chart", "compare", "thresholds", "narration", "description"}
CHART_KEYS = {"type", "x", "y", "series", "title", "sort", "limit", "stacked", "previous"}
THRESHOLD_KEYS = {"column", "row", "below", "above", "change_pct_below", "change_pct_above", "message"}


class _Map(dict[str, Any]):
    """A YAML mapping that remembers the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class _Loader(yaml.SafeLoader):
    """A SafeLoader (no arbitrary objects) whose mappings are _Map with line numbers."""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    mapping = _Map(cast(dict[str, Any], loader.construct_mapping(node, deep=True)))
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
    line: int = 0  # the line of its 'column' in the config, for errors
    row_line: int = 0  # the line of its 'row'


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
                                    message=_typed(path, item, "message", str, "text"),
                                    line=item.key_lines.get("column", item.line),
                                    row_line=item.key_lines.get("row", item.line), **limits))
    return SectionConfig(title=title or (question or f"Section {number}").strip()[:80], question=question,
                         sql=sql.strip() if sql else None, chart=chart,
                         compare=_typed(path, raw, "compare", bool, "true or false") is not False,
                         thresholds=thresholds, narration=_typed(path, raw, "narration", bool, "true or false")
                         is not False, description=_typed(path, raw, "description", str, "text"), line=raw.line)
