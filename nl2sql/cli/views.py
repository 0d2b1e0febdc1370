"""Rich renderables for the terminal. Used by the CLI only; the core never prints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nl2sql.answer.measures import is_label_name
from nl2sql.cli.app import markup  # untrusted text inside markup: controls visible, markup escaped
from nl2sql.core.text import terminal_safe
from nl2sql.core.values import format_cell, is_numeric_type

if TYPE_CHECKING:
    from nl2sql.core.values import Result
    from nl2sql.data.catalog import Catalog, Column
    from nl2sql.jobs.ask import Answer, SqlRun

MAX_SHOWN_ROWS = 50


def _column_line(c: Column) -> str:
    parts = [f"[bold]{markup(c.name)}[/] [cyan]{markup(c.type)}[/]"]
    if c.primary_key:
        parts.append("[yellow]PK[/]")
    if c.pii:
        parts.append("[red]PII[/]")
    if c.description:
        parts.append(f"— {markup(c.description)}")
    values = c.known_values()
    if values and not c.pii:
        shown = ", ".join(values[:8]) + (" …" if len(values) > 8 else "")
        parts.append(f"[dim]values: {markup(shown)}[/]")
    elif c.profile.min is not None and (c.is_numeric or c.is_temporal):
        parts.append(f"[dim]{markup(str(c.profile.min))} … {markup(str(c.profile.max))}[/]")
    if c.profile.null_share:
        parts.append(f"[dim]{c.profile.null_share:.0%} null[/]")
    return " ".join(parts)


def catalog_tree(catalog: Catalog) -> Any:
    """The catalog as a rich Tree: tables with columns, then relationships and metrics."""
    from rich.tree import Tree

    title = f"[bold]{markup(catalog.name)}[/]"
    if catalog.annotation_path:
        title += f" [dim](annotations: {markup(catalog.annotation_path)})[/]"
    root = Tree(title)
    for t in catalog.tables:
        label = f"[bold green]{markup(t.name)}[/] [dim]{t.row_count:,} rows[/]"
        if t.description:
            label += f" — {markup(t.description)}"
        node = root.add(label)
        for c in t.columns:
            node.add(_column_line(c))
    if catalog.relationships:
        rels = root.add("[bold]relationships[/]")
        for r in catalog.relationships:
            rels.add(f"{markup(str(r))} [dim]({r.origin})[/]")
    if catalog.metrics:
        metrics = root.add("[bold]metrics[/]")
        for m in catalog.metrics:
            line = f"[bold magenta]{markup(m.name)}[/] = {markup(m.sql)}"
            if m.filter:
                line += f" [dim]where {markup(m.filter)}[/]"
            if m.description:
                line += f"\n  [dim]{markup(m.description)}[/]"
            metrics.add(line)
    if catalog.examples:
        root.add(f"[bold]examples[/] [dim]{len(catalog.examples)} verified question → SQL pairs[/]")
    return root


_KEYWORDS = (r"(?i)\b(SELECT|FROM|WHERE|GROUP BY|ORDER BY|HAVING|LIMIT|OFFSET|JOIN|INNER|LEFT|RIGHT|FULL|OUTER|"
             r"CROSS|ON|USING|AND|OR|NOT|IN|IS|NULL|AS|WITH|UNION|ALL|EXCEPT|INTERSECT|DISTINCT|CASE|WHEN|THEN|"
             r"ELSE|END|BETWEEN|LIKE|ILIKE|CAST|DESC|ASC|OVER|PARTITION BY|FILTER|QUALIFY)\b")


def sql_panel(sql: str, title: str = "SQL") -> Any:
    """SQL in a panel, keywords, strings and numbers coloured (no lexer library: it starts fast)."""
    from rich.panel import Panel
    from rich.text import Text

    text = Text(terminal_safe(sql))
    text.highlight_regex(_KEYWORDS, "bold blue")
    text.highlight_regex(r"\b\d+(?:\.\d+)?\b", "cyan")
    text.highlight_regex(r"'(?:[^']|'')*'", "green")
    return Panel(text, title=title, title_align="left", border_style="blue")


def result_table(result: Result, max_shown: int = MAX_SHOWN_ROWS) -> Any:
    """The rows as a rich Table (numbers right-aligned), with a note when rows are hidden."""
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=False, header_style="bold", row_styles=["", "dim"] if len(result.rows) > 8 else None)
    plain = [is_label_name(name) for name, _ in result.columns]  # years and ids read 2024, not 2,024
    for name, ctype in result.columns:
        table.add_column(Text(terminal_safe(name)), justify="right" if is_numeric_type(ctype) else "left")
    for row in result.rows[:max_shown]:
        table.add_row(*(Text(terminal_safe(format_cell(v, p))) for v, p in zip(row, plain, strict=False)))
    hidden = len(result.rows) - max_shown
    if hidden > 0 or result.truncated:
        more = f"{hidden:,} more rows" if hidden > 0 else ""
        if result.truncated:
            more = (more + " and more beyond the row cap") if more else "more rows beyond the row cap"
        table.caption = more
    return table


def sql_run_view(run: SqlRun, check_only: bool) -> Any:
    """The view of `nl2sql sql`: the SQL as it ran, the table, and warnings."""
    from rich.console import Group
    parts: list[Any] = [sql_panel(run.sql.strip().rstrip(";"))]  # as written; the row cap is the guard's
    if check_only:
        tables = ", ".join(run.guarded.tables) or "no tables"
        parts.append(f"[green]✓ The guard accepts this query[/] (reads {markup(tables)}).")
        return Group(*parts)
    if run.result is not None:
        parts.append(result_table(run.result))
        parts.append(f"[dim]{run.result.row_count:,} row(s) in {run.timings_ms.get('total', 0):.0f} ms[/]")
    for warning in run.warnings:
        parts.append(f"[yellow]⚠ {markup(warning)}[/]")
    return Group(*parts)


def answer_view(answer: Answer) -> Any:
    """The view of `nl2sql ask`: SQL, table, narration, assumptions, warnings and a footer."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    parts: list[Any] = [Text(terminal_safe(answer.question), style="bold")]
    parts.append(sql_panel(answer.sql))
    parts.append(result_table(answer.result))
    if answer.narration:
        parts.append(Panel(Text(terminal_safe(answer.narration)), title="Answer", title_align="left",
                           border_style="green"))
    for assumption in answer.assumptions:
        parts.append(f"[cyan]• Assumption:[/] {markup(assumption)}")
    for warning in answer.warnings:
        parts.append(f"[yellow]⚠ {markup(warning)}[/]")
    usage = answer.usage
    cost = f" · ${usage.cost_usd:.4f}" if usage.cost_usd else ""
    cached = " · cached" if usage.calls and usage.cached_calls == usage.calls else ""
    repairs = f" · {answer.repairs} repair(s)" if answer.repairs else ""
    model = f" ({answer.model})" if answer.model else ""
    parts.append(f"[dim]{markup(answer.backend + model)} · {usage.input_tokens:,} in / {usage.output_tokens:,} out "
                 f"tokens{cost}{cached}{repairs} · {answer.timings_ms.get('total', 0):,.0f} ms[/]")
    return Group(*parts)


def history_table(rows: list[dict[str, Any]]) -> Any:
    """Recent audit-log entries as a table."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="nl2sql history", title_justify="left")
    for name in ("id", "time", "question", "backend", "verdict", "rows", "tokens", "cost"):
        table.add_column(name, justify="right" if name in ("id", "rows", "tokens", "cost") else "left")
    for r in rows:
        table.add_row(str(r["id"]), r["ts"][:19], Text(terminal_safe((r.get("question") or "")[:60])),
                      terminal_safe(f"{r.get('backend') or ''} {r.get('model') or ''}".strip()), r.get("verdict") or "",
                      "" if r.get("row_count") is None else f"{r['row_count']:,}",
                      f"{(r.get('input_tokens') or 0) + (r.get('output_tokens') or 0):,}",
                      f"${r.get('cost_usd') or 0:.4f}")
    return table


def usage_table(rows: list[dict[str, Any]]) -> Any:
    """Tokens and cost per day and model."""
    from rich.table import Table

    table = Table(title="nl2sql usage", title_justify="left")
    for name in ("day", "model", "asks", "input tokens", "output tokens", "cost"):
        table.add_column(name, justify="left" if name in ("day", "model") else "right")
    for r in rows:
        table.add_row(r["day"], terminal_safe(r["model"]), f"{r['asks']:,}", f"{r['input_tokens'] or 0:,}",
                      f"{r['output_tokens'] or 0:,}", f"${r['cost_usd'] or 0:.4f}")
    return table


def eval_view(summary: dict[str, dict[str, Any]], diffs: list[dict[str, Any]]) -> Any:
    """The eval report: one column per configuration, a table by category, then differences."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    names = list(summary)
    main = Table(title="nl2sql eval", title_justify="left")
    main.add_column("metric")
    for name in names:
        main.add_column(name, justify="right")

    def row(label: str, fn: Any) -> None:
        main.add_row(label, *(fn(summary[n]) for n in names))

    row("questions", lambda s: f"{s['questions']:,}")
    row("accuracy", lambda s: f"{s['accuracy']:.1%} ({s['correct']})")
    row("precision (correct / answered)", lambda s: f"{s['precision']:.1%}")
    row("coverage (answered)", lambda s: f"{s['coverage']:.1%} ({s['answered']})")
    row("refusals (correct)", lambda s: f"{s['refusals']} ({s['correct_refusals']})")
    row("errors", lambda s: ", ".join(f"{k} {v}" for k, v in sorted(s["errors"].items())) or "0")
    row("repairs used", lambda s: str(s["repairs"]))
    row("tokens in / out", lambda s: f"{s['input_tokens']:,} / {s['output_tokens']:,}")
    row("cost", lambda s: f"${s['cost_usd']:.4f}")
    row("latency median / p95", lambda s: f"{s['median_seconds']:.2f} s / {s['p95_seconds']:.2f} s")
    cats = Table(title="by category (correct / questions)", title_justify="left")
    cats.add_column("category")
    for name in names:
        cats.add_column(name, justify="right")
    for cat in sorted({c for s in summary.values() for c in s["by_category"]}):
        cells = []
        for n in names:
            c = summary[n]["by_category"].get(cat, {"n": 0, "correct": 0})
            cells.append(f"{c['correct']}/{c['n']} ({c['correct'] / c['n']:.0%})" if c["n"] else "-")
        cats.add_row(cat, *cells)
    parts: list[Any] = [main, cats]
    if diffs:
        d = Table(title=f"differences vs {names[0]}", title_justify="left")
        d.add_column("line", justify="right")
        d.add_column("question")
        for n in names[1:]:
            d.add_column(n)
        for item in diffs[:50]:
            d.add_row(str(item["line"]), Text(terminal_safe(item["question"][:70])),
                      *(item["change"][n] for n in names[1:]))
        parts.append(d)
    return Group(*parts)


def receipts_view(answer: Answer) -> Any:
    """`--explain`: how the answer was made, and each number of the narration with its source."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[Any] = []
    by = {"model": "the model (every number checked against the result)",
          "computed": "nl2sql, computed from the rows"}.get(answer.narrated_by or "", "nobody")
    parts.append(Text.assemble(("Narration written by ", "bold"), by))
    if answer.reading:
        parts.append(Text.assemble(("Reading: ", "bold"), terminal_safe(answer.reading)))
    elif answer.explanation:
        parts.append(Text.assemble(("SQL: ", "bold"), terminal_safe(answer.explanation)))
    for note in answer.notes:
        parts.append(f"[dim]• {markup(note)}[/]")
    table = Table(title="Receipts", title_justify="left", header_style="bold")
    table.add_column("claim", justify="right")
    table.add_column("comes from")
    for r in answer.receipts:
        source = Text(terminal_safe(r.source)) if r.source else Text("not supported by the result", "red")
        table.add_row(Text(terminal_safe(r.claim)), source)
    parts.append(table if answer.receipts else Text("The narration states no numbers.", style="dim"))
    if answer.chart:
        spec = answer.chart
        parts.append(Text(terminal_safe(f"Chart: {spec.type} of {', '.join(spec.y)} by {spec.x}"
                                        + (f", one series per {spec.series}" if spec.series else "")), style="dim"))
    return Group(*parts)
