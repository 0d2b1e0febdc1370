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
    catalog = open_catalog(settings)
    if check:
        run = run_sql(query, catalog, None, limits.max_rows)
    else:
        from nl2sql.datasource import resolve

        with Sandbox(resolve(settings.db), limits) as sandbox:
            run = run_sql(query, catalog, sandbox, limits.max_rows)
    if as_json:
        data = run.to_dict()
        if check:
            data = {"sql": data["sql"], "valid": True, "tables": list(run.guarded.tables)}
        print(json.dumps(data, ensure_ascii=False, default=str))
        return
    from nl2sql.render import sql_run_view

    _stdout_console().print(sql_run_view(run, check))


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
