"""Calendar arithmetic for timeexpr: what each spec means on an as_of date, as a half-open Period.

A spec is a tuple whose first item names its kind (see timeexpr_en); `resolve` turns it into a
Period, or None when it names no real date (Feb 30, week 54, year 10000).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

FAR_PAST = date(1900, 1, 1)  # lower bound of "before X"


@dataclass(frozen=True)
class Period:
    start: date  # inclusive
    end: date  # exclusive
    label: str  # human words, e.g. "Q3 2025", "last 3 months", "2025-10-01 to 2025-12-31"


_MONTHS_IN = {"month": 1, "quarter": 3, "half": 6, "year": 12}
_MONTH_NAMES = "January February March April May June July August September October November December".split()


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 + n, 12)
    last = (date(y + (m == 11), (m + 1) % 12 + 1, 1) - timedelta(1)).day
    return date(y, m + 1, min(d.day, last))


def _unit_start(d: date, unit: str) -> date:
    if unit == "day":
        return d
    if unit == "week":
        return d - timedelta(d.weekday())
    k = _MONTHS_IN[unit]
    return date(d.year, (d.month - 1) // k * k + 1, 1)


def step(d: date, unit: str, n: int) -> date:
    if unit in ("day", "week"):
        return d + timedelta(n * (7 if unit == "week" else 1))
    return _add_months(d, n * _MONTHS_IN[unit])


def plural(n: int, unit: str) -> str:
    return f"{n} {unit}" + ("s" if n != 1 else "") if unit != "half" else f"{n} half-years"


def _year(y: int | str | None, as_of: date) -> int | None:
    return as_of.year + int(y) if isinstance(y, str) else y


def _rel(as_of: date, unit: str, off: int) -> Period:
    s = step(_unit_start(as_of, unit), unit, off)
    words = {0: "this", -1: "last", 1: "next"}
    label = f"{words[off]} {unit}" if off in words else f"the {unit} before last"
    return Period(s, step(s, unit, 1), label)


def _lastn(as_of: date, unit: str, n: int) -> Period:
    if unit == "year" and n == 1:  # "the past year", 过去一年: the 12 months ending with this one
        unit, n = "month", 12
    end = as_of + timedelta(1) if unit == "day" else step(_unit_start(as_of, unit), unit, 1)
    return Period(step(end, unit, -n), end, f"last {plural(n, unit)}")


def _nextn(as_of: date, unit: str, n: int) -> Period:
    start = as_of + timedelta(1) if unit == "day" else step(_unit_start(as_of, unit), unit, 1)
    return Period(start, step(start, unit, n), f"next {plural(n, unit)}")


def _cal(as_of: date, unit: str, idx: int, y: int | str | None) -> Period:
    year = _year(y, as_of) or as_of.year
    start = date(year, (idx - 1) * _MONTHS_IN[unit] + 1, 1)
    if y is None and start > as_of:  # no year said: the most recent one that has started
        start = date(year - 1, start.month, 1)
    names = {"month": lambda: f"{_MONTH_NAMES[start.month - 1]} {start.year}",
             "quarter": lambda: f"Q{idx} {start.year}", "half": lambda: f"H{idx} {start.year}"}
    return Period(start, step(start, unit, 1), names[unit]())


def _date(as_of: date, month: int, day: int, y: int | str | None) -> Period:
    d = date(_year(y, as_of) or as_of.year, month, day)
    if y is None and d > as_of:
        d = date(d.year - 1, month, day)
    return Period(d, d + timedelta(1), d.isoformat())


def _isoweek(as_of: date, week: int, y: int | str | None) -> Period:
    year = _year(y, as_of) or as_of.year
    start = date.fromisocalendar(year, week, 1)
    if y is None and start > as_of:
        start = date.fromisocalendar(year - 1, week, 1)
    return Period(start, start + timedelta(7), f"{start.isocalendar()[0]}-W{week:02d}")


def _weekof(as_of: date, month: int, day: int, y: int | str | None) -> Period:
    d = _date(as_of, month, day, y).start
    start = d - timedelta(d.weekday())
    return Period(start, start + timedelta(7), f"week of {d.isoformat()}")


def _day(as_of: date, off: int) -> Period:
    words = {0: "today", -1: "yesterday", -2: "the day before yesterday", -3: "3 days ago", 1: "tomorrow"}
    d = as_of + timedelta(off)
    return Period(d, d + timedelta(1), words.get(off, d.isoformat()))


def _fourth_thursday(year: int) -> date:
    first = date(year, 11, 1)
    return first + timedelta((3 - first.weekday()) % 7 + 21)


_HOLIDAYS: dict[str, tuple[str, Callable[[int], date]]] = {
    "black friday": ("Black Friday", lambda y: _fourth_thursday(y) + timedelta(1)),
    "cyber monday": ("Cyber Monday", lambda y: _fourth_thursday(y) + timedelta(4)),
    "thanksgiving": ("Thanksgiving", _fourth_thursday),
    "christmas eve": ("Christmas Eve", lambda y: date(y, 12, 24)),
    "christmas": ("Christmas", lambda y: date(y, 12, 25)),
    "new year's eve": ("New Year's Eve", lambda y: date(y, 12, 31)),
    "new year's day": ("New Year's Day", lambda y: date(y, 1, 1)),
    "valentine's day": ("Valentine's Day", lambda y: date(y, 2, 14)),
    "halloween": ("Halloween", lambda y: date(y, 10, 31)),
    "singles' day": ("Singles' Day", lambda y: date(y, 11, 11)),
}


def _holiday(as_of: date, name: str, y: int | str | None) -> Period:
    """A named day; with no year, the most recent one on or before as_of."""
    label, day_of = _HOLIDAYS[name]
    year = _year(y, as_of) or as_of.year
    d = day_of(year)
    if y is None and d > as_of:
        d = day_of(year - 1)
    return Period(d, d + timedelta(1), f"{label} {d.year}")


def before(previous: Period, unit: str, n: int) -> Period | None:
    """'the week before', 'the 30 days before', 'the previous period': the n units just before a period."""
    if unit == "period":
        months = (previous.end.year - previous.start.year) * 12 + previous.end.month - previous.start.month
        whole = previous.start.day == 1 and previous.end.day == 1
        start = _add_months(previous.start, -months) if whole else previous.start - (previous.end - previous.start)
        return Period(start, previous.start, "the period before")
    start = step(previous.start, unit, -n)
    return Period(start, previous.start, f"the {unit} before" if n == 1 else f"the {plural(n, unit)} before")


_TODATE = {"year": "year to date", "quarter": "quarter to date", "month": "month to date", "week": "week to date"}
_RESOLVERS: dict[str, Callable[..., Period | None]] = {
    "day": _day,
    "daysago": lambda a, n: replace(_day(a, -n), label=f"{n} days ago"),
    "rel": _rel,
    "lastn": _lastn,
    "nextn": _nextn,
    "todate": lambda a, unit: Period(_unit_start(a, unit), a + timedelta(1), _TODATE[unit]),
    "year": lambda a, y: Period(date(y, 1, 1), date(y + 1, 1, 1), str(y)),
    "cal": _cal,
    "date": _date,
    "isoweek": _isoweek,
    "weekof": _weekof,
    "holiday": _holiday,
}


def resolve(spec: tuple, as_of: date) -> Period | None:
    """The period a spec means on as_of; None if it names no real date (Feb 30, week 54, year 10000)."""
    try:
        p = _RESOLVERS[spec[0]](as_of, *spec[1:])
    except (ValueError, OverflowError, KeyError, TypeError):
        return None
    return p if p is not None and FAR_PAST <= p.start < p.end <= date(2101, 1, 1) else None


