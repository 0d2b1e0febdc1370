"""The command-line interface: the only place that turns errors into messages and exit codes.

Heavy libraries (duckdb, matplotlib, openai, sqlglot) are imported inside the commands that
need them, so `nl2sql --help` starts fast.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from nl2sql import __version__
from nl2sql.errors import Nl2SqlError

if TYPE_CHECKING:
    from nl2sql.catalog import Catalog
    from nl2sql.config import Settings

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="nl2sql",
    help="Ask questions about your data in plain language: proven read-only SQL, the table, "
    "a grounded answer and a chart.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
schema_app = typer.Typer(help="Inspect the data: tables, columns, relationships and metrics.",
                         invoke_without_command=True, no_args_is_help=False)
app.add_typer(schema_app, name="schema")

DbOpt = Annotated[str | None, typer.Option("--db", help="DuckDB file, CSV/Parquet/JSON file or glob, "
                                           "or a folder of them. Default: the bundled shop data.")]
SchemaOpt = Annotated[str | None, typer.Option("--schema", help="Annotation YAML (semantic layer). "
                                               "Default: schemas/<db name>.yaml when present.")]
SchemasDirOpt = Annotated[str | None, typer.Option("--schemas-dir", help="Where to look for schemas/<name>.yaml.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a rich view.")]


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)  # no wrapping inside paths


def _stdout_console() -> Any:
    from rich.console import Console

    return Console(highlight=False)


def report_error(err: Nl2SqlError, as_json: bool) -> None:
    """Print an error for a person (stderr) or as the DESIGN §5 JSON object (stdout)."""
    if as_json:
        print(json.dumps({"error": err.to_dict()}, ensure_ascii=False))
        return
    from rich.markup import escape

    console = _stderr_console()
    console.print(f"[bold red]Error:[/] {escape(err.message)}")
    if err.hint:
        console.print(f"[dim]Hint:[/] {escape(err.hint)}")


def handle_errors(fn: F) -> F:
    """Map Nl2SqlError to a message and its exit code; never show a traceback for user errors."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = bool(kwargs.get("as_json"))
        try:
            return fn(*args, **kwargs)
        except Nl2SqlError as err:
            report_error(err, as_json)
            raise typer.Exit(err.exit_code) from None
        except KeyboardInterrupt:
            _stderr_console().print("Interrupted.")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:  # a bug: say so briefly; NL2SQL_DEBUG=1 shows the traceback
            if os.environ.get("NL2SQL_DEBUG"):
                raise
            err = Nl2SqlError(f"Internal error: {type(exc).__name__}: {str(exc)[:300]}",
                              hint="This is a bug in nl2sql. Re-run with NL2SQL_DEBUG=1 for details "
                              "and report it.")
            report_error(err, as_json)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        print(f"nl2sql {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """nl2sql: plain-language questions in, proven read-only SQL and grounded answers out."""


def load(flags: dict[str, Any]) -> Settings:
    """Effective settings with the flags a user passed on top."""
    from nl2sql.config import load_settings

    return load_settings({k: v for k, v in flags.items() if v is not None})


def open_catalog(settings: Settings) -> Catalog:
    """Resolve the data source and build its catalog (profiles cached in the home dir)."""
    from nl2sql.annotations import find_annotation_file
    from nl2sql.catalog import build_catalog
    from nl2sql.datasource import resolve

    source = resolve(settings.db)
    annotation = find_annotation_file(source.name, settings.schema, settings.schemas_dir)
    return build_catalog(source, annotation, settings.home_dir)


@schema_app.callback()
@handle_errors
def schema(
    ctx: typer.Context,
    db: DbOpt = None,
    schema_file: SchemaOpt = None,
    schemas_dir: SchemasDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show tables, columns, types, descriptions, relationships and metrics."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = {"db": db, "schema": schema_file, "schemas_dir": schemas_dir}
        return
    catalog = open_catalog(load({"db": db, "schema": schema_file, "schemas_dir": schemas_dir}))
    if as_json:
        print(json.dumps(catalog.to_dict(), ensure_ascii=False, default=str))
        return
    from nl2sql.render import catalog_tree

    _stdout_console().print(catalog_tree(catalog))


@schema_app.command("init")
@handle_errors
def schema_init(
    ctx: typer.Context,
    db: DbOpt = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file "
                                                "instead of printing.")] = None,
) -> None:
    """Print a YAML annotation skeleton pre-filled from the data."""
    from nl2sql.annotations import skeleton
    from nl2sql.catalog import build_catalog
    from nl2sql.datasource import resolve
    from nl2sql.errors import UsageError

    parent = ctx.obj or {}
    settings = load({"db": db or parent.get("db")})
    text = skeleton(build_catalog(resolve(settings.db), None, settings.home_dir))
    if output is None:
        sys.stdout.write(text)
        return
    if output.exists():
        raise UsageError(f"{output} already exists; not overwriting it.", hint="Choose another --output path.")
    output.write_text(text, encoding="utf-8")
    _stderr_console().print(f"Wrote {output}")


@app.command("sql")
@handle_errors
def sql_cmd(
    query: Annotated[str, typer.Argument(help="The SQL to run, or - to read it from stdin.")],
    db: DbOpt = None,
    schema_file: SchemaOpt = None,
    schemas_dir: SchemasDirOpt = None,
    as_json: JsonOpt = False,
    check: Annotated[bool, typer.Option("--check", help="Validate with the guard only; do not run.")] = False,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds the query may run [30].")] = None,
    max_rows: Annotated[int | None, typer.Option("--max-rows", help="Row cap [1000].")] = None,
    memory_limit: Annotated[str | None, typer.Option("--memory-limit", help="DuckDB memory limit [1GB].")] = None,
) -> None:
    """Run your own SQL through the same guard and sandbox as generated SQL."""
    from nl2sql.errors import UsageError
    from nl2sql.pipeline import run_sql
    from nl2sql.sandbox import Sandbox, limits_from

    if query == "-":
        query = sys.stdin.read()
    if not query.strip():
        raise UsageError("No SQL given.", hint='Pass a query: nl2sql sql "SELECT ..."')
    settings = load({"db": db, "schema": schema_file, "schemas_dir": schemas_dir, "timeout": timeout,
                     "max_rows": max_rows, "memory_limit": memory_limit})
    limits = limits_from(settings)
    if check:
        run = run_sql(query, open_catalog(settings), None, limits.max_rows)
    else:
        from nl2sql.datasource import resolve

        with Sandbox(resolve(settings.db), limits) as sandbox:  # warms up while the catalog loads
            run = run_sql(query, open_catalog(settings), sandbox, limits.max_rows)
    if as_json:
        data = run.to_dict()
        if check:
            data = {"sql": data["sql"], "valid": True, "tables": list(run.guarded.tables)}
        print(json.dumps(data, ensure_ascii=False, default=str))
        return
    from nl2sql.render import sql_run_view

    _stdout_console().print(sql_run_view(run, check))


FORMATS = ("csv", "json", "markdown")


@app.command("ask")
@handle_errors
def ask_cmd(
    question: Annotated[str, typer.Argument(help="Your question, in plain language (English or Chinese).")],
    db: DbOpt = None,
    schema_file: SchemaOpt = None,
    schemas_dir: SchemasDirOpt = None,
    as_json: JsonOpt = False,
    backend: Annotated[str | None, typer.Option("--backend", help="openai, offline or auto [auto].")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Model name [gpt-4o-mini].")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint.")] = None,
    prompts_dir: Annotated[str | None, typer.Option("--prompts-dir", help="Override the prompt templates.")] = None,
    sql_only: Annotated[bool, typer.Option("--sql-only", help="Print the (guarded) SQL without running it.")] = False,
    fmt: Annotated[str | None, typer.Option("--format", help="Write the rows as csv, json or markdown.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the rows (or --json) to FILE.")] = None,
    max_repairs: Annotated[int | None, typer.Option("--max-repairs", help="SQL repair rounds [2].")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not reuse cached model replies.")] = False,
    budget: Annotated[float | None, typer.Option("--budget", help="Refuse if the estimate exceeds USD.")] = None,
    privacy: Annotated[str | None, typer.Option("--privacy", help="schema, stats or rows [rows].")] = None,
    instructions: Annotated[str | None, typer.Option("--instructions", help="Extra guidance for this question.")]
    = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date that 'last week', 'this year' count from "
                                              "(default: the data's latest date).")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds the query may run [30].")] = None,
    max_rows: Annotated[int | None, typer.Option("--max-rows", help="Row cap [1000].")] = None,
    memory_limit: Annotated[str | None, typer.Option("--memory-limit", help="DuckDB memory limit [1GB].")] = None,
    chart: Annotated[Path | None, typer.Option("--chart", help="Draw the chart to FILE (.png or .svg).")] = None,
    chart_type: Annotated[str | None, typer.Option("--chart-type", help="bar, barh, line, area, scatter, pie or "
                                                   "histogram (overrides the chosen type).")] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Show the receipts: where each number of the "
                                          "answer comes from.")] = False,
) -> None:
    """Answer a question about your data: SQL, table, a grounded answer and a chart."""
    from nl2sql.datasource import resolve
    from nl2sql.errors import UsageError
    from nl2sql.pipeline import check_question
    from nl2sql.sandbox import Sandbox, limits_from

    if fmt is not None and fmt not in FORMATS:
        from nl2sql.errors import did_you_mean

        raise UsageError(f"Unknown --format {fmt!r}.", hint=did_you_mean(fmt, FORMATS) or "Use csv, json or markdown.")
    check_chart_options(chart, chart_type)
    check_question(question)
    settings = load({"db": db, "schema": schema_file, "schemas_dir": schemas_dir, "backend": backend,
                     "model": model, "base_url": base_url, "prompts_dir": prompts_dir, "max_repairs": max_repairs,
                     "cache": False if no_cache else None, "budget": budget, "privacy": privacy,
                     "timeout": timeout, "max_rows": max_rows, "memory_limit": memory_limit, "as_of": as_of})
    limits = limits_from(settings)
    source = resolve(settings.db)
    sandbox = Sandbox(source, limits)
    if not sql_only:
        sandbox.launch()  # the worker loads the data while we build context and call the model
    try:
        answer = _answer(question, settings, sandbox if not sql_only else None, instructions, chart_type)
    finally:
        sandbox.close()
    if as_json and sql_only:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, default=str))
        return
    if sql_only:
        print(answer.sql)
        return
    _show_answer(answer, as_json, fmt, output, explain)
    if chart is not None:
        draw_chart(answer, chart, quiet=as_json)


def check_chart_options(chart: Path | None, chart_type: str | None) -> None:
    """Refuse a bad --chart file name or --chart-type before any work is done."""
    from nl2sql.charts import CHART_TYPES, ChartError, chart_format
    from nl2sql.errors import UsageError, did_you_mean

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


def draw_chart(answer: Any, path: Path, quiet: bool = False) -> None:
    """Draw the answer's chart to `path`; a result no chart suits is an error after the answer is shown."""
    from nl2sql.charts import ChartError, render
    from nl2sql.errors import UsageError

    if answer.chart is None:
        raise UsageError("No chart suits this result (it needs at least two rows and a numeric column).",
                         hint="Ask for a breakdown (e.g. 'by month'), or pass --chart-type.")
    try:
        render(answer.chart, answer.result.columns, answer.result.rows, path)
    except ChartError as exc:
        raise UsageError(f"The chart could not be drawn: {exc}.") from None
    if not quiet:
        _stderr_console().print(f"Chart written to {path}")


def _answer(question: str, settings: Settings, sandbox: Any, instructions: str | None,
            chart_type: str | None = None) -> Any:
    from nl2sql.backends import as_of_date, make_backend
    from nl2sql.log import AuditLog
    from nl2sql.pipeline import AskOptions, ask

    catalog = open_catalog(settings)
    engine = make_backend(settings, catalog)
    options = AskOptions(max_rows=settings.max_rows, max_repairs=settings.max_repairs, privacy=settings.privacy,
                         instructions=instructions, budget_usd=settings.budget, max_tokens=settings.max_tokens,
                         moderation=settings.moderation, prices=settings.prices, chart_type=chart_type,
                         as_of=str(as_of_date(settings)) if settings.as_of else None)
    audit = AuditLog(settings.home_dir / "history.sqlite")
    return ask(question, catalog=catalog, backend=engine, sandbox=sandbox, options=options, audit=audit)


def _show_answer(answer: Any, as_json: bool, fmt: str | None, output: Path | None, explain: bool = False) -> None:
    from nl2sql.errors import UsageError

    if fmt is None and output is not None and not as_json:
        fmt = {".csv": "csv", ".json": "json", ".md": "markdown"}.get(output.suffix.lower())
        if fmt is None:
            raise UsageError(f"Cannot tell the format of {output.name}.", hint="Pass --format csv|json|markdown.")
    if as_json or fmt:
        from nl2sql.export import rows_as

        text = json.dumps(answer.to_dict(), ensure_ascii=False, default=str) if as_json else rows_as(fmt, answer.result)
        if output is not None:
            from nl2sql.catalog import write_atomic

            write_atomic(output, text + ("" if text.endswith("\n") else "\n"))
            if not as_json:
                _stderr_console().print(f"Wrote {answer.result.row_count:,} rows to {output}")
        else:
            sys.stdout.write(text + ("" if text.endswith("\n") else "\n"))
        return
    from nl2sql.render import answer_view, receipts_view

    console = _stdout_console()
    console.print(answer_view(answer))
    if explain:
        console.print(receipts_view(answer))


@app.command("history")
@handle_errors
def history_cmd(
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many entries.")] = 20,
    usage: Annotated[bool, typer.Option("--usage", help="Tokens and cost per day and model.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The audit log: recent questions with their SQL, verdict, tokens and cost."""
    from nl2sql.log import AuditLog

    audit = AuditLog(load({}).home_dir / "history.sqlite")
    rows = audit.usage() if usage else audit.recent(limit)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, default=str))
        return
    from nl2sql.render import history_table, usage_table

    _stdout_console().print(usage_table(rows) if usage else history_table(rows))


cache_app = typer.Typer(help="The cache of model replies.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


@cache_app.command("clear")
@handle_errors
def cache_clear() -> None:
    """Delete every cached model reply."""
    from nl2sql.cache import ResponseCache

    count = ResponseCache(load({}).home_dir / "cache").clear()
    _stderr_console().print(f"Removed {count} cached repl{'y' if count == 1 else 'ies'}.")


@app.command("eval")
@handle_errors
def eval_cmd(
    file: Annotated[Path, typer.Argument(help="Questions, one JSON object per line (sql-eval format).")],
    db: Annotated[Path, typer.Option("--db", help="A database file, or a folder of <db>.duckdb files.")],
    backends: Annotated[list[str] | None, typer.Option("--backend", help="openai, offline or gold (the gold SQL "
                                                        "itself, to check the harness); repeat to compare.")] = None,
    variants: Annotated[list[str] | None, typer.Option("--variant", help="NAME=PROMPTS_DIR: a prompt variant to "
                                                        "compare; repeatable.")] = None,
    output: Annotated[Path | None, typer.Option("--output", help="Write one JSON line per question.")] = None,
    as_json: JsonOpt = False,
    fail_under: Annotated[float | None, typer.Option("--fail-under", help="Exit 1 if accuracy is below this.")]
    = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Only the first N questions.")] = None,
    category: Annotated[str | None, typer.Option("--category", help="Only questions of this category.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", help="Questions in parallel (model backends).")] = 1,
    model: Annotated[str | None, typer.Option("--model", help="Model name.")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint.")] = None,
    schema_file: SchemaOpt = None,
    schemas_dir: SchemasDirOpt = None,
) -> None:
    """Execution accuracy, refusals, cost and latency on a question set; A/B of prompts and backends."""
    from nl2sql.errors import UsageError
    from nl2sql.evaluate import EvalConfig, GoldBackend, differences, load_questions, run_eval, summarize_results

    items = load_questions(file)
    if category:
        items = [i for i in items if i.category == category]
    if limit is not None:
        items = items[:limit]
    if not items:
        raise UsageError("No questions left after --category/--limit.")
    if not db.exists():
        raise UsageError(f"No such database or folder: {db}.", hint="Pass --db a .duckdb file or a folder of them.")
    if jobs < 1 or jobs > 32:
        raise UsageError("--jobs must be between 1 and 32.")
    settings = load({"model": model, "base_url": base_url})
    configs: list[EvalConfig] = []
    for name in backends or [settings.backend]:
        if name == "gold":
            configs.append(EvalConfig("gold", lambda catalog: GoldBackend(items)))
            continue
        for variant in variants or [""]:
            label, _, prompts = variant.partition("=")
            if variant and not prompts:
                raise UsageError(f"--variant {variant!r} must look like NAME=PROMPTS_DIR.")
            cfg = load({"model": model, "base_url": base_url, "backend": name, "prompts_dir": prompts or None})

            def make(catalog: Any, cfg: Any = cfg) -> Any:
                from nl2sql.backends import make_backend

                return make_backend(cfg, catalog)

            configs.append(EvalConfig(f"{name}:{label}" if label else name, make))
    total = len(items) * len(configs)
    from rich.progress import Progress

    show = sys.stderr.isatty() and not as_json
    with Progress(transient=True, disable=not show, console=_stderr_console()) as bar:
        task = bar.add_task("evaluating", total=total)
        results = run_eval(items, configs, db, jobs=jobs, schema=schema_file, schemas_dir=schemas_dir,
                           progress=lambda _r: bar.advance(task))
    summary = {name: summarize_results(rs) for name, rs in results.items()}
    if output is not None:
        from nl2sql.catalog import write_atomic

        write_atomic(output, "".join(json.dumps(r.to_dict(), ensure_ascii=False, default=str) + "\n"
                                     for rs in results.values() for r in rs))
    diffs = differences(results)
    if as_json:
        print(json.dumps({"summary": summary, "differences": diffs}, ensure_ascii=False, default=str))
    else:
        from nl2sql.render import eval_view

        _stdout_console().print(eval_view(summary, diffs))
    if fail_under is not None and any(s["accuracy"] < fail_under for s in summary.values()):
        worst = min(s["accuracy"] for s in summary.values())
        if not as_json:
            _stderr_console().print(f"[red]Accuracy {worst:.1%} is below --fail-under {fail_under:.1%}.[/]")
        raise typer.Exit(1)


@app.command("chat")
@handle_errors
def chat_cmd(
    session_id: Annotated[str | None, typer.Argument(help="With --resume: the chat to continue (an id or "
                                                     "its prefix); default: the latest.", show_default=False,
                                                     metavar="ID")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue a saved chat (the latest, or ID).")] = False,
    list_: Annotated[bool, typer.Option("--list", help="List the saved chats.")] = False,
    db: DbOpt = None,
    schema_file: SchemaOpt = None,
    schemas_dir: SchemasDirOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Read one turn per line from stdin; print one JSON "
                                          "object per turn (JSON Lines).")] = False,
    backend: Annotated[str | None, typer.Option("--backend", help="openai, offline or auto [auto].")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Model name [gpt-4o-mini].")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint.")] = None,
    privacy: Annotated[str | None, typer.Option("--privacy", help="schema, stats or rows [rows].")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date that 'last week' counts from.")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", help="Seconds a query may run [30].")] = None,
    max_rows: Annotated[int | None, typer.Option("--max-rows", help="Row cap [1000].")] = None,
) -> None:
    """Ask follow-up questions about a result: each answer is kept as a view r1, r2, … and the chat
    is saved after every turn. Type /help inside for the commands."""
    from nl2sql.errors import UsageError

    settings = load({"db": db, "schema": schema_file, "schemas_dir": schemas_dir, "backend": backend,
                     "model": model, "base_url": base_url, "privacy": privacy, "as_of": as_of, "timeout": timeout,
                     "max_rows": max_rows})
    if list_:
        _chat_list(settings, as_json)
        return
    if session_id is not None and not resume:
        raise UsageError(f"Unexpected argument {session_id!r}.",
                         hint=f"To continue a saved chat: nl2sql chat --resume {session_id}")
    _chat_run(settings, resume, session_id, as_json)


def _chat_list(settings: Settings, as_json: bool) -> None:
    from nl2sql.session import list_sessions

    sessions = list_sessions(settings.home_dir)
    if as_json:
        print(json.dumps([{"id": s.id, "created": s.created, "db": s.db, "backend": s.backend,
                           "turns": len(s.turns), "last": s.turns[-1].text if s.turns else None}
                          for s in sessions], ensure_ascii=False))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title="saved chats (nl2sql chat --resume ID)", title_justify="left")
    for col in ("id", "started", "data", "turns", "last question"):
        table.add_column(col, justify="right" if col == "turns" else "left")
    for s in sessions:
        table.add_row(s.id, s.created.replace("T", " "), Text(s.db or "shop (bundled)"), str(len(s.turns)),
                      Text((s.turns[-1].text if s.turns else "")[:60]))
    _stdout_console().print(table if sessions else "No saved chats yet. Start one with `nl2sql chat`.")


def _chat_run(settings: Settings, resume: bool, session_id: str | None, as_json: bool) -> None:
    import dataclasses

    from nl2sql.backends import as_of_date, make_backend
    from nl2sql.datasource import resolve
    from nl2sql.log import AuditLog
    from nl2sql.pipeline import AskOptions
    from nl2sql.repl import Repl, lines, loop
    from nl2sql.sandbox import Sandbox, limits_from
    from nl2sql.session import Chat, find_session, new_session

    session = find_session(settings.home_dir, session_id) if resume else None
    if session is not None and session.db != settings.db and settings.db is None:
        settings = dataclasses.replace(settings, db=session.db)  # a resumed chat reads the data it was about
    catalog = open_catalog(settings)
    engine = make_backend(settings, catalog)
    if session is None:
        session = new_session(settings.home_dir, settings.db, engine.name)
    options = AskOptions(max_rows=settings.max_rows, max_repairs=settings.max_repairs, privacy=settings.privacy,
                         max_tokens=settings.max_tokens, prices=settings.prices, moderation=settings.moderation,
                         as_of=str(as_of_date(settings)) if settings.as_of else None)
    interactive = sys.stdin.isatty() and not as_json
    console = _stdout_console()
    with Sandbox(resolve(settings.db), limits_from(settings)) as sandbox:
        chat = Chat(session, catalog, engine, sandbox, options, AuditLog(settings.home_dir / "history.sqlite"))
        chat.replay()
        repl = Repl(chat, as_json=as_json, interactive=interactive, console=console, err_console=_stderr_console())
        if interactive:
            what = f"Resumed chat {session.id} ({len(session.turns)} turns)" if resume else f"Chat {session.id}"
            console.print(f"[bold]{what}[/] on {catalog.name} · {engine.name} · /help for commands, /quit to leave")
            if resume and session.turns:
                repl.cmd_history("")
        loop(repl, lines(interactive, settings.home_dir / "chat_history"))
    if not as_json and interactive:
        console.print(f"[dim]Saved as {session.id}; continue with: nl2sql chat --resume {session.id}[/]")
    if repl.failures and not interactive:
        raise typer.Exit(1)


@app.command("report")
@handle_errors
def report_cmd(
    config: Annotated[str, typer.Argument(help="The report config (YAML); or `pin` followed by the config.",
                                          metavar="CONFIG|pin")],
    pin_target: Annotated[str | None, typer.Argument(help="After `pin`: the config to pin.", show_default=False,
                                                     metavar="[CONFIG]")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The day the report is for: YYYY-MM-DD, today or "
                                              "latest (default: the config's as_of, else latest).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default: the config's output.dir).")] = None,
    formats: Annotated[str | None, typer.Option("--format", help="md, html or md,html (default: the config's "
                                                "formats).")] = None,
    backend: Annotated[str | None, typer.Option("--backend", help="openai, offline or auto.")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
    force: Annotated[bool, typer.Option("--force", help="With `pin`: re-pin sections that already have SQL "
                                        "and a question.")] = False,
) -> None:
    """Render the (weekly) report of a config file to Markdown and self-contained HTML.

    Exit code 0 when every section rendered, 1 when some failed (the rest still render), 2 for a
    config error. `nl2sql report pin CONFIG` writes each question's SQL into the config.
    """
    from nl2sql.errors import UsageError
    from nl2sql.report import FORMATS, load_config, parse_as_of

    pinning = config == "pin"
    if pinning and not pin_target:
        raise UsageError("`nl2sql report pin` needs the config file.", hint="nl2sql report pin weekly.yaml")
    if pin_target and not pinning:
        raise UsageError(f"Unexpected argument {pin_target!r}.", hint="nl2sql report CONFIG  or  nl2sql report pin "
                         "CONFIG")
    cfg = load_config(pin_target if pinning else config)
    if as_of is not None:
        try:
            parse_as_of(as_of)
        except ValueError as exc:
            raise UsageError(f"--as-of: {exc}") from None
    chosen = cfg.formats
    if formats is not None:
        chosen = tuple(dict.fromkeys(f.strip() for f in formats.split(",") if f.strip()))
        if not chosen or any(f not in FORMATS for f in chosen):
            raise UsageError(f"Unknown --format {formats!r}.", hint="Use md, html or md,html.")
    settings = load({"db": db or cfg.database, "schema": cfg.schema if not db else None,
                     "backend": backend or cfg.backend, "max_rows": cfg.max_rows})
    if pinning:
        _report_pin(cfg, settings, as_of, force, as_json)
    else:
        _report_run(cfg, settings, as_of, out, chosen, as_json)


def _report_context(cfg: Any, settings: Settings, as_of: str | None) -> tuple[Any, Any, Any, Any, Any]:
    """(catalog, make_backend, options, as_of date, audit) for a report run or pin."""
    from nl2sql.backends import make_backend
    from nl2sql.log import AuditLog
    from nl2sql.pipeline import AskOptions
    from nl2sql.report import resolve_as_of

    catalog = open_catalog(settings)
    day = resolve_as_of(as_of or cfg.as_of, catalog)
    make_backend(settings, catalog)  # a misconfigured backend is a config error before any section runs
    options = AskOptions(max_rows=settings.max_rows, max_repairs=settings.max_repairs, privacy=settings.privacy,
                         max_tokens=settings.max_tokens, prices=settings.prices, as_of=str(day))

    def backend_factory() -> Any:
        engine = make_backend(settings, catalog)
        if hasattr(engine, "as_of"):
            engine.as_of = day  # relative words in questions count from the report's day
        return engine

    return catalog, backend_factory, options, day, AuditLog(settings.home_dir / "history.sqlite")


def _report_run(cfg: Any, settings: Settings, as_of: str | None, out: Path | None, formats: tuple[str, ...],
                as_json: bool) -> None:
    import time

    from nl2sql.datasource import resolve
    from nl2sql.report import build_report, write_report
    from nl2sql.sandbox import Sandbox, limits_from

    started = time.perf_counter()
    catalog, factory, options, day, audit = _report_context(cfg, settings, as_of)
    console = _stderr_console()
    interactive = sys.stderr.isatty() and not as_json

    def progress(number: int, title: str) -> None:
        if interactive:
            console.print(f"[dim][{number}/{len(cfg.sections)}][/] {title}")

    with Sandbox(resolve(settings.db), limits_from(settings)) as sandbox:
        report = build_report(cfg, catalog, factory, sandbox, options, day, audit=audit, progress=progress)
    files = write_report(report, out or cfg.out_dir, formats, settings.prompts_dir)
    failed = report.failed
    seconds = time.perf_counter() - started
    audit.record(kind="report", question=f"report {cfg.title} ({report.period.label})"[:2000],
                 backend=settings.backend, verdict="failed sections" if failed else "rendered",
                 row_count=len(report.sections), error="; ".join(f"{s.number}. {s.error}" for s in failed)[:1000]
                 or None, timings={"total": seconds * 1000})
    if as_json:
        print(json.dumps({
            "title": cfg.title, "period": {"kind": report.period.kind, "start": str(report.period.start),
                                           "end": str(report.period.end), "label": report.period.label},
            "as_of": str(day), "files": [str(f) for f in files],
            "alerts": [{"section": s.config.title, "alert": a} for s, a in report.alerts],
            "sections": [{"number": s.number, "title": s.config.title, "ok": s.ok, "error": s.error,
                          "sql": s.sql, "alerts": s.alerts} for s in report.sections],
            "seconds": round(seconds, 2)}, ensure_ascii=False))
    else:
        from rich.console import Console
        from rich.markup import escape

        out_console = Console(highlight=False, soft_wrap=True)  # one line per alert, whatever the width

        out_console.print(f"{escape(cfg.title)} · {escape(report.period.label)}: {len(report.sections)} sections, "
                          f"{len(report.alerts)} alert(s), {len(failed)} failed, {seconds:.1f} s")
        for section, alert in report.alerts:
            out_console.print(f"  ⚠ {escape(section.config.title)}: {escape(alert)}")
        for section in failed:
            console.print(f"[red]✗ Section {section.number} ({escape(section.config.title)}) failed:[/] "
                          f"{escape(section.error or '')}")
        for path in files:
            if path.suffix in (".md", ".html"):
                out_console.print(f"Wrote {escape(str(path))}")
    if failed:
        raise typer.Exit(1)


def _report_pin(cfg: Any, settings: Settings, as_of: str | None, force: bool, as_json: bool) -> None:
    from nl2sql.datasource import resolve
    from nl2sql.report import pin_report, report_period
    from nl2sql.sandbox import Sandbox, limits_from

    catalog, factory, options, day, audit = _report_context(cfg, settings, as_of)
    with Sandbox(resolve(settings.db), limits_from(settings)) as sandbox:
        done = pin_report(cfg, catalog, factory, sandbox, options, report_period(day, cfg.period), force, audit)
    if as_json:
        print(json.dumps({"config": str(cfg.path), "pinned": sorted(done.sql), "notes": done.notes,
                          "failed": done.failures}, ensure_ascii=False))
    else:
        from rich.markup import escape

        console = _stdout_console()
        console.print(f"Pinned SQL for {len(done.sql)} section(s) in {escape(str(cfg.path))}"
                      + (f": {', '.join(map(str, sorted(done.sql)))}" if done.sql else ""))
        for note in done.notes:
            console.print(f"  note: {escape(note)}")
        for failure in done.failures:
            _stderr_console().print(f"[red]✗ Could not pin {escape(failure)}[/]")
    if done.failures:
        raise typer.Exit(1)


@app.command("config")
@handle_errors
def config_cmd(as_json: JsonOpt = False) -> None:
    """Show the effective settings and where each comes from (secrets masked)."""
    from nl2sql.config import FIELD_BY_NAME

    settings = load({})
    masked = settings.masked()
    if as_json:
        print(json.dumps({"settings": masked, "sources": settings.sources,
                          "home": str(settings.home_dir)}, default=str))
        return
    from rich.table import Table

    table = Table(title="nl2sql settings", title_justify="left")
    table.add_column("setting", style="bold")
    table.add_column("value")
    table.add_column("source", style="dim")
    table.add_column("meaning", style="dim")
    for name, value in masked.items():
        table.add_row(name, "" if value is None else str(value), settings.sources[name],
                      FIELD_BY_NAME[name].help)
    console = _stdout_console()
    console.print(table)
    console.print(f"[dim]data dir: {settings.home_dir}[/]")
