"""The eval run: every question under every configuration, scored by execution accuracy.

Each item is its own conversation (a backend of its own), follow-up chains replay their
earlier turns, gold SQL runs through the same guard and sandbox as the candidate's, and the
summary gives accuracy, precision, coverage, refusals, errors, tokens, cost and latency.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from nl2sql.backends.base import Backend, NarrationRequest, SqlDraft, SqlRequest, Usage
from nl2sql.core.errors import Nl2SqlError, RefusalError, UsageError
from nl2sql.data.annotations import find_annotation_file
from nl2sql.data.build import build_catalog
from nl2sql.data.catalog import Catalog, Example
from nl2sql.data.examples import ExampleStore, source_key
from nl2sql.data.sources import resolve
from nl2sql.jobs.ask import AskOptions, ask
from nl2sql.jobs.evaluate.compare import asks_for_order, results_match
from nl2sql.jobs.evaluate.questions import EvalItem
from nl2sql.jobs.learn import apply_synonyms, examples_for
from nl2sql.safety.guard import guard
from nl2sql.safety.sandbox import Limits, Sandbox


@dataclasses.dataclass
class ItemResult:
    """The outcome of one item under one configuration."""

    item: EvalItem
    config: str
    status: str  # correct, wrong, refused, error
    correct: bool
    sql: str | None = None
    error_type: str | None = None
    error: str | None = None
    repairs: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """One line of --output."""
        return {"line": self.item.line, "db": self.item.db, "category": self.item.category,
                "question": self.item.question, "config": self.config, "status": self.status,
                "correct": self.correct, "sql": self.sql, "error_type": self.error_type, "error": self.error,
                "repairs": self.repairs, "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "cost_usd": round(self.cost_usd, 6), "seconds": round(self.seconds, 3)}


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def summarize_results(results: list[ItemResult]) -> dict[str, Any]:
    """Accuracy, precision, coverage, refusals, errors, repairs, tokens, cost and latency."""
    n = len(results)
    answered = [r for r in results if r.status in ("correct", "wrong")]
    refusals = [r for r in results if r.status == "refused"]
    errors: dict[str, int] = {}
    for r in results:
        if r.status == "error":
            errors[r.error_type or "error"] = errors.get(r.error_type or "error", 0) + 1
    correct = sum(r.correct for r in results)
    correct_answers = sum(r.correct for r in answered)
    by_category: dict[str, dict[str, int]] = {}
    for r in results:
        c = by_category.setdefault(r.item.category, {"n": 0, "correct": 0, "answered": 0})
        c["n"] += 1
        c["correct"] += r.correct
        c["answered"] += r.status in ("correct", "wrong")
    seconds = [r.seconds for r in results]
    return {
        "questions": n, "correct": correct, "accuracy": correct / n if n else 0.0,
        "answered": len(answered), "precision": correct_answers / len(answered) if answered else 0.0,
        "coverage": len(answered) / n if n else 0.0, "refusals": len(refusals),
        "correct_refusals": sum(r.correct for r in refusals), "errors": errors,
        "repairs": sum(r.repairs for r in results),
        "input_tokens": sum(r.input_tokens for r in results), "output_tokens": sum(r.output_tokens for r in results),
        "cost_usd": round(sum(r.cost_usd for r in results), 6),
        "median_seconds": statistics.median(seconds) if seconds else 0.0, "p95_seconds": percentile(seconds, 95),
        "by_category": by_category,
    }


class GoldBackend:
    """A pseudo-backend that answers with the gold SQL: checks the harness scores 100 % on itself."""

    name = "gold"
    model: str | None = None
    stateful = False
    can_moderate = False

    def __init__(self, items: list[EvalItem]) -> None:
        self.gold = {(i.db, " ".join(i.question.split())): i for i in items}

    def write_sql(self, request: SqlRequest) -> SqlDraft:
        """The first gold query of the question, or a refusal for an unanswerable one."""
        item = self.gold.get((request.catalog.name, request.question)) or self.gold.get((None, request.question))
        if item is None or not item.gold_sql:
            return SqlDraft(refusal="no gold SQL for this question")
        return SqlDraft(sql=item.gold_sql[0])

    def narrate(self, request: NarrationRequest) -> tuple[str | None, Usage]:
        """No narration: the deterministic narrator is used."""
        return None, Usage()

    def moderate(self, text: str) -> bool:
        """Nothing is moderated."""
        return False

    def reset(self) -> None:
        """No conversation to forget."""


@dataclasses.dataclass
class EvalConfig:
    """One column of an eval: a name and how to make a fresh backend (one per question)."""

    name: str
    make_backend: Callable[[], Backend]


def db_path_for(item: EvalItem, db: Path) -> Path:
    """The database of an item: --db itself (a file) or <db>/<item.db>.duckdb (a folder)."""
    if db.is_dir() and item.db:
        path = db / f"{item.db}.duckdb"
        if not path.is_file():
            raise UsageError(f"Line {item.line} needs database '{item.db}', but {path} does not exist.",
                             hint="Build it first, e.g. python ../shared/benchmarks/sql-eval/build.py DIR.")
        return path
    return db


@dataclasses.dataclass
class _Database:
    """One database of an eval: its catalog, a shared sandbox, and its gold results (computed once)."""

    catalog: Catalog
    sandbox: Sandbox
    max_rows: int
    store: ExampleStore | None = None  # verified examples of this database, shown to a model like `ask` does
    gold: dict[int, list[list[tuple[Any, ...]]]] = dataclasses.field(default_factory=dict)

    def examples(self, question: str, backend: Backend) -> list[Example]:
        if self.store is None or backend.name == "offline":
            return []
        return examples_for(question, self.store, self.catalog, "rows", self.max_rows)[0]

    def gold_rows(self, item: EvalItem) -> list[list[tuple[Any, ...]]]:
        if item.line not in self.gold:
            self.gold[item.line] = [self.sandbox.run(guard(g, self.catalog, self.max_rows, parse_here=False),
                                                     max_rows=self.max_rows).rows for g in item.gold_sql]
        return self.gold[item.line]


def _open_databases(paths: list[Path], schema: str | None, schemas_dir: str | None, limits: Limits,
                    home: Path | None) -> dict[Path, _Database]:
    databases: dict[Path, _Database] = {}
    try:
        for path in dict.fromkeys(paths):
            source = resolve(path)
            catalog = build_catalog(source, find_annotation_file(source.name, schema, schemas_dir), None,
                                    use_cache=False)
            store = None
            if home is not None and (home / "examples.sqlite").is_file():
                store = ExampleStore(home / "examples.sqlite", source_key(source.kind, str(source.path)))
                apply_synonyms(catalog, store.synonyms())
            databases[path] = _Database(catalog, Sandbox(source, limits), limits.max_rows, store)
    except BaseException:
        _close(databases)
        raise
    return databases


def _close(databases: dict[Path, _Database]) -> None:
    for database in databases.values():
        database.sandbox.close()


def _score(item: EvalItem, config: EvalConfig, db: _Database) -> ItemResult:
    """Ask one item (its earlier turns first) in a fresh conversation, and compare with the gold."""
    backend = config.make_backend()
    options = AskOptions(max_rows=db.max_rows, narrate=False, instructions=item.instructions)
    start = time.perf_counter()
    usage = Usage()
    conversation: list[str] = []
    try:
        for question in [*item.turns, item.question]:
            answer = ask(question, catalog=db.catalog, backend=backend, sandbox=db.sandbox,
                         options=dataclasses.replace(options, conversation="\n".join(conversation) or None,
                                                     examples=db.examples(question, backend)))
            conversation.append(f"Q: {question}\nSQL: {answer.sql}")
            usage.add(answer.usage)
    except RefusalError as exc:
        return ItemResult(item, config.name, "refused", item.expect == "refuse", error=exc.message,
                          error_type="RefusalError", seconds=time.perf_counter() - start)
    except Nl2SqlError as exc:
        return ItemResult(item, config.name, "error", False, error=exc.message, error_type=type(exc).__name__,
                          seconds=time.perf_counter() - start)
    correct = item.expect != "refuse" and any(
        results_match(g, answer.result.rows, asks_for_order(item.question)) for g in db.gold_rows(item))
    return ItemResult(item, config.name, "correct" if correct else "wrong", correct, sql=answer.sql,
                      repairs=answer.repairs, input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
                      cost_usd=usage.cost_usd, seconds=time.perf_counter() - start)


def run_eval(items: list[EvalItem], configs: list[EvalConfig], db: Path, *, jobs: int = 1, max_rows: int = 100_000,
             schema: str | None = None, schemas_dir: str | None = None,
             progress: Callable[[ItemResult], None] | None = None,
             timeout: float = 60.0, home: Path | None = None) -> dict[str, list[ItemResult]]:
    """Run every item under every config; returns results per config, in item order.

    With `home`, the data dir's verified examples of each database are shown to model backends.
    """
    paths = {item.line: db_path_for(item, db) for item in items}
    databases = _open_databases(list(paths.values()), schema, schemas_dir, Limits(timeout=timeout, max_rows=max_rows),
                                home)
    try:
        for config in configs:  # fail early (e.g. no key for openai) before any question runs
            config.make_backend()
        results: dict[str, list[ItemResult]] = {c.name: [] for c in configs}
        for config in configs:
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                for result in pool.map(lambda item, c=config: _score(item, c, databases[paths[item.line]]), items):
                    results[config.name].append(result)
                    if progress is not None:
                        progress(result)
        return results
    finally:
        _close(databases)


def differences(results: dict[str, list[ItemResult]]) -> list[dict[str, Any]]:
    """Per question, where configs disagree: which got better or worse than the first config."""
    names = list(results)
    if len(names) < 2:
        return []
    out = []
    base = results[names[0]]
    for i, first in enumerate(base):
        verdicts = {n: results[n][i].correct for n in names}
        if len(set(verdicts.values())) > 1:
            out.append({"line": first.item.line, "question": first.item.question, "category": first.item.category,
                        "correct": verdicts,
                        "change": {n: ("better" if v and not first.correct else "worse" if first.correct and not v
                                       else "same") for n, v in verdicts.items() if n != names[0]}})
    return out
