"""The errors nl2sql raises. Each carries a message and a hint for what to do next.

`nl2sql.cli` is the only place that turns them into terminal output and exit codes
(DESIGN §5): 0 answered, 1 could not answer, 2 usage or configuration, 3 model/provider.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable


class Nl2SqlError(Exception):
    """Base error: a message for a person, an optional hint, and the exit code it maps to."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_dict(self) -> dict[str, str | None]:
        """The DESIGN §5 error object."""
        return {"type": type(self).__name__, "message": self.message, "hint": self.hint}


class UsageError(Nl2SqlError):
    """A bad flag, argument or input file."""

    exit_code = 2


class ConfigError(UsageError):
    """A configuration file or setting that cannot be used."""


class DataSourceError(UsageError):
    """The data behind --db is missing, unreadable or empty."""


class AnnotationError(ConfigError):
    """The semantic-layer YAML is malformed or names things that do not exist."""


class UnsafeSQLError(Nl2SqlError):
    """SQL that is not provably one read-only query over the catalog's tables."""


class InvalidSQLError(Nl2SqlError):
    """SQL that does not parse or names unknown tables or columns."""


class ExecutionError(Nl2SqlError):
    """The query failed while running (DuckDB error, limit reached)."""


class LimitError(ExecutionError):
    """The query reached one of the sandbox's limits (time, memory) and was stopped: no repair helps."""


class QueryTimeoutError(LimitError):
    """The query ran past its time limit and was stopped."""


class MemoryLimitError(LimitError):
    """The query needed more memory than its limit and was stopped."""


class OutputError(Nl2SqlError):
    """A file we were asked to write could not be written (full disk, permissions); nothing partial is left."""


class RefusalError(Nl2SqlError):
    """The backend declined to answer: the data cannot answer the question."""


class ProviderError(Nl2SqlError):
    """The model provider failed after retries (network, 429, 5xx, timeouts, garbage)."""

    exit_code = 3


def did_you_mean(word: str, candidates: Iterable[str], n: int = 3) -> str | None:
    """A "Did you mean 'x'?" phrase for the closest candidates, or None when nothing is close."""
    pool = list(dict.fromkeys(candidates))
    lowered = {c.lower(): c for c in pool}
    matches = difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=0.6)
    if not matches:
        return None
    names = [f"'{lowered[m]}'" for m in matches]
    return "Did you mean " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]) + "?"


def short_error(exc: BaseException, limit: int = 300) -> str:
    """An engine's error text, first line only, machine paths removed, capped: safe to show."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = re.sub(r"(?:[A-Za-z]:)?(?:/[\w.\-]+){2,}/?", "<path>", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
