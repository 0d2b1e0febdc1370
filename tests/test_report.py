"""`nl2sql report`: periods, config errors with line numbers, alerts in the right weeks, partial
failure, pinning, and the HTML being self-contained."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from nl2sql.core.errors import ConfigError
from nl2sql.jobs.report.config import load_config
from nl2sql.jobs.report.output import md_escape
from nl2sql.jobs.report.period import period_containing, report_period
from nl2sql.jobs.report.pin import parametrize
from tests.conftest import REPO, run_cli

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


def test_a_config_error_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("title: T\nsections:\n  - title: [unclosed\n")
    result = run_cli("report", str(path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and f"{path}:4:" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
    missing = run_cli("report", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "Report config not found" in missing.stderr


def test_markdown_escaping_of_data_values() -> None:
    assert md_escape("![x](https://attacker.example/c)") == "!\\[x\\](https://attacker.example/c)"
    assert md_escape("a|b <script>") == "a\\|b \\<script\\>"


# -- runs ----------------------------------------------------------------------------------------

def _report(tmp_path: Path, config: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_cli("report", str(config), "--out", str(tmp_path / "out"), "--json", *args)


def test_the_outage_week_raises_the_mobile_alert(tmp_path: Path) -> None:
    result = _report(tmp_path, EXAMPLE, "--as-of", "2025-06-15")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["period"]["label"] == "Week 24, 2025 (Jun 9 – Jun 15)"
    alerts = [a["alert"] for a in data["alerts"]]
    assert any(a.startswith("Mobile orders fell more than 30 %: mobile orders: 13 vs 174") for a in alerts), alerts
    assert not any("Returns spike" in a for a in alerts)
    md = (tmp_path / "out" / "shop-weekly-report-2025-06-09.md").read_text()
    html = (tmp_path / "out" / "shop-weekly-report-2025-06-09.html").read_text()
    assert md.index("Mobile orders fell") < md.index("## 1. Revenue")  # alerts lead the summary
    for chart in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md):
        assert (tmp_path / "out" / chart).stat().st_size > 5_000
    # self-contained: no external URLs, scripts or remote resources; charts inline
    assert not re.search(r"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html.replace("http-equiv", ""))
    assert "<script" not in html and html.count('src="data:image/png;base64,') >= 5
    assert "<details><summary>SQL</summary>" in html
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")) == []  # no temp files


def test_the_returns_spike_shows_in_september_and_not_in_december(tmp_path: Path) -> None:
    sept = json.loads(_report(tmp_path, EXAMPLE, "--as-of", "2025-09-07", "--format", "md").stdout)
    assert any(a["alert"].startswith("Returns spike") and "Nova Wireless Earbuds 107" in a["alert"]
               for a in sept["alerts"])
    december = _report(tmp_path, EXAMPLE, "--as-of", "2025-12-31", "--format", "html")
    assert december.returncode == 0, december.stderr
    data = json.loads(december.stdout)
    assert data["period"]["start"] == "2025-12-22" and data["alerts"] == []
    assert [Path(f).suffix for f in data["files"]] == [".html"]


def test_one_failing_section_does_not_sink_the_report(tmp_path: Path, isolated_home: Path) -> None:
    config = tmp_path / "r.yaml"
    config.write_text("title: Partial\nsections:\n  - title: Good\n    question: Orders by channel\n"
                      "  - title: Broken\n    sql: SELECT revenu FROM orders\n"
                      "  - title: Unanswerable\n    question: What is the weather in Paris?\n")
    result = run_cli("report", str(config), "--out", str(tmp_path / "out"), "--as-of", "2025-06-15")
    assert result.returncode == 1
    assert "Section 2 (Broken) failed" in result.stderr and "Unknown column 'revenu'" in result.stderr
    assert "Section 3 (Unanswerable) failed" in result.stderr
    assert "\x1b[" not in result.stdout + result.stderr  # no colour when not on a terminal
    md = (tmp_path / "out" / "partial-2025-06-09.md").read_text()
    assert "## 1. Good" in md and "| web |" in md
    assert "This section failed** (InvalidSQLError): Unknown column 'revenu'" in md
    assert "2 of 3 sections failed" in md
    db = sqlite3.connect(isolated_home / "history.sqlite")
    kinds = [r[0] for r in db.execute("SELECT kind FROM asks ORDER BY id")]
    assert kinds[-1] == "report" and kinds.count("ask") >= 3  # every section's query is in the audit log too


def test_pin_writes_sql_back_keeping_comments_and_runs_the_same(tmp_path: Path) -> None:
    config = tmp_path / "weekly.yaml"
    shutil.copy(EXAMPLE, config)
    before = config.read_text()
    before_run = json.loads(_report(tmp_path, config, "--as-of", "2025-06-15", "--format", "md").stdout)
    pinned = run_cli("report", "pin", str(config), "--as-of", "2025-06-15")
    assert pinned.returncode == 0, pinned.stderr
    assert "Pinned SQL for 6 section(s)" in pinned.stdout
    after = config.read_text()
    comments = [line for line in before.splitlines() if line.strip().startswith("#")]
    assert comments and all(c in after.splitlines() for c in comments)
    cfg = load_config(config)
    assert all(s.sql for s in cfg.sections)
    assert "{{ period_start }}" in cfg.sections[1].sql and "2025-06" not in cfg.sections[1].sql
    assert [s.title for s in cfg.sections] == [s.title for s in load_config(EXAMPLE).sections]
    # the pinned report needs no SQL writer and gives the same alerts, for any week
    after_run = json.loads(_report(tmp_path, config, "--as-of", "2025-06-15", "--format", "md").stdout)
    assert after_run["alerts"] == before_run["alerts"]
    again = run_cli("report", "pin", str(config))
    assert "Pinned SQL for 0 section(s)" in again.stdout and config.read_text() == after  # idempotent
    forced = run_cli("report", "pin", str(config), "--as-of", "2025-06-15", "--force")
    assert "Pinned SQL for 6 section(s)" in forced.stdout and config.read_text() == after  # replaced, not doubled


def test_with_pinned_sql_the_model_only_narrates(tmp_path: Path) -> None:
    from tests.fake_openai import FakeOpenAI

    config = tmp_path / "r.yaml"
    config.write_text(
        "title: Pinned\nbackend: openai\nsections:\n  - title: Orders by channel\n    sql: |\n"
        "      SELECT channel, COUNT(*) AS orders FROM orders\n"
        "      WHERE order_date BETWEEN DATE '{{ period_start }}' AND DATE '{{ period_end }}'\n"
        "      GROUP BY 1 ORDER BY 2 DESC\n")
    with FakeOpenAI(default=lambda body: "Web leads with 300 orders.") as server:
        result = run_cli("report", str(config), "--out", str(tmp_path / "out"), "--as-of", "2025-06-15", "--json",
                         env={"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test-123456789"})
        assert result.returncode == 0, result.stderr
        prompts = [r["body"]["messages"][-1]["content"] for r in server.chat_requests]
    assert len(prompts) == 2 and all(p.startswith("Question: Orders by channel") for p in prompts)  # narrations only
    md = (tmp_path / "out" / "pinned-2025-06-09.md").read_text()
    # 300 is not in the result (one regeneration, same reply): the computed narration is shown
    assert "Web leads with 300" not in md and "web leads on orders with" in md
