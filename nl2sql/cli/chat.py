"""`nl2sql chat`: follow-up questions in a REPL (or JSON Lines for scripts), saved after every turn."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from nl2sql.cli import options
from nl2sql.cli.app import handle_errors, load, markup, print_json, stderr_console, stdout_console, sub_app, warn

if TYPE_CHECKING:
    from nl2sql.core.config import Settings

chat_app = sub_app("Ask follow-up questions about a result.")


@chat_app.command("chat")
@handle_errors
def chat_cmd(
    session_id: Annotated[str | None, typer.Argument(help="With --resume: the chat to continue (an id or "
                                                     "its prefix); default: the latest.", show_default=False,
                                                     metavar="ID")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue a saved chat (the latest, or ID).")] = False,
    list_: Annotated[bool, typer.Option("--list", help="List the saved chats.")] = False,
    db: options.Db = None,
    schema_file: options.Schema = None,
    schemas_dir: options.SchemasDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Read one turn per line from stdin; print one JSON "
                                          "object per turn (JSON Lines).")] = False,
    backend: options.Backend = None,
    model: options.Model = None,
    base_url: options.BaseUrl = None,
    privacy: options.Privacy = None,
    as_of: options.AsOf = None,
    timeout: options.Timeout = None,
    max_rows: options.MaxRows = None,
) -> None:
    """Ask follow-up questions about a result: each answer is kept as a view r1, r2, … and the chat
    is saved after every turn. Type /help inside for the commands."""
    from nl2sql.core.errors import UsageError

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
    from nl2sql.jobs.chat import DamagedSession, list_sessions

    sessions = list_sessions(settings.home_dir)
    if as_json:
        print_json([{"id": s.id, "damaged": s.reason, "path": str(s.path)} if isinstance(s, DamagedSession) else
                    {"id": s.id, "created": s.created, "db": s.db, "backend": s.backend, "turns": len(s.turns),
                     "last": s.turns[-1].text if s.turns else None} for s in sessions])
        return
    from rich.table import Table
    from rich.text import Text

    from nl2sql.core.text import terminal_safe

    table = Table(title="saved chats (nl2sql chat --resume ID)", title_justify="left")
    for col in ("id", "started", "data", "turns", "last question"):
        table.add_column(col, justify="right" if col == "turns" else "left")
    for s in sessions:
        if isinstance(s, DamagedSession):
            table.add_row(Text(terminal_safe(s.id)), Text("damaged", style="red"), "", "",
                          Text(terminal_safe(f"cannot be read: {s.reason}"), style="red"))
            continue
        table.add_row(Text(terminal_safe(s.id)), terminal_safe(s.created.replace("T", " ")),
                      Text(terminal_safe(s.db or "shop (bundled)")), str(len(s.turns)),
                      Text(terminal_safe((s.turns[-1].text if s.turns else "")[:60])))
    stdout_console().print(table if sessions else "No saved chats yet. Start one with `nl2sql chat`.")


def _chat_run(settings: Settings, resume: bool, session_id: str | None, as_json: bool) -> None:
    from nl2sql.cli.repl import Repl, lines, loop
    from nl2sql.core.config import override
    from nl2sql.jobs.chat import find_session
    from nl2sql.jobs.workspace import Workspace

    session = find_session(settings.home_dir, session_id) if resume else None
    if session is not None and settings.db is None and session.db is not None:
        settings = override(settings, db=session.db)  # a resumed chat reads the data it was about
    interactive = sys.stdin.isatty() and not as_json
    console = stdout_console()
    with Workspace.open(settings, warm=True) as workspace:
        chat = workspace.chat(session)
        repl = Repl(chat, as_json=as_json, interactive=interactive, console=console, err_console=stderr_console())
        warn(workspace.problems)  # files of the data that were skipped, …
        if interactive:
            what = f"Resumed chat {chat.session.id} ({len(chat.session.turns)} turns)" if resume \
                else f"Chat {chat.session.id}"
            console.print(f"[bold]{markup(what)}[/] on {markup(workspace.catalog.name)} · {chat.backend.name} · "
                          "/help for commands, /quit to leave")
            if resume and chat.session.turns:
                repl.cmd_history("")
        loop(repl, lines(interactive, settings.home_dir / "chat_history"))
    if not as_json and interactive:
        console.print(f"[dim]Saved as {chat.session.id}; continue with: nl2sql chat --resume {chat.session.id}[/]")
    if repl.failures and not interactive:
        raise typer.Exit(1)
