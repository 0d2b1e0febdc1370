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



# -- comparing like with like ---------------------------------------------------------------------

TOP_AND_RETURNS = """title: Like with like
sections:
  - title: Top products
    question: Top 5 products by revenue
  - title: Returns by product
    sql: |
      SELECT p.product_name, COUNT(DISTINCT o.order_id) AS returned_orders
      FROM orders o
      JOIN order_items i ON i.order_id = o.order_id
      JOIN products p ON p.product_id = i.product_id
      WHERE o.status = 'returned'
        AND o.order_date BETWEEN DATE '{{ period_start }}' AND DATE '{{ period_end }}'
      GROUP BY 1
      ORDER BY 2 DESC, 1
      LIMIT 10
"""


@pytest.fixture(scope="module")
def like_with_like(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from nl2sql.jobs.workspace import Workspace

    path = tmp_path_factory.mktemp("report") / "r.yaml"
    path.write_text(TOP_AND_RETURNS)
    with Workspace.open(backend="offline") as ws:
        report = ws.report(path, as_of="2025-06-15")
        week = "SELECT p.product_name, SUM(i.quantity * i.unit_price * (1 - i.discount)) AS revenue " \
               "FROM order_items i " \
               "JOIN orders o ON o.order_id = i.order_id JOIN products p ON p.product_id = i.product_id " \
               "WHERE o.status = 'completed' AND o.order_date BETWEEN DATE '{}' AND DATE '{}' GROUP BY 1 " \
               "ORDER BY 2 DESC, 1"
        now = ws.sql(week.format("2025-06-09", "2025-06-15")).result.rows
        before = ws.sql(week.format("2025-06-02", "2025-06-08")).result.rows
        returned = ws.sql("SELECT COUNT(DISTINCT order_id) FROM orders WHERE status = 'returned' AND order_date "
                          "BETWEEN DATE '2025-06-09' AND DATE '2025-06-15'").result.rows[0][0]
        yield report, now, before, returned


def test_top_n_rows_are_matched_by_identity_with_their_previous_rank(like_with_like) -> None:  # type: ignore[no-untyped-def]
    report, now, before, _ = like_with_like
    top = report.sections[0]
    assert top.ok and top.comparison.top_n == 5
    ranks_before = {name: rank for rank, (name, _) in enumerate(before, 1)}
    values_before = dict(before)
    shown = [c for c in top.changes if c.status != "dropped out"]
    assert [c.label for c in shown] == [name for name, _ in now[:5]]
    for c in shown:  # every product of this week's top 5 has its value and rank of last week, in or out of the top 5
        assert c.previous == pytest.approx(float(values_before[c.label]))
        assert c.previous_rank == ranks_before[c.label]
        assert c.status == ("entered" if ranks_before[c.label] > 5 else None)
    dropped = [c for c in top.changes if c.status == "dropped out"]
    assert {c.label for c in dropped} == {name for name, _ in before[:5]} - {name for name, _ in now[:5]}
    ranks_now = {name: rank for rank, (name, _) in enumerate(now, 1)}
    assert all(c.rank == ranks_now[c.label] and c.current is not None for c in dropped)


def test_totals_are_the_sections_own_totals_not_sums_of_a_list(like_with_like) -> None:  # type: ignore[no-untyped-def]
    report, now, _, returned = like_with_like
    top, returns = report.sections
    (revenue,) = top.headline  # all products' revenue, not the top 5's
    assert revenue.current == pytest.approx(sum(float(v) for _, v in now))
    (orders,) = returns.headline  # distinct returned orders, not the sum over ten products
    assert orders.current == returned
    assert orders.current < sum(c.current or 0 for c in returns.changes if c.status != "dropped out")


def test_the_summary_names_real_movers_and_the_output_reads_well(like_with_like) -> None:  # type: ignore[no-untyped-def]
    from nl2sql.jobs.report.output import render_report

    report, *_ = like_with_like
    assert report.top_changes and all(c.pct is not None for _, c in report.top_changes)
    md = render_report(report, "md")
    assert "| # | Product name | Week 24 | Week 23 | Change |" in md  # humanised, the periods named
    assert "(entered the top 5)" in md and "Dropped out of the top 5:" in md and "| – |" not in md
    generated = report.generated
    assert generated.tzinfo is not None and f"generated {generated:%-d %b %Y, %H:%M}" in md  # local time, zone
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", md)  # no raw ISO timestamp
    assert "1 sections" not in md and "LIMIT 1001" not in md


@pytest.mark.parametrize("threshold, line, message, hint", [
    ("      - column: revenu\n        below: 1\n", 6, "has a threshold on 'revenu', which is not a column of its "
     "result", "Did you mean 'revenue'?"),
    ("      - column: revenue\n        row: Eco Tablett 134\n        below: 1\n", 7, "has a threshold on row "
     "'Eco Tablett 134', which is in neither period's result nor in the data", "Did you mean 'Eco Tablet 134'?"),
])
def test_a_threshold_on_an_unknown_column_or_row_is_a_config_error(tmp_path: Path, threshold: str, line: int,
                                                                    message: str, hint: str) -> None:
    from nl2sql.jobs.workspace import Workspace

    path = tmp_path / "r.yaml"
    path.write_text("title: T\nsections:\n  - title: Top products\n    question: Top 5 products by revenue\n"
                    "    thresholds:\n" + threshold)
    with Workspace.open(backend="offline") as ws, pytest.raises(ConfigError) as info:
        ws.report(path, as_of="2025-06-15")
    assert info.value.message.startswith(f"{path}:{line}: section 1 (Top products) ") and message in info.value.message
    assert info.value.hint is not None and info.value.hint.startswith(hint[:-1]) and info.value.exit_code == 2


def test_a_known_row_that_left_the_list_still_alerts(tmp_path: Path) -> None:
    from nl2sql.jobs.workspace import Workspace

    path = tmp_path / "r.yaml"
    # Aero Monitor 118 was #2 the week before and is not in this week's top 5: it fell, and its alert says so
    path.write_text("title: T\nsections:\n  - title: Top products\n    question: Top 5 products by revenue\n"
                    "    thresholds:\n      - column: revenue\n        row: aero monitor 118\n"
                    "        change_pct_below: -20\n        message: A top product fell\n")
    with Workspace.open(backend="offline") as ws:
        report = ws.report(path, as_of="2025-06-15")
    (alert,) = report.sections[0].alerts
    assert alert.startswith("A top product fell: Aero Monitor 118 revenue: 15,817 vs 37,558 in the previous period")
