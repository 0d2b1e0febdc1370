"""A backend that answers with SQL it was given (a report's pinned SQL, a chat's /run), and
narrates through the real backend."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nl2sql.backends.base import NarrationRequest, SqlDraft, SqlRequest, Usage

if TYPE_CHECKING:
    from nl2sql.backends.base import Backend


class Wrapped:
    """A backend around another: narration and moderation go to `inner`; the SQL is the subclass's."""

    stateful = False

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self.can_moderate = inner.can_moderate

    def write_sql(self, request: SqlRequest) -> SqlDraft:
        """The inner backend's SQL (subclasses replace or rewrite it)."""
        return self.inner.write_sql(request)

    def narrate(self, request: NarrationRequest) -> tuple[str | None, Usage]:
        """Narration by the real backend (the model, or None for the computed narrator)."""
        return self.inner.narrate(request)

    def moderate(self, text: str) -> bool:
        """The real backend's moderation check."""
        return self.inner.moderate(text)

    def reset(self) -> None:
        """Forget the inner backend's conversation."""
        self.inner.reset()


class PinnedSQL(Wrapped):
    """write_sql returns the given SQL, never a model's; narration comes from `inner`."""

    def __init__(self, sql: str, inner: Backend, explanation: str = "pinned SQL") -> None:
        super().__init__(inner)
        self.sql = sql
        self.explanation = explanation

    def write_sql(self, request: SqlRequest) -> SqlDraft:
        """The given SQL; a failure is not repaired (the same SQL would only fail again)."""
        if request.error is not None:
            return SqlDraft(refusal=f"the SQL failed: {request.error}")
        return SqlDraft(sql=self.sql, explanation=self.explanation)
