"""The offline engine: common analytics questions answered with no model, deterministically.

lexicon (what the catalog's words mean) -> planner (question -> Plan, or a refusal naming the
words it could not place) -> sqlbuild (Plan -> SQL via sqlglot). Narration is the
deterministic narrator's; the chart is chosen by rules.
"""

from __future__ import annotations

import datetime as dt

from nl2sql.backends.base import NarrationRequest, SqlDraft, SqlRequest, Usage
from nl2sql.backends.offline.lexicon import build_lexicon
from nl2sql.backends.offline.planner import Plan, is_follow_up, plan_question
from nl2sql.backends.offline.sqlbuild import build_sql
from nl2sql.core.errors import RefusalError


class OfflineBackend:
    """write_sql by planning; narration left to the deterministic narrator; charts by rules.

    One instance is one conversation: it remembers the last plan so a follow-up can revise it.
    """

    name = "offline"
    model: str | None = None
    stateful = True  # follow-ups revise the last plan
    can_moderate = False

    def __init__(self) -> None:
        self.last_plan: Plan | None = None

    def reset(self) -> None:
        """Forget the last plan: the next question stands alone."""
        self.last_plan = None

    def moderate(self, text: str) -> bool:
        """No moderation endpoint offline."""
        return False

    def write_sql(self, request: SqlRequest) -> SqlDraft:
        """Plan the question and build its SQL; refusals carry the words that were not placed."""
        if request.error is not None:
            # a deterministic engine would only write the same SQL again
            return SqlDraft(refusal=f"the offline engine's SQL failed: {request.error}")
        lexicon = build_lexicon(request.catalog)
        latest = None
        if request.latest_date:
            try:
                latest = dt.date.fromisoformat(request.latest_date[:10])
            except ValueError:
                latest = None
        if self.last_plan is not None and is_follow_up(request.question):
            plan = plan_question(request.question, lexicon, latest, previous=self.last_plan)
        else:
            try:
                plan = plan_question(request.question, lexicon, latest)
            except RefusalError:
                if self.last_plan is None:
                    raise
                # "按月", "by channel": too short to stand alone, fine as a revision
                plan = plan_question(request.question, lexicon, latest, previous=self.last_plan)
        sql, assumptions = build_sql(plan, request.catalog)
        self.last_plan = plan  # the next question may revise it (chat, follow-up chains)
        if latest and plan.start and plan.period_label and any(
                w in plan.period_label for w in ("last", "this", "since")):
            origin = "--as-of" if request.as_of_given else "the data's latest date,"
            assumptions.append(f"relative dates count back from {origin} {latest}")
        return SqlDraft(sql=sql, explanation="planned offline", assumptions=plan.assumptions + assumptions)

    def narrate(self, request: NarrationRequest) -> tuple[str | None, Usage]:
        """None: the pipeline's deterministic narrator speaks for the offline engine."""
        return None, Usage()
