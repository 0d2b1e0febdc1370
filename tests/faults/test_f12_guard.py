"""F12: SQL nested deeper than the parser can take is refused with a clear message (never a
RecursionError or "Internal error"); a function sqlglot renames (make_date -> DATE_FROM_PARTS) is
judged by the name DuckDB sees."""

from __future__ import annotations

import json

import pytest

from nl2sql.core.errors import UnsafeSQLError
from nl2sql.data.build import build_catalog
from nl2sql.data.sources import resolve
from nl2sql.safety.guard import guard
from tests.helpers import run_cli

DEEP = [
    "SELECT " + "(" * 60 + "1" + ")" * 60 + " AS x",
    "SELECT " + "abs(" * 200 + "1" + ")" * 200 + " AS x",
    "SELECT 1 AS x WHERE " + "NOT " * 2000 + "true",
    "SELECT " + "CASE WHEN true THEN " * 400 + "1" + " END" * 400 + " AS x",
    "SELECT * FROM " + "(SELECT * FROM " * 80 + "orders" + ") AS t" * 80,
]


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return build_catalog(resolve(None), None, None, use_cache=False)


@pytest.mark.parametrize("sql", DEEP, ids=["parens", "functions", "not", "case", "subqueries"])
def test_deep_nesting_is_refused_clearly(sql: str, catalog) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnsafeSQLError, match="nested too deeply"):
        guard(sql, catalog)


def test_deep_nesting_through_the_cli_is_a_refusal_not_a_crash() -> None:
    result = run_cli("sql", DEEP[0], "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"]["type"] == "UnsafeSQLError"


def test_nesting_people_write_still_passes(catalog) -> None:  # type: ignore[no-untyped-def]
    sql = "SELECT " + "(" * 12 + "order_id + 1" + ")" * 12 + " AS x FROM orders WHERE status IN ('a', '((((')"
    assert guard(sql, catalog).tables == ("orders",)


@pytest.mark.parametrize("sql", ["SELECT make_date(2024, 1, 2) AS d", "SELECT make_date(year(order_date), 1, 1) "
                                 "AS y FROM orders LIMIT 1", "SELECT strftime(order_date, '%Y') AS y FROM orders"])
def test_functions_renamed_by_sqlglot_are_judged_by_duckdbs_name(sql: str, catalog) -> None:  # type: ignore[no-untyped-def]
    guard(sql, catalog)


def test_make_date_runs_end_to_end() -> None:
    result = run_cli("sql", "SELECT make_date(2024, 2, 29) AS d", "--json")
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout)["rows"] == [["2024-02-29"]]
