"""`nl2sql report CONFIG` renders a report; `nl2sql report pin CONFIG` writes each question's SQL into it."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from nl2sql.cli import options
from nl2sql.cli.app import handle_errors, markup, print_json, stderr_console, stdout_console, sub_app, warn

if TYPE_CHECKING:
    from nl2sql.jobs.report.config import ReportConfig
    from nl2sql.jobs.report.run import Report
    from nl2sql.jobs.workspace import Workspace

report_app = sub_app("Render the (weekly) report of a config file to Markdown and self-contained HTML.",
                     default_command=True)
Config = Annotated[str, typer.Argument(help="The report config (YAML).", metavar="CONFIG")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="The day the report is for: YYYY-MM-DD, today or latest "
                                          "(default: the config's as_of, else latest).")]
Backend = Annotated[str | None, typer.Option("--backend", help="openai, offline or auto.")]


@report_app.command("run")
@handle_errors
def run_cmd(
    config: Config,
    as_of: AsOf = None,
    out: Annotated[Path | None, typer.Option("--out", help="Output folder (default: the config's output.dir).")] = None,
    formats: Annotated[str | None, typer.Option("--format", help="md, html or md,html (default: the config's "
                                                "formats).")] = None,
    backend: Backend = None,
    db: options.Db = None,
    as_json: options.Json = False,
) -> None:
    """Render the report of CONFIG (the default sub-command: `nl2sql report CONFIG` runs it).

    Exit code 0 when every section rendered, 1 when some failed (the rest still render), 2 for a
    config error.
    """
    from nl2sql.core.errors import UsageError
    from nl2sql.jobs.report.config import FORMATS
    from nl2sql.jobs.report.output import write_report

    started = time.perf_counter()
    chosen = None
    if formats is not None:
        chosen = tuple(dict.fromkeys(f.strip() for f in formats.split(",") if f.strip()))
        if not chosen or any(f not in FORMATS for f in chosen):
            raise UsageError(f"Unknown --format {formats!r}.", hint="Use md, html or md,html.")
    cfg, workspace = _open(config, as_of, backend, db)
    with workspace:
        report = workspace.report(cfg, as_of=as_of, progress=_progress(len(cfg.sections), as_json))
    files = write_report(report, out or cfg.out_dir, chosen or cfg.formats, workspace.settings.prompts_dir)
    seconds = time.perf_counter() - started
    workspace.audit.record(kind="report", question=f"report {cfg.title} ({report.period.label})"[:2000],
                           backend=workspace.settings.backend,
                           verdict="failed sections" if report.failed else "rendered", row_count=len(report.sections),
                           error="; ".join(f"{s.number}. {s.error}" for s in report.failed)[:1000] or None,
                           timings={"total": seconds * 1000})
    warn(workspace.problems)
    if as_json:
        print_json(_summary(report, files, seconds))
    else:
        _show(report, files, seconds)
    if report.failed:
        raise typer.Exit(1)


@report_app.command("pin")
@handle_errors
def pin_cmd(
    config: Config,
    as_of: AsOf = None,
    backend: Backend = None,
    db: options.Db = None,
    as_json: options.Json = False,
    force: Annotated[bool, typer.Option("--force", help="Re-pin sections that already have SQL and a "
                                        "question.")] = False,
) -> None:
    """Ask each unpinned question of CONFIG once and write its SQL (with the period as parameters) into it."""
    cfg, workspace = _open(config, as_of, backend, db)
    with workspace:
        done = workspace.pin(cfg, as_of=as_of, force=force)
    warn(workspace.problems)
    if as_json:
        print_json({"config": str(cfg.path), "pinned": sorted(done.sql), "notes": done.notes, "failed": done.failures})
    else:
        console = stdout_console()
        console.print(f"Pinned SQL for {len(done.sql)} section(s) in {markup(str(cfg.path))}"
                      + (f": {', '.join(map(str, sorted(done.sql)))}" if done.sql else ""))
        for note in done.notes:
            console.print(f"  note: {markup(note)}")
        for failure in done.failures:
            stderr_console().print(f"[red]✗ Could not pin {markup(failure)}[/]")
    if done.failures:
        raise typer.Exit(1)


def _open(config: str, as_of: str | None, backend: str | None, db: str | None) -> tuple[ReportConfig, Workspace]:
    """The validated config and a workspace on its database (or --db), before any section runs."""
    from nl2sql.cli.app import open_workspace
    from nl2sql.core.errors import UsageError
    from nl2sql.jobs.report.config import load_config
    from nl2sql.jobs.report.period import parse_as_of

    cfg = load_config(config)
    if as_of is not None:
        try:
            parse_as_of(as_of)
        except ValueError as exc:
            raise UsageError(f"--as-of: {exc}") from None
    flags = {"db": db or cfg.database, "schema": cfg.schema if not db else None, "backend": backend or cfg.backend,
             "max_rows": cfg.max_rows}
    return cfg, open_workspace(flags)


def _progress(total: int, as_json: bool) -> Callable[[int, str], None]:
    """A progress line per section, on a terminal only."""
    console = stderr_console()
    interactive = sys.stderr.isatty() and not as_json

    def progress(number: int, title: str) -> None:
        if interactive:
            console.print(f"[dim][{number}/{total}][/] {markup(title)}")

    return progress


def _summary(report: Report, files: list[Path], seconds: float) -> dict[str, object]:
    period = report.period
    return {"title": report.config.title,
            "period": {"kind": period.kind, "start": str(period.start), "end": str(period.end), "label": period.label},
            "as_of": str(report.as_of), "files": [str(f) for f in files],
            "alerts": [{"section": s.config.title, "alert": a} for s, a in report.alerts],
            "sections": [{"number": s.number, "title": s.config.title, "ok": s.ok, "error": s.error, "sql": s.sql,
                          "alerts": s.alerts} for s in report.sections],
            "seconds": round(seconds, 2)}


def _show(report: Report, files: list[Path], seconds: float) -> None:
    from nl2sql.jobs.report.output import plural

    out = stdout_console(soft_wrap=True)  # one line per alert, whatever the width
    failed = report.failed
    counts = f"{plural(len(report.sections), 'section')}, {plural(len(report.alerts), 'alert')}"
    out.print(f"{markup(report.config.title)} · {markup(report.period.label)}: {counts}, {len(failed)} failed, "
              f"{seconds:.1f} s")
    for section, alert in report.alerts:
        out.print(f"  ⚠ {markup(section.config.title)}: {markup(alert)}")
    for section in failed:
        stderr_console().print(f"[red]✗ Section {section.number} ({markup(section.config.title)}) failed:[/] "
                               f"{markup(section.error or '')}")
    for path in files:
        if path.suffix in (".md", ".html"):
            out.print(f"Wrote {markup(str(path))}")
