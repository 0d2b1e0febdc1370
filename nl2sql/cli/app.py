"""The command-line interface: the only place that turns errors into messages and exit codes.

The root group knows each command's name and one-line help; a command's module (and the
libraries it needs) is imported only when that command runs, so `nl2sql --help` and every
command start fast. Options shared by commands are declared once, in `options.py`.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer
from typer.core import TyperGroup

from nl2sql import __version__
from nl2sql.core.errors import Nl2SqlError

if TYPE_CHECKING:
    from nl2sql.core.config import Settings
    from nl2sql.jobs.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])

# name -> (module under nl2sql.cli, one-line help): what `nl2sql --help` lists without importing anything
COMMANDS: dict[str, tuple[str, str]] = {
    "ask": ("ask", "Answer a question about your data: SQL, table, a grounded answer and a chart."),
    "chat": ("chat", "Ask follow-up questions about a result; each answer is kept as a view r1, r2, …"),
    "report": ("report", "Render the (weekly) report of a config file; `report pin` pins its SQL."),
    "sql": ("sql", "Run your own SQL through the same guard and sandbox as generated SQL."),
    "schema": ("schema", "Inspect the data: tables, columns, relationships and metrics; `schema init`."),
    "eval": ("evaluate", "Execution accuracy, refusals, cost and latency on a question set."),
    "feedback": ("learn", "Mark an answer good (a verified example) or bad (with the right SQL or word)."),
    "examples": ("learn", "The verified examples of a database: list, show, remove, export, import."),
    "history": ("history", "The audit log: recent questions with their SQL, verdict, tokens and cost."),
    "cache": ("history", "The cache of model replies (`cache clear`)."),
    "config": ("history", "Show the effective settings and where each comes from (secrets masked)."),
    "mcp": ("mcp", "Serve the guarded pipeline to agents and editors over the Model Context Protocol."),
}


class LazyGroup(TyperGroup):
    """A group whose commands are built from their modules only when one is invoked.

    Listings (`nl2sql --help`) see a stub per command that carries its one-line help; resolving
    a command to run it imports its module and builds the real command.
    """

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        return self.commands.get(cmd_name) or typer.core.TyperCommand(cmd_name, help=COMMANDS[cmd_name][1])

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] in COMMANDS and args[0] not in self.commands:
            name = args[0]
            module = importlib.import_module(f"nl2sql.cli.{COMMANDS[name][0]}")
            command = typer.main.get_command(getattr(module, f"{name}_app"))
            command.name = name
            self.commands[name] = command
        return super().resolve_command(ctx, args)


class DefaultCommandGroup(TyperGroup):
    """A group that runs its default sub-command when the first argument names none of them.

    `nl2sql report weekly.yaml` is `nl2sql report run weekly.yaml`; `nl2sql report pin weekly.yaml`
    runs `pin`. The default is the group's first command.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help") and self.commands:
            args = [next(iter(self.commands)), *args]
        elif not args and self.commands:
            args = [next(iter(self.commands))]
        return super().parse_args(ctx, args)


app = typer.Typer(
    name="nl2sql", cls=LazyGroup,
    help="Ask questions about your data in plain language: proven read-only SQL, the table, "
    "a grounded answer and a chart.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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


def sub_app(help_text: str, default_command: bool = False) -> typer.Typer:
    """A command group's Typer, with the root's settings (and a default sub-command if asked)."""
    return typer.Typer(help=help_text, no_args_is_help=False, add_completion=False, pretty_exceptions_enable=False,
                       cls=DefaultCommandGroup if default_command else None,
                       context_settings={"help_option_names": ["-h", "--help"]})


# -- output and errors ----------------------------------------------------------------------------------

def stderr_console() -> Any:
    """A rich console on stderr (messages, progress)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)  # no wrapping inside paths


def stdout_console() -> Any:
    """A rich console on stdout (answers, tables)."""
    from rich.console import Console

    return Console(highlight=False)


def print_json(data: Any) -> None:
    """One JSON object on stdout."""
    print(json.dumps(data, ensure_ascii=False, default=str))


def report_error(err: Nl2SqlError, as_json: bool) -> None:
    """Print an error for a person (stderr) or as the DESIGN §5 JSON object (stdout)."""
    if as_json:
        print_json({"error": err.to_dict()})
        return
    from rich.markup import escape

    console = stderr_console()
    console.print(f"[bold red]Error:[/] {escape(err.message)}")
    if err.hint:
        console.print(f"[dim]Hint:[/] {escape(err.hint)}")


def warn(lines: list[str]) -> None:
    """Side warnings (a cache or the history that could not be written) on stderr, once each."""
    if lines:
        from rich.markup import escape

        console = stderr_console()
        for line in dict.fromkeys(lines):
            console.print(f"[yellow]⚠ {escape(line)}[/]")


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
            stderr_console().print("Interrupted.")
            raise typer.Exit(130) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except Exception as exc:  # a bug: say so briefly; NL2SQL_DEBUG=1 shows the traceback
            if os.environ.get("NL2SQL_DEBUG"):
                raise
            bug = Nl2SqlError(f"Internal error: {type(exc).__name__}: {str(exc)[:300]}",
                              hint="This is a bug in nl2sql. Re-run with NL2SQL_DEBUG=1 for details "
                              "and report it.")
            report_error(bug, as_json)
            raise typer.Exit(1) from None

    return cast(F, wrapper)


# -- settings and the workspace ---------------------------------------------------------------------------

def load(flags: dict[str, Any]) -> Settings:
    """Effective settings with the flags a user passed on top (None = not given)."""
    from nl2sql.core.config import load_settings

    return load_settings({k: v for k, v in flags.items() if v is not None})


def open_workspace(flags: dict[str, Any], warm: bool = False) -> Workspace:
    """The workspace for these flags; `warm` starts the sandbox worker at once (it loads the data
    while we build the catalog and call the model)."""
    from nl2sql.jobs.workspace import Workspace

    return Workspace.open(load(flags), warm=warm)
