"""Each kind of --db source, and the errors a person gets for bad ones."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from nl2sql.core.errors import DataSourceError, short_error
from nl2sql.data.build import build_catalog
from nl2sql.data.sources import connect, resolve


def _tables(db: str | Path) -> dict[str, int]:
    con = connect(resolve(db))
    names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
    return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def test_default_is_the_bundled_shop() -> None:
    source = resolve(None)
    assert source.name == "shop"
    assert set(source.table_names) == {"customers", "products", "orders", "order_items", "marketing_spend"}


def test_duckdb_file(tmp_path: Path) -> None:
    path = tmp_path / "sales.duckdb"
    with duckdb.connect(str(path)) as c:
        c.execute("CREATE TABLE t AS SELECT range AS id FROM range(5)")
    source = resolve(path)
    assert (source.kind, source.name) == ("duckdb", "sales")
    assert _tables(path) == {"t": 5}


def test_csv_parquet_json_files(tmp_path: Path) -> None:
    (tmp_path / "People List.csv").write_text("name,age\nAda,36\nAlan,41\n")
    (tmp_path / "events.jsonl").write_text('{"kind": "a"}\n{"kind": "b"}\n{"kind": "c"}\n')
    duckdb.sql("COPY (SELECT 1 AS x) TO '" + str(tmp_path / "one.parquet") + "' (FORMAT parquet)")
    assert _tables(tmp_path / "People List.csv") == {"people_list": 2}
    assert _tables(tmp_path / "events.jsonl") == {"events": 3}
    assert _tables(tmp_path / "one.parquet") == {"one": 1}
    # the folder: one table per file
    assert _tables(tmp_path) == {"people_list": 2, "events": 3, "one": 1}
    assert resolve(tmp_path).name == tmp_path.name


def test_glob_is_one_table(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"sales_2024_{i}.csv").write_text(f"month,amount\n{i},10\n")
    source = resolve(str(tmp_path / "sales_*.csv"))
    assert source.table_names == ["sales"]
    assert _tables(str(tmp_path / "sales_*.csv")) == {"sales": 3}


def _bad_source(kind: str, tmp: Path) -> Path:
    if kind == "empty file":
        (tmp / "empty.csv").write_text("")
        return tmp / "empty.csv"
    if kind == "not data":
        (tmp / "notes.docx").write_bytes(b"PK\x03\x04 not data")
        return tmp / "notes.docx"
    if kind == "empty folder":
        (tmp / "empty_dir").mkdir()
        return tmp / "empty_dir"
    if kind == "glob without matches":
        return tmp / "nothing_*.csv"
    return tmp / "missing.duckdb"


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("missing", "No such file"),
        ("empty file", "is empty"),
        ("not data", "is not a DuckDB database"),
        ("empty folder", "holds no CSV"),
        ("glob without matches", "No files match"),
    ],
)
def test_bad_sources_get_clear_errors(tmp_path: Path, kind: str, message: str) -> None:
    with pytest.raises(DataSourceError, match=message) as info:
        resolve(_bad_source(kind, tmp_path))
    assert info.value.hint
    assert info.value.exit_code == 2


def test_corrupt_parquet_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"this is not parquet at all")
    with pytest.raises(DataSourceError, match=r"Cannot read broken\.parquet as Parquet"):
        connect(resolve(bad))


def test_duckdb_without_tables_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "blank.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(DataSourceError, match="has no tables"):
        build_catalog(resolve(path), None, None, use_cache=False)


def test_short_error_hides_machine_paths() -> None:
    text = short_error(RuntimeError("IO Error: No files found that match the pattern "
                                    '"/home/alice/secret/data.csv"\nLINE 1: ...'))
    assert "/home/alice" not in text and "<path>" in text and "LINE 1" not in text
