"""The shop sample data: deterministic, the fixed schema, and the patterns SAMPLE_DATA.md promises."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.helpers import REPO

TABLES = ["customers", "products", "orders", "order_items", "marketing_spend"]


@pytest.fixture(scope="module")
def con(shop_dir: Path) -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    for t in TABLES:
        c.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{shop_dir / (t + '.parquet')}')")
    return c


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    return con.execute(sql).fetchone()[0]


def _generate(out: Path, scale: str) -> dict[str, str]:
    subprocess.run([sys.executable, str(REPO / "sample_data" / "generate.py"), "--scale", scale,
                    "--out", str(out)], check=True, capture_output=True)
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.glob("*.parquet"))}


def test_generator_is_byte_identical_across_runs(tmp_path: Path) -> None:
    first = _generate(tmp_path / "a", "0.05")
    second = _generate(tmp_path / "b", "0.05")
    assert first == second
    assert set(first) == {f"{t}.parquet" for t in TABLES}


def test_committed_data_is_what_the_generator_makes(tmp_path: Path, shop_dir: Path) -> None:
    _generate(tmp_path, "1")
    c = duckdb.connect()
    for t in TABLES:
        fresh, committed = tmp_path / f"{t}.parquet", shop_dir / f"{t}.parquet"
        diff = c.execute(
            f"SELECT (SELECT count(*) FROM (FROM '{fresh}' EXCEPT ALL FROM '{committed}'))"
            f" + (SELECT count(*) FROM (FROM '{committed}' EXCEPT ALL FROM '{fresh}'))"
        ).fetchone()[0]
        assert diff == 0, f"{t} differs from a fresh generation"


def test_committed_data_is_small(shop_dir: Path) -> None:
    assert sum(p.stat().st_size for p in shop_dir.glob("*.parquet")) < 10 * 1024 * 1024


def test_fixed_schema(con: duckdb.DuckDBPyConnection) -> None:
    types = {t: dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {t})").fetchall())
             for t in TABLES}
    assert types["customers"] == {"customer_id": "INTEGER", "customer_name": "VARCHAR", "email": "VARCHAR",
                                  "country": "VARCHAR", "region": "VARCHAR", "segment": "VARCHAR",
                                  "signup_date": "DATE"}
    assert types["products"]["unit_price"] == "DECIMAL(10,2)"
    assert types["order_items"]["discount"] == "DECIMAL(4,3)"
    assert types["orders"]["shipping_cost"] == "DECIMAL(8,2)"
    assert list(types["marketing_spend"]) == ["spend_date", "channel", "campaign", "spend"]


def test_sizes_and_value_domains(con: duckdb.DuckDBPyConnection) -> None:
    assert _one(con, "SELECT count(*) FROM customers") == 2000
    assert _one(con, "SELECT count(*) FROM products") == 120
    assert 55_000 <= _one(con, "SELECT count(*) FROM orders") <= 65_000
    assert 135_000 <= _one(con, "SELECT count(*) FROM order_items") <= 165_000
    assert _one(con, "SELECT count(*) FROM marketing_spend") == 731 * 3 * 3

    def values(sql: str) -> set[str]:
        return {r[0] for r in con.execute(sql).fetchall()}

    assert values("SELECT DISTINCT region FROM customers") == {
        "North America", "Europe", "Asia Pacific", "Latin America"}
    assert values("SELECT DISTINCT segment FROM customers") == {"Consumer", "Corporate", "Small Business"}
    assert values("SELECT DISTINCT category FROM products") == {
        "Electronics", "Home", "Clothing", "Sports", "Books"}
    assert values("SELECT DISTINCT channel FROM orders") == {"web", "mobile", "store"}
    assert values("SELECT DISTINCT status FROM orders") == {"completed", "cancelled", "returned"}
    assert _one(con, "SELECT max(n) FROM (SELECT count(DISTINCT country) n FROM customers GROUP BY region)") <= 6
    assert _one(con, "SELECT min(discount) FROM order_items") >= 0
    assert _one(con, "SELECT max(discount) FROM order_items") <= 0.5
    assert _one(con, "SELECT min(order_date) FROM orders").isoformat() == "2024-01-01"
    assert _one(con, "SELECT max(order_date) FROM orders").isoformat() == "2025-12-31"
    # most orders complete
    assert _one(con, "SELECT avg((status = 'completed')::INT) FROM orders") > 0.8


REVENUE = ("SELECT SUM(i.quantity * i.unit_price * (1 - i.discount)) FROM orders o "
           "JOIN order_items i USING (order_id) WHERE o.status = 'completed'")


def test_about_fifteen_percent_growth(con: duckdb.DuckDBPyConnection) -> None:
    r24 = _one(con, REVENUE + " AND year(o.order_date) = 2024")
    r25 = _one(con, REVENUE + " AND year(o.order_date) = 2025")
    assert 1.10 <= r25 / r24 <= 1.20


def test_november_december_peak(con: duckdb.DuckDBPyConnection) -> None:
    monthly = dict(con.execute(
        "SELECT month(order_date), count(*) / count(DISTINCT year(order_date)) FROM orders GROUP BY 1"
    ).fetchall())
    rest = sum(v for m, v in monthly.items() if m <= 10) / 10
    assert monthly[11] > 1.25 * rest and monthly[12] > 1.3 * rest


def test_weekly_rhythm(con: duckdb.DuckDBPyConnection) -> None:
    by_day = dict(con.execute("SELECT dayname(order_date), count(*) FROM orders GROUP BY 1").fetchall())
    assert by_day["Saturday"] > 1.15 * by_day["Tuesday"]


def test_mobile_outage_week(con: duckdb.DuckDBPyConnection) -> None:
    weekly = dict(con.execute(
        "SELECT date_trunc('week', order_date)::DATE::VARCHAR, count(*) FROM orders "
        "WHERE channel = 'mobile' AND order_date BETWEEN '2025-05-26' AND '2025-06-29' GROUP BY 1"
    ).fetchall())
    outage = weekly.pop("2025-06-09")
    assert outage < 0.2 * min(weekly.values())


def test_returns_spike_for_one_product(con: duckdb.DuckDBPyConnection) -> None:
    rates = con.execute(
        "SELECT i.product_id, month(o.order_date) AS m, avg((o.status = 'returned')::INT) AS r, count(*) n "
        "FROM orders o JOIN order_items i USING (order_id) WHERE year(o.order_date) = 2025 "
        "GROUP BY ALL HAVING count(*) >= 40"
    ).fetchall()
    spikes = [(p, m) for p, m, r, _ in rates if r > 0.3]
    assert spikes == [(7, 9)]


def test_customers_sign_up_before_their_first_order(con: duckdb.DuckDBPyConnection) -> None:
    assert _one(con, "SELECT count(*) FROM orders o JOIN customers c USING (customer_id) "
                     "WHERE o.order_date < c.signup_date") == 0
