"""Text people give us and text we show: questions checked, untrusted text made safe to show or to quote.

Data cells, column names, file names and whatever a model or a provider writes are untrusted:
- `terminal_safe` makes control characters visible (ESC becomes ␛), so no escape sequence from
  the data can clear a screen, retitle a window or hide text; used for everything shown in a
  terminal or written to a report.
- `json_text` is JSON whose strings hold no raw C1 or bidi control characters either.
- `untrusted` neutralises look-alikes of the delimiters that mark untrusted text in prompts.
"""

from __future__ import annotations

import json
import re
from typing import Any

from nl2sql.core.errors import UsageError

MAX_QUESTION_CHARS = 2_000

# C0 controls but newline and tab, DEL, C1 controls, and the invisible bidi/format controls that
# reorder what a reader sees (U+200E/F, U+202A-E, U+2066-9, U+061C)
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_IN_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# the tags that delimit untrusted text in prompts, however they are spelled: </data>, < / DATA >, <error ...>
_DELIMITER = re.compile(r"<\s*/?\s*(?:data|error)\b[^>]*>?", re.IGNORECASE)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: ␛ ␇ ␍ ␀ ...
    if code == 0x7F:
        return "␡"
    return f"<U+{code:04X}>"


def terminal_safe(text: Any, one_line: bool = False) -> str:
    """`text` with every control character shown as a visible symbol (`\\x1b` -> `␛`).

    Newlines and tabs are kept unless `one_line`. What is already safe comes back unchanged.
    """
    value = text if isinstance(text, str) else str(text)
    pattern = _UNSAFE_IN_LINE if one_line else _UNSAFE
    return pattern.sub(_visible, value) if pattern.search(value) else value


def safe_tree(value: Any) -> Any:
    """Every string inside dicts, lists and tuples made terminal-safe (other values as they are)."""
    if isinstance(value, str):
        return terminal_safe(value)
    if isinstance(value, dict):
        return {k: safe_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(safe_tree(v) for v in value)
    return value


_RAW_IN_JSON = re.compile(r"[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def json_text(data: Any) -> str:
    """One JSON document; non-ASCII text kept readable, but C1 and bidi controls written as \\uXXXX."""
    text = json.dumps(data, ensure_ascii=False, default=str)
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def untrusted(text: Any) -> str:
    """Text to quote inside a prompt's <data> or <error> block: its own tags cannot close the block."""
    value = text if isinstance(text, str) else str(text)
    return _DELIMITER.sub(lambda m: m.group(0).replace("<", "‹").replace(">", "›"), value)


def check_question(question: str) -> str:
    """The question, trimmed; empty or oversized questions are usage errors."""
    if not isinstance(question, str) or not question.strip():
        raise UsageError("The question is empty.", hint='Ask something, e.g. nl2sql ask "Revenue by month in 2025"')
    text = " ".join(question.split())
    if len(text) > MAX_QUESTION_CHARS:
        raise UsageError(f"The question is {len(text):,} characters long; the limit is {MAX_QUESTION_CHARS:,}.",
                         hint="Ask a shorter question; put long context in the annotation file instead.")
    return text
