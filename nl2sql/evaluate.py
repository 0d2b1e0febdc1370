"""Result-set comparison for execution accuracy (the scoring of sql-eval).

Two results match when, after dropping duplicate rows, every gold column can be paired with a
distinct candidate column so that the rows agree: column names and column order are ignored,
extra candidate columns are allowed, row order is ignored unless the question asks for an
order, numbers compare at a relative tolerance of 1e-6, and dates compare as dates.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import itertools
import json
import math
import re
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nl2sql.errors import UsageError

ORDER_WORDS = re.compile(r"\b(order(ed)? by|sort(ed)?|rank(ed|ing)?|ascending|descending|in order)\b|排序|排名", re.I)


def asks_for_order(question: str) -> bool:
    """True when the question asks for rows in a particular order."""
    return bool(ORDER_WORDS.search(question))


def normalize(value: Any) -> Any:
    """A cell in comparable form: numbers as floats at ~1e-6 relative precision, dates as ISO text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float | decimal.Decimal):
        number = float(value)
        if math.isnan(number):
            return "NaN"
        if number == 0 or math.isinf(number):
            return number
        return float(f"{number:.7g}")  # 7 significant digits ~ 1e-6 relative tolerance
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, list | tuple):
        return tuple(normalize(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((str(k), normalize(v)) for k, v in value.items()))
    if isinstance(value, str):
        return value.rstrip()
    return str(value)


def _dedupe(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return list(dict.fromkeys(rows))


def _key(value: Any) -> tuple[int, str]:
    return (0, "") if value is None else (1, repr(value))


def _order_keys(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]] | None:
    """The numeric cells of each row, in order: rows tied on them may come in any order (SQL
    does not order ties), so an ordered comparison checks this sequence, not the labels."""
    if not rows:
        return []
    numeric = [i for i in range(len(rows[0])) if all(isinstance(r[i], float) or r[i] is None for r in rows)]
    if not numeric:
        return None  # nothing to sort on but labels: the exact sequence must match
    return [tuple(r[i] for i in numeric) for r in rows]


def results_match(gold: Sequence[Sequence[Any]], candidate: Sequence[Sequence[Any]], ordered: bool = False) -> bool:
    """True when `candidate` rows answer the same as `gold` rows (see the module docstring)."""
    g_rows = [tuple(normalize(v) for v in row) for row in gold]
    c_rows = [tuple(normalize(v) for v in row) for row in candidate]
    if not g_rows:
        return not c_rows
    if not c_rows:
        return False
    g_width, c_width = len(g_rows[0]), len(c_rows[0])
    if g_width > c_width:
        return False
    g_cols = [sorted({r[i] for r in g_rows}, key=_key) for i in range(g_width)]
    c_cols = [sorted({r[j] for r in c_rows}, key=_key) for j in range(c_width)]
    options = [[j for j in range(c_width) if c_cols[j] == g_cols[i]] for i in range(g_width)]
    if any(not o for o in options):
        return False
    target = _dedupe(g_rows)
    for mapping in itertools.islice(itertools.product(*options), 20_000):  # bounded: wide all-NULL results
        if len(set(mapping)) != len(mapping):
            continue
        projected = _dedupe([tuple(r[j] for j in mapping) for r in c_rows])
        if ordered:
            if projected == target or (set(projected) == set(target) and len(projected) == len(target)
                                       and _order_keys(projected) == _order_keys(target)):
                return True
        elif len(projected) == len(target) and set(projected) == set(target):
            return True
    return False


# ---------------------------------------------------------------------------------------------
# The question file and the eval run


@dataclasses.dataclass
class EvalItem:
    """One line of a question file."""

    line: int
    db: str | None
    question: str
    gold_sql: list[str]
    category: str
    instructions: str | None = None
    expect: str | None = None  # "refuse" for questions the data cannot answer
    turns: list[str] = dataclasses.field(default_factory=list)  # earlier turns of a follow-up chain


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


def load_questions(path: Path) -> list[EvalItem]:
    """Parse a JSON Lines question file; a bad line is a UsageError naming its number."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise UsageError(f"Question file not found: {path}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Cannot read {path}: {exc}.") from None
    items = []
    for number, text in enumerate(lines, 1):
        if not text.strip() or text.lstrip().startswith("//"):
            continue
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise UsageError(f"{path}, line {number}: not valid JSON ({exc.msg}).",
                             hint="Each line must be one JSON object.") from None
        if not isinstance(data, dict) or not isinstance(data.get("question"), str) or not data["question"].strip():
            raise UsageError(f"{path}, line {number}: needs a 'question'.")
        gold = data.get("gold_sql") or []
        gold = [gold] if isinstance(gold, str) else gold
        expect = data.get("expect")
        if not gold and expect != "refuse":
            expect = "refuse" if "gold_sql" not in data and data.get("source", "").startswith("idk") else expect
        if not gold and expect != "refuse":
            raise UsageError(f"{path}, line {number}: needs 'gold_sql' (a list of queries) or \"expect\": \"refuse\".")
        turns = data.get("turns") or []
        if not isinstance(turns, list) or not all(isinstance(t, str) for t in turns):
            raise UsageError(f"{path}, line {number}: 'turns' must be a list of earlier questions.")
        items.append(EvalItem(line=number, db=data.get("db"), question=data["question"].strip(),
                              gold_sql=[str(g) for g in gold], category=str(data.get("category") or
                                                                             ("refuse" if expect == "refuse" else "-")),
                              instructions=data.get("instructions"), expect=expect, turns=turns))
    if not items:
        raise UsageError(f"{path} holds no questions.")
    return items


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
    model = None

    def __init__(self, items: list[EvalItem]) -> None:
        self.gold = {(i.db, " ".join(i.question.split())): i for i in items}

    def write_sql(self, request: Any) -> Any:
        """The first gold query of the question, or a refusal for an unanswerable one."""
        from nl2sql.backends import SqlDraft

        item = self.gold.get((request.catalog.name, request.question)) or self.gold.get((None, request.question))
        if item is None or not item.gold_sql:
            return SqlDraft(refusal="no gold SQL for this question")
        return SqlDraft(sql=item.gold_sql[0])

    def narrate(self, request: Any) -> tuple[None, Any]:
        """No narration: the deterministic narrator is used."""
        from nl2sql.backends import Usage

        return None, Usage()

    def chart_spec(self, question: str, result: Any) -> None:
        """No chart."""
        return None


@dataclasses.dataclass
class EvalConfig:
    """One column of an eval: a name and how to make its backend for a catalog."""

    name: str
    make_backend: Any  # Callable[[Catalog], Backend]


class _LockedSandbox:
    """A sandbox shared by eval threads: one query at a time through its worker."""

    def __init__(self, sandbox: Any) -> None:
        import threading

        self.sandbox = sandbox
        self.lock = threading.Lock()

    def run(self, query: Any, max_rows: int | None = None) -> Any:
        with self.lock:
            return self.sandbox.run(query, max_rows=max_rows)


def db_path_for(item: EvalItem, db: Path) -> Path:
    """The database of an item: --db itself (a file) or <db>/<item.db>.duckdb (a folder)."""
    if db.is_dir() and item.db:
        path = db / f"{item.db}.duckdb"
        if not path.is_file():
            raise UsageError(f"Line {item.line} needs database '{item.db}', but {path} does not exist.",
                             hint="Build it first, e.g. python ../shared/benchmarks/sql-eval/build.py DIR.")
        return path
    return db


def run_eval(items: list[EvalItem], configs: list[EvalConfig], db: Path, *, jobs: int = 1, max_rows: int = 100_000,
             schema: str | None = None, schemas_dir: str | None = None, progress: Any = None,
             timeout: float = 60.0) -> dict[str, list[ItemResult]]:
    """Run every item under every config; returns results per config, in item order."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from nl2sql.annotations import find_annotation_file
    from nl2sql.catalog import build_catalog
    from nl2sql.datasource import resolve
    from nl2sql.errors import Nl2SqlError, RefusalError
    from nl2sql.guard import guard
    from nl2sql.pipeline import AskOptions, ask
    from nl2sql.sandbox import Limits, Sandbox

    paths = {id(i): db_path_for(i, db) for i in items}
    resources: dict[Path, tuple[Any, Any]] = {}
    try:
        for path in dict.fromkeys(paths.values()):
            source = resolve(path)
            catalog = build_catalog(source, find_annotation_file(source.name, schema, schemas_dir), None,
                                    use_cache=False)
            resources[path] = (catalog, _LockedSandbox(Sandbox(source, Limits(timeout=timeout, max_rows=max_rows))))
        for c in configs:  # fail early (e.g. no key for openai) before any question runs
            c.make_backend(next(iter(resources.values()))[0])
        gold_cache: dict[int, list[list[tuple[Any, ...]]] | None] = {}

        def gold_rows(item: EvalItem) -> list[list[tuple[Any, ...]]]:
            if id(item) not in gold_cache:
                catalog, sandbox = resources[paths[id(item)]]
                gold_cache[id(item)] = [sandbox.run(guard(g, catalog, max_rows), max_rows=max_rows).rows
                                        for g in item.gold_sql]
            return gold_cache[id(item)] or []

        def one(config: EvalConfig, item: EvalItem) -> ItemResult:
            catalog, sandbox = resources[paths[id(item)]]
            # every item is its own conversation: a backend of its own (follow-ups never leak across items)
            backend = config.make_backend(catalog)
            options = AskOptions(max_rows=max_rows, narrate=False, instructions=item.instructions)
            start = time.perf_counter()
            usage_in = usage_out = 0
            cost = 0.0
            try:
                conversation: list[str] = []
                for turn in item.turns:  # earlier turns of a follow-up chain
                    previous = ask(turn, catalog=catalog, backend=backend, sandbox=sandbox,  # type: ignore[arg-type]
                                   options=dataclasses.replace(options, conversation="\n".join(conversation) or None))
                    conversation.append(f"Q: {turn}\nSQL: {previous.sql}")
                    usage_in += previous.usage.input_tokens
                    usage_out += previous.usage.output_tokens
                    cost += previous.usage.cost_usd
                answer = ask(item.question, catalog=catalog, backend=backend, sandbox=sandbox,  # type: ignore[arg-type]
                             options=dataclasses.replace(options, conversation="\n".join(conversation) or None))
                seconds = time.perf_counter() - start
                if item.expect == "refuse":
                    correct = False
                else:
                    ordered = asks_for_order(item.question)
                    correct = any(results_match(g, answer.result.rows, ordered) for g in gold_rows(item))
                return ItemResult(item, config.name, "correct" if correct else "wrong", correct, sql=answer.sql,
                                  repairs=answer.repairs, input_tokens=usage_in + answer.usage.input_tokens,
                                  output_tokens=usage_out + answer.usage.output_tokens,
                                  cost_usd=cost + answer.usage.cost_usd, seconds=seconds)
            except RefusalError as exc:
                return ItemResult(item, config.name, "refused", item.expect == "refuse", error=exc.message,
                                  error_type="RefusalError", seconds=time.perf_counter() - start)
            except Nl2SqlError as exc:
                return ItemResult(item, config.name, "error", False, error=exc.message, error_type=type(exc).__name__,
                                  seconds=time.perf_counter() - start)

        results: dict[str, list[ItemResult]] = {c.name: [] for c in configs}
        for config in configs:
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                for result in pool.map(lambda item, c=config: one(c, item), items):
                    results[config.name].append(result)
                    if progress is not None:
                        progress(result)
        return results
    finally:
        for _, locked in resources.values():
            locked.sandbox.close()


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
