"""Time expressions: the table in fixtures/time_expressions.tsv, plus properties every match must have.

Conventions (as_of is "today"; every range is half-open [start, end)):

| expression                                   | means                                                             |
|----------------------------------------------|-------------------------------------------------------------------|
| today, yesterday, 今天, 昨天, 前天            | that one day                                                      |
| this / last / next week, 本周, 上周, 下周     | Monday-Sunday weeks; last week = the one before this week         |
| past week, the past month, the last quarter  | the previous calendar unit, like "last week" / "last month"       |
| last year, the previous year, 去年            | the previous calendar year                                        |
| the past year, the last year, past 1 year,   | the 12 calendar months ending with the current month (the one     |
| 过去一年, 近一年                               | exception to "N calendar units")                                  |
| last / past N days, 近30天                    | N days ending with as_of (inclusive)                              |
| last / past N weeks, months, quarters, years | N whole calendar units ending with the one containing as_of       |
| 最近三个月, 最近两周, 近两年, 最近一周          | the same: N=1 week or month is the current week or month          |
| next N days / units, 未来三个月                | N days after as_of; N whole units after the current one           |
| year / quarter / month / week to date, YTD,  | from the start of the current unit through as_of                  |
| this quarter so far, 今年以来, 本季度至今       |                                                                   |
| Q3, March, H2, 三季度, 3月, 下半年, June 9     | with no year: the most recent one that has started by as_of (as   |
|                                              | of 2025-06-15, Q3 is Q3 2024; the brief said "current year" for Q) |
| 2025, in 2025, 2025 revenue, FY2025, 2025年  | the calendar year (FY = calendar year); a bare 1900-2100 number   |
|                                              | is a year only after a time word, at the start, or before "vs"    |
| from X to Y, between X and Y, X-Y, 从X到Y     | [X.start, Y.end); a side without a year takes the other side's;   |
|                                              | a reversed range matches nothing                                  |
| compare X to Y, X vs Y, X and Y, X和Y         | two separate matches                                              |
| since X, from X, X onwards, X以来, 从X开始     | open: [X.start, as_of + 1 day); nothing if X starts after as_of   |
| from <year or relative period>               | "from" is "in": "orders from last year" is 2024                   |
| after X, X之后                                | open: [X.end, as_of + 1 day)                                      |
| before X, X之前                               | open: [1900-01-01, X.start)                                       |
| until / through / up to X, 截至X, 到X为止      | open: [1900-01-01, X.end)                                         |
| the first / last week / N days of X, 第一周   | 7-day blocks from X's start (or back from its end); months,       |
|                                              | quarters and halves are calendar blocks from X's start            |
| week N of 2025, 2025-W23                     | ISO week N (Monday-Sunday)                                        |
| week of DATE                                 | the Monday-Sunday week containing DATE                            |
| same period last year, a year earlier, YoY,  | kind "shift", shift_years = -1 (前年同期, two years ago: -2)        |
| 去年同期, 同比                                 |                                                                   |
| the week / month / N days before, 环比,        | the unit(s) just before the period matched before it; "previous   |
| the previous / prior period                  | period": same length (whole months stay whole); else nothing      |
| Black Friday, Christmas (Day/Eve), Cyber      | that day; with no year, the most recent one on or before as_of    |
| Monday, New Year's Eve, 黑五, 圣诞节, 双十一  |                                                                   |
| 6/9/2025, Feb 30, week 54, 3月底, 本月初       | nothing (ambiguous or not a real period: never guessed)           |
| may, march, Jan ... (not June, December ...) | a month only after a time word ("in may") or next to a day/year;  |
|                                              | a month name before a capitalised word is a name (March Madness)  |
| product 2025, top 2025, 2000 units           | not years                                                         |

Labels are English for both languages; TimeMatch.text keeps the question's own words.
"""

from __future__ import annotations

import ast
import random
import time
from collections import defaultdict
from dataclasses import FrozenInstanceError
from datetime import date
from pathlib import Path

import pytest

from nl2sql.backends.offline import timeexpr
from nl2sql.backends.offline.timeexpr import KINDS, Period, TimeMatch, find_time

TABLE = Path(__file__).parent / "fixtures" / "time_expressions.tsv"
DEFAULT_AS_OF = date(2025, 12, 31)


def _rows() -> list[list[str]]:
    lines = TABLE.read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line.strip() and not line.startswith("#")]


def _cases() -> dict[tuple[str, str], list[list[str]]]:
    cases: dict[tuple[str, str], list[list[str]]] = defaultdict(list)
    for as_of, question, *expected in _rows():
        cases[(as_of or DEFAULT_AS_OF.isoformat(), question)].append(expected)
    return cases


def _expected(question: str, rows: list[list[str]]) -> list[tuple]:
    out, pos = [], 0
    for matched, start, end, kind in rows:
        if matched == "-":
            continue
        i = question.index(matched, pos)
        pos = i + len(matched)
        when = (int(start),) if kind == "shift" else (start, end)
        out.append(((i, pos), matched, kind, *when))
    return out


def _actual(m: TimeMatch) -> tuple:
    if m.kind == "shift":
        return (m.span, m.text, m.kind, m.shift_years)
    return (m.span, m.text, m.kind, m.period.start.isoformat(), m.period.end.isoformat())


CASES = _cases()


@pytest.mark.parametrize(("as_of", "question"), list(CASES), ids=[f"{a}|{q}" for a, q in CASES])
def test_table(as_of: str, question: str) -> None:
    matches = find_time(question, date.fromisoformat(as_of))
    assert [_actual(m) for m in matches] == _expected(question, CASES[(as_of, question)])


def test_table_size() -> None:
    rows = _rows()
    chinese = [r for r in rows if any("\u4e00" <= ch <= "\u9fff" for ch in r[1])]
    assert len(rows) >= 200
    assert len(chinese) >= 60
    assert {r[0] for r in rows} >= {"", "2025-06-15", "2024-03-01", "2025-01-01", "2025-06-09"}


def test_labels() -> None:
    def label(text: str) -> str:
        return find_time(text, DEFAULT_AS_OF)[0].period.label

    assert label("in Q3 2025") == "Q3 2025"
    assert label("in the last 3 months") == "last 3 months"
    assert label("from 2025-10-01 to 2025-12-31") == "2025-10-01 to 2025-12-31"
    assert label("since March 2025") == "since March 2025"
    assert label("before 2025") == "before 2025"
    assert label("H1 2025") == "H1 2025"
    assert label("最近三个月") == "last 3 months"
    assert label("week 23 of 2025") == "2025-W23"


def test_results_are_frozen_values() -> None:
    m = find_time("revenue in March 2025", DEFAULT_AS_OF)[0]
    assert m == TimeMatch((8, 21), Period(date(2025, 3, 1), date(2025, 4, 1), "March 2025"), "range", 0,
                          "in March 2025")
    with pytest.raises(FrozenInstanceError):
        m.kind = "open"  # type: ignore[misc]


def test_standard_library_only() -> None:
    """The recognizer must stay cheap to import: nothing but the standard library and its own modules."""
    folder = Path(timeexpr.__file__).parent
    for name in ("timeexpr.py", "timeexpr_cal.py", "timeexpr_en.py", "timeexpr_zh.py"):
        tree = ast.parse((folder / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert (node.module or "").startswith("timeexpr_") or all(
                    a.name.startswith("timeexpr_") for a in node.names), name
            elif isinstance(node, ast.Import | ast.ImportFrom):
                top = (node.module if isinstance(node, ast.ImportFrom) else node.names[0].name).split(".")[0]
                assert top in {"__future__", "re", "collections", "dataclasses", "datetime", "functools"}, (name, top)


# --------------------------------------------------------------------------- properties
WORDS = ("in", "the", "last", "past", "next", "first", "of", "from", "to", "between", "and", "since", "before", "after",
         "until", "vs", "3", "12", "two", "days", "weeks", "month", "months", "quarter", "year", "Q3", "H1", "2024",
         "2025", "1999", "March", "may", "Jan", "June 9", "2025-06-09", "6/9/2025", "week", "23", "same", "period",
         "YTD", "so", "far", "top", "products", "revenue", "-", ",", "今年", "去年", "上个月", "最近", "三个月",
         "第一周", "的", "到", "从", "以来", "同期", "2025年", "3月", "9日", "之前", "季度", "近30天", "和", "之间",
         "在")


def _check(text: str, as_of: date) -> None:
    matches = find_time(text, as_of)
    last_end = 0
    for m in matches:
        i, j = m.span
        assert last_end <= i < j <= len(text), (text, m)
        assert m.text == text[i:j]
        assert m.kind in KINDS
        if m.kind == "shift":
            assert m.period is None and m.shift_years < 0
        else:
            assert m.period is not None and m.period.start < m.period.end and m.period.label
        last_end = j


def test_properties_on_random_questions() -> None:
    rng = random.Random(20251231)
    for _ in range(3000):
        words = rng.choices(WORDS, k=rng.randint(1, 9))
        as_of = date(2024, 1, 1) + (date(2026, 12, 31) - date(2024, 1, 1)) * rng.random()
        _check(rng.choice((" ", "")).join(words), as_of)


def test_properties_with_hypothesis() -> None:
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    @hypothesis.settings(max_examples=300, deadline=None)
    @hypothesis.given(st.lists(st.sampled_from(WORDS), max_size=10), st.text(max_size=6),
                      st.dates(date(1990, 1, 1), date(2090, 12, 31)))
    def check(words: list[str], noise: str, as_of: date) -> None:
        _check(" ".join(words) + noise, as_of)

    check()


def test_speed() -> None:
    questions = [q for _, q in CASES] * 5
    start = time.perf_counter()
    for q in questions[:1000]:
        find_time(q, DEFAULT_AS_OF)
    assert time.perf_counter() - start < 5  # about 0.2 s here; generous for a busy CI machine
