"""The backend interface: write_sql, narrate, chart_spec. One implementation per module.

`openai.py` speaks the Chat Completions API (OpenAI or any compatible server). The pipeline
only ever talks to a Backend; it never imports a provider library.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from nl2sql.catalog import Catalog
    from nl2sql.charts import ChartSpec
    from nl2sql.config import Settings
    from nl2sql.context import Context
    from nl2sql.sandbox import Result


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
    latest_date: str | None = None
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
    """What every backend offers the pipeline."""

    name: str
    model: str | None

    def write_sql(self, request: SqlRequest) -> SqlDraft:
        """SQL for the question (or, with request.error set, a repair), or a refusal."""
        ...

    def narrate(self, request: NarrationRequest) -> tuple[str | None, Usage]:
        """A few grounded sentences about the result, or None to use the deterministic narrator."""
        ...

    def chart_spec(self, question: str, result: Result) -> ChartSpec | None:
        """A chart for the result, or None when no chart suits it."""
        ...


def configured_for_openai(settings: Settings) -> bool:
    """True when a key or a base URL is configured (what `--backend auto` looks at)."""
    return bool(settings.api_key or settings.base_url)


def make_backend(settings: Settings, catalog: Catalog) -> Backend:
    """The backend the settings ask for; `auto` = openai when configured."""
    from nl2sql.errors import ConfigError

    choice = settings.backend
    if choice == "auto":
        choice = "openai" if configured_for_openai(settings) else "offline"
    if choice == "openai":
        if not configured_for_openai(settings):
            raise ConfigError("The openai backend needs a key or a base URL.",
                              hint="Set OPENAI_API_KEY (or OPENAI_BASE_URL for a local OpenAI-compatible server, "
                              "e.g. llama.cpp, vLLM, Ollama), or use --backend offline.")
        from nl2sql.backends.openai import OpenAIBackend

        return OpenAIBackend(settings)
    if choice == "offline":
        from nl2sql.backends.offline import OfflineBackend

        return OfflineBackend(as_of=as_of_date(settings))
    raise ConfigError(f"Backend {choice!r} is not available.", hint="Use --backend openai or offline.")


def as_of_date(settings: Settings) -> Any:
    """The --as-of date, parsed; None when not set. A malformed date is a configuration error."""
    import datetime as dt

    from nl2sql.errors import ConfigError

    if not settings.as_of:
        return None
    try:
        return dt.date.fromisoformat(str(settings.as_of))
    except ValueError:
        raise ConfigError(f"--as-of {settings.as_of!r} is not a date.",
                          hint="Use YYYY-MM-DD, e.g. 2025-12-31.") from None
