"""Chat state: each answer kept as a view r1, r2, …; the session persisted after every turn.

A view is the SQL that produced a result. A follow-up (a model's SQL or the user's /run) that
reads `r2` gets `WITH r2 AS (<r2's SQL>)` put in front, so it goes through the same guard and
sandbox as any query and nothing is ever created inside the database. A resumed session
recomputes its views from their SQL. The offline engine's follow-up state is rebuilt by
re-planning the session's questions (milliseconds; nothing runs).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nl2sql.answer.charts import InvalidChartSpec, validate_spec
from nl2sql.answer.grounding import Receipt
from nl2sql.backends.base import SqlDraft, SqlRequest
from nl2sql.backends.pinned import PinnedSQL, Wrapped
from nl2sql.core.errors import Nl2SqlError, UsageError, did_you_mean
from nl2sql.core.files import write_atomic
from nl2sql.data.context import build_context
from nl2sql.jobs.ask import Answer, Pipeline
from nl2sql.safety.guard import without_cap

if TYPE_CHECKING:
    from collections.abc import Callable

    from nl2sql.backends.base import Backend
    from nl2sql.data.catalog import Example

VIEW = re.compile(r"\br(\d+)\b", re.IGNORECASE)
FULL_TURNS = 3  # the most recent turns go to the model in full; older ones as one line each
CONVERSATION_CHARS = 4_000


@dataclasses.dataclass
class Turn:
    """One answered turn: what was asked, the SQL that ran, and the shape of its result."""

    number: int
    kind: str  # "ask" (a question) or "sql" (/run, /edit)
    text: str
    sql: str  # the executed SQL (views expanded), without the guard's row cap
    columns: list[list[str]]
    row_count: int
    truncated: bool = False
    narration: str | None = None
    chart: dict[str, Any] | None = None
    assumptions: list[str] = dataclasses.field(default_factory=list)
    at: str = ""
    receipts: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # for /explain after --resume
    narrated_by: str | None = None
    history_id: int | None = None  # the answer's entry in the audit log (feedback)
    question: str | None = None  # for SQL from /edit: the question it answers (so /good stores it under that)

    @property
    def view(self) -> str:
        """The name follow-ups use for this result: r1, r2, …"""
        return f"r{self.number}"

    def shape(self) -> str:
        """'r2(region VARCHAR, revenue DOUBLE; 4 rows)'."""
        cols = ", ".join(f"{n} {t}" for n, t in self.columns)
        more = "+" if self.truncated else ""
        return f"{self.view}({cols}; {self.row_count}{more} rows)"


@dataclasses.dataclass
class Session:
    """A saved conversation: its turns, and where it lives on disk."""

    id: str
    created: str
    db: str | None
    backend: str
    turns: list[Turn] = dataclasses.field(default_factory=list)
    path: Path | None = None

    # -- persistence ------------------------------------------------------------------------------

    def save(self) -> None:
        """Write the session atomically (a crash loses at most the turn in flight)."""
        if self.path is None:
            return
        data = {"id": self.id, "created": self.created, "db": self.db, "backend": self.backend,
                "turns": [dataclasses.asdict(t) for t in self.turns], "version": 1}
        write_atomic(self.path, json.dumps(data, ensure_ascii=False, indent=1, default=str))

    @classmethod
    def load(cls, path: Path) -> Session:
        """Read a saved session; a damaged file is a clear error."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            turns = [Turn(**t) for t in data["turns"]]
            return cls(id=data["id"], created=data["created"], db=data.get("db"), backend=data["backend"],
                       turns=turns, path=path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"The saved chat {path.stem} cannot be read ({type(exc).__name__}).",
                             hint="Start a new chat; `nl2sql chat --list` shows the others.") from None

    # -- views ------------------------------------------------------------------------------------

    def turn(self, view: str) -> Turn | None:
        """The turn behind view `rN`, if it exists."""
        m = re.fullmatch(r"r(\d+)", view.lower())
        return next((t for t in self.turns if m and t.number == int(m.group(1))), None)

    def referenced(self, sql: str) -> list[Turn]:
        """The earlier results a query reads (by rN names that exist), in order."""
        code = _code_only(sql)
        names = {f"r{m.group(1)}" for m in VIEW.finditer(code)}
        # a repaired query may already define the view itself (WITH r1 AS (...)): leave it alone
        defined = {m.group(1).lower() for m in re.finditer(r"\b(r\d+)\s+AS\s*\(", code, re.IGNORECASE)}
        return [t for t in self.turns if t.view in names - defined]

    def expand(self, sql: str) -> str:
        """SQL with each view it reads defined in front of it as a CTE."""
        used = self.referenced(sql)
        if not used:
            return sql
        ctes = ", ".join(f"{t.view} AS (\n{t.sql}\n)" for t in used)
        body = sql.strip().rstrip(";")
        m = re.match(r"(?is)^\s*with\s+(?!recursive\b)", body)
        if m:  # merge with the query's own WITH
            return f"WITH {ctes},\n{body[m.end():]}"
        return f"WITH {ctes}\n{body}"

    def next_number(self) -> int:
        """The number of the next view."""
        return max((t.number for t in self.turns), default=0) + 1

    def conversation(self) -> str | None:
        """What the model sees of the conversation: recent turns in full, older ones as one line."""
        if not self.turns:
            return None
        lines = []
        older, recent = self.turns[:-FULL_TURNS], self.turns[-FULL_TURNS:]
        for t in older:
            lines.append(f"- {t.view}: {t.text[:120]!r} -> {t.shape()}")
        for t in recent:
            sql = " ".join(t.sql.split())[:1200]
            lines.append(f"- {t.view}: {t.text[:300]!r}\n  SQL: {sql}\n  result: {t.shape()}")
        text = "\n".join(lines)
        if len(text) > CONVERSATION_CHARS:  # oldest lines go first
            text = "…\n" + text[-CONVERSATION_CHARS:]
        return (text + "\nA follow-up may read an earlier result by its name (e.g. SELECT … FROM "
                f"{self.turns[-1].view}), or revise the latest query.")


def _short(question: str) -> bool:
    """A follow-up too short to stand alone ('only the web channel', '按月')."""
    cjk = sum(1 for ch in question if "\u4e00" <= ch <= "\u9fff")
    return len(question.split()) <= 5 if not cjk else cjk <= 8


def _code_only(sql: str) -> str:
    """SQL without string literals and comments (a 'r1' inside quotes is not a view)."""
    sql = re.sub(r"'(?:[^']|'')*'", "''", sql)
    sql = re.sub(r"--[^\n]*", "", sql)
    return re.sub(r"/\*.*?\*/", "", sql, flags=re.S)


# -- the store ------------------------------------------------------------------------------------

def sessions_dir(home: Path) -> Path:
    """Where chats are saved: <data dir>/sessions."""
    return home / "sessions"


def new_session(home: Path, db: str | None, backend: str) -> Session:
    """A fresh session with a sortable id (time + random suffix)."""
    now = dt.datetime.now()
    sid = f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    return Session(id=sid, created=now.isoformat(timespec="seconds"), db=db, backend=backend,
                   path=sessions_dir(home) / f"{sid}.json")


def list_sessions(home: Path) -> list[Session]:
    """Saved sessions, newest first (unreadable files skipped)."""
    out = []
    for path in sorted(sessions_dir(home).glob("*.json"), reverse=True):
        try:
            out.append(Session.load(path))
        except UsageError:
            continue
    return out


def find_session(home: Path, sid: str | None) -> Session:
    """The session `sid` (a unique prefix will do), or the latest one."""
    sessions = list_sessions(home)
    if not sessions:
        raise UsageError("There is no saved chat to resume.", hint="Start one with `nl2sql chat`.")
    if sid is None:
        return sessions[0]
    matches = [s for s in sessions if s.id.startswith(sid)]
    if len(matches) != 1:
        ids = [s.id for s in sessions]
        what = "matches several chats" if matches else "is not a saved chat"
        raise UsageError(f"{sid!r} {what}.", hint=did_you_mean(sid, ids) or "See `nl2sql chat --list`.")
    return matches[0]


# -- one conversation -----------------------------------------------------------------------------

class Chat:
    """A conversation over one database: ask, run SQL, undo, reset; saved after every turn."""

    def __init__(self, session: Session, pipeline: Pipeline, backend: Backend,
                 examples_for: Callable[[str], list[Example]] | None = None, learning: Any = None) -> None:
        self.session = session
        self.pipeline = pipeline
        self.catalog = pipeline.catalog
        self.backend = backend
        self.examples_for = examples_for  # verified examples that fit a question (the example store)
        self.learning = learning  # confirm(question, sql, history_id) and feedback_bad(history_id, why): /good, /bad
        self.answers: dict[int, Answer] = {}  # this process's full answers (rows), by turn number

    @property
    def last(self) -> Turn | None:
        """The latest turn."""
        return self.session.turns[-1] if self.session.turns else None

    def ask(self, question: str) -> Answer:
        """Answer a question in the context of the conversation; it becomes the next view."""
        examples = self.examples_for(question) if self.examples_for else []
        answer = self.pipeline.ask(question, _Expanding(self.backend, self.session),
                                   conversation=self.session.conversation(), examples=examples)
        if answer.chart and self.session.turns and _short(question):
            # "by month instead" is no title: the chart says what it shows (revenue by month)
            answer.chart = dataclasses.replace(answer.chart, title=None)
        return self._record("ask", question, answer)

    def run(self, sql: str, label: str | None = None, question: str | None = None) -> Answer:
        """Run the user's SQL (it may read r1, r2, …) through the guard and sandbox; it becomes a view.

        `question`: the question this SQL answers (a corrected SQL from /edit), for /good.
        """
        expanded = self.session.expand(sql)
        answer = self.pipeline.ask(label or sql, PinnedSQL(expanded, self.backend, "your SQL"), max_repairs=0)
        return self._record("sql", sql, answer, question)

    def good(self) -> Any:
        """/good: the latest answer (or corrected SQL) becomes a verified example of its question."""
        turn = self._feedback_turn()
        assert self.learning is not None
        return self.learning.confirm(turn.question or turn.text, turn.sql, turn.history_id)

    def bad(self, why: str | None) -> Any:
        """/bad [why]: the latest answer was wrong ("by 'area' I meant region" teaches a synonym)."""
        turn = self._feedback_turn()
        assert self.learning is not None
        return self.learning.feedback_bad(turn.history_id, why=why)

    def _feedback_turn(self) -> Turn:
        if self.learning is None:
            raise UsageError("Feedback is not available in this chat.")
        if self.last is None:
            raise UsageError("There is no answer yet.", hint="Ask a question first.")
        return self.last

    def _record(self, kind: str, text: str, answer: Answer, question: str | None = None) -> Answer:
        number = self.session.next_number()
        self.session.turns.append(Turn(
            number=number, kind=kind, text=text, sql=without_cap(answer.sql),
            columns=[[n, t] for n, t in answer.result.columns], row_count=answer.result.row_count,
            truncated=answer.result.truncated, narration=answer.narration,
            chart=answer.chart.to_dict() if answer.chart else None, assumptions=answer.assumptions,
            at=dt.datetime.now().isoformat(timespec="seconds"), receipts=[r.to_dict() for r in answer.receipts],
            narrated_by=answer.narrated_by, history_id=answer.history_id,
            question=text if kind == "ask" else question))
        self.answers[number] = answer
        self.session.save()
        return answer

    def undo(self) -> Turn | None:
        """Forget the latest turn (and its view); the offline engine re-plans what is left."""
        if not self.session.turns:
            return None
        turn = self.session.turns.pop()
        self.answers.pop(turn.number, None)
        self.session.save()
        self.replay()
        return turn

    def reset(self) -> int:
        """Forget every turn; returns how many there were."""
        count = len(self.session.turns)
        self.session.turns.clear()
        self.answers.clear()
        self.session.save()
        self.replay()
        return count

    def replay(self) -> None:
        """Rebuild a stateful backend's follow-up state from the session's questions (nothing runs)."""
        if not self.backend.stateful:
            return
        self.backend.reset()
        for turn in self.session.turns:
            if turn.kind != "ask":
                continue
            request = SqlRequest(question=turn.text, catalog=self.catalog,
                                 context=build_context(turn.text, self.catalog, 2_000),
                                 latest_date=self.pipeline.options.as_of or self.catalog.latest_date(),
                                 as_of_given=bool(self.pipeline.options.as_of))
            try:
                self.backend.write_sql(request)
            except Nl2SqlError:
                continue

    def result_of(self, turn: Turn) -> Answer:
        """The full answer of a turn: kept from this process, or recomputed from its SQL (resume)."""
        if turn.number in self.answers:
            return self.answers[turn.number]
        recompute = dataclasses.replace(self.pipeline, audit=None)  # nothing new was asked
        answer = recompute.ask(turn.text, PinnedSQL(turn.sql, self.backend, "recomputed"), max_repairs=0,
                               narrate=False)
        answer.narration = turn.narration
        answer.assumptions = turn.assumptions
        answer.receipts = [Receipt(**r) for r in turn.receipts]
        answer.narrated_by = turn.narrated_by
        if turn.chart:
            try:
                answer.chart = validate_spec(turn.chart, [n for n, _ in answer.result.columns])
            except InvalidChartSpec:
                answer.chart = None
        self.answers[turn.number] = answer
        return answer


class _Expanding(Wrapped):
    """Wraps the chat's backend so a model's SQL that reads r1, r2, … gets those views defined."""

    def __init__(self, inner: Backend, session: Session) -> None:
        super().__init__(inner)
        self.session = session

    def write_sql(self, request: SqlRequest) -> SqlDraft:
        """The inner backend's draft, with any views it reads expanded into CTEs."""
        draft = self.inner.write_sql(request)
        if draft.sql:
            draft.sql = self.session.expand(draft.sql)
        return draft
