"""`nl2sql ask`: one question from the shell; a rich view, JSON, rows as a file, a chart."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nl2sql.cli import options
from nl2sql.cli.app import handle_errors, open_workspace, print_json, stderr_console, stdout_console, sub_app, warn

if TYPE_CHECKING:
    from nl2sql.jobs.ask import Answer

ask_app = sub_app("Answer a question about your data.")
FORMATS = ("csv", "json", "markdown")


@ask_app.command("ask")
@handle_errors
def ask_cmd(
    question: Annotated[str, typer.Argument(help="Your question, in plain language (English or Chinese).")],
    db: options.Db = None,
    schema_file: options.Schema = None,
    schemas_dir: options.SchemasDir = None,
    as_json: options.Json = False,
    backend: options.Backend = None,
    model: options.Model = None,
    base_url: options.BaseUrl = None,
    prompts_dir: options.PromptsDir = None,
    sql_only: Annotated[bool, typer.Option("--sql-only", help="Print the (guarded) SQL without running it.")] = False,
    fmt: Annotated[str | None, typer.Option("--format", help="Write the rows as csv, json or markdown.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the rows (or --json) to FILE.")] = None,
    max_repairs: Annotated[int | None, typer.Option("--max-repairs", help="SQL repair rounds (default: 2).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not reuse cached model replies.")] = False,
    budget: Annotated[float | None, typer.Option("--budget", help="Refuse if the estimate exceeds USD.")] = None,
    privacy: options.Privacy = None,
    instructions: Annotated[str | None, typer.Option("--instructions", help="Extra guidance for this question.")]
    = None,
    as_of: options.AsOf = None,
    timeout: options.Timeout = None,
    max_rows: options.MaxRows = None,
    memory_limit: options.MemoryLimit = None,
    chart: Annotated[Path | None, typer.Option("--chart", help="Draw the chart to FILE (.png or .svg).")] = None,
    chart_type: Annotated[str | None, typer.Option("--chart-type", help="bar, barh, line, area, scatter, pie or "
                                                   "histogram (overrides the chosen type).")] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show the receipts: where each number of the "
                                          "answer comes from.")] = False,
    feedback: Annotated[str | None, typer.Option("--feedback", help="good: store this answer as a verified "
                                                 "example; bad: mark it wrong (for scripts).")] = None,
) -> None:
    """Answer a question about your data: SQL, table, a grounded answer and a chart."""
    from nl2sql.core.text import check_question

    fmt = check_output_options(fmt, output, as_json)
    check_chart_options(chart, chart_type)
    check_feedback_option(feedback, sql_only)
    question = check_question(question)
    flags = {"db": db, "schema": schema_file, "schemas_dir": schemas_dir, "backend": backend, "model": model,
             "base_url": base_url, "prompts_dir": prompts_dir, "max_repairs": max_repairs,
             "cache": False if no_cache else None, "budget": budget, "privacy": privacy, "timeout": timeout,
             "max_rows": max_rows, "memory_limit": memory_limit, "as_of": as_of}
    with open_workspace(flags, warm=not sql_only) as workspace:
        answer = workspace.ask(question, instructions=instructions, chart_type=chart_type, sql_only=sql_only)
        if feedback == "good" and answer.history_id is not None:
            workspace.feedback_good(answer.history_id)
        elif feedback == "bad" and answer.history_id is not None:
            workspace.feedback_bad(answer.history_id)
    warn(workspace.problems)
    if sql_only:
        print_json(answer.to_dict()) if as_json else print(answer.sql)
        return
    show_answer(answer, as_json, fmt, output, explain)
    if chart is not None:
        draw_chart(answer, chart, quiet=as_json)


def check_output_options(fmt: str | None, output: Path | None, as_json: bool) -> str | None:
    """The rows' format: --format, else told by the --output file name; refused before any work."""
    from nl2sql.core.errors import UsageError, did_you_mean

    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"Unknown --format {fmt!r}.", hint=did_you_mean(fmt, FORMATS) or "Use csv, json or markdown.")
    if fmt is None and output is not None and not as_json:
        fmt = {".csv": "csv", ".json": "json", ".md": "markdown"}.get(output.suffix.lower())
        if fmt is None:
            raise UsageError(f"Cannot tell the format of {output.name}.", hint="Pass --format csv|json|markdown.")
    if output is not None and not output.parent.exists():
        raise UsageError(f"The folder {output.parent} does not exist.", hint="Create it, or pick another path.")
    return fmt


def check_feedback_option(feedback: str | None, sql_only: bool) -> None:
    """--feedback is good or bad, and needs an answer that ran."""
    from nl2sql.core.errors import UsageError, did_you_mean

    if feedback is not None and feedback not in ("good", "bad"):
        raise UsageError(f"Unknown --feedback {feedback!r}.", hint=did_you_mean(feedback, ("good", "bad"))
                         or "Use --feedback good or --feedback bad.")
    if feedback is not None and sql_only:
        raise UsageError("--feedback needs an answer that ran; --sql-only runs nothing.")


def check_chart_options(chart: Path | None, chart_type: str | None) -> None:
    """Refuse a bad --chart file name or --chart-type before any work is done."""
    from nl2sql.answer.charts import CHART_TYPES, ChartError, chart_format
    from nl2sql.core.errors import UsageError, did_you_mean

    if chart_type is not None and chart_type not in CHART_TYPES:
        raise UsageError(f"Unknown chart type {chart_type!r}.",
                         hint=did_you_mean(chart_type, CHART_TYPES) or f"Use one of {', '.join(CHART_TYPES)}.")
    if chart is not None:
        try:
            chart_format(chart)
        except ChartError as exc:
            raise UsageError(str(exc)[0].upper() + str(exc)[1:] + ".", hint="e.g. --chart revenue.png") from None
        if not chart.parent.exists():
            raise UsageError(f"The folder {chart.parent} does not exist.", hint="Create it, or pick another path.")


def draw_chart(answer: Answer, path: Path, quiet: bool = False) -> None:
    """Draw the answer's chart to `path`; a result no chart suits is an error after the answer is shown."""
    from nl2sql.answer.charts import ChartError
    from nl2sql.answer.draw import render
    from nl2sql.core.errors import UsageError

    if answer.chart is None:
        raise UsageError("No chart suits this result (it needs at least two rows and a numeric column).",
                         hint="Ask for a breakdown (e.g. 'by month'), or pass --chart-type.")
    try:
        render(answer.chart, answer.result.columns, answer.result.rows, path)
    except ChartError as exc:
        raise UsageError(f"The chart could not be drawn: {exc}.") from None
    if not quiet:
        stderr_console().print(f"Chart written to {path}")


def show_answer(answer: Answer, as_json: bool, fmt: str | None, output: Path | None, explain: bool = False) -> None:
    """The answer as a rich view, JSON, or rows in `fmt` (on stdout or to `output`)."""
    if as_json or fmt:
        from nl2sql.answer.export import rows_as

        text = rows_as(fmt, answer.result) if fmt and not as_json else None
        if text is None:
            import json

            text = json.dumps(answer.to_dict(), ensure_ascii=False, default=str)
        text += "" if text.endswith("\n") else "\n"
        if output is None:
            sys.stdout.write(text)
            return
        from nl2sql.core.files import write_atomic

        write_atomic(output, text)
        if not as_json:
            stderr_console().print(f"Wrote {answer.result.row_count:,} rows to {output}")
        return
    from nl2sql.cli.views import answer_view, receipts_view

    console = stdout_console()
    console.print(answer_view(answer))
    if explain:
        console.print(receipts_view(answer))
