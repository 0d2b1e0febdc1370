"""Merging the semantic layer, and the errors for annotations that do not match the data."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from nl2sql.core.errors import AnnotationError
from nl2sql.data.annotations import find_annotation_file, skeleton
from nl2sql.data.build import build_catalog
from nl2sql.data.sources import resolve
from tests.helpers import REPO


def _catalog(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "shop.yaml"
    path.write_text(text, encoding="utf-8")
    return build_catalog(resolve(None), path, None, use_cache=False)


def test_shop_annotations_merge() -> None:
    source = resolve(None)
    path = find_annotation_file(source.name, None, None)
    assert path is not None and path.name == "shop.yaml"
    cat = build_catalog(source, path, None, use_cache=False)
    assert cat.table("orders").description == "One row per order (completed, cancelled or returned)."
    region = cat.table("customers").column("region")
    assert "地区" in region.synonyms
    assert region.value_synonyms["Europe"] == ["EU", "EMEA", "欧洲"]
    assert cat.table("customers").column("email").pii
    metrics = {m.name: m for m in cat.metrics}
    assert set(metrics) == {"revenue", "orders", "units", "average_order_value", "gross_margin",
                            "return_rate", "active_customers", "marketing_spend"}
    assert metrics["revenue"].filter == "orders.status = 'completed'"
    assert "销售额" in metrics["revenue"].synonyms
    assert len(cat.examples) >= 10
    assert {r.origin for r in cat.relationships} == {"annotated"}


def test_every_shop_example_runs_and_returns_rows() -> None:
    import duckdb

    cat = build_catalog(resolve(None), REPO / "schemas" / "shop.yaml", None, use_cache=False)
    con = duckdb.connect()
    for t in cat.table_names:
        con.execute(f"CREATE VIEW {t} AS FROM '{REPO / 'sample_data' / 'shop' / (t + '.parquet')}'")
    for ex in cat.examples:
        assert con.execute(ex.sql).fetchall(), ex.question


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("tables:\n  order:\n    description: x\n", "table 'order' does not exist", "'orders'"),
        ("tables:\n  orders:\n    columns:\n      statu: {description: x}\n",
         "column 'orders.statu' does not exist", "'status'"),
        ("tables:\n  orders:\n    descripton: x\n", "unknown key 'descripton'", "'description'"),
        ("tables:\n  orders:\n    description: [unclosed\n", "opens at line 3", "YAML"),
        ("relationships:\n  - orders.customer -> customers.customer_id\n", "orders.customer", "'customer_id'"),
        ("relationships:\n  - orders customers\n", "must look like", None),
        ("metrics:\n  revenue: {sql: SUM(order_items.amount)}\n", "order_items.amount", None),
        ("metrics:\n  revenue: {description: no sql}\n", "needs an 'sql' expression", "SUM"),
        ("examples:\n  - question: q\n    sql: SELECT * FROM ordrs\n", "table 'ordrs'", "'orders'"),
        ("- just a list\n", "must be a mapping", None),
    ],
)
def test_annotation_errors(tmp_path: Path, text: str, message: str, hint: str | None) -> None:
    with pytest.raises(AnnotationError) as info:
        _catalog(tmp_path, text)
    assert message in info.value.message
    if hint:
        assert hint in (info.value.hint or "")


def test_hidden_tables_and_columns_disappear(tmp_path: Path) -> None:
    cat = _catalog(tmp_path, "tables:\n  marketing_spend: {hidden: true}\n"
                             "  customers:\n    columns:\n      email: {hidden: true}\n")
    assert cat.table("marketing_spend") is None
    assert cat.table("customers").column("email") is None


def test_missing_explicit_annotation_file() -> None:
    with pytest.raises(AnnotationError, match="not found"):
        find_annotation_file("shop", "/no/such/file.yaml", None)


def test_schemas_dir_wins_over_bundled(tmp_path: Path) -> None:
    (tmp_path / "shop.yaml").write_text("description: mine\n")
    assert find_annotation_file("shop", None, str(tmp_path)) == tmp_path / "shop.yaml"


def test_skeleton_round_trips(tmp_path: Path) -> None:
    cat = build_catalog(resolve(None), None, None, use_cache=False)
    text = skeleton(cat)
    data = yaml.safe_load(text)
    assert data["tables"]["orders"]["columns"]["status"]["values"][0] == "completed"
    assert "orders.customer_id -> customers.customer_id" in data["relationships"]
    merged = _catalog(tmp_path, text)  # a skeleton is itself a valid annotation file
    assert merged.table("orders") is not None
