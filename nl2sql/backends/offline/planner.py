"""Question -> Plan: parse (every token placed or refused), then read, or revise the previous plan."""

from __future__ import annotations

import datetime as dt

from nl2sql.backends.offline.lexicon import Lexicon
from nl2sql.backends.offline.parse import parse_question
from nl2sql.backends.offline.plan import Plan
from nl2sql.backends.offline.readings import read
from nl2sql.backends.offline.revise import is_follow_up, revise
from nl2sql.core.errors import RefusalError


def plan_question(question: str, lexicon: Lexicon, as_of: dt.date, previous: Plan | None = None) -> Plan:
    """Read a question into a Plan, or raise RefusalError naming what could not be placed.

    With `previous`, a question that reads as a follow-up ("only the web channel", "by month
    instead", "and last year?", "top 3 only", 只看企业客户) revises that plan; one that cannot stand
    alone ("by month", "前三名是哪些") is tried as a revision too.
    """
    p = parse_question(question, lexicon, as_of)
    if previous is not None and is_follow_up(p):
        return revise(previous, p)
    try:
        return read(p)
    except RefusalError:
        if previous is None:
            raise
        standalone = parse_question(question, lexicon, as_of)
        try:
            return revise(previous, standalone)
        except RefusalError:
            pass
        raise
