"""`nl2sql history`, `nl2sql cache clear` and `nl2sql config`: the audit log, the reply cache, the settings."""

from __future__ import annotations

from typing import Annotated

import typer

from nl2sql.cli import options
from nl2sql.cli.app import handle_errors, load, markup, print_json, stderr_console, stdout_console, sub_app

history_app = sub_app("The audit log.")
cache_app = sub_app("The cache of model replies.")
config_app = sub_app("The effective settings.")


@history_app.command("history")
@handle_errors
def history_cmd(
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many entries.")] = 20,
    usage: Annotated[bool, typer.Option("--usage", help="Tokens and cost per day and model.")] = False,
    as_json: options.Json = False,
) -> None:
    """The audit log: recent questions with their SQL, verdict, tokens and cost."""
    from nl2sql.core.audit import AuditLog

    audit = AuditLog(load({}).home_dir / "history.sqlite")
    rows = audit.usage() if usage else audit.recent(limit)
    if as_json:
        print_json(rows)
        return
    from nl2sql.cli.views import history_table, usage_table

    stdout_console().print(usage_table(rows) if usage else history_table(rows))


@cache_app.command("clear")
@handle_errors
def cache_clear() -> None:
    """Delete every cached model reply."""
    from nl2sql.core.cache import ResponseCache

    count = ResponseCache(load({}).home_dir / "cache").clear()
    stderr_console().print(f"Removed {count} cached repl{'y' if count == 1 else 'ies'}.")


@cache_app.callback()
def cache_group() -> None:
    """The cache of model replies (a repeated question is answered from it at 0 tokens)."""


@config_app.command("config")
@handle_errors
def config_cmd(as_json: options.Json = False) -> None:
    """Show the effective settings and where each comes from (secrets masked)."""
    from nl2sql.core.config import FIELD_BY_NAME

    settings = load({})
    masked = settings.masked()
    if as_json:
        print_json({"settings": masked, "sources": {name: settings.source(name) for name in masked},
                    "home": str(settings.home_dir)})
        return
    from rich.table import Table
    from rich.text import Text

    from nl2sql.core.text import terminal_safe

    table = Table(title="nl2sql settings", title_justify="left")
    table.add_column("setting", style="bold")
    table.add_column("value")
    table.add_column("source", style="dim")
    table.add_column("meaning", style="dim")
    for name, value in masked.items():
        shown = Text("" if value is None else terminal_safe(value))
        table.add_row(name, shown, Text(terminal_safe(settings.source(name))), FIELD_BY_NAME[name].help)
    console = stdout_console()
    console.print(table)
    console.print(f"[dim]data dir: {markup(str(settings.home_dir))}[/]")
