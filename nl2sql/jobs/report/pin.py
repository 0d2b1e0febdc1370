"""`nl2sql report pin`: ask each question once and write its SQL, with the period as parameters,
into the config file itself (a text edit, so comments, order and formatting survive)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from nl2sql.core.errors import Nl2SqlError
from nl2sql.core.files import write_atomic
from nl2sql.jobs.ask import Pipeline
from nl2sql.jobs.report.config import ReportConfig, load_config
from nl2sql.jobs.report.period import Period

if TYPE_CHECKING:
    from nl2sql.backends.base import Backend


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


def pin_report(config: ReportConfig, pipeline: Pipeline, make_backend: Callable[[], Backend], period: Period,
               force: bool = False) -> Pinned:
    """Ask each unpinned question (all of them with `force`) for `period` and write its SQL into the config."""
    done = Pinned({}, [], [])
    for number, section in enumerate(config.sections, 1):
        if not section.question or (section.sql and not force):
            continue
        try:
            answer = pipeline.ask(period.phrase(section.question), make_backend())
        except Nl2SqlError as exc:
            done.failures.append(f"section {number} ({section.title}): {exc.message}")
            continue
        sql = answer.sql  # as written: the guard adds its row cap again at run time
        done.sql[number] = parametrize(sql, period)
        if done.sql[number] == sql:
            done.notes.append(f"section {number} ({section.title}): its SQL does not depend on the period")
    if done.sql:
        write_atomic(config.path, pin_config(config.path, done.sql))
        load_config(config.path)  # the pinned file must still be a valid config
    return done
