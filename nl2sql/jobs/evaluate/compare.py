"""Result-set comparison for execution accuracy (the scoring of sql-eval).

Two results match when, after dropping duplicate rows, every gold column can be paired with a
distinct candidate column so that the rows agree: column names and column order are ignored,
extra candidate columns are allowed, row order is ignored unless the question asks for an
order, numbers compare at a relative tolerance of 1e-6, and dates compare as dates.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import math
import re
from collections.abc import Sequence
from typing import Any

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
