"""The offline engine: common analytics questions answered with no model, deterministically.

parse (every token of the question placed: time, catalog term, cue or function word; else a
refusal naming the word) -> read into a Plan (or revise the previous one) -> SQL built with
sqlglot in the requested dialect. The Plan is also stated in words: the answer's `reading`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from nl2sql.backends.base import NarrationRequest, SqlDraft, SqlRequest, Usage
from nl2sql.backends.offline.lexicon import build_lexicon
from nl2sql.backends.offline.plan import Plan, describe
from nl2sql.backends.offline.planner import plan_question
from nl2sql.backends.offline.sqlbuild import build_sql
from nl2sql.core.errors import InvalidSQLError


class OfflineBackend:
    """write_sql by planning; narration left to the deterministic narrator; charts by rules.

    One instance is one conversation: it remembers the last plan so a follow-up can revise it.
    `synonyms` adds learned phrases to the lexicon (target -> phrases, see lexicon.term_for);
    `dialect` is the SQL dialect written (duckdb, postgres, spark ...).
    """

    name = "offline"
    model: str | None = None
    stateful = True  # follow-ups revise the last plan
    can_moderate = False

    def __init__(self, synonyms: Mapping[str, Iterable[str]] | None = None, dialect: str = "duckdb") -> None:
        self.last_plan: Plan | None = None
        self.synonyms = synonyms
        self.dialect = dialect

    def reset(self) -> None:
        """Forget the last plan: the next question stands alone."""
        self.last_plan = None

    def moderate(self, text: str) -> bool:
        """No moderation endpoint offline."""
        return False

    def write_sql(self, request: SqlRequest) -> SqlDraft:
        """Plan the question and build its SQL; refusals name the words that were not placed."""
        if request.error is not None:
            # a deterministic engine would only write the same SQL again: this is our bug, not the question's
            raise InvalidSQLError(
                f"The offline engine wrote SQL that failed ({request.error}). This is a bug in nl2sql's offline "
                f"engine, not in your question. The SQL was: {request.previous_sql}",
                hint="Please report it with the question; --backend openai may answer it meanwhile.")
        lexicon = build_lexicon(request.catalog, self.synonyms)
        as_of = _as_of(request.latest_date)
        plan = plan_question(request.question, lexicon, as_of, previous=self.last_plan)
        sql, assumptions = build_sql(plan, request.catalog, self.dialect)
        self.last_plan = plan  # the next question may revise it (chat, follow-up chains)
        if plan.periods and any(w in p.label for p in plan.periods for w in ("last", "this", "since", "to date",
                                                                                  "yesterday", "today", "next")):
            origin = "--as-of" if request.as_of_given else "the data's latest date,"
            assumptions.append(f"relative dates count back from {origin} {as_of}")
        if plan.date:
            on = f"{plan.date[0]}.{plan.date[1]}"
            assumptions += [f"{p.label} means {p.start} to {p.end - dt.timedelta(days=1)} by {on}"
                            for p in plan.periods]
        reading = describe(plan, request.catalog)
        return SqlDraft(sql=sql, explanation=f"planned offline: {reading}",
                        assumptions=[*plan.assumptions, *assumptions], reading=reading)

    def narrate(self, request: NarrationRequest) -> tuple[str | None, Usage]:
        """None: the pipeline's deterministic narrator speaks for the offline engine."""
        return None, Usage()


def _as_of(latest: str | None) -> dt.date:
    if latest:
        try:
            return dt.date.fromisoformat(latest[:10])
        except ValueError:
            pass
    return dt.date.today()
