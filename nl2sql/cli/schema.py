"""`nl2sql schema`: the catalog as a tree or JSON; `nl2sql schema init` writes an annotation skeleton."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from nl2sql.cli import options
from nl2sql.cli.app import handle_errors, open_workspace, print_json, stderr_console, stdout_console, sub_app

schema_app = sub_app("Inspect the data: tables, columns, types, descriptions, relationships and metrics.",
                     default_command=True)


@schema_app.command("show")
@handle_errors
def show(db: options.Db = None, schema_file: options.Schema = None, schemas_dir: options.SchemasDir = None,
         as_json: options.Json = False) -> None:
    """Show tables, columns, types, descriptions, relationships and metrics."""
    catalog = open_workspace({"db": db, "schema": schema_file, "schemas_dir": schemas_dir}).catalog
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
    text = skeleton(build_catalog(workspace.source, None, workspace.settings.home_dir))
    if output is None:
        sys.stdout.write(text)
        return
    if output.exists():
        raise UsageError(f"{output} already exists; not overwriting it.", hint="Choose another --output path.")
    write_atomic(output, text)
    stderr_console().print(f"Wrote {output}")
