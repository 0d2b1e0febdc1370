"""A backend that answers with SQL it was given (a report's pinned SQL, a chat's /run), and
narrates and charts through the real backend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nl2sql.backends import NarrationRequest, SqlDraft, SqlRequest, Usage

if TYPE_CHECKING:
    from nl2sql.backends import Backend
    from nl2sql.charts import ChartSpec
    from nl2sql.sandbox import Result


class Wrapped:
    """A backend around another: narration, charts and anything else go to `inner`."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.name = inner.name
        self.model = inner.model

    def narrate(self, request: NarrationRequest) -> tuple[str | None, Usage]:
        """Narration by the real backend (the model, or None for the computed narrator)."""
        return self.inner.narrate(request)

    def chart_spec(self, question: str, result: Result) -> ChartSpec | None:
        """Charts by the real backend's rules."""
        return self.inner.chart_spec(question, result)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class PinnedSQL(Wrapped):
    """write_sql returns the given SQL, never a model's; narration and charts come from `inner`."""

    def __init__(self, sql: str, inner: Backend, explanation: str = "pinned SQL") -> None:
        super().__init__(inner)
        self.sql = sql
        self.explanation = explanation

    def write_sql(self, request: SqlRequest) -> SqlDraft:
        """The given SQL; a failure is not repaired (the same SQL would only fail again)."""
        if request.error is not None:
            return SqlDraft(refusal=f"the SQL failed: {request.error}")
        return SqlDraft(sql=self.sql, explanation=self.explanation)
