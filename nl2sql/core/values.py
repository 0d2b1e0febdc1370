"""Values: query results, column kinds, and numbers and dates as people read and write them.

One place for the questions every layer asks of a value: is this column numeric, a date, text?
is this cell a number? how is it shown, and how does it travel as JSON?
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import math
from typing import Any

TEXT_TYPES = ("VARCHAR", "TEXT", "STRING", "CHAR", "BPCHAR", "ENUM", "CHARACTER")
TEMPORAL_TYPES = ("DATE", "TIMESTAMP", "TIME")
NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT", "UHUGEINT", "DECIMAL", "NUMERIC", "REAL", "FLOAT", "DOUBLE", "INT", "LONG", "SHORT",
                 "BYTE")


@dataclasses.dataclass
class Result:
    """A query result: columns as (name, type), capped rows, and whether anything was cut."""

    columns: list[tuple[str, str]]
    rows: list[tuple[Any, ...]]
    truncated: bool = False
    cells_capped: int = 0
    elapsed_ms: float = 0.0
    cut_by: str | None = None  # why rows were cut: "rows" (the row cap) or "bytes" (the result size cap)

    @property
    def row_count(self) -> int:
        """Rows returned (after the cap)."""
        return len(self.rows)

    @property
    def column_names(self) -> list[str]:
        """The column names, in order."""
        return [c[0] for c in self.columns]


# -- column kinds ------------------------------------------------------------------------------------

def is_numeric_type(type_name: str) -> bool:
    """True for integer, decimal and floating-point SQL types (any engine's spelling)."""
    return type_name.upper().startswith(NUMERIC_TYPES)


def is_temporal_type(type_name: str) -> bool:
    """True for DATE, TIME and TIMESTAMP types."""
    return type_name.upper().startswith(TEMPORAL_TYPES)


def is_date_type(type_name: str) -> bool:
    """True for DATE and TIMESTAMP types (a column a period can filter)."""
    return type_name.upper().startswith(("DATE", "TIMESTAMP"))


def is_text_type(type_name: str) -> bool:
    """True for string-like types."""
    return type_name.upper().startswith(TEXT_TYPES)


# -- numbers ----------------------------------------------------------------------------------------

def as_number(value: Any) -> float | None:
    """A cell as a float when it is a finite number (not a bool, a string or NULL), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | decimal.Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def fmt_number(value: float) -> str:
    """1234567.8 -> '1,234,568'; 12.345 -> '12.35'; 0.1234 -> '0.1234'."""
    if value != value:
        return "NaN"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.4f}".rstrip("0").rstrip(".") or "0"


def format_cell(value: Any, plain: bool = False) -> str:
    """A cell as text: thousands separators, trimmed decimals, ISO dates, NULL shown as such.

    `plain`: a number that names something (a year, an id, a code) is written as is: 2024, not 2,024.
    """
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(value).lower()
    if plain and isinstance(value, int | decimal.Decimal) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | decimal.Decimal):
        number = float(value)
        if number != number:  # NaN
            return "NaN"
        if abs(number) >= 1000:
            return f"{number:,.2f}"
        return f"{number:,.4f}".rstrip("0").rstrip(".") if number % 1 else f"{number:,.0f}"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def json_safe(value: Any, max_chars: int | None = 200) -> Any:
    """A value as JSON can hold it: dates as ISO text, decimals as floats, bytes as hex; text longer
    than `max_chars` shortened (None: kept whole, as exports need)."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, str) and max_chars is not None and len(value) > max_chars:
        return value[: max_chars - 1] + "…"
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_size(text: str) -> int:
    """'1GB' -> 1_000_000_000; '512MiB' -> 536_870_912. Raises ValueError on nonsense."""
    raw = str(text).strip().lower().replace(" ", "")
    num = raw.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = raw[len(num):] or "b"
    if unit not in _UNITS or not num:
        raise ValueError(f"not a size: {text!r}")
    number = float(num)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"not a size: {text!r}")
    return int(number * _UNITS[unit])


# -- dates ------------------------------------------------------------------------------------------

def parse_date(text: str) -> dt.date:
    """An ISO date (YYYY-MM-DD, or the date part of a timestamp); ValueError otherwise."""
    value = str(text).strip()
    return dt.date.fromisoformat(value[:10] if len(value) > 10 and value[10] in "T " else value)
