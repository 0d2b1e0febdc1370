"""`nl2sql chat`: the read-eval-print loop over a Chat (session.py), for people and for scripts.

On a terminal: line editing and history (readline), rich answers as `ask` shows them, Ctrl-C
stops the query in flight and keeps the session. With `--json` (or piped input) it reads one
turn per line and prints one JSON object per turn, with no prompts and no colour.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nl2sql.core.errors import Nl2SqlError, UsageError, did_you_mean

if TYPE_CHECKING:
    from nl2sql.jobs.chat import Chat

COMMANDS = {
    "sql": "/sql [SQL]          show the last SQL (with SQL: run it, like /run)",
    "edit": "/edit               edit the last SQL in $EDITOR, then guard and run it",
    "run": "/run SQL            run your own SQL; earlier results are views r1, r2, …",
    "chart": "/chart [TYPE] [PATH] draw the last result (bar, barh, line, area, scatter, pie, histogram)",
    "export": "/export csv|parquet|json PATH   write the last result's rows",
    "explain": "/explain            where each number of the last answer comes from",
    "good": "/good               the last answer is right: keep it as a verified example",
    "bad": "/bad [why]           the last answer is wrong (\"by 'area' I meant region\" teaches a word)",
    "history": "/history            the turns of this chat and their views",
    "undo": "/undo               forget the last turn (and its view)",
    "reset": "/reset              forget every turn",
    "help": "/help               this list",
    "quit": "/quit               leave (the chat is saved; `nl2sql chat --resume` continues it)",
}
ALIASES = {"exit": "quit", "q": "quit", "h": "help", "?": "help"}
EXPORT_FORMATS = ("csv", "parquet", "json")
# "as a line chart", "show it as a pie", "用折线图": a new look for the last result, not a new query
CHART_WORDS = {"bar": "bar", "column": "bar", "horizontal bar": "barh", "barh": "barh", "line": "line",
               "area": "area", "scatter": "scatter", "pie": "pie", "histogram": "histogram", "柱状图": "bar",
               "条形图": "barh", "折线图": "line", "面积图": "area", "散点图": "scatter", "饼图": "pie",
               "直方图": "histogram"}
CHART_INTENT = re.compile(
    r"^(?:(?:show|draw|plot|make)\s+(?:it|that|this)\s+)?(?:(?:as|in(?:to)?)\s+)?(?:an?\s+)?"
    r"(?P<kind>horizontal bar|bar|barh|column|line|area|scatter|pie|histogram)\s*(?:chart|graph|plot)?"
    r"(?:\s+(?:to|in|as)\s+(?P<path>\S+\.(?:png|svg)))?[.!]?$"
    r"|^(?:用|画成|画|显示为|改为|换成)?\s*(?P<zh>柱状图|条形图|折线图|面积图|散点图|饼图|直方图)\s*(?:显示|展示|表示)?[。！]?$",
    re.IGNORECASE)
EXPORT_INTENT = re.compile(
    r"^(?:export|save|download)\s+(?:it|that|this|the (?:result|table|rows))?\s*"
    r"(?:(?:to|as|in)\s+(?P<fmt>csv|parquet|json)\b)?\s*(?:(?:to|as|in)\s+(?P<path>\S+))?[.!]?$"
    r"|^(?:导出|保存)(?:为|成|到)?\s*(?P<zfmt>csv|parquet|json)?\s*(?P<zpath>\S+\.\w+)?[。！]?$",
    re.IGNORECASE)


class Quit(Exception):
    """/quit was asked for."""


class Repl:
    """Turns lines into chat turns and slash commands, and shows what they return."""

    def __init__(self, chat: Chat, as_json: bool, interactive: bool, console: Any = None,
                 err_console: Any = None) -> None:
        self.chat = chat
        self.as_json = as_json
        self.interactive = interactive
        self.console = console
        self.err = err_console or console
        self.failures = 0

    # -- output -------------------------------------------------------------------------------------

    def emit(self, data: dict[str, Any], view: Callable[[], Any] | None = None) -> None:
        """One JSON line, or the rich view."""
        if self.as_json:
            print(json.dumps(data, ensure_ascii=False, default=str), flush=True)
        elif view is not None:
            self.console.print(view())

    def error(self, exc: Nl2SqlError, line: str) -> None:
        """A failed turn: the message and hint; the chat goes on."""
        self.failures += 1
        if self.as_json:
            print(json.dumps({"input": line[:2000], "error": exc.to_dict()}, ensure_ascii=False), flush=True)
            return
        from rich.markup import escape

        self.err.print(f"[bold red]Error:[/] {escape(exc.message)}")
        if exc.hint:
            self.err.print(f"[dim]Hint:[/] {escape(exc.hint)}")

    def note(self, text: str, data: dict[str, Any]) -> None:
        """A short confirmation (rich) or its JSON object."""
        if self.as_json:
            print(json.dumps(data, ensure_ascii=False, default=str), flush=True)
        else:
            from rich.markup import escape

            self.console.print(f"[dim]{escape(text)}[/]")

    def show_answer(self, answer: Any) -> None:
        """An answer, saved as the latest view."""
        turn = self.chat.last
        assert turn is not None
        extra = {"turn": turn.number, "view": turn.view, "session": self.chat.session.id}

        def view() -> Any:
            from rich.console import Group

            from nl2sql.cli.views import answer_view

            return Group(answer_view(answer), f"[dim]→ saved as {turn.view}[/]")

        self.emit({**answer.to_dict(), **extra}, view)

    # -- input --------------------------------------------------------------------------------------

    def handle(self, line: str) -> None:
        """One line: a slash command or a question. Errors are shown; only /quit ends the loop."""
        line = line.strip()
        if not line or line.startswith("#"):
            return
        try:
            if line.startswith("/"):
                self.command(line)
            elif self.chat.last is not None and (intent := self.intent(line)) is not None:
                self.command(intent)
            else:
                self.show_answer(self.chat.ask(line))
        except Nl2SqlError as exc:
            self.error(exc, line)

    def intent(self, line: str) -> str | None:
        """A follow-up that asks for a chart type or an export of the last result, as a slash command."""
        m = CHART_INTENT.match(line.strip())
        if m:
            kind = CHART_WORDS[(m.group("kind") or m.group("zh")).lower()]
            return f"/chart {kind}" + (f" {shlex.quote(m.group('path'))}" if m.group("path") else "")
        m = EXPORT_INTENT.match(line.strip())
        if m:
            path = m.group("path") or m.group("zpath")
            fmt = (m.group("fmt") or m.group("zfmt") or "").lower()
            if not fmt and path and path.rsplit(".", 1)[-1].lower() in EXPORT_FORMATS:
                fmt = path.rsplit(".", 1)[-1].lower()
            fmt = fmt or "csv"
            turn = self.chat.last
            assert turn is not None
            path = path or f"nl2sql-{self.chat.session.id}-{turn.view}.{fmt}"
            return f"/export {fmt} {shlex.quote(path)}"
        return None

    def command(self, line: str) -> None:
        """Dispatch a slash command."""
        name, _, rest = line[1:].partition(" ")
        name = ALIASES.get(name.lower(), name.lower())
        rest = rest.strip()
        if name not in COMMANDS:
            guess = did_you_mean(name, list(COMMANDS))
            raise UsageError(f"Unknown command /{name}.", hint=(guess.replace("'", "'/", 1) if guess else
                                                                 "Type /help for the commands."))
        getattr(self, f"cmd_{name}")(rest)

    def _last(self) -> Any:
        turn = self.chat.last
        if turn is None:
            raise UsageError("There is no result yet.", hint="Ask a question first.")
        return turn

    def cmd_sql(self, rest: str) -> None:
        """Show the last SQL, or run the SQL given."""
        if rest:
            self.cmd_run(rest)
            return
        turn = self._last()

        def view() -> Any:
            from nl2sql.cli.views import sql_panel

            return sql_panel(turn.sql, f"SQL of {turn.view}")

        self.emit({"command": "sql", "view": turn.view, "sql": turn.sql}, view)

    def cmd_run(self, rest: str) -> None:
        """Run SQL given on the line."""
        if not rest:
            raise UsageError("/run needs SQL.", hint="/run SELECT region, SUM(revenue) FROM r1 GROUP BY 1")
        self.show_answer(self.chat.run(rest))

    def cmd_edit(self, rest: str) -> None:
        """Edit the last SQL in $VISUAL / $EDITOR, then run what was saved."""
        turn = self._last()
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        with tempfile.TemporaryDirectory(prefix="nl2sql-edit-") as tmp:
            path = Path(tmp) / f"{turn.view}.sql"
            path.write_text(turn.sql + "\n", encoding="utf-8")
            try:
                done = subprocess.run([*shlex.split(editor), str(path)], check=False)
            except (OSError, ValueError) as exc:
                raise UsageError(f"Cannot start the editor {editor!r}: {exc}.",
                                 hint="Set EDITOR, e.g. export EDITOR=nano") from None
            if done.returncode != 0:
                raise UsageError(f"The editor exited with status {done.returncode}; nothing was run.")
            sql = path.read_text(encoding="utf-8").strip()
        if not sql or sql == turn.sql.strip():
            self.note("The SQL was not changed; nothing was run.", {"command": "edit", "changed": False})
            return
        self.show_answer(self.chat.run(sql, question=turn.question or turn.text))

    def cmd_good(self, rest: str) -> None:
        """The last answer is right: it becomes a verified example."""
        example = self.chat.good()
        self.note(f"Kept as verified example {example.id}.", {"command": "good", "example": example.id})

    def cmd_bad(self, rest: str) -> None:
        """The last answer is wrong: its examples are trusted less; "I meant" teaches a synonym."""
        entry, _, synonym = self.chat.bad(rest or None)
        self.note(f"Marked answer {entry['id']} bad." + (f" Learned: {synonym}." if synonym else ""),
                  {"command": "bad", "entry": entry["id"], "synonym": synonym})

    def cmd_chart(self, rest: str) -> None:
        """Draw the last result: /chart [TYPE] [PATH]."""
        from nl2sql.answer.charts import CHART_TYPES, ChartError, InvalidChartSpec, chart_format, choose_chart
        from nl2sql.answer.charts import with_type as retype
        from nl2sql.answer.draw import render

        turn = self._last()
        kind, path = None, None
        for token in shlex.split(rest):
            if token in CHART_TYPES:
                kind = token
            elif token.lower().endswith((".png", ".svg")):
                path = Path(token).expanduser()
            else:
                guess = did_you_mean(token, CHART_TYPES)
                raise UsageError(f"/chart does not know {token!r}.", hint=guess or
                                 f"/chart [{'|'.join(CHART_TYPES)}] [FILE.png|FILE.svg]")
        path = path or Path(f"nl2sql-{self.chat.session.id}-{turn.view}.png")
        try:
            chart_format(path)
        except ChartError as exc:
            raise UsageError(str(exc)) from None
        answer = self.chat.result_of(turn)
        spec = answer.chart or choose_chart(answer.result.columns, answer.result.row_count, turn.text[:120])
        names = [n for n, _ in answer.result.columns]
        if spec is None:
            raise UsageError("No chart suits this result (it needs two rows and a numeric column).")
        try:
            if kind:
                spec = retype(spec, kind, names)
            render(spec, answer.result.columns, answer.result.rows, path)
        except (ChartError, InvalidChartSpec) as exc:
            raise UsageError(f"The chart could not be drawn: {exc}.") from None
        if kind:
            turn.chart = spec.to_dict()  # "as a line chart" sticks to this result
            answer.chart = spec
            self.chat.session.save()
        self.note(f"Chart of {turn.view} ({spec.type}) written to {path}",
                  {"command": "chart", "view": turn.view, "path": str(path), "chart": spec.to_dict()})

    def cmd_export(self, rest: str) -> None:
        """Write the last result's rows: /export csv|parquet|json PATH."""
        parts = shlex.split(rest)
        if len(parts) != 2:
            raise UsageError("/export needs a format and a file.", hint="/export csv revenue.csv")
        fmt, target = parts[0].lower(), Path(parts[1]).expanduser()
        if fmt not in EXPORT_FORMATS:
            raise UsageError(f"Unknown export format {fmt!r}.",
                             hint=did_you_mean(fmt, EXPORT_FORMATS) or "Use csv, parquet or json.")
        if not target.parent.exists():
            raise UsageError(f"The folder {target.parent} does not exist.")
        turn = self._last()
        result = self.chat.result_of(turn).result
        if fmt == "parquet":
            from nl2sql.answer.export import write_parquet

            write_parquet(result, target)
        else:
            from nl2sql.answer.export import rows_as
            from nl2sql.core.files import write_atomic

            write_atomic(target, rows_as(fmt, result))
        self.note(f"Wrote {result.row_count:,} rows of {turn.view} to {target}",
                  {"command": "export", "view": turn.view, "format": fmt, "path": str(target),
                   "rows": result.row_count})

    def cmd_explain(self, rest: str) -> None:
        """The receipts of the last answer."""
        turn = self._last()
        answer = self.chat.result_of(turn)  # after --resume: rows recomputed, receipts from the saved turn

        def view() -> Any:
            from nl2sql.cli.views import receipts_view

            return receipts_view(answer)

        self.emit({"command": "explain", "view": turn.view, "narrated_by": answer.narrated_by,
                   "explanation": answer.explanation, "notes": answer.notes,
                   "receipts": [r.to_dict() for r in answer.receipts]}, view)

    def cmd_history(self, rest: str) -> None:
        """The turns so far."""
        turns = self.chat.session.turns

        def view() -> Any:
            from rich.table import Table
            from rich.text import Text

            table = Table(title=f"chat {self.chat.session.id}", title_justify="left")
            for col in ("view", "asked", "rows", "columns"):
                table.add_column(col, justify="right" if col == "rows" else "left")
            for t in turns:
                table.add_row(t.view, Text(t.text[:70]), f"{t.row_count:,}", Text(", ".join(n for n, _ in t.columns)))
            return table if turns else Text("No turns yet.", style="dim")

        self.emit({"command": "history", "session": self.chat.session.id,
                   "turns": [{"view": t.view, "kind": t.kind, "text": t.text, "sql": t.sql, "rows": t.row_count,
                              "columns": [n for n, _ in t.columns]} for t in turns]}, view)

    def cmd_undo(self, rest: str) -> None:
        """Forget the last turn."""
        turn = self.chat.undo()
        if turn is None:
            raise UsageError("There is nothing to undo.")
        self.note(f"Forgot {turn.view} ({turn.text[:60]})", {"command": "undo", "removed": turn.view})

    def cmd_reset(self, rest: str) -> None:
        """Forget every turn."""
        count = self.chat.reset()
        self.note(f"Forgot {count} turn(s); the chat starts over.", {"command": "reset", "removed": count})

    def cmd_help(self, rest: str) -> None:
        """The commands."""
        if self.as_json:
            print(json.dumps({"command": "help", "commands": list(COMMANDS.values())}, ensure_ascii=False))
            return
        from rich.text import Text

        self.console.print(Text("Ask a question in plain language, or:\n" + "\n".join(COMMANDS.values()),
                                style="dim"))

    def cmd_quit(self, rest: str) -> None:
        """Leave."""
        raise Quit


def lines(interactive: bool, history_file: Path | None, prompt: str = "nl2sql> ") -> Iterator[str]:
    """Input lines: with readline and a prompt on a terminal, plain stdin otherwise. Ends at EOF."""
    import sys

    if not interactive:
        for line in sys.stdin:
            yield line.rstrip("\n")
        return
    try:
        import readline
    except ImportError:  # Windows without pyreadline: plain input() still works
        readline = None  # type: ignore[assignment]
    if readline is not None and history_file is not None:
        with contextlib.suppress(OSError):
            readline.read_history_file(str(history_file))
        readline.set_history_length(1000)
    try:
        while True:
            try:
                yield input(prompt)
            except KeyboardInterrupt:
                print("^C  (type /quit or press Ctrl-D to leave)")
                continue
            except EOFError:
                print()
                return
    finally:
        if readline is not None and history_file is not None:
            with contextlib.suppress(OSError):
                history_file.parent.mkdir(parents=True, exist_ok=True)
                readline.write_history_file(str(history_file))


def loop(repl: Repl, source: Iterator[str]) -> None:
    """Feed lines to the REPL until /quit or the end of input; Ctrl-C stops only the turn in flight."""
    for line in source:
        try:
            repl.handle(line)
        except Quit:
            return
        except KeyboardInterrupt:
            repl.failures += 1
            if repl.as_json:
                print(json.dumps({"input": line[:2000], "error": {"type": "Interrupted",
                                  "message": "Interrupted; the chat is intact.", "hint": None}}), flush=True)
            else:
                repl.err.print("[yellow]Interrupted.[/] The query was stopped; the chat is intact.")
