"""`nl2sql feedback good|bad [ID]` and `nl2sql examples list|show|remove|export|import`: what people confirm."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nl2sql.cli import options
from nl2sql.cli.app import handle_errors, open_workspace, print_json, stdout_console, sub_app

if TYPE_CHECKING:
    from nl2sql.data.examples import StoredExample

feedback_app = sub_app("Mark an answer good (it becomes a verified example) or bad.")
examples_app = sub_app("The verified examples of a database: list, show, remove, export, import.")
EntryId = Annotated[int | None, typer.Argument(help="The answer's id in `nl2sql history` (default: the latest "
                                               "answer).", show_default=False)]


@feedback_app.command("good")
@handle_errors
def good(entry: EntryId = None, db: options.Db = None, as_json: options.Json = False) -> None:
    """The answer was right: its question and SQL become a verified example (the SQL is run again first)."""
    with open_workspace({"db": db}) as ws:
        example = ws.feedback_good(entry)
    _done(f"Stored as verified example {example.id}: {example.question}", {"stored": _as_dict(example)}, as_json)


@feedback_app.command("bad")
@handle_errors
def bad(
    entry: EntryId = None,
    why: Annotated[str | None, typer.Option("--why", help="What was wrong; \"by 'area' I meant region\" teaches a "
                                            "synonym.")] = None,
    sql: Annotated[str | None, typer.Option("--sql", help="The right SQL: it is guarded, run and stored as the "
                                            "verified answer.")] = None,
    db: options.Db = None,
    as_json: options.Json = False,
) -> None:
    """The answer was wrong: examples it used are trusted less; --sql stores the right one; --why may teach a word."""
    with open_workspace({"db": db}) as ws:
        entry_row, stored, synonym = ws.feedback_bad(entry, why=why, corrected_sql=sql)
    lines = [f"Marked answer {entry_row['id']} bad."]
    if stored:
        lines.append(f"Stored the corrected SQL as verified example {stored.id}.")
    if synonym:
        lines.append(f"Learned: {synonym}.")
    _done(" ".join(lines), {"entry": entry_row["id"], "stored": _as_dict(stored) if stored else None,
                            "synonym": synonym}, as_json)


@examples_app.command("list")
@handle_errors
def list_cmd(db: options.Db = None, as_json: options.Json = False) -> None:
    """The verified examples of this database."""
    with open_workspace({"db": db}) as ws:
        examples = ws.examples.all() if ws.has_examples else []
    if as_json:
        print_json([_as_dict(e) for e in examples])
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title="verified examples", title_justify="left")
    for name in ("id", "question", "source", "rows", "trust", "when"):
        table.add_column(name, justify="right" if name in ("id", "rows", "trust") else "left")
    for e in examples:
        table.add_row(str(e.id), Text(e.question[:70]), e.source, f"{e.fingerprint.row_count:,}", f"{e.score:.1f}",
                      e.created[:16].replace("T", " "))
    stdout_console().print(table if examples else "No verified examples yet: `nl2sql feedback good` stores one.")


@examples_app.command("show")
@handle_errors
def show(example_id: Annotated[int, typer.Argument(help="The example's id.")], db: options.Db = None,
         as_json: options.Json = False) -> None:
    """One example: its question, SQL, result fingerprint and origin."""
    with open_workspace({"db": db}) as ws:
        example = ws.examples.get(example_id)
    if as_json:
        print_json(_as_dict(example))
        return
    from rich.text import Text

    from nl2sql.cli.views import sql_panel

    console = stdout_console()
    console.print(Text(f"{example.id}. {example.question}", style="bold"))
    console.print(sql_panel(example.sql))
    console.print(Text(f"{example.fingerprint.row_count:,} rows ({', '.join(example.fingerprint.columns)}) · "
                       f"{example.source} by {example.author}, {example.created} · trust {example.score:.1f}",
                       style="dim"))


@examples_app.command("remove")
@handle_errors
def remove(example_id: Annotated[int, typer.Argument(help="The example's id.")], db: options.Db = None,
           as_json: options.Json = False) -> None:
    """Forget one example."""
    with open_workspace({"db": db}) as ws:
        example = ws.examples.remove(example_id)
    _done(f"Removed example {example.id}: {example.question}", {"removed": example.id}, as_json)


@examples_app.command("export")
@handle_errors
def export(to: Annotated[Path | None, typer.Option("--to", help="An annotation file to add them to (e.g. "
                                                   "schemas/<db>.yaml); default: print the YAML.")] = None,
           db: options.Db = None) -> None:
    """The examples as an annotation file's `examples:` section (merged into --to, keeping its other keys)."""
    with open_workspace({"db": db}) as ws:
        text = ws.export_examples(to)
    if to is None:
        print(text, end="")
    else:
        stdout_console().print(f"Wrote {len(ws.examples.all())} examples to {to}")


@examples_app.command("import")
@handle_errors
def import_cmd(file: Annotated[Path, typer.Argument(help="YAML (an annotation file's examples, or a list of "
                                                    "question/sql) or JSON Lines (question, sql or gold_sql).")],
               db: options.Db = None, as_json: options.Json = False) -> None:
    """Add examples from a file; every SQL runs through the guard and the sandbox, and what fails is rejected."""
    with open_workspace({"db": db}, warm=True) as ws:
        done = ws.import_examples(file)
    if as_json:
        print_json({"added": [_as_dict(e) for e in done.added],
                    "rejected": [{"question": q, "reason": r} for q, r in done.rejected]})
    else:
        from rich.markup import escape

        console = stdout_console()
        console.print(f"Added {len(done.added)} example(s); rejected {len(done.rejected)}.")
        for question, reason in done.rejected:
            console.print(f"  [red]✗[/] {escape(question[:70])}: {escape(reason)}")
    if done.rejected:
        raise typer.Exit(1)


def _done(text: str, data: dict[str, object], as_json: bool) -> None:
    if as_json:
        print_json(data)
    else:
        from rich.markup import escape

        stdout_console().print(escape(text))


def _as_dict(example: StoredExample) -> dict[str, object]:
    return {"id": example.id, "question": example.question, "sql": example.sql, "reading": example.reading,
            "columns": list(example.fingerprint.columns), "row_count": example.fingerprint.row_count,
            "result_hash": example.fingerprint.digest, "source": example.source, "author": example.author,
            "created": example.created, "trust": example.score, "history_id": example.history_id}
