"""Question files: JSON Lines in the format of sql-eval's questions.jsonl (see the README)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from nl2sql.core.errors import UsageError


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
        except json.JSONDecodeError as exc:
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
