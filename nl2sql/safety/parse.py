"""L2 of the guard: DuckDB's own parser must see exactly one SELECT in the text about to run.

It parses on an empty, locked in-memory connection that never runs anything. The worker checks
every query this way right before it executes it (the same text, in the same process); the
guard checks in our own process when no worker will run the query (`--sql-only`, `sql --check`).
This module needs DuckDB only, never sqlglot.
"""

from __future__ import annotations

import threading
from typing import Any

from nl2sql.core.errors import InvalidSQLError, UnsafeSQLError, short_error

_LOCK = threading.Lock()
_CONNECTION: Any = None
HINT = "Ask for a single SELECT query over the tables listed by `nl2sql schema`."


def _parser() -> Any:
    global _CONNECTION
    if _CONNECTION is None:
        import duckdb

        con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": "false",
                                                 "autoload_known_extensions": "false"})
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        _CONNECTION = con
    return _CONNECTION


def check_one_select(text: str) -> None:
    """Raise unless DuckDB's parser sees exactly one SELECT statement in `text`."""
    import duckdb

    with _LOCK:
        try:
            statements = _parser().extract_statements(text)
        except duckdb.Error as exc:
            raise InvalidSQLError(f"DuckDB cannot parse the SQL: {short_error(exc)}",
                                  hint="Check the syntax; DuckDB's SQL dialect is expected.") from None
    if len(statements) != 1:
        raise UnsafeSQLError(f"Refused: {len(statements)} statements. DuckDB's parser sees more than one statement "
                             "here, and only one query may run.", hint=HINT)
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise UnsafeSQLError(f"Refused: a {kind.name} statement. DuckDB's parser does not see a plain SELECT.",
                             hint=HINT)
