"""The backend interface: what the pipeline asks of whatever writes SQL and narrates.

A Backend declares its capabilities as attributes (`stateful`, `can_moderate`) instead of
being probed with hasattr. `openai.py` speaks the Chat Completions API (OpenAI or any
compatible server); `offline/` plans deterministically; `pinned.py` answers with given SQL.
The pipeline only ever talks to a Backend; it never imports a provider library.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from nl2sql.core.values import Result
    from nl2sql.data.catalog import Catalog
    from nl2sql.data.context import Context


@dataclasses.dataclass
class Usage:
    """Tokens and estimated cost of the model calls of one answer."""

    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    cached_calls: int = 0

    def add(self, other: Usage) -> None:
        """Accumulate another call's usage."""
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cost_usd += other.cost_usd
        self.calls += other.calls
        self.cached_calls += other.cached_calls

    def to_dict(self) -> dict[str, Any]:
        """The DESIGN §5 usage object."""
        return {"input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "cost_usd": round(self.cost_usd, 6)}


@dataclasses.dataclass
class SqlRequest:
    """What a backend needs to write (or repair) SQL for a question."""

    question: str
    catalog: Catalog
    context: Context
    instructions: str | None = None
    conversation: str | None = None
    latest_date: str | None = None  # "today" for relative periods: --as-of, else the data's latest date
    as_of_given: bool = False  # True when latest_date is the user's --as-of rather than the data's
    previous_sql: str | None = None  # set on a repair round
    error: str | None = None  # the shortened guard/DuckDB error of the previous round


@dataclasses.dataclass
class SqlDraft:
    """A backend's answer: SQL with its explanation and assumptions, or a refusal."""

    sql: str | None = None
    explanation: str | None = None
    assumptions: list[str] = dataclasses.field(default_factory=list)
    refusal: str | None = None
    usage: Usage = dataclasses.field(default_factory=Usage)
    malformed: str | None = None  # why the reply could not be used, when it could not
    chart: Any = None  # the model's chart spec, untrusted: validated against the result's columns
    reading: str | None = None  # the plan in words (measure, filters, period, grain, order, limit), when known


@dataclasses.dataclass
class NarrationRequest:
    """What a backend needs to narrate a result."""

    question: str
    sql: str
    result: Result
    assumptions: list[str]
    language: str  # "en" or "zh"
    preview: str  # capped, delimited-ready text of the rows (privacy tier applied)
    aggregates: str  # computed totals/shares/changes as text
    feedback: str | None = None  # on a second try: the numbers of the first that the data does not support


class Backend(Protocol):
    """What every backend offers the pipeline, and the capabilities it declares."""

    name: str
    model: str | None
    stateful: bool  # remembers earlier questions of a conversation (reset() forgets them)
    can_moderate: bool  # moderate() asks a moderation endpoint

    def write_sql(self, request: SqlRequest) -> SqlDraft:
        """SQL for the question (or, with request.error set, a repair), or a refusal."""
        ...

    def narrate(self, request: NarrationRequest) -> tuple[str | None, Usage]:
        """A few grounded sentences about the result, or None to use the deterministic narrator."""
        ...

    def moderate(self, text: str) -> bool:
        """True when `text` is flagged (only called when `can_moderate`)."""
        ...

    def reset(self) -> None:
        """Forget the conversation so far (a stateful backend's memory of earlier questions)."""
        ...
