"""nl2sql: ask questions about your data in plain language.

The public API (imported lazily, so `nl2sql --help` stays fast):

    from nl2sql import Workspace
    with Workspace.open(db="sales.duckdb") as ws:
        answer = ws.ask("Revenue by month in 2025")

`Workspace`, `Answer`, `Settings`, `load_settings` and the errors (`Nl2SqlError` and its kinds).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Workspace": "nl2sql.jobs.workspace", "Answer": "nl2sql.jobs.ask", "SqlRun": "nl2sql.jobs.ask",
    "Settings": "nl2sql.core.config", "load_settings": "nl2sql.core.config",
    **{name: "nl2sql.core.errors" for name in (
        "Nl2SqlError", "UsageError", "ConfigError", "DataSourceError", "AnnotationError", "UnsafeSQLError",
        "InvalidSQLError", "ExecutionError", "LimitError", "QueryTimeoutError", "MemoryLimitError", "OutputError",
        "RefusalError", "ProviderError")},
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'nl2sql' has no attribute {name!r}")
