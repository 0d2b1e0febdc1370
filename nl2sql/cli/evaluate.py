"""`nl2sql eval`: execution accuracy, refusals, cost and latency of backends and prompt variants."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from nl2sql.cli import options
from nl2sql.cli.app import handle_errors, load, print_json, stderr_console, stdout_console, sub_app

if TYPE_CHECKING:
    from nl2sql.jobs.evaluate.questions import EvalItem
    from nl2sql.jobs.evaluate.run import EvalConfig

eval_app = sub_app("Execution accuracy on a question set.")


@eval_app.command("eval")
@handle_errors
def eval_cmd(
    db: Annotated[Path, typer.Option("--db", help="A database file, or a folder of <db>.duckdb files.")],
    file: Annotated[Path | None, typer.Argument(help="Questions, one JSON object per line (sql-eval format).",
                                                show_default=False)] = None,
    backends: Annotated[list[str] | None, typer.Option("--backend", help="openai, offline or gold (the gold SQL "
                                                        "itself, to check the harness); repeat to compare.")] = None,
    variants: Annotated[list[str] | None, typer.Option("--variant", help="NAME=PROMPTS_DIR: a prompt variant to "
                                                        "compare; repeatable.")] = None,
    output: Annotated[Path | None, typer.Option("--output", help="Write one JSON line per question.")] = None,
    as_json: options.Json = False,
    fail_under: Annotated[float | None, typer.Option("--fail-under", help="Exit 1 if accuracy is below this.")]
    = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Only the first N questions.")] = None,
    category: Annotated[str | None, typer.Option("--category", help="Only questions of this category.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", help="Questions in parallel (model backends).")] = 1,
    model: options.Model = None,
    base_url: options.BaseUrl = None,
    schema_file: options.Schema = None,
    schemas_dir: options.SchemasDir = None,
    from_examples: Annotated[bool, typer.Option("--from-examples", help="Replay the verified examples of --db as "
                                                "the questions (each example's own SQL is the gold).")] = False,
) -> None:
    """Execution accuracy, refusals, cost and latency on a question set; A/B of prompts and backends."""
    from nl2sql.core.errors import UsageError
    from nl2sql.jobs.evaluate.questions import load_questions
    from nl2sql.jobs.evaluate.run import differences, summarize_results
    from nl2sql.jobs.workspace import Workspace

    if (file is None) == (not from_examples):
        raise UsageError("Pass a question file or --from-examples (not both).",
                         hint="nl2sql eval questions.jsonl --db DB   or   nl2sql eval --from-examples --db DB")
    flags = {"model": model, "base_url": base_url, "schema": schema_file, "schemas_dir": schemas_dir}
    items = load_questions(file) if file is not None else _stored_questions(flags, db)
    items = [i for i in items if not category or i.category == category][:limit]
    if not items:
        raise UsageError("No questions left after --category/--limit.")
    if not db.exists():
        raise UsageError(f"No such database or folder: {db}.", hint="Pass --db a .duckdb file or a folder of them.")
    if jobs < 1 or jobs > 32:
        raise UsageError("--jobs must be between 1 and 32.")
    workspace = Workspace.open(load(flags))
    configs = _configs(flags, backends or [workspace.settings.backend], variants or [""], items)
    from rich.progress import Progress

    show = sys.stderr.isatty() and not as_json
    with Progress(transient=True, disable=not show, console=stderr_console()) as bar:
        task = bar.add_task("evaluating", total=len(items) * len(configs))
        results = workspace.eval(items, db, configs=configs, jobs=jobs, progress=lambda _r: bar.advance(task))
    summary = {name: summarize_results(rs) for name, rs in results.items()}
    if output is not None:
        from nl2sql.core.files import write_atomic

        write_atomic(output, "".join(json.dumps(r.to_dict(), ensure_ascii=False, default=str) + "\n"
                                     for rs in results.values() for r in rs))
    diffs = differences(results)
    if as_json:
        print_json({"summary": summary, "differences": diffs})
    else:
        from nl2sql.cli.views import eval_view

        stdout_console().print(eval_view(summary, diffs))
    if fail_under is not None and any(s["accuracy"] < fail_under for s in summary.values()):
        worst = min(s["accuracy"] for s in summary.values())
        if not as_json:
            stderr_console().print(f"[red]Accuracy {worst:.1%} is below --fail-under {fail_under:.1%}.[/]")
        raise typer.Exit(1)


def _stored_questions(flags: dict[str, Any], db: Path) -> list[EvalItem]:
    """The verified examples of `db` as a question set, their own SQL as gold."""
    from nl2sql.jobs.evaluate.questions import EvalItem
    from nl2sql.jobs.workspace import Workspace

    with Workspace.open(load({**flags, "db": str(db)})) as ws:
        stored = ws.examples.all() if ws.has_examples else []
    return [EvalItem(line=e.id, db=None, question=e.question, gold_sql=[e.sql], category="verified example")
            for e in stored]


def _configs(flags: dict[str, Any], backends: list[str], variants: list[str], items: list[EvalItem]) -> list[
        EvalConfig]:
    """One EvalConfig per backend (× prompt variant): a name and how to make a fresh backend."""
    import functools

    from nl2sql.backends.registry import make_backend
    from nl2sql.core.errors import UsageError
    from nl2sql.jobs.evaluate.run import EvalConfig, GoldBackend

    configs = []
    for name in backends:
        if name == "gold":
            configs.append(EvalConfig("gold", lambda: GoldBackend(items)))
            continue
        for variant in variants:
            label, _, prompts = variant.partition("=")
            if variant and not prompts:
                raise UsageError(f"--variant {variant!r} must look like NAME=PROMPTS_DIR.")
            settings = load({**flags, "backend": name, "prompts_dir": prompts or None})
            configs.append(EvalConfig(f"{name}:{label}" if label else name, functools.partial(make_backend, settings)))
    return configs
