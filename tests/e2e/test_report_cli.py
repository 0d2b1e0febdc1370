"""`nl2sql report` and `report pin` as cron and people run them."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

from nl2sql.jobs.report.config import load_config
from tests.helpers import REPO, run_cli

EXAMPLE = REPO / "examples" / "weekly_report.yaml"


def _report(tmp_path: Path, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("report", str(config), "--out", str(tmp_path / "out"), "--json", *args)


def test_a_config_error_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("title: T\nsections:\n  - title: [unclosed\n")
    result = run_cli("report", str(path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2 and f"{path}:4:" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
    missing = run_cli("report", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "Report config not found" in missing.stderr


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


def test_a_misspelt_threshold_stops_the_report_with_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "r.yaml"
    config.write_text("title: T\nsections:\n  - title: Orders by channel\n    question: Orders by channel\n"
                      "    thresholds:\n      - column: orders\n        row: mobil\n        change_pct_below: -30\n")
    result = run_cli("report", str(config), "--out", str(tmp_path / "out"), "--as-of", "2025-06-15")
    assert result.returncode == 2, result.stderr  # cron notices; a silent "never fires" is gone
    assert f"{config}:7: section 1 (Orders by channel) has a threshold on row 'mobil'" in result.stderr
    assert "Did you mean 'mobile'?" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
