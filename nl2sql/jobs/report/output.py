"""Report output: the view the templates see, Markdown and self-contained HTML, written atomically."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from nl2sql.core import templates
from nl2sql.core.files import write_atomic
from nl2sql.core.text import safe_tree
from nl2sql.core.values import fmt_number, format_cell, is_numeric_type
from nl2sql.jobs.report.compare import Change
from nl2sql.jobs.report.run import Report

SHOWN_ROWS = 20


def slug(text: str) -> str:
    """A file-name-safe version of a title."""
    return re.sub(r"[^\w]+", "-", text.lower(), flags=re.UNICODE).strip("-")[:60] or "report"


def _view(report: Report, fmt: str, files_dir: str | None) -> dict[str, Any]:
    """What the templates see: plain values, numbers formatted, charts as data URIs or file names; every
    text terminal-safe."""
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
            "numeric": [is_numeric_type(t) for _, t in result.columns] if result else [],
            "rows": [[format_cell(v) for v in r] for r in result.rows[:SHOWN_ROWS]] if result else [],
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
    return safe_tree({
        "title": report.config.title, "description": report.config.description, "period": report.period.label,
        "period_start": str(report.period.start), "period_end": str(report.period.end),
        "previous_label": report.period.previous_label, "as_of": str(report.as_of), "generated": report.generated,
        "alerts": [{"section": s.config.title, "text": a} for s, a in report.alerts], "top_changes": top,
        "failed": [{"number": s.number, "title": s.config.title, "error": s.error} for s in report.failed],
        "sections": sections, "section_count": len(report.sections),
    })  # no control character from the data or a model reaches a report (a `cat report.md` is a terminal)


def _environment(override_dir: str | Path | None) -> Any:
    env = templates.environment(override_dir, "report", html=True, require_override=False)
    env.filters["md"] = md_escape
    return env


def md_escape(value: Any) -> str:
    """Text safe inside Markdown: no links, images, HTML or table breaks from data values."""
    text = " ".join(str(value).split())
    return re.sub(r"([\\`\[\]|<>])", r"\\\1", text)


def render_report(report: Report, fmt: str, files_dir: str | None = None,
                  templates_dir: str | Path | None = None) -> str:
    """The report as Markdown ('md') or self-contained HTML ('html')."""
    name = "report.md.j2" if fmt == "md" else "report.html.j2"
    return templates.render(_environment(templates_dir), name, _view(report, fmt, files_dir), "The report template")


def output_base(report: Report) -> str:
    """The file name stem: <name or slug(title)>-<period start>."""
    return f"{report.config.name or slug(report.config.title)}-{report.period.start}"


def write_report(report: Report, out_dir: Path, formats: tuple[str, ...],
                 templates_dir: str | Path | None = None) -> list[Path]:
    """Render and write every format; files appear whole or not at all (temp file + rename)."""
    base = output_base(report)
    files_dir = f"{base}_files"
    rendered = {fmt: render_report(report, fmt, files_dir, templates_dir) for fmt in formats}  # render all first
    written: list[Path] = []
    if "md" in formats:
        for s in report.sections:
            if s.chart_png:
                written.append(out_dir / files_dir / f"section-{s.number}.png")
                write_atomic(written[-1], s.chart_png)
    for fmt, text in rendered.items():
        written.append(out_dir / f"{base}.{fmt}")
        write_atomic(written[-1], text)
    return written
