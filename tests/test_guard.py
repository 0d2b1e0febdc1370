"""The guard (L1/L2) and the sandbox (L3-L5), driven by cases kept as data in tests/fixtures/."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import duckdb
import pytest

from nl2sql.core.errors import (
    ExecutionError,
    InvalidSQLError,
    LimitError,
    MemoryLimitError,
    Nl2SqlError,
    QueryTimeoutError,
    UnsafeSQLError,
)
from nl2sql.data.build import build_catalog
from nl2sql.data.sources import resolve
from nl2sql.safety.guard import GuardedSQL, guard
from nl2sql.safety.sandbox import Limits, Sandbox
from tests.helpers import REPO, SHARED, SQL_EVAL, run_cli

CASES = REPO / "tests" / "fixtures" / "guard_cases.sql"
ATTACKS = SHARED / "security" / "attacks_dev.sql"
HEADER = re.compile(r"^-- @@ (\S+) \| ([^|]+?) \| (.+)$", re.M)


def load_cases(path: Path) -> list[tuple[str, str, str, str]]:
    """(id, category, verdict, sql) for each '-- @@' case of a case file."""
    text = path.read_text(encoding="utf-8")
    heads = list(HEADER.finditer(text))
    cases = []
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        sql = text[m.end():end].strip("\n")
        cases.append((m.group(1), m.group(2).strip(), m.group(3).strip(), sql))
    return cases


@pytest.fixture(scope="module")
def shop_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shop as a DuckDB file, so tests can prove the file is never modified."""
    path = tmp_path_factory.mktemp("db") / "shop.duckdb"
    with duckdb.connect(str(path)) as con:
        for p in sorted((REPO / "sample_data" / "shop").glob("*.parquet")):
            con.execute(f"CREATE TABLE {p.stem} AS SELECT * FROM read_parquet('{p}')")
    return path


@pytest.fixture(scope="module")
def catalog(shop_db: Path):  # type: ignore[no-untyped-def]
    return build_catalog(resolve(shop_db), None, None, use_cache=False)


@pytest.fixture(scope="module")
def sandbox(shop_db: Path):  # type: ignore[no-untyped-def]
    with Sandbox(resolve(shop_db), Limits(timeout=2, max_rows=100, memory_limit="512MB")) as sb:
        yield sb


@pytest.fixture(scope="module")
def bait_files() -> dict[str, Path]:
    """The files the shared attacks try to read or write (they must stay unread / unwritten)."""
    secret = Path("/tmp/nl2sql-secret")
    secret.mkdir(exist_ok=True)
    (secret / "secret.csv").write_text("token\nSECRET-BAIT-42\n")
    data = Path("/tmp/nl2sql-data")
    data.mkdir(exist_ok=True)
    (data / "orders.csv").write_text("order_id\n1\n")
    out = Path("/tmp/nl2sql-out")
    out.mkdir(exist_ok=True)
    return {"secret": secret, "out": out}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _outcome(sql: str, catalog, sandbox: Sandbox, max_rows: int = 100) -> str:  # type: ignore[no-untyped-def]
    try:
        guarded = guard(sql, catalog, max_rows)
    except (UnsafeSQLError, InvalidSQLError):
        return "reject"
    try:
        result = sandbox.run(guarded, max_rows=max_rows)
    except LimitError:  # its time or its memory limit stopped it (which one comes first varies)
        return "stop"
    except ExecutionError:
        return "blocked"
    return "capped" if result.truncated else "allow"


@pytest.mark.parametrize("case", load_cases(CASES), ids=lambda c: f"{c[0]}-{c[1]}")
def test_guard_case(case: tuple[str, str, str, str], catalog, sandbox: Sandbox, shop_db: Path) -> None:  # type: ignore[no-untyped-def]
    _id, _category, verdict, sql = case
    before = _digest(shop_db)
    assert _outcome(sql, catalog, sandbox) == verdict
    assert _digest(shop_db) == before


@pytest.mark.skipif(not ATTACKS.is_file(), reason="../shared/security is not available")
def test_every_shared_attack_ends_without_effect(catalog, sandbox: Sandbox, shop_db: Path,  # type: ignore[no-untyped-def]
                                                 bait_files: dict[str, Path], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    before = _digest(shop_db)
    out_before = sorted(bait_files["out"].rglob("*"))
    outcomes = {}
    for case_id, _category, _layers, sql in load_cases(ATTACKS):
        outcome = _outcome(sql, catalog, sandbox)
        outcomes[case_id] = outcome
        if outcome in ("allow", "capped"):  # ran: it must have been harmless
            result = sandbox.run(guard(sql, catalog, 100))
            assert "SECRET-BAIT" not in json.dumps(result.rows, default=str), case_id
    assert _digest(shop_db) == before
    assert sorted(bait_files["out"].rglob("*")) == out_before
    assert list(tmp_path.iterdir()) == []
    assert len(outcomes) >= 60
    # each allowed case is a harmless query by the file's own notes
    assert {k for k, v in outcomes.items() if v in ("allow", "capped")} <= {"A48", "A90"}
    # the sandbox still answers after the whole suite
    assert sandbox.run(guard("SELECT count(*) FROM customers", catalog)).rows == [(2000,)]


def test_messages_say_what_and_why(catalog) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnsafeSQLError) as info:
        guard("DELETE FROM orders", catalog)
    assert "DELETE" in info.value.message and "read-only" in info.value.message
    with pytest.raises(UnsafeSQLError, match="2 statements"):
        guard("SELECT 1; DROP TABLE orders", catalog)
    with pytest.raises(UnsafeSQLError, match="recursive"):
        guard("WITH RECURSIVE r AS (SELECT 1) SELECT * FROM r", catalog)
    with pytest.raises(InvalidSQLError) as info:
        guard("SELECT * FROM ordrs", catalog)
    assert info.value.hint.startswith("Did you mean 'orders'")
    with pytest.raises(InvalidSQLError) as info:
        guard("SELECT o.shiping_cost FROM orders o", catalog)
    assert info.value.message == "Unknown column 'shiping_cost'." and "'shipping_cost'" in info.value.hint


def test_limit_added_or_lowered_never_raised(catalog) -> None:  # type: ignore[no-untyped-def]
    assert guard("SELECT * FROM orders", catalog, 10).sql.endswith("LIMIT 11")
    assert guard("SELECT * FROM orders LIMIT 5", catalog, 10).sql == "SELECT * FROM orders LIMIT 5"
    lowered = guard("SELECT * FROM orders LIMIT 500", catalog, 10)
    assert lowered.limit == 11 and lowered.sql.endswith("LIMIT 11")
    # the guard never runs sqlglot's rendering: the original text is inside what runs
    original = "SELECT  order_id  FROM orders -- keep me\nWHERE status = 'completed'"
    assert guard(original, catalog, 10).sql.startswith(original)


def test_parser_difference_is_caught_by_duckdb(catalog) -> None:  # type: ignore[no-untyped-def]
    # sqlglot reads one string literal here; DuckDB reads a SELECT and then a DROP
    with pytest.raises(UnsafeSQLError):
        guard("SELECT 'a\\'; DROP TABLE orders; --'", catalog)


def test_sandbox_rejects_unguarded_text(sandbox: Sandbox) -> None:
    with pytest.raises(TypeError):
        sandbox.run("SELECT 1")  # type: ignore[arg-type]


# -- the sandbox on its own, with L1/L2 bypassed -----------------------------------------------

def _raw(sql: str) -> GuardedSQL:
    """Text that skips the guard (L1) and the worker's parse (L2): what L3 alone must stop."""
    return GuardedSQL(sql=sql, original=sql, parsed=True)


@pytest.mark.parametrize("sql", ["DELETE FROM orders", "SELECT 1; DROP TABLE orders", "PRAGMA version"])
def test_the_worker_parses_what_it_runs(sql: str, sandbox: Sandbox, shop_db: Path) -> None:
    """L2 in the worker: text the guard did not parse is refused unless DuckDB sees one SELECT."""
    before = _digest(shop_db)
    with pytest.raises((UnsafeSQLError, InvalidSQLError)):
        sandbox.run(GuardedSQL(sql=sql, original=sql))
    assert _digest(shop_db) == before


@pytest.mark.parametrize("sql", [
    "SELECT * FROM read_csv('/tmp/nl2sql-secret/secret.csv')",
    "SELECT content FROM read_text('/proc/self/environ')",
    "COPY (SELECT 1) TO '/tmp/nl2sql-out/l3.csv'",
    "ATTACH '/tmp/nl2sql-out/new.duckdb' AS x",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "SET memory_limit = '100GB'",
    "SET lock_configuration = false",
    "CREATE PERSISTENT SECRET s (TYPE http, BEARER_TOKEN 'x')",
    "DELETE FROM orders",
    "DROP TABLE orders",
])
def test_sandbox_blocks_without_the_guard(sql: str, sandbox: Sandbox, shop_db: Path,
                                          bait_files: dict[str, Path]) -> None:
    before = _digest(shop_db)
    with pytest.raises(ExecutionError):
        sandbox.run(_raw(sql))
    assert _digest(shop_db) == before
    assert not list(bait_files["out"].glob("l3.csv")) and not list(bait_files["out"].glob("new.duckdb"))
    assert sandbox.run(_raw("SELECT current_setting('enable_external_access')")).rows == [(False,)]


def test_worker_environment_holds_no_secrets(shop_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-SANDBOX-LEAK-CHECK")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-LEAK-CHECK")
    with Sandbox(resolve(shop_db), Limits(timeout=5)) as sb:
        environ = Path(f"/proc/{sb._proc.pid}/environ").read_bytes()  # type: ignore[union-attr]
        assert b"LEAK-CHECK" not in environ
        for probe in ("SELECT getenv('OPENAI_API_KEY')", "SELECT * FROM read_text('/proc/self/environ')"):
            try:
                rows = sb.run(_raw(probe)).rows
            except ExecutionError:
                continue
            assert "LEAK-CHECK" not in json.dumps(rows, default=str)


def test_overrun_is_stopped_and_the_next_query_works(shop_db: Path) -> None:
    with Sandbox(resolve(shop_db), Limits(timeout=1)) as sb:
        with pytest.raises(QueryTimeoutError, match="longer than 1 s"):
            sb.run(_raw("SELECT length(repeat('x', 3000000000))"))  # ignores interrupts: killed
        assert sb.run(_raw("SELECT 42")).rows == [(42,)]
        with pytest.raises(QueryTimeoutError):
            sb.run(_raw("SELECT count(*) FROM orders a, orders b WHERE a.order_id < b.order_id"))
        assert sb.run(_raw("SELECT count(*) FROM customers")).rows == [(2000,)]


def test_memory_hog_is_stopped(shop_db: Path) -> None:
    with Sandbox(resolve(shop_db), Limits(timeout=20, memory_limit="200MB")) as sb:
        with pytest.raises(MemoryLimitError, match="memory"):
            sb.run(_raw("SELECT list(repeat('x', 1000) || i) FROM range(5000000) t(i)"))
        assert sb.run(_raw("SELECT 1")).rows == [(1,)]


def test_cells_and_bytes_are_capped(shop_db: Path) -> None:
    limits = Limits(timeout=5, max_rows=10, max_cell_chars=100, max_result_bytes=500)
    with Sandbox(resolve(shop_db), limits) as sb:
        result = sb.run(_raw("SELECT string_agg(channel, ',') FROM orders"))
        assert len(result.rows[0][0]) == 100 and result.cells_capped == 1
        result = sb.run(_raw("SELECT repeat('y', 90) FROM orders"))
        assert result.truncated and result.row_count < 10


def test_files_source_is_loaded_before_access_is_cut(tmp_path: Path) -> None:
    (tmp_path / "pets.csv").write_text("name,kind\nRex,dog\n")
    source = resolve(tmp_path)
    cat = build_catalog(source, None, None, use_cache=False)
    with Sandbox(source, Limits(timeout=5)) as sb:
        assert sb.run(guard("SELECT name FROM pets", cat)).rows == [("Rex",)]
        with pytest.raises(ExecutionError):
            sb.run(_raw(f"SELECT * FROM read_csv('{tmp_path / 'pets.csv'}')"))


def test_no_false_positives_on_sql_eval_gold(sqleval_dir: Path) -> None:
    catalogs, rejected, ran = {}, [], 0
    sandboxes: dict[str, Sandbox] = {}
    try:
        for line in (SQL_EVAL / "questions.jsonl").read_text().splitlines():
            q = json.loads(line)
            db = q["db"]
            if db not in catalogs:
                source = resolve(sqleval_dir / f"{db}.duckdb")
                catalogs[db] = build_catalog(source, None, None, use_cache=False)
                sandboxes[db] = Sandbox(source, Limits(timeout=20))
            for sql in q["gold_sql"]:
                try:
                    sandboxes[db].run(guard(sql, catalogs[db], 1000))
                    ran += 1
                except Nl2SqlError as exc:
                    rejected.append((db, sql, exc.message))
    finally:
        for sb in sandboxes.values():
            sb.close()
    assert rejected == []
    assert ran > 400


def test_sql_command(shop_db: Path) -> None:
    result = run_cli("sql", "SELECT segment, count(*) AS n FROM customers GROUP BY 1 ORDER BY n DESC",
                     "--db", str(shop_db), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["columns"] == [{"name": "segment", "type": "VARCHAR"}, {"name": "n", "type": "BIGINT"}]
    assert data["rows"][0][0] == "Consumer" and data["row_count"] == 3 and data["truncated"] is False
    capped = json.loads(run_cli("sql", "SELECT * FROM orders", "--db", str(shop_db), "--json",
                                "--max-rows", "7").stdout)
    assert capped["row_count"] == 7 and capped["truncated"] is True
    check = run_cli("sql", "SELECT 1", "--check", "--json", "--db", str(shop_db))
    assert json.loads(check.stdout)["valid"] is True
    refused = run_cli("sql", "DROP TABLE orders", "--db", str(shop_db))
    assert refused.returncode == 1 and "Refused" in refused.stderr and "Traceback" not in refused.stderr
    bad = run_cli("sql", "SELECT 1", "--memory-limit", "lots", "--db", str(shop_db))
    assert bad.returncode == 2 and "not a size" in bad.stderr
    stopped = run_cli("sql", "SELECT length(repeat('x', 3000000000))", "--timeout", "1", "--json",
                      "--db", str(shop_db))
    assert stopped.returncode == 1
    assert json.loads(stopped.stdout)["error"]["type"] == "QueryTimeoutError"
    assert not os.environ.get("NL2SQL_DEBUG")
