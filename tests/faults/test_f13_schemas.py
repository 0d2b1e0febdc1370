"""F13: a DuckDB file whose tables live in schemas other than `main` is read in full; `schema.table`
is accepted for a table of that schema; names are qualified only where two schemas collide."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.helpers import run_cli


@pytest.fixture(scope="module")
def schemas_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("schemas") / "company.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA sales; CREATE SCHEMA hr")
    con.execute("CREATE TABLE sales.orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER, amount DOUBLE)")
    con.execute("INSERT INTO sales.orders VALUES (1, 10, 5.0), (2, 10, 7.5), (3, 11, 2.5)")
    con.execute("CREATE TABLE sales.customers (customer_id INTEGER PRIMARY KEY, name VARCHAR)")
    con.execute("INSERT INTO sales.customers VALUES (10, 'Ann'), (11, 'Bob')")
    con.execute("CREATE TABLE hr.orders (order_id INTEGER, note VARCHAR)")  # the same name in another schema
    con.execute("INSERT INTO hr.orders VALUES (1, 'chairs')")
    con.close()
    return path


def _sql(db: Path, sql: str):  # type: ignore[no-untyped-def]
    return run_cli("sql", sql, "--db", str(db), "--json")


def test_every_schema_is_read_and_only_colliding_names_are_qualified(schemas_db: Path) -> None:
    result = run_cli("schema", "--db", str(schemas_db), "--json")
    assert result.returncode == 0, result.stderr
    tables = {t["name"]: t for t in json.loads(result.stdout)["tables"]}
    assert set(tables) == {"customers", "sales.orders", "hr.orders"}
    assert tables["customers"]["row_count"] == 2 and tables["sales.orders"]["row_count"] == 3
    assert [r for r in json.loads(result.stdout)["relationships"]
            if r["from_table"] == "sales.orders" and r["to_table"] == "customers"]


def test_qualified_and_plain_names_run(schemas_db: Path) -> None:
    joined = _sql(schemas_db, "SELECT c.name, sum(o.amount) AS amount FROM sales.orders o "
                              "JOIN sales.customers c ON c.customer_id = o.customer_id GROUP BY 1 ORDER BY 1")
    assert joined.returncode == 0, joined.stdout
    assert json.loads(joined.stdout)["rows"] == [["Ann", 12.5], ["Bob", 2.5]]
    plain = _sql(schemas_db, "SELECT count(*) AS n FROM customers")
    assert json.loads(plain.stdout)["rows"] == [[2]]
    assert json.loads(_sql(schemas_db, "SELECT note FROM hr.orders").stdout)["rows"] == [["chairs"]]


@pytest.mark.parametrize("sql", ["SELECT * FROM orders", "SELECT * FROM information_schema.tables",
                                 "SELECT * FROM company.sales.orders", "SELECT * FROM hr.customers"])
def test_ambiguous_system_and_unknown_names_are_refused(schemas_db: Path, sql: str) -> None:
    result = _sql(schemas_db, sql)
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error["type"] in ("UnsafeSQLError", "InvalidSQLError")
    if sql == "SELECT * FROM orders":
        assert "hr.orders" in error["hint"] and "sales.orders" in error["hint"]
