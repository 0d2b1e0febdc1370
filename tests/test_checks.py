"""Result checks: the warnings a person sees when a result looks wrong (and silence when it is fine)."""

from __future__ import annotations

import pytest

from nl2sql.core.values import Result
from nl2sql.data.catalog import Catalog
from nl2sql.jobs.ask import run_sql
from nl2sql.safety.checks import impossible_shares, null_heavy
from nl2sql.safety.sandbox import Sandbox


def _query_value(shop: tuple[Catalog, Sandbox], sql: str) -> int:
    result = run_sql(sql, shop[0], shop[1], 10).result
    assert result is not None
    return int(result.rows[0][0])


def _warnings(shop: tuple[Catalog, Sandbox], sql: str) -> list[str]:
    catalog, sandbox = shop
    return run_sql(sql, catalog, sandbox, 1000).warnings


def test_fan_out_fires_on_a_join_that_repeats_orders(shop: tuple[Catalog, Sandbox]) -> None:
    # counting orders after joining their items counts each order once per item
    warnings = _warnings(shop, "SELECT o.channel, COUNT(*) AS orders FROM orders o "
                               "JOIN order_items i ON i.order_id = o.order_id GROUP BY o.channel")
    assert len(warnings) == 1 and warnings[0].startswith("Join fan-out: joining order_items repeats rows of orders")


def test_fan_out_fires_on_a_sum_over_the_one_side(shop: tuple[Catalog, Sandbox]) -> None:
    warnings = _warnings(shop, "SELECT c.region, SUM(c.customer_id) AS s FROM customers c "
                               "JOIN orders o ON o.customer_id = c.customer_id GROUP BY 1")
    assert any("repeats rows of customers" in w for w in warnings)


@pytest.mark.parametrize("sql", [
    # the right way: sum item lines joined to their order (many-to-one)
    "SELECT o.channel, SUM(i.quantity * i.unit_price) AS revenue FROM order_items i "
    "JOIN orders o ON o.order_id = i.order_id GROUP BY 1",
    # counting distinct keys survives the join
    "SELECT o.channel, COUNT(DISTINCT o.order_id) AS orders FROM orders o "
    "JOIN order_items i ON i.order_id = o.order_id GROUP BY 1",
    # orders joined to their customer (many-to-one): no repetition
    "SELECT c.region, COUNT(*) AS orders FROM orders o JOIN customers c ON c.customer_id = o.customer_id GROUP BY 1",
])
def test_fan_out_stays_silent_on_correct_joins(shop: tuple[Catalog, Sandbox], sql: str) -> None:
    assert _warnings(shop, sql) == []


def test_an_empty_result_names_the_filter_and_close_values(shop: tuple[Catalog, Sandbox]) -> None:
    warnings = _warnings(shop, "SELECT COUNT(*) FROM orders WHERE status = 'complete' AND channel = 'web'")
    assert warnings == ["No row of orders has status = 'complete'. Did you mean 'completed'?"]
    warnings = _warnings(shop, "SELECT * FROM customers WHERE region IN ('Europe', 'Antarctica')")
    assert "The query returned no rows." not in warnings  # Europe matches
    warnings = _warnings(shop, "SELECT * FROM customers WHERE region = 'Antarctica'")
    assert warnings[0] == "The query returned no rows."
    assert warnings[1].startswith("No row of customers has region = 'Antarctica'. It has values such as")


def test_an_empty_period_says_what_the_data_covers(shop: tuple[Catalog, Sandbox]) -> None:
    warnings = _warnings(shop, "SELECT order_id FROM orders WHERE order_date >= DATE '2030-01-01'")
    assert "Nothing matched: orders.order_date covers 2024-01-01 to 2025-12-31" in " ".join(warnings)


def test_truncation_is_a_warning(shop: tuple[Catalog, Sandbox]) -> None:
    catalog, sandbox = shop
    run = run_sql("SELECT order_id FROM orders", catalog, sandbox, 10)
    assert run.warnings[0].startswith("Only the first 10 rows are shown (row cap 10)")


def test_null_heavy_columns() -> None:
    result = Result(columns=[("region", "VARCHAR"), ("manager", "VARCHAR")],
                    rows=[("a", None), ("b", None), ("c", "x"), ("d", None)])
    assert null_heavy(result) == ["Column 'manager' is empty (NULL) in 3 of 4 rows; a join or a filter may not "
                                  "have matched."]
    assert null_heavy(Result(columns=[("a", "INTEGER")], rows=[(1,), (None,), (3,), (4,)])) == []


def test_shares_above_100_percent() -> None:
    wrong = Result(columns=[("channel", "VARCHAR"), ("share_pct", "DOUBLE")], rows=[("web", 70.0), ("mobile", 55.0)])
    assert impossible_shares(wrong)[0].startswith("Column 'share_pct' adds up to 125.0 %")
    fraction = Result(columns=[("channel", "VARCHAR"), ("share", "DOUBLE")], rows=[("web", 0.6), ("mobile", 0.6)])
    assert "120.0 %" in impossible_shares(fraction)[0]
    right = Result(columns=[("channel", "VARCHAR"), ("share", "DOUBLE")], rows=[("web", 0.6), ("mobile", 0.4)])
    assert impossible_shares(right) == []


def test_fan_out_stays_silent_when_the_sums_are_right(shop: tuple[Catalog, Sandbox]) -> None:
    # a margin: item lines joined to their product and order; products repeat, but each line's cost is
    # multiplied per line on purpose, so nothing is inflated (this used to warn)
    sql = ("SELECT p.category, SUM(i.quantity * i.unit_price) - SUM(i.quantity * p.unit_price * 0.6) AS margin "
           "FROM order_items i JOIN products p ON p.product_id = i.product_id "
           "JOIN orders o ON o.order_id = i.order_id WHERE o.status = 'completed' GROUP BY 1")
    assert _warnings(shop, sql) == []
    # products repeat per order line, but their category is only grouped by, never summed
    assert _warnings(shop, "SELECT p.category, COUNT(DISTINCT i.order_id) AS orders FROM products p "
                           "JOIN order_items i ON i.product_id = p.product_id GROUP BY 1") == []


def test_fan_out_names_the_inflated_and_the_true_value(shop: tuple[Catalog, Sandbox]) -> None:
    sql = ("SELECT o.channel, COUNT(*) AS orders FROM orders o JOIN order_items i ON i.order_id = o.order_id "
           "GROUP BY 1")
    orders = _query_value(shop, "SELECT COUNT(*) FROM orders")
    lines = _query_value(shop, "SELECT COUNT(*) FROM order_items")
    (warning,) = _warnings(shop, sql)
    assert f"so COUNT(*) is {lines:,} over the joined rows but {orders:,} with each row of orders counted once" \
        in warning


def test_shares_add_up_only_for_shares_of_one_whole(shop: tuple[Catalog, Sandbox]) -> None:
    # a percentage per row (the discount of each category) is not a share of one total
    per_row = ("SELECT p.category, 100.0 * AVG(i.discount) AS discount_pct FROM order_items i "
               "JOIN products p ON p.product_id = i.product_id GROUP BY 1")
    assert not any("adds up to" in w for w in _warnings(shop, per_row))
    doubled = Result(columns=[("channel", "VARCHAR"), ("discount_pct", "DOUBLE")], rows=[("a", 70.0), ("b", 55.0)])
    assert impossible_shares(doubled) == []
    # a window share of the whole that adds up to more than 100 %: counted twice
    twice = ("SELECT o.channel, SUM(i.quantity) / SUM(SUM(i.quantity)) OVER () * 2 AS part FROM orders o "
             "JOIN order_items i ON i.order_id = o.order_id GROUP BY 1")
    assert any(w.startswith("Column 'part' adds up to 200.0 %") for w in _warnings(shop, twice))


@pytest.fixture(scope="module")
def helpdesk(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A help desk where 111 of 400 tickets have no agent yet and 9 name an agent who left."""
    import duckdb

    from nl2sql.jobs.workspace import Workspace

    path = tmp_path_factory.mktemp("helpdesk") / "helpdesk.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE agents (agent_id INTEGER PRIMARY KEY, name VARCHAR, team VARCHAR)")
        con.execute("INSERT INTO agents SELECT i, 'agent ' || i, CASE WHEN i % 2 = 0 THEN 'north' ELSE 'south' END "
                    "FROM range(1, 11) t(i)")
        con.execute("CREATE TABLE tickets (ticket_id INTEGER PRIMARY KEY, agent_id INTEGER, minutes DOUBLE)")
        con.execute("INSERT INTO tickets SELECT i, CASE WHEN i <= 111 THEN NULL WHEN i <= 120 THEN 99 "
                    "ELSE 1 + i % 10 END, 10 + i % 7 FROM range(1, 401) t(i)")
    with Workspace.open(db=str(path), backend="offline") as ws:
        yield ws


def test_an_inner_join_that_drops_unassigned_tickets_says_so(helpdesk) -> None:  # type: ignore[no-untyped-def]
    run = helpdesk.sql("SELECT a.team, COUNT(*) AS tickets FROM tickets t JOIN agents a ON a.agent_id = t.agent_id "
                       "GROUP BY 1")
    assert sum(r[1] for r in run.result.rows) == 400 - 120
    (warning,) = [w for w in run.warnings if "leaves out" in w]
    assert warning.startswith("The inner join with agents leaves out 120 rows of tickets with no match in agents "
                              "(1 agent_id value not in agents, 111 with no agent_id).")
    assert "use LEFT JOIN agents" in warning
    # the LEFT JOIN keeps them, and a filter on the joined table drops them on purpose: no warning
    assert not any("leaves out" in w for w in helpdesk.sql(
        "SELECT a.team, COUNT(*) AS tickets FROM tickets t LEFT JOIN agents a ON a.agent_id = t.agent_id "
        "GROUP BY 1").warnings)
    assert not any("leaves out" in w for w in helpdesk.sql(
        "SELECT COUNT(*) AS tickets FROM tickets t JOIN agents a ON a.agent_id = t.agent_id "
        "WHERE a.team = 'north'").warnings)
