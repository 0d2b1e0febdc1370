"""`nl2sql schema`: the catalog as a tree or JSON; `nl2sql schema init` writes an annotation skeleton."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from nl2sql.cli import options
from nl2sql.cli.app import (
    handle_errors,
    markup,
    open_workspace,
    print_json,
    stderr_console,
    stdout_console,
    sub_app,
    warn,
)
from nl2sql.core.text import terminal_safe

schema_app = sub_app("Inspect the data: tables, columns, types, descriptions, relationships and metrics.",
                     default_command=True)


@schema_app.command("show")
@handle_errors
def show(db: options.Db = None, schema_file: options.Schema = None, schemas_dir: options.SchemasDir = None,
         as_json: options.Json = False) -> None:
    """Show tables, columns, types, descriptions, relationships and metrics."""
    workspace = open_workspace({"db": db, "schema": schema_file, "schemas_dir": schemas_dir})
    catalog = workspace.catalog
    warn(workspace.problems)
    if as_json:
        print_json(catalog.to_dict())
        return
    from nl2sql.cli.views import catalog_tree

    stdout_console().print(catalog_tree(catalog))


@schema_app.command("init")
@handle_errors
def init(
    db: options.Db = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file "
                                                "instead of printing.")] = None,
) -> None:
    """Print a YAML annotation skeleton pre-filled from the data."""
    from nl2sql.core.errors import UsageError
    from nl2sql.core.files import write_atomic
    from nl2sql.data.annotations import skeleton
    from nl2sql.data.build import build_catalog

    workspace = open_workspace({"db": db})
    catalog = build_catalog(workspace.source, None, workspace.settings.home_dir, problems=workspace.problems)
    warn([*workspace.problems, *catalog.skipped])
    text = skeleton(catalog)
    if output is None:
        sys.stdout.write(terminal_safe(text) if sys.stdout.isatty() else text)
        return
    if output.exists():
        raise UsageError(f"{output} already exists; not overwriting it.", hint="Choose another --output path.")
    write_atomic(output, text)
    stderr_console().print(f"Wrote {markup(str(output))}")
