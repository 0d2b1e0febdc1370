"""`nl2sql sql`: your own SQL through the same guard and sandbox as generated SQL."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from nl2sql.cli import options
from nl2sql.cli.app import handle_errors, open_workspace, print_json, stdout_console, sub_app, warn

sql_app = sub_app("Run your own SQL through the same guard and sandbox as generated SQL.")


@sql_app.command("sql")
@handle_errors
def sql_cmd(
    query: Annotated[str, typer.Argument(help="The SQL to run, or - to read it from stdin.")],
    db: options.Db = None,
    schema_file: options.Schema = None,
    schemas_dir: options.SchemasDir = None,
    as_json: options.Json = False,
    check: Annotated[bool, typer.Option("--check", help="Validate with the guard only; do not run.")] = False,
    timeout: options.Timeout = None,
    max_rows: options.MaxRows = None,
    memory_limit: options.MemoryLimit = None,
    fmt: options.Format = None,
    output: options.Output = None,
) -> None:
    """Run your own SQL through the same guard and sandbox as generated SQL."""
    from nl2sql.cli.ask import check_output_options, export
    from nl2sql.core.errors import UsageError

    if as_json and (fmt or output):
        raise UsageError("--json prints the result as JSON; --format and -o export the rows.",
                         hint="Use one or the other (e.g. --format json -o rows.json).")
    fmt = check_output_options(fmt, output, as_json)

    if query == "-":
        query = sys.stdin.read()
    if not query.strip():
        raise UsageError("No SQL given.", hint='Pass a query: nl2sql sql "SELECT ..."')
    flags = {"db": db, "schema": schema_file, "schemas_dir": schemas_dir, "timeout": timeout, "max_rows": max_rows,
             "memory_limit": memory_limit}
    with open_workspace(flags, warm=not check) as workspace:
        if fmt and not check:  # every row to a file (or stdout), streamed: no display, no row cap
            export(workspace, query, fmt, output)
            return
        run = workspace.sql(query, check=check)
        warn(workspace.problems)
    if as_json:
        data = run.to_dict()
        if check:
            data = {"sql": data["sql"], "valid": True, "tables": list(run.guarded.tables)}
        print_json(data)
        return
    from nl2sql.cli.views import sql_run_view

    stdout_console().print(sql_run_view(run, check))
