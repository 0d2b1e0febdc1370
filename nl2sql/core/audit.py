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
    """Append-only record of asks; also answers `nl2sql history`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute(SCHEMA)
            present = {row["name"] for row in con.execute("PRAGMA table_info(asks)")}
            for name, kind in ADDED_COLUMNS.items():
                if name not in present:
                    con.execute(f"ALTER TABLE asks ADD COLUMN {name} {kind}")

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=10)
        con.row_factory = sqlite3.Row
        return con

    def record(self, **fields: Any) -> int:
        """Append one entry; `timings` may be a dict. Returns its id."""
        fields.setdefault("ts", dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
        if isinstance(fields.get("timings"), dict):
            fields["timings"] = json.dumps({k: round(v, 2) for k, v in fields["timings"].items()})
        cols = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        with self._connect() as con:
            cur = con.execute(f"INSERT INTO asks ({cols}) VALUES ({marks})", list(fields.values()))
            return int(cur.lastrowid or 0)

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest entries, newest first."""
        with self._connect() as con:
            rows = con.execute("SELECT * FROM asks ORDER BY id DESC LIMIT ?", [limit]).fetchall()
        out = []
        for r in rows:
            item = dict(r)
            item["timings"] = json.loads(item["timings"]) if item.get("timings") else {}
            out.append(item)
        return out

    def usage(self) -> list[dict[str, Any]]:
        """Tokens and cost per day and model."""
        with self._connect() as con:
            rows = con.execute(
                "SELECT substr(ts, 1, 10) AS day, coalesce(model, '-') AS model, count(*) AS asks, "
                "sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, "
                "round(sum(cost_usd), 6) AS cost_usd FROM asks GROUP BY 1, 2 ORDER BY 1 DESC, 2"
            ).fetchall()
        return [dict(r) for r in rows]

    def entry(self, entry_id: int | None = None, answered: bool = True) -> dict[str, Any] | None:
        """One entry by id; with no id, the latest question (`answered`: the latest that ran and returned rows)."""
        with self._connect() as con:
            if entry_id is None:
                ran = "AND verdict = 'accepted' AND sql IS NOT NULL AND row_count IS NOT NULL" if answered else ""
                row = con.execute(f"SELECT * FROM asks WHERE kind = 'ask' {ran} ORDER BY id DESC LIMIT 1").fetchone()
            else:
                row = con.execute("SELECT * FROM asks WHERE id = ?", [entry_id]).fetchone()
        return dict(row) if row else None

    def set_feedback(self, entry_id: int, verdict: str, note: str | None = None) -> None:
        """Record a person's verdict on an answer ('good' or 'bad', with an optional why)."""
        with self._connect() as con:
            con.execute("UPDATE asks SET feedback = ?, feedback_note = ? WHERE id = ?", [verdict, note, entry_id])
