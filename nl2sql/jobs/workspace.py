"""The front door: one data source opened with one set of settings.

The pipeline's heavy parts (sqlglot, the answer modules) are imported by the jobs that need
them, so `Workspace.open(warm=True)` starts the sandbox worker before they load.

`Workspace.open(settings | **overrides)` makes the catalog, backend, sandbox and audit log once
(each when first needed) and offers the jobs: `ask`, `sql`, `chat`, `report`, `pin` and `eval`.
The CLI, the tests, the benchmarks and the MCP server all go through it.

    with Workspace.open(db="shop.duckdb") as ws:
        answer = ws.ask("Revenue by category in 2025")
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from nl2sql.backends.registry import make_backend
from nl2sql.core.audit import AuditLog
from nl2sql.core.config import Settings, load_settings, override
from nl2sql.core.errors import ConfigError
from nl2sql.data.annotations import find_annotation_file
from nl2sql.data.build import build_catalog
from nl2sql.data.examples import ExampleStore, source_key
from nl2sql.data.sources import DataSource, resolve
from nl2sql.safety.sandbox import Sandbox, limits_from

if TYPE_CHECKING:
    from nl2sql.backends.base import Backend
    from nl2sql.data.catalog import Catalog, Example
    from nl2sql.data.examples import StoredExample
    from nl2sql.jobs.ask import Answer, AskOptions, Pipeline, SqlRun
    from nl2sql.jobs.chat import Chat, Session
    from nl2sql.jobs.evaluate.questions import EvalItem
    from nl2sql.jobs.evaluate.run import EvalConfig, ItemResult
    from nl2sql.jobs.export import Exported
    from nl2sql.jobs.learn import Imported
    from nl2sql.jobs.report.config import ReportConfig
    from nl2sql.jobs.report.pin import Pinned
    from nl2sql.jobs.report.run import Report


class Workspace:
    """The catalog, backend, sandbox and audit log of one data source, made once, and the jobs on them."""

    def __init__(self, settings: Settings, backend_factory: Callable[[], Backend] | None = None) -> None:
        self.settings = settings
        self.problems: list[str] = []  # bookkeeping that failed on the side (caches, history): warnings
        ensure_home(settings.home_dir)
        self.source: DataSource = resolve(settings.db, self.problems)
        self._make_backend = backend_factory or functools.partial(make_backend, settings, problems=self.problems)
        self._sandbox: Sandbox | None = None

    @classmethod
    def open(cls, settings: Settings | None = None, /, *, backend: str | Callable[[], Backend] | None = None,
             warm: bool = False, **overrides: Any) -> Workspace:
        """A workspace for `settings` (default: flags > environment > nl2sql.toml > defaults) with
        `overrides` on top. `backend` is a backend name ('offline', 'openai', 'auto') or a function
        that makes one (tests pass a fake). `warm` starts the sandbox worker at once, so it loads
        the data while the caller does other work."""
        factory = backend if callable(backend) else None
        if isinstance(backend, str):
            overrides["backend"] = backend
        if settings is None:
            settings = load_settings({k: v for k, v in overrides.items() if v is not None})
        elif overrides:
            settings = override(settings, **overrides)
        workspace = cls(settings, factory)
        if warm:
            workspace.sandbox.launch()
        return workspace

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the sandbox worker (if one was started) and remove its temp directory."""
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    # -- the parts, made once -------------------------------------------------------------------------

    @functools.cached_property
    def catalog(self) -> Catalog:
        """The catalog of the source with its annotations and learned synonyms (profiles cached in the data dir)."""
        annotation = find_annotation_file(self.source.name, self.settings.schema, self.settings.schemas_dir)
        catalog = build_catalog(self.source, annotation, self.settings.home_dir, problems=self.problems)
        self.problems.extend(catalog.skipped)
        if self.has_examples:
            from nl2sql.jobs.learn import apply_synonyms

            self.problems += apply_synonyms(catalog, self.examples.synonyms())
        return catalog

    @property
    def has_examples(self) -> bool:
        """True when the data dir holds an example store (nothing is created just to look)."""
        return (self.settings.home_dir / "examples.sqlite").is_file()

    @functools.cached_property
    def examples(self) -> ExampleStore:
        """The verified examples and learned synonyms of this data source."""
        return ExampleStore(self.settings.home_dir / "examples.sqlite", source_key(self.source.kind,
                                                                                  str(self.source.path)))

    @property
    def sandbox(self) -> Sandbox:
        """The hardened worker that runs guarded SQL (started when first used)."""
        if self._sandbox is None:
            self._sandbox = Sandbox(self.source, limits_from(self.settings))
        return self._sandbox

    @functools.cached_property
    def audit(self) -> AuditLog:
        """The audit log (history.sqlite in the data dir)."""
        return AuditLog(self.settings.home_dir / "history.sqlite", self.problems)

    @functools.cached_property
    def backend(self) -> Backend:
        """The backend of this workspace's conversation (a stateful one remembers earlier questions)."""
        return self._make_backend()

    def new_backend(self) -> Backend:
        """A fresh backend: a conversation of its own (report sections, eval items)."""
        return self._make_backend()

    def options(self, **changes: Any) -> AskOptions:
        """The ask options the settings give, with `changes` on top."""
        from nl2sql.jobs.ask import AskOptions

        s = self.settings
        base = AskOptions(max_rows=s.max_rows, max_repairs=s.max_repairs, privacy=s.privacy, budget_usd=s.budget,
                          max_tokens=s.max_tokens, moderation=s.moderation, prices=dict(s.prices), as_of=s.as_of)
        return dataclasses.replace(base, **changes)

    def pipeline(self, **changes: Any) -> Pipeline:
        """The catalog, sandbox, options (with `changes`) and audit log, for a job that asks."""
        from nl2sql.jobs.ask import Pipeline

        return Pipeline(self.catalog, self.sandbox, self.options(**changes), self.audit)

    # -- the jobs ---------------------------------------------------------------------------------------

    def ask(self, question: str, *, instructions: str | None = None, chart_type: str | None = None,
            sql_only: bool = False) -> Answer:
        """Answer a question: SQL written, guarded, run, checked, narrated and charted (DESIGN §2)."""
        from nl2sql.core.text import check_question
        from nl2sql.jobs.ask import ask

        question = check_question(question)
        examples = self.learned_examples(question)
        return ask(question, catalog=self.catalog, backend=self.backend, sandbox=None if sql_only else self.sandbox,
                   options=self.options(instructions=instructions, chart_type=chart_type, examples=examples),
                   audit=self.audit)

    def learned_examples(self, question: str) -> list[Example]:
        """Verified examples that fit `question` (guarded against today's schema; notes for dropped ones)."""
        if not self.has_examples or self.backend.name == "offline":
            return []
        from nl2sql.jobs.learn import examples_for

        examples, notes = examples_for(question, self.examples, self.catalog, self.settings.privacy,
                                       self.settings.max_rows)
        self.problems += notes
        return examples

    def sql(self, text: str, *, check: bool = False) -> SqlRun:
        """Run your own SQL through the same guard and sandbox (`check`: guard only)."""
        from nl2sql.jobs.ask import run_sql

        return run_sql(text, self.catalog, None if check else self.sandbox, self.settings.max_rows)

    def export(self, sql: str, fmt: str, target: Path | None, stdout: IO[str] | None = None) -> Exported:
        """Every row of `sql` (guarded again, no row cap) streamed as csv, json, markdown or parquet to
        `target` (or stdout); complete, or an error and no file (see jobs/export.py)."""
        from nl2sql.jobs.export import export_rows

        return export_rows(sql, self.catalog, self.sandbox, fmt, target, stdout)

    def chat(self, session: Session | None = None) -> Chat:
        """A conversation (a new session unless one is given); each answer becomes a view r1, r2, …"""
        from nl2sql.jobs.chat import Chat, new_session

        if session is None:
            session = new_session(self.settings.home_dir, self.settings.db, self.backend.name)
        chat = Chat(session, self.pipeline(), self.backend, examples_for=self.learned_examples, learning=self,
                    problems=self.problems)
        chat.replay()
        return chat

    def report(self, config: ReportConfig | str | Path, *, as_of: str | None = None,
               progress: Callable[[int, str], None] | None = None) -> Report:
        """Run a report config for the period its as_of (or `as_of`) closes."""
        from nl2sql.jobs.report.run import build_report

        cfg, day = self._report_setup(config, as_of)
        return build_report(cfg, self.pipeline(as_of=str(day)), self.new_backend, day, progress=progress)

    def pin(self, config: ReportConfig | str | Path, *, as_of: str | None = None, force: bool = False) -> Pinned:
        """Ask each unpinned question of a report config once and write its SQL into the file."""
        from nl2sql.jobs.report.period import report_period
        from nl2sql.jobs.report.pin import pin_report

        cfg, day = self._report_setup(config, as_of)
        return pin_report(cfg, self.pipeline(as_of=str(day)), self.new_backend, report_period(day, cfg.period), force)

    def _report_setup(self, config: ReportConfig | str | Path, as_of: str | None) -> tuple[ReportConfig, Any]:
        from nl2sql.jobs.report.config import load_config
        from nl2sql.jobs.report.period import resolve_as_of

        cfg = config if not isinstance(config, str | Path) else load_config(config)
        self.new_backend()  # a misconfigured backend is a config error before any section runs
        return cfg, resolve_as_of(as_of or cfg.as_of, self.catalog)

    # -- learning: feedback and the example store ------------------------------------------------------

    def feedback_good(self, entry_id: int | None = None) -> StoredExample:
        """Confirm an answer (default: the latest): it becomes a verified example if its SQL runs now."""
        from nl2sql.jobs.learn import feedback_good

        return feedback_good(self.examples, self.audit, self.catalog, self.sandbox, self.settings.max_rows, entry_id)

    def confirm(self, question: str, sql: str, history_id: int | None = None) -> StoredExample:
        """Store `sql` as the verified answer to `question` (it must pass the guard and run now)."""
        from nl2sql.jobs.learn import confirm

        example = confirm(self.examples, self.catalog, self.sandbox, question, sql, "feedback",
                          self.settings.max_rows, history_id=history_id)
        if history_id is not None:
            self.audit.set_feedback(history_id, "good")
        return example

    def feedback_bad(self, entry_id: int | None = None, why: str | None = None,
                     corrected_sql: str | None = None) -> tuple[dict[str, Any], StoredExample | None, str | None]:
        """Reject an answer: its examples are trusted less, a corrected SQL is stored, a "meant" teaches a synonym."""
        from nl2sql.jobs.learn import apply_synonyms, feedback_bad

        done = feedback_bad(self.examples, self.audit, self.catalog, self.sandbox, self.settings.max_rows, entry_id,
                            why=why, corrected_sql=corrected_sql)
        if done[2]:  # the word counts from the next question on, in this conversation too
            phrase, target = done[2].split(" -> ", 1)
            apply_synonyms(self.catalog, {phrase: target})
            vars(self.catalog).pop("_offline_lexicon", None)  # the offline engine's word list is rebuilt
        return done

    def import_examples(self, path: Path) -> Imported:
        """Add question/SQL pairs from a file; each must pass the guard and run."""
        from nl2sql.jobs.learn import import_examples

        return import_examples(self.examples, self.catalog, self.sandbox, path, self.settings.max_rows)

    def export_examples(self, to: Path | None = None) -> str:
        """The examples as annotation YAML; written into `to` (keeping its other keys) when given."""
        from nl2sql.core.files import write_atomic
        from nl2sql.data.annotations import load_annotations
        from nl2sql.jobs.learn import export_yaml

        text = export_yaml(self.examples.all() if self.has_examples else [],
                           load_annotations(to) if to is not None and to.is_file() else None)
        if to is not None:
            write_atomic(to, text)
        return text

    def eval(self, items: list[EvalItem] | str | Path, db: Path, *, configs: list[EvalConfig] | None = None,
             jobs: int = 1, progress: Callable[[ItemResult], None] | None = None) -> dict[str, list[ItemResult]]:
        """Score questions (a file or items) on `db` (a database, or a folder of <db>.duckdb files)."""
        from nl2sql.jobs.evaluate.questions import load_questions
        from nl2sql.jobs.evaluate.run import EvalConfig, run_eval

        questions = load_questions(Path(items)) if isinstance(items, str | Path) else items
        configs = configs or [EvalConfig(self.settings.backend, self.new_backend)]
        return run_eval(questions, configs, db, jobs=jobs, home=self.settings.home_dir, schema=self.settings.schema,
                        schemas_dir=self.settings.schemas_dir, progress=progress)


def ensure_home(home: Path) -> None:
    """The data dir exists or is created; one that cannot be created is a configuration error naming it.

    A home that exists but cannot be written is not an error: each write that fails there becomes a
    warning and the answer is still given."""
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"The data dir {home} cannot be created ({exc.strerror or type(exc).__name__}).",
                          hint="Set NL2SQL_HOME (or `home` in nl2sql.toml) to a folder you can write.") from None
