"""Report output: the view the templates see, Markdown and self-contained HTML, written atomically.

The view is what a manager reads: humanised column names, numbers formatted as their kind reads
(25.0%, not 0.25; 2024, not 2,024), each row with its previous rank and value, "new" and "dropped
out" rows named, plural forms, the period once, and the time of generation in local time with its
zone.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

from nl2sql.answer.measures import Measure, fmt_measure, humanize, is_label_name
from nl2sql.core import templates
from nl2sql.core.files import write_atomic
from nl2sql.core.text import safe_tree
from nl2sql.core.values import fmt_number, format_cell, is_numeric_type
from nl2sql.jobs.report.compare import DROPPED, ENTERED, GONE, NEW, Change, keys_of
from nl2sql.jobs.report.run import Report, SectionResult

SHOWN_ROWS = 10  # rows of a table shown at once; the rest behind "more rows"


def slug(text: str) -> str:
    """A file-name-safe version of a title."""
    return re.sub(r"[^\w]+", "-", text.lower(), flags=re.UNICODE).strip("-")[:60] or "report"


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 section', '2 sections', '1 alert'."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def title_case(name: str) -> str:
    """A column name as a header: 'product_name' -> 'Product name'."""
    text = humanize(name)
    return text[:1].upper() + text[1:]


def _value(value: float | None, measure: Measure | None) -> str:
    return "none" if value is None else fmt_measure(value, measure, fmt_number)


def _change(c: Change, measure: Measure | None) -> dict[str, Any]:
    """How a change reads: '▲ 12.3%', '▼ 1.2 pts' (rates change in points), 'new', 'dropped out'."""
    if c.status in (NEW, GONE):
        return {"text": c.status, "dir": ""}
    pct, delta = c.pct, c.delta
    if delta is None:
        return {"text": c.status or "", "dir": ""}
    arrow = "▲ " if delta > 0 else "▼ " if delta < 0 else ""
    if measure is not None and measure.is_percent:
        points = delta * 100 if measure.fraction else delta
        text = f"{arrow}{abs(points):.1f} pts"
    else:
        text = f"{arrow}{abs(pct):.1f}%" if pct is not None else f"{arrow}{fmt_number(abs(delta))}"
    return {"text": text, "dir": "up" if delta > 0 else "down" if delta < 0 else ""}


def _row(c: Change, measure: Measure | None, top_n: int | None) -> dict[str, Any]:
    before = _value(c.previous, measure)
    if top_n and c.previous_rank is not None:
        before = f"#{c.previous_rank} · {before}"
    now = _value(c.current, measure)
    if top_n and c.status == DROPPED and c.rank is not None:
        now = f"#{c.rank} · {now}"
    return {"label": c.label, "rank": c.rank if c.status != DROPPED else None, "now": now, "before": before,
            "change": _change(c, measure), "status": c.status,
            "note": {NEW: "new this period", ENTERED: f"entered the top {top_n}", DROPPED: "dropped out",
                     GONE: "no rows this period"}.get(c.status or "", "")}


def _table(s: SectionResult) -> dict[str, Any]:
    """The section's plain table (when it is not compared): humanised headers, formatted cells."""
    result = s.answer.result if s.answer else None
    if result is None:
        return {"columns": [], "numeric": [], "rows": []}
    plain = [is_label_name(n) for n, _ in result.columns]
    cells = [[fmt_measure(v, s.kinds.get(n), fmt_number) if s.kinds.get(n) is not None and s.kinds[n].is_percent
              and isinstance(v, int | float) else format_cell(v, p)
              for v, (n, _), p in zip(r, result.columns, plain, strict=False)] for r in result.rows]
    return {"columns": [title_case(n) for n, _ in result.columns],
            "numeric": [is_numeric_type(t) for _, t in result.columns], "rows": cells}


def _section(s: SectionResult, report: Report, fmt: str, files_dir: str | None) -> dict[str, Any]:
    answer, comparison = s.answer, s.comparison
    measure = comparison.measure
    keys = [title_case(answer.result.columns[i][0]) for i in keys_of(answer.result, s.kinds)] if answer else []
    rows = [_row(c, measure, comparison.top_n) for c in comparison.rows]
    one_row = answer is not None and answer.result.row_count == 1 and bool(s.headline)
    narration = answer.narration if answer else None
    if one_row and answer and answer.narrated_by == "computed":
        narration = None  # "Revenue 366,844." says what the figure above it says
    item: dict[str, Any] = {
        "number": s.number, "title": s.config.title, "description": s.config.description, "ok": s.ok,
        "error": s.error, "error_type": s.error_type, "sql": s.sql, "alerts": s.alerts, "narration": narration,
        "warnings": answer.warnings if answer else [],
        "headline": [{"name": title_case(c.column) + (" (total)" if c.label else ""),
                      "value": _value(c.current, s.kinds.get(c.column)),
                      "before": _value(c.previous, s.kinds.get(c.column)) if c.previous is not None else None,
                      "change": _change(c, s.kinds.get(c.column))} for c in s.headline],
        "compared": any(c.previous is not None or c.status for c in comparison.rows),
        "key_header": " · ".join(keys) or "Row", "measure_header": title_case(measure.name) if measure else "",
        "top_n": comparison.top_n, "changes": [r for r in rows if r["status"] not in (DROPPED, GONE)],
        "dropped": [r for r in rows if r["status"] in (DROPPED, GONE)], "table": _table(s),
        "chart": None,
    }
    item["table_mode"] = ("compared" if item["compared"] else None if one_row or not item["table"]["rows"]
                          else "folded" if answer and not keys and s.chart_png else "table")
    if s.chart_png:
        item["chart"] = ("data:image/png;base64," + base64.b64encode(s.chart_png).decode() if fmt == "html"
                         else f"{files_dir}/section-{s.number}.png")
    return item


def _view(report: Report, fmt: str, files_dir: str | None) -> dict[str, Any]:
    """What the templates see: plain values, numbers formatted, charts as data URIs or file names; every
    text terminal-safe (a `cat report.md` is a terminal)."""
    period = report.period
    movers = []
    for s, c in report.top_changes:
        measure = s.kinds.get(c.column)
        what = f"{c.label} {humanize(c.column)}" if c.label else f"{humanize(c.column)}, in total"
        movers.append({"what": what[:1].upper() + what[1:], "section": s.config.title, "number": s.number,
                       "now": _value(c.current, measure), "before": _value(c.previous, measure),
                       "change": _change(c, measure)})
    generated = report.generated
    return safe_tree({
        "title": report.config.title, "description": report.config.description, "period": period.label,
        "period_short": period.short_label, "dates": period.dates, "previous_label": period.previous_label,
        "previous_short": period.previous().short_label,
        "as_of": str(report.as_of) if report.as_of != period.end else None,
        "generated": f"{generated:%-d %b %Y, %H:%M} {generated.tzname() or ''}".strip(),
        "generated_iso": generated.isoformat(timespec="seconds"),
        "alerts": [{"section": s.config.title, "number": s.number, "text": a} for s, a in report.alerts],
        "alert_count": plural(len(report.alerts), "alert"), "top_changes": movers,
        "failed": [{"number": s.number, "title": s.config.title, "error": s.error} for s in report.failed],
        "failed_text": f"{len(report.failed)} of {plural(len(report.sections), 'section')} failed",
        "sections": _once(_section(s, report, fmt, files_dir) for s in report.sections), "shown_rows": SHOWN_ROWS,
    })


def _once(sections: Any) -> list[dict[str, Any]]:
    """The sections, each total shown once: a later section with the same figure (revenue by category
    after revenue) does not repeat it."""
    seen: set[tuple[str, str, str | None]] = set()
    out = []
    for item in sections:
        kept = []
        for h in item["headline"]:
            key = (h["name"].removesuffix(" (total)"), h["value"], h["before"])
            if key not in seen:
                seen.add(key)
                kept.append(h)
        item["headline"] = kept
        out.append(item)
    return out


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
