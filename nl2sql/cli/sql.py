"""`nl2sql sql`: your own SQL through the same guard and sandbox as generated SQL."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from nl2sql.cli import options
from nl2sql.cli.app import handle_errors, open_workspace, print_json, stdout_console, sub_app

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
) -> None:
    """Run your own SQL through the same guard and sandbox as generated SQL."""
    from nl2sql.core.errors import UsageError

    if query == "-":
        query = sys.stdin.read()
    if not query.strip():
        raise UsageError("No SQL given.", hint='Pass a query: nl2sql sql "SELECT ..."')
    flags = {"db": db, "schema": schema_file, "schemas_dir": schemas_dir, "timeout": timeout, "max_rows": max_rows,
             "memory_limit": memory_limit}
    with open_workspace(flags, warm=not check) as workspace:
        run = workspace.sql(query, check=check)
    if as_json:
        data = run.to_dict()
        if check:
            data = {"sql": data["sql"], "valid": True, "tables": list(run.guarded.tables)}
        print_json(data)
        return
    from nl2sql.cli.views import sql_run_view

    stdout_console().print(sql_run_view(run, check))
