"""The audit log and usage ledger: one SQLite file in the data dir (NL2SQL_HOME overrides).

Every ask is recorded: time, question, backend, model, SQL, guard verdict, rows, tokens, cost,
timings and error. API keys are never written (the log holds no settings at all).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nl2sql.core.errors import Nl2SqlError

# USD per 1M tokens (input, output). Override or extend with [prices] in nl2sql.toml:
#   [prices]
#   "my-model" = {input = 0.5, output = 1.5}
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60), "gpt-4o": (2.50, 10.00), "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60), "gpt-4.1-nano": (0.10, 0.40), "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00), "gpt-5-nano": (0.05, 0.40), "o4-mini": (1.10, 4.40),
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS asks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'ask',
    question TEXT,
    backend TEXT,
    model TEXT,
    sql TEXT,
    verdict TEXT,
    row_count INTEGER,
    input_tokens INTEGER DEFAULT 0,
    output_tokens INTEGER DEFAULT 0,
    cost_usd REAL DEFAULT 0,
    repairs INTEGER DEFAULT 0,
    timings TEXT,
    error TEXT,
    reading TEXT,
    examples TEXT,
    feedback TEXT,
    feedback_note TEXT
)
"""
# columns added after the first release: an older history file gets them on open
ADDED_COLUMNS = {"reading": "TEXT", "examples": "TEXT", "feedback": "TEXT", "feedback_note": "TEXT"}


def price_for(model: str | None, prices: Mapping[str, Any] | None = None) -> tuple[float, float]:
    """(input, output) USD per 1M tokens for `model`: configured, else built-in, else 0 (local)."""
    if not model:
        return (0.0, 0.0)
    configured = (prices or {}).get(model)
    if isinstance(configured, dict):
        return (float(configured.get("input", 0)), float(configured.get("output", 0)))
    if model in DEFAULT_PRICES:
        return DEFAULT_PRICES[model]
    # dated snapshots (gpt-4o-mini-2024-07-18) cost what their family costs
    for name in sorted(DEFAULT_PRICES, key=len, reverse=True):
        if model.startswith(name + "-"):
            return DEFAULT_PRICES[name]
    return (0.0, 0.0)


def cost(model: str | None, input_tokens: int, output_tokens: int, prices: Mapping[str, Any] | None = None) -> float:
    """Estimated USD for a number of tokens."""
    pin, pout = price_for(model, prices)
    return (input_tokens * pin + output_tokens * pout) / 1_000_000


class AuditLog:
    """Append-only record of asks; also answers `nl2sql history`.

    Writing is bookkeeping: a history that cannot be written (damaged, locked, read-only, a full
    disk) never costs the answer; the failure goes to `problems` as one line. Reading it
    (`nl2sql history`) is the job itself, so there a damaged file is an error that says so.
    """

    def __init__(self, path: Path, problems: list[str] | None = None, lock_timeout: float = 5.0) -> None:
        self.path = path
        self.problems = problems if problems is not None else []
        self.lock_timeout = lock_timeout
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=self.lock_timeout)
        con.row_factory = sqlite3.Row
        if not self._ready:
            try:
                with con:
                    con.execute(SCHEMA)
                    present = {row["name"] for row in con.execute("PRAGMA table_info(asks)")}
                    for name, kind in ADDED_COLUMNS.items():  # an older history file gets newer columns
                        if name not in present:
                            con.execute(f"ALTER TABLE asks ADD COLUMN {name} {kind}")
            except BaseException:
                con.close()
                raise
            self._ready = True
        return con

    def record(self, **fields: Any) -> int | None:
        """Append one entry; `timings` may be a dict. Returns its id, or None when it could not be written."""
        fields.setdefault("ts", dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        if isinstance(fields.get("timings"), dict):
            fields["timings"] = json.dumps({k: round(v, 2) for k, v in fields["timings"].items()})
        cols = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        try:
            con = self._connect()
            try:
                with con:
                    cur = con.execute(f"INSERT INTO asks ({cols}) VALUES ({marks})", list(fields.values()))
                return int(cur.lastrowid or 0)
            finally:
                con.close()
        except (sqlite3.Error, OSError) as exc:
            self.problems.append(f"The history could not be written ({_reason(exc)}): {self.path}. "
                                 "The answer is fine; move the file away to start a new history.")
            return None

    def _query(self, sql: str, params: list[Any], commit: bool = False) -> list[sqlite3.Row]:
        """Rows of a statement on the history (the job itself: a damaged file is an error saying so)."""
        if not self.path.exists():
            return []
        try:
            con = self._connect()
            try:
                rows = con.execute(sql, params).fetchall()
                if commit:
                    con.commit()
                return rows
            finally:
                con.close()
        except (sqlite3.Error, OSError) as exc:
            raise Nl2SqlError(f"The history {self.path} cannot be read ({_reason(exc)}).",
                              hint="Move the file away; nl2sql starts a new history on the next question.") from None

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest entries, newest first."""
        rows = self._query("SELECT * FROM asks ORDER BY id DESC LIMIT ?", [limit])
        out = []
        for r in rows:
            item = dict(r)
            item["timings"] = json.loads(item["timings"]) if item.get("timings") else {}
            out.append(item)
        return out

    def usage(self) -> list[dict[str, Any]]:
        """Tokens and cost per day and model."""
        rows = self._query(
            "SELECT substr(ts, 1, 10) AS day, coalesce(model, '-') AS model, count(*) AS asks, "
            "sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, "
            "round(sum(cost_usd), 6) AS cost_usd FROM asks GROUP BY 1, 2 ORDER BY 1 DESC, 2", [])
        return [dict(r) for r in rows]

    def entry(self, entry_id: int | None = None, answered: bool = True) -> dict[str, Any] | None:
        """One entry by id; with no id, the latest question (`answered`: the latest that ran and returned rows)."""
        if entry_id is None:
            ran = "AND verdict = 'accepted' AND sql IS NOT NULL AND row_count IS NOT NULL" if answered else ""
            rows = self._query(f"SELECT * FROM asks WHERE kind = 'ask' {ran} ORDER BY id DESC LIMIT 1", [])
        else:
            rows = self._query("SELECT * FROM asks WHERE id = ?", [entry_id])
        return dict(rows[0]) if rows else None

    def set_feedback(self, entry_id: int, verdict: str, note: str | None = None) -> None:
        """Record a person's verdict on an answer ('good' or 'bad', with an optional why)."""
        self._query("UPDATE asks SET feedback = ?, feedback_note = ? WHERE id = ?", [verdict, note, entry_id],
                   commit=True)


def _reason(exc: BaseException) -> str:
    """sqlite's or the OS's reason, in its own words ("file is not a database", "database is locked")."""
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
