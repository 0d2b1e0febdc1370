"""Text people give us: questions, checked before any work is done."""

from __future__ import annotations

from nl2sql.core.errors import UsageError

MAX_QUESTION_CHARS = 2_000


def check_question(question: str) -> str:
    """The question, trimmed; empty or oversized questions are usage errors."""
    if not isinstance(question, str) or not question.strip():
        raise UsageError("The question is empty.", hint='Ask something, e.g. nl2sql ask "Revenue by month in 2025"')
    text = " ".join(question.split())
    if len(text) > MAX_QUESTION_CHARS:
        raise UsageError(f"The question is {len(text):,} characters long; the limit is {MAX_QUESTION_CHARS:,}.",
                         hint="Ask a shorter question; put long context in the annotation file instead.")
    return text
