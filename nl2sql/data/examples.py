"""The example store: question -> SQL pairs people confirmed, per database, and learned synonyms.

One SQLite file in the data dir (`examples.sqlite`) holds every database's examples, keyed by
the source's identity (its kind and location, never a password). An example records what was
asked, the SQL that answered it (without our row cap), the reading when there was one, the
fingerprint of the result it gave when it was confirmed (columns, row count, a hash of the rows:
never the rows themselves), who and when, where it came from (feedback, yaml, import) and a
score that a `bad` on an answer which used it lowers. Synonyms ("by 'area' I meant region") are
stored beside them and merged into the catalog, so both engines read them.

Similarity for retrieval is lexical and structural: shared words, weighted up when they name a
schema term, a known value or a time word, above a threshold.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import getpass
import hashlib
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from nl2sql.core.errors import UsageError
from nl2sql.data.catalog import Catalog
from nl2sql.data.context import words

SCHEMA = """
CREATE TABLE IF NOT EXISTS examples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    db TEXT NOT NULL,
    question TEXT NOT NULL,
    sql TEXT NOT NULL,
    reading TEXT,
    columns TEXT NOT NULL DEFAULT '',
    row_count INTEGER NOT NULL DEFAULT 0,
    result_hash TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    author TEXT NOT NULL,
    created TEXT NOT NULL,
    score REAL NOT NULL DEFAULT 1.0,
    history_id INTEGER,
    UNIQUE (db, question)
);
CREATE TABLE IF NOT EXISTS synonyms (
    db TEXT NOT NULL,
    phrase TEXT NOT NULL,
    target TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (db, phrase)
);
"""
SOURCES = ("feedback", "yaml", "import")
MIN_SCORE = 0.5  # an example lowered below this is no longer offered to a model
TIME_WORDS = frozenset("""year years month months week weeks day days quarter quarters today yesterday last this
since ytd mtd monthly weekly daily quarterly annual 年 月 周 日 季 今 去 上 本""".split())


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    """What a result looked like when the example was confirmed: columns, row count, a hash of the rows."""

    columns: tuple[str, ...]
    row_count: int
    digest: str

    @classmethod
    def of(cls, columns: Iterable[str], rows: Iterable[Iterable[object]]) -> Fingerprint:
        """The fingerprint of a result (rows hashed in order, as text)."""
        names = tuple(columns)
        digest, count = hashlib.sha256(), 0
        for row in rows:
            digest.update(repr(tuple(row)).encode("utf-8", "replace"))
            count += 1
        return cls(names, count, digest.hexdigest()[:16])


@dataclasses.dataclass
class StoredExample:
    """One confirmed question -> SQL pair of one database."""

    id: int
    question: str
    sql: str
    reading: str | None
    fingerprint: Fingerprint
    source: str
    author: str
    created: str
    score: float = 1.0
    history_id: int | None = None


def source_key(kind: str, location: str) -> str:
    """The identity of a database in the store: its kind and location (a URL without its password)."""
    return f"{kind}:{location}"


class ExampleStore:
    """The examples and synonyms of one database, in the data dir's examples.sqlite."""

    def __init__(self, path: Path, db: str) -> None:
        self.path = path
        self.db = db
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                con.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise UsageError(f"The example store {path} cannot be opened: {exc}.",
                             hint="Check that the data dir (NL2SQL_HOME) is writable, or move it.") from None

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=10)
        con.row_factory = sqlite3.Row
        return con

    # -- examples -----------------------------------------------------------------------------------

    def add(self, question: str, sql: str, fingerprint: Fingerprint, source: str, reading: str | None = None,
            history_id: int | None = None) -> StoredExample:
        """Store (or replace: one example per question) a confirmed pair."""
        if source not in SOURCES:
            raise ValueError(source)
        now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        with self._connect() as con:
            con.execute(
                "INSERT INTO examples (db, question, sql, reading, columns, row_count, result_hash, source, author, "
                "created, score, history_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1.0, ?) "
                "ON CONFLICT (db, question) DO UPDATE SET sql = excluded.sql, reading = excluded.reading, "
                "columns = excluded.columns, row_count = excluded.row_count, result_hash = excluded.result_hash, "
                "source = excluded.source, author = excluded.author, created = excluded.created, score = 1.0, "
                "history_id = excluded.history_id",
                [self.db, " ".join(question.split()), sql.strip(), reading, "\x1f".join(fingerprint.columns),
                 fingerprint.row_count, fingerprint.digest, source, _author(), now, history_id])
        found = self.find(question)
        assert found is not None
        return found

    def all(self) -> list[StoredExample]:
        """Every example of this database, oldest first."""
        with self._connect() as con:
            rows = con.execute("SELECT * FROM examples WHERE db = ? ORDER BY id", [self.db]).fetchall()
        return [_example(r) for r in rows]

    def get(self, example_id: int) -> StoredExample:
        """The example `example_id` of this database, or a UsageError."""
        with self._connect() as con:
            row = con.execute("SELECT * FROM examples WHERE db = ? AND id = ?", [self.db, example_id]).fetchone()
        if row is None:
            raise UsageError(f"There is no example {example_id} for this database.",
                             hint="`nl2sql examples list` shows them.")
        return _example(row)

    def find(self, question: str) -> StoredExample | None:
        """The example stored for exactly this question, if any."""
        with self._connect() as con:
            row = con.execute("SELECT * FROM examples WHERE db = ? AND question = ?",
                              [self.db, " ".join(question.split())]).fetchone()
        return _example(row) if row else None

    def remove(self, example_id: int) -> StoredExample:
        """Delete one example; returns what was deleted."""
        example = self.get(example_id)
        with self._connect() as con:
            con.execute("DELETE FROM examples WHERE db = ? AND id = ?", [self.db, example_id])
        return example

    def lower(self, example_ids: Iterable[int], by: float = 0.5) -> None:
        """An answer that used these examples was marked bad: trust them less."""
        with self._connect() as con:
            con.executemany("UPDATE examples SET score = max(0.0, score - ?) WHERE db = ? AND id = ?",
                            [(by, self.db, i) for i in example_ids])

    # -- synonyms -----------------------------------------------------------------------------------

    def add_synonym(self, phrase: str, target: str) -> None:
        """Remember that `phrase` means `target` (a table, table.column, metric or table.column=value)."""
        now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        with self._connect() as con:
            con.execute("INSERT INTO synonyms (db, phrase, target, created) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (db, phrase) DO UPDATE SET target = excluded.target, created = excluded.created",
                        [self.db, " ".join(phrase.lower().split()), target, now])

    def synonyms(self) -> dict[str, str]:
        """phrase -> target, for this database."""
        with self._connect() as con:
            rows = con.execute("SELECT phrase, target FROM synonyms WHERE db = ? ORDER BY phrase", [self.db])
            return {r["phrase"]: r["target"] for r in rows.fetchall()}


def _author() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _example(row: sqlite3.Row) -> StoredExample:
    columns = tuple(c for c in str(row["columns"]).split("\x1f") if c)
    return StoredExample(id=row["id"], question=row["question"], sql=row["sql"], reading=row["reading"],
                         fingerprint=Fingerprint(columns, row["row_count"], row["result_hash"]), source=row["source"],
                         author=row["author"], created=row["created"], score=row["score"],
                         history_id=row["history_id"])


# -- similarity ---------------------------------------------------------------------------------------

def _term_words(catalog: Catalog) -> tuple[set[str], set[str]]:
    """(words naming tables, columns and metrics; words of known values) of a catalog."""
    schema: set[str] = set()
    values: set[str] = set()
    for table in catalog.tables:
        schema |= words(table.name) | words(" ".join(table.synonyms))
        for column in table.columns:
            schema |= words(column.name) | words(" ".join(column.synonyms))
            if not column.pii:
                values |= words(" ".join(column.known_values()[:50]))
    for metric in catalog.metrics:
        schema |= words(metric.name) | words(" ".join(metric.synonyms))
    return schema, values - schema


STOP = frozenset("""a an the of for in on at by to per each every and or with from what which who how is are was
were be do does did me my our we us show give list tell find get please all any there that this those these it its
much many number""".split())
_TOKEN = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]")


def content_words(text: str) -> set[str]:
    """The words of a question that carry meaning: lower case, plurals folded, function words dropped."""
    out = set()
    for word in _TOKEN.findall(text.lower()):
        if word in STOP:
            continue
        out.add(word[:-3] + "y" if len(word) > 4 and word.endswith("ies") else
                word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word)
    return out


def similarity(question: str, other: str, schema: set[str], values: set[str]) -> float:
    """How alike two questions are (0..1): shared content words, a schema term or a value counting three, a
    time word two, any other word one."""
    a, b = content_words(question), content_words(other)
    if not a or not b:
        return 0.0

    def weight(word: str) -> float:
        return 3.0 if word in schema or word in values else 2.0 if word in TIME_WORDS else 1.0

    shared = sum(weight(w) for w in a & b)
    return shared / sum(weight(w) for w in a | b)


def most_similar(question: str, examples: list[StoredExample], catalog: Catalog, k: int = 3,
                 threshold: float = 0.35) -> list[tuple[float, StoredExample]]:
    """The k most similar trusted examples above `threshold`, best first."""
    schema, values = _term_words(catalog)
    scored = [(similarity(question, e.question, schema, values) * min(1.0, e.score), e) for e in examples
              if e.score >= MIN_SCORE]
    ranked = sorted((s for s in scored if s[0] >= threshold), key=lambda p: (-p[0], p[1].id))
    return ranked[:k]
