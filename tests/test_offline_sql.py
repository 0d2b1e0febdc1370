"""The offline engine's SQL: any column name works, any dialect renders, and its own failures are owned."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb
import pytest
import sqlglot

from nl2sql.backends.base import SqlRequest
from nl2sql.backends.offline import OfflineBackend
from nl2sql.backends.offline.lexicon import build_lexicon
from nl2sql.backends.offline.planner import plan_question
from nl2sql.backends.offline.sqlbuild import build_sql
from nl2sql.core.audit import AuditLog
from nl2sql.core.errors import AnnotationError, InvalidSQLError
from nl2sql.data.annotations import apply_annotations
from nl2sql.data.build import build_catalog
from nl2sql.data.context import build_context
from nl2sql.data.sources import resolve
from nl2sql.jobs.ask import AskOptions, ask
from nl2sql.safety.sandbox import Limits, Sandbox
from tests.helpers import FakeBackend

AGENTS = [(101, "Ada Lovelace"), (102, "Grace Hopper"), (103, "Alan Turing")]
YAML = """tables:
  tickets: {synonyms: [ticket]}
  agents: {synonyms: [agent]}
relationships:
  - tickets."Assigned Agent" -> agents."Agent ID"
"""


@pytest.fixture(scope="module")
def helpdesk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two CSV files whose column names have spaces and capitals, and a YAML relating them."""
    folder = tmp_path_factory.mktemp("helpdesk")
    with open(folder / "agents.csv", "w", newline="") as f:
        csv.writer(f).writerows([("Agent ID", "Full Name"), *AGENTS])
    with open(folder / "tickets.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Ticket ID", "Created At", "Status", "Resolution Hours", "Channel", "Assigned Agent"])
        for i in range(1, 121):
            day = dt.date(2025, 1, 1) + dt.timedelta(days=i % 100)
            writer.writerow([i, day.isoformat(), ("open", "closed", "pending")[i % 3], 1 + (i * 7) % 40,
                             ("email", "phone", "chat")[i % 3 // 2 + i % 2], AGENTS[i % 3][0]])
    (folder / "schemas").mkdir()
    (folder / "schemas" / "helpdesk.yaml").write_text(YAML)
    return folder


def _truth(folder: Path, sql: str) -> set[tuple]:
    con = duckdb.connect()
    for name in ("tickets", "agents"):
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_csv_auto('{folder / name}.csv')")
    return set(con.execute(sql).fetchall())


@pytest.mark.parametrize(("question", "truth"), [
    ("how many tickets by status", 'SELECT "Status", COUNT(*) FROM tickets GROUP BY 1'),
    ("average resolution hours by channel", 'SELECT "Channel", AVG("Resolution Hours") FROM tickets GROUP BY 1'),
    ("tickets per agent name in March", 'SELECT a."Full Name", COUNT(*) FROM tickets t JOIN agents a ON '
                                        't."Assigned Agent" = a."Agent ID" WHERE t."Created At" >= DATE \'2025-03-01\' '
                                        'AND t."Created At" < DATE \'2025-04-01\' GROUP BY 1'),
])
def test_spaced_mixed_case_column_names_answer_correctly(helpdesk: Path, question: str, truth: str) -> None:
    source = resolve(helpdesk)
    catalog = build_catalog(source, helpdesk / "schemas" / "helpdesk.yaml", None, use_cache=False)
    with Sandbox(source, Limits(timeout=30)) as sandbox:
        answer = ask(question, catalog=catalog, backend=OfflineBackend(), sandbox=sandbox,
                     options=AskOptions(narrate=False))
    got = {tuple(float(v) if isinstance(v, int | float) else v for v in row) for row in answer.result.rows}
    expected = {tuple(float(v) if isinstance(v, int | float) else v for v in row) for row in _truth(helpdesk, truth)}
    assert got == expected
    assert '"' in answer.sql  # the spaced names went through sqlglot's quoting


def test_relationships_accept_quoted_names_and_explain_the_form(helpdesk: Path) -> None:
    catalog = build_catalog(resolve(helpdesk), None, None, use_cache=False)
    apply_annotations(catalog, {"relationships": ['tickets.`Assigned Agent` -> agents."Agent ID"']}, Path("x.yaml"))
    assert [str(r) for r in catalog.relationships] == ["tickets.Assigned Agent -> agents.Agent ID"]
    with pytest.raises(AnnotationError, match='quote names with spaces'):
        apply_annotations(catalog, {"relationships": ["tickets.Assigned Agent -> agents.Agent ID"]}, Path("x.yaml"))


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "spark"])
@pytest.mark.parametrize("question", ["revenue this month versus the previous month", "gross margin % by category",
                                      "what percentage of orders were cancelled in 2025", "products never ordered",
                                      "average daily revenue in December 2025", "top 5 customers by revenue"])
def test_every_reading_renders_in_every_dialect(shop, dialect: str, question: str) -> None:  # type: ignore[no-untyped-def]
    catalog = shop[0]
    plan = plan_question(question, build_lexicon(catalog), dt.date(2025, 12, 31))
    sql, _ = build_sql(plan, catalog, dialect)
    assert sqlglot.parse_one(sql, read=dialect) is not None


def test_identifiers_are_quoted_for_case_sensitive_dialects(helpdesk: Path) -> None:
    catalog = build_catalog(resolve(helpdesk), helpdesk / "schemas" / "helpdesk.yaml", None, use_cache=False)
    plan = plan_question("average resolution hours by channel", build_lexicon(catalog), dt.date(2025, 4, 30))
    sql, _ = build_sql(plan, catalog, "postgres")
    assert '"Resolution Hours"' in sql and '"Channel"' in sql


def test_its_own_failing_sql_is_owned_shown_and_recorded(shop, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    catalog, sandbox = shop
    request = SqlRequest(question="revenue by region", catalog=catalog, context=build_context("", catalog),
                         previous_sql="SELECT broken", error="Binder Error: something")
    with pytest.raises(InvalidSQLError) as caught:
        OfflineBackend().write_sql(request)
    assert "bug in nl2sql's offline engine" in caught.value.message and "SELECT broken" in caught.value.message
    audit = AuditLog(tmp_path / "history.sqlite")
    with pytest.raises(InvalidSQLError):
        ask("anything", catalog=catalog, backend=FakeBackend(sql=["SELECT no_such_column FROM orders"]),
            sandbox=sandbox, options=AskOptions(narrate=False, max_repairs=0), audit=audit)
    assert audit.recent(1)[0]["sql"] == "SELECT no_such_column FROM orders"
