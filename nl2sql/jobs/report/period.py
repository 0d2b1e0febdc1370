"""Report periods: the latest complete week (Monday-Sunday), month or day up to as_of, and the one before.

Pinned SQL gets the period as parameters ({{ period_start }} ...) through a sandboxed template.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

from nl2sql.core.errors import ConfigError

if TYPE_CHECKING:
    from nl2sql.data.catalog import Catalog


def parse_as_of(value: str) -> dt.date | str:
    """A date, or the words 'today' / 'latest'; anything else is a ValueError for people."""
    if value in ("today", "latest"):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"as_of must be a date (YYYY-MM-DD), 'today' or 'latest', not {value!r}.") from None


@dataclasses.dataclass(frozen=True)
class Period:
    """A reporting period (start and end inclusive) and the one before it."""

    kind: str
    start: dt.date
    end: dt.date
    previous_start: dt.date
    previous_end: dt.date

    def params(self) -> dict[str, str]:
        """The values pinned SQL may use as {{ name }}."""
        one = dt.timedelta(days=1)
        return {"period_start": str(self.start), "period_end": str(self.end),
                "period_end_exclusive": str(self.end + one), "previous_start": str(self.previous_start),
                "previous_end": str(self.previous_end), "previous_end_exclusive": str(self.previous_end + one)}

    def phrase(self, question: str) -> str:
        """The question asked for this period: '<question> from 2025-06-09 to 2025-06-15'."""
        return f"{question} from {self.start} to {self.end}"

    def previous(self) -> Period:
        """The period before, as a Period of its own (for running the same SQL on it)."""
        return period_containing(self.previous_start, self.kind)

    @property
    def label(self) -> str:
        """'Week 24, 2025 (Jun 9 – Jun 15)', 'June 2025' or '2025-06-09'."""
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"Week {week}, {year} ({self.start:%b} {self.start.day} – {self.end:%b} {self.end.day})"
        if self.kind == "month":
            return f"{self.start:%B %Y}"
        return str(self.start)

    @property
    def previous_label(self) -> str:
        """'the previous week', 'the previous month' or 'the previous day'."""
        return f"the previous {self.kind}"

    @property
    def short_label(self) -> str:
        """'Week 24', 'June 2025' or 'Jun 9, 2025' (a legend entry)."""
        if self.kind == "week":
            return f"Week {self.start.isocalendar()[1]}"
        if self.kind == "month":
            return f"{self.start:%B %Y}"
        return f"{self.start:%b} {self.start.day}, {self.start.year}"

    @property
    def dates(self) -> str:
        """'Mon 9 – Sun 15 June 2025' (the span in words, once)."""
        if self.kind == "day":
            return f"{self.start:%a} {self.start.day} {self.start:%B %Y}"
        first = f"{self.start:%a} {self.start.day}" + ("" if self.start.month == self.end.month
                                                       else f" {self.start:%B}") + \
            ("" if self.start.year == self.end.year else f" {self.start.year}")
        return f"{first} – {self.end:%a} {self.end.day} {self.end:%B %Y}"

    def onto_current(self, day: dt.date) -> dt.date:
        """A date of the previous period moved to the same place in this one (to overlay the two)."""
        if self.kind == "month":
            last = self.end.day
            return self.start.replace(day=min(day.day, last))
        return day + (self.start - self.previous_start)


def period_containing(day: dt.date, kind: str) -> Period:
    """The calendar week (Monday to Sunday), month or day that contains `day`, and the one before."""
    if kind == "day":
        return Period(kind, day, day, day - dt.timedelta(days=1), day - dt.timedelta(days=1))
    if kind == "week":
        start = day - dt.timedelta(days=day.weekday())
        end = start + dt.timedelta(days=6)
        return Period(kind, start, end, start - dt.timedelta(days=7), start - dt.timedelta(days=1))
    start = day.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    previous_end = start - dt.timedelta(days=1)
    return Period(kind, start, end, previous_end.replace(day=1), previous_end)


def report_period(as_of: dt.date, kind: str) -> Period:
    """The latest complete period up to and including `as_of` (as_of's own day counts as complete).

    A weekly report run on Monday 2025-06-16 covers Monday 9 to Sunday 15 June; run on Sunday
    the 15th it covers the same week; a monthly report on 2025-12-31 covers December.
    """
    current = period_containing(as_of, kind)
    if current.end == as_of:
        return current
    return period_containing(current.start - dt.timedelta(days=1), kind)


def resolve_as_of(value: str, catalog: Catalog, today: dt.date | None = None) -> dt.date:
    """as_of as a date: given, today, or the data's latest date."""
    parsed = parse_as_of(value)
    if isinstance(parsed, dt.date):
        return parsed
    if parsed == "today":
        return today or dt.date.today()
    latest = catalog.latest_date()
    if latest is None:
        raise ConfigError("as_of is 'latest' but the data has no date column to take it from.",
                          hint="Set as_of to a date, or pass --as-of YYYY-MM-DD.")
    return dt.date.fromisoformat(latest[:10])


def render_sql(template: str, params: dict[str, str], where: str) -> str:
    """Fill {{ period_start }} and friends into pinned SQL (a sandboxed template; unknown names are errors)."""
    import jinja2
    import jinja2.sandbox

    env = jinja2.sandbox.SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False)
    try:
        return env.from_string(template).render(**params)
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"{where}: the SQL uses an unknown parameter ({exc.message}).",
                          hint="Available: " + ", ".join("{{ " + k + " }}" for k in params) + ".") from None
    except jinja2.TemplateError as exc:
        raise ConfigError(f"{where}: the SQL template is malformed: {exc}.") from None
