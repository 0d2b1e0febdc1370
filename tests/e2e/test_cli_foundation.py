"""The command line as a user meets it: version, help, schema, errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nl2sql import __version__
from tests.helpers import run_cli


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"nl2sql {__version__}"


def test_help_does_not_import_heavy_modules() -> None:
    code = ("import sys; sys.argv = ['nl2sql', '--help']\n"
            "from nl2sql.cli.app import app\n"
            "try:\n    app()\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('duckdb', 'matplotlib', 'openai', 'sqlglot', 'pydantic') if m in sys.modules]\n"
            "print('HEAVY', heavy, file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "HEAVY []" in result.stderr
    assert "schema" in result.stdout


def test_schema_tree_on_the_bundled_shop() -> None:
    result = run_cli("schema", env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    for word in ("customers", "order_items", "revenue", "orders.customer_id -> customers.customer_id",
                 "One row per order"):
        assert word in result.stdout


def test_schema_json() -> None:
    result = run_cli("schema", "--json")
    data = json.loads(result.stdout)
    assert data["name"] == "shop"
    assert {t["name"] for t in data["tables"]} >= {"orders", "customers"}
    assert any(m["name"] == "revenue" for m in data["metrics"])


def test_schema_with_folder_db_uses_shop_yaml(shop_dir: Path) -> None:
    data = json.loads(run_cli("schema", "--json", "--db", str(shop_dir)).stdout)
    assert data["annotation_path"].endswith("shop.yaml")


def test_schema_init_writes_a_loadable_skeleton(tmp_path: Path) -> None:
    csv = tmp_path / "pets.csv"
    csv.write_text("name,kind\nRex,dog\nTom,cat\n")
    result = run_cli("schema", "init", "--db", str(csv))
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load(result.stdout)
    assert data["tables"]["pets"]["columns"]["kind"]["values"] == ["cat", "dog"]
    out = tmp_path / "pets.yaml"
    assert run_cli("schema", "init", "--db", str(csv), "--output", str(out)).returncode == 0
    merged = run_cli("schema", "--json", "--db", str(csv), "--schema", str(out))
    assert merged.returncode == 0, merged.stderr
    again = run_cli("schema", "init", "--db", str(csv), "--output", str(out))
    assert again.returncode == 2 and "already exists" in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["schema", "--db", "/no/such/data.duckdb"], "No such file or folder"),
        (["schema", "--schema", "/no/such.yaml"], "Annotation file not found"),
    ],
)
def test_user_errors_exit_2_without_traceback(args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_annotation_is_an_error_with_suggestion(tmp_path: Path) -> None:
    bad = tmp_path / "shop.yaml"
    bad.write_text("tables:\n  custmers: {description: x}\n")
    result = run_cli("schema", "--json", "--schema", str(bad))
    assert result.returncode == 2
    err = json.loads(result.stdout)["error"]
    assert err["type"] == "AnnotationError" and err["hint"] == "Did you mean 'customers'?"


def test_schema_on_every_sql_eval_database(sqleval_dir: Path) -> None:
    dbs = sorted(sqleval_dir.glob("*.duckdb"))
    assert len(dbs) == 9
    for db in dbs:
        result = run_cli("schema", "--json", "--db", str(db))
        assert result.returncode == 0, (db.name, result.stderr)
        assert json.loads(result.stdout)["tables"], db.name
