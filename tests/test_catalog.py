"""Introspection, profiles, inferred relationships and the profile cache."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pytest

from nl2sql.data.build import build_catalog
from nl2sql.data.sources import resolve


@pytest.fixture(scope="module")
def shop():  # type: ignore[no-untyped-def]
    return build_catalog(resolve(None), None, None, use_cache=False)


def test_tables_columns_and_types(shop) -> None:  # type: ignore[no-untyped-def]
    assert shop.table_names == ["customers", "marketing_spend", "order_items", "orders", "products"]
    orders = shop.table("orders")
    assert orders.row_count > 50_000
    assert [(c.name, c.type) for c in orders.columns][:3] == [
        ("order_id", "INTEGER"), ("customer_id", "INTEGER"), ("order_date", "DATE")]


def test_profiles(shop) -> None:  # type: ignore[no-untyped-def]
    status = shop.table("orders").column("status")
    assert status.profile.distinct == 3
    assert status.profile.top_values[0][0] == "completed"
    assert sum(n for _, n in status.profile.top_values) == shop.table("orders").row_count
    date = shop.table("orders").column("order_date")
    assert (date.profile.min, date.profile.max) == ("2024-01-01", "2025-12-31")
    assert shop.table("customers").column("email").profile.top_values == []  # high cardinality
    assert shop.table("customers").column("country").profile.distinct == 18


def test_relationships_inferred_from_names(shop) -> None:  # type: ignore[no-untyped-def]
    assert {str(r) for r in shop.relationships} == {
        "orders.customer_id -> customers.customer_id",
        "order_items.order_id -> orders.order_id",
        "order_items.product_id -> products.product_id",
    }


def test_declared_keys_and_null_share(tmp_path: Path) -> None:
    path = tmp_path / "k.duckdb"
    with duckdb.connect(str(path)) as c:
        c.execute("CREATE TABLE teams (team_no INTEGER PRIMARY KEY, label VARCHAR)")
        c.execute("CREATE TABLE players (pid INTEGER PRIMARY KEY, team_no INTEGER REFERENCES teams(team_no),"
                  " nick VARCHAR)")
        c.execute("INSERT INTO teams VALUES (1, 'a'), (2, 'b')")
        c.execute("INSERT INTO players VALUES (1, 1, NULL), (2, 2, 'x'), (3, 1, NULL), (4, 2, 'y')")
    cat = build_catalog(resolve(path), None, None, use_cache=False)
    assert cat.table("teams").primary_key == ["team_no"]
    assert [(str(r), r.origin) for r in cat.relationships] == [("players.team_no -> teams.team_no", "declared")]
    assert cat.table("players").column("nick").profile.null_share == 0.5


def test_profile_cache_is_reused_and_invalidated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    data.mkdir()
    csv = data / "items.csv"
    csv.write_text("sku,colour\n1,red\n2,blue\n")
    home = tmp_path / "home"
    first = build_catalog(resolve(data), None, home)
    assert first.table("items").row_count == 2
    assert list((home / "profiles").glob("*.json"))

    def no_data_access(source):  # type: ignore[no-untyped-def]
        raise AssertionError("a cached catalog must not open the data")

    with monkeypatch.context() as m:
        m.setattr("nl2sql.data.build.connect", no_data_access)
        again = build_catalog(resolve(data), None, home)
    assert again.to_dict() == first.to_dict()
    time.sleep(0.01)
    csv.write_text("sku,colour\n1,red\n2,blue\n3,green\n")
    changed = build_catalog(resolve(data), None, home)
    assert changed.table("items").row_count == 3
    assert {v for v, _ in changed.table("items").column("colour").profile.top_values} == {"red", "blue", "green"}


def test_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    home = tmp_path / "home"
    build_catalog(resolve(None), None, home)
    for f in (home / "profiles").glob("*.json"):
        f.write_text("{not json")
    assert build_catalog(resolve(None), None, home).table("orders").row_count > 0


def test_merged_catalog_cache_follows_the_annotation_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "items.csv").write_text("sku,colour\n1,red\n")
    ann = tmp_path / "items.yaml"
    ann.write_text("tables:\n  items: {description: first}\n")
    home = tmp_path / "home"
    assert build_catalog(resolve(data), ann, home).table("items").description == "first"

    def no_yaml(path):  # type: ignore[no-untyped-def]
        raise AssertionError("a cached merged catalog must not read the YAML again")

    with monkeypatch.context() as m:
        m.setattr("nl2sql.data.build.load_annotations", no_yaml)
        assert build_catalog(resolve(data), ann, home).table("items").description == "first"
    time.sleep(0.01)
    ann.write_text("tables:\n  items: {description: second}\n")
    assert build_catalog(resolve(data), ann, home).table("items").description == "second"
