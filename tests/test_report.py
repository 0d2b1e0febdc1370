"""`nl2sql report`: periods, config errors with line numbers, alerts in the right weeks, partial
failure, pinning, and the HTML being self-contained."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from nl2sql.core.errors import ConfigError
from nl2sql.jobs.report.config import load_config
from nl2sql.jobs.report.output import md_escape
from nl2sql.jobs.report.period import period_containing, report_period
from nl2sql.jobs.report.pin import parametrize
from tests.helpers import REPO

EXAMPLE = REPO / "examples" / "weekly_report.yaml"


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# -- periods -------------------------------------------------------------------------------------

@pytest.mark.parametrize("as_of, start, end, prev_start, prev_end", [
    ("2025-06-15", "2025-06-09", "2025-06-15", "2025-06-02", "2025-06-08"),  # a Sunday closes its week
    ("2025-06-16", "2025-06-09", "2025-06-15", "2025-06-02", "2025-06-08"),  # Monday's cron run: last week
    ("2025-12-31", "2025-12-22", "2025-12-28", "2025-12-15", "2025-12-21"),  # mid-week: the last full week
    ("2026-01-02", "2025-12-22", "2025-12-28", "2025-12-15", "2025-12-21"),
    ("2026-01-04", "2025-12-29", "2026-01-04", "2025-12-22", "2025-12-28"),  # a week across the year change
    ("2026-01-11", "2026-01-05", "2026-01-11", "2025-12-29", "2026-01-04"),
])
def test_weeks(as_of: str, start: str, end: str, prev_start: str, prev_end: str) -> None:
    p = report_period(d(as_of), "week")
    assert (p.start, p.end, p.previous_start, p.previous_end) == (d(start), d(end), d(prev_start), d(prev_end))
    assert p.start.weekday() == 0 and p.end.weekday() == 6


def test_week_labels_use_iso_weeks() -> None:
    assert report_period(d("2026-01-04"), "week").label == "Week 1, 2026 (Dec 29 – Jan 4)"
    assert report_period(d("2025-06-15"), "week").label == "Week 24, 2025 (Jun 9 – Jun 15)"


@pytest.mark.parametrize("as_of, start, end, prev_start, prev_end", [
    ("2025-12-31", "2025-12-01", "2025-12-31", "2025-11-01", "2025-11-30"),
    ("2026-01-15", "2025-12-01", "2025-12-31", "2025-11-01", "2025-11-30"),
    ("2026-01-31", "2026-01-01", "2026-01-31", "2025-12-01", "2025-12-31"),  # year change
    ("2024-03-10", "2024-02-01", "2024-02-29", "2024-01-01", "2024-01-31"),  # leap February
])
def test_months(as_of: str, start: str, end: str, prev_start: str, prev_end: str) -> None:
    p = report_period(d(as_of), "month")
    assert (p.start, p.end, p.previous_start, p.previous_end) == (d(start), d(end), d(prev_start), d(prev_end))


def test_days_and_sql_parameters() -> None:
    p = report_period(d("2026-01-01"), "day")
    assert (p.start, p.end, p.previous_start) == (d("2026-01-01"), d("2026-01-01"), d("2025-12-31"))
    params = period_containing(d("2025-06-11"), "week").params()
    assert params == {"period_start": "2025-06-09", "period_end": "2025-06-15", "period_end_exclusive": "2025-06-16",
                      "previous_start": "2025-06-02", "previous_end": "2025-06-08",
                      "previous_end_exclusive": "2025-06-09"}
    sql = "SELECT 1 FROM orders WHERE order_date >= '2025-06-09' AND order_date < '2025-06-16'"
    assert parametrize(sql, period_containing(d("2025-06-11"), "week")) == (
        "SELECT 1 FROM orders WHERE order_date >= '{{ period_start }}' AND order_date < '{{ period_end_exclusive }}'")


# -- config errors -------------------------------------------------------------------------------

GOOD = "title: T\nsections:\n  - title: Revenue\n    question: Revenue\n"


@pytest.mark.parametrize("text, expected", [
    ("title: T\nsections:\n  - title: [unclosed\n", r":4: this is not valid YAML: expected ',' or ']', but got "
     "'<stream end>' (while parsing a flow sequence on line 3)"),
    ("title: T\nperiode: week\nsections:\n  - question: Revenue\n", r":2: unknown key 'periode' in the report"),
    ("title: T\nsections:\n  - title: A\n    questoin: Revenue\n", r":4: unknown key 'questoin' in section 1"),
    ("title: T\nsections:\n  - title: A\n", r":3: section 1 needs a 'question' or pinned 'sql'"),
    ("title: T\nperiod: fortnight\nsections:\n  - question: Revenue\n", r":2: unknown period 'fortnight'"),
    ("title: T\nas_of: yesterday\nsections:\n  - question: Revenue\n", r":2: as_of must be a date"),
    ("title: T\nsections: []\n", r":2: the report needs a list of 'sections'"),
    ("- just\n- a list\n", r":1: a report config is a mapping"),
    ("title: T\nsections:\n  - question: Revenue\n    thresholds:\n      - column: revenue\n",
     r":5: a threshold needs one of below, above"),
    ("title: T\nsections:\n  - question: Revenue\n    thresholds:\n      - column: revenue\n        above: lots\n",
     r":6: 'above' must be a number"),
])
def test_config_errors_name_the_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(str(path)) + re.escape(expected)):
        load_config(path)


def test_did_you_mean_for_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("title: T\nsections:\n  - title: A\n    questoin: Revenue\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.hint == "Did you mean 'question'?"


def test_markdown_escaping_of_data_values() -> None:
    assert md_escape("![x](https://attacker.example/c)") == "!\\[x\\](https://attacker.example/c)"
    assert md_escape("a|b <script>") == "a\\|b \\<script\\>"


# -- runs ----------------------------------------------------------------------------------------

